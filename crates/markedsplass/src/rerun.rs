//! A vendor tests a version again: on the suite the service runs now (after a suite update, no
//! version bump needed), or only one scenario of it (while fixing what that scenario showed).
//!
//! Both queue another run of the same submission. A run of one scenario
//! ([`Run::scenario`](crate::store::Run::scenario)) is for the vendor's eyes: it never counts for
//! a listing, the catalogue, the dashboard's latest result or a night.

use serde::Deserialize;
use serde_json::json;

use crate::error::AppError;
use crate::market::Market;
use crate::policy::{self, Actor};
use crate::store::{NewRun, Run, StoreError};

/// What to run again.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Rerun {
    /// Only this scenario; absent or empty: every scenario.
    #[serde(default)]
    pub scenario: Option<String>,
}

/// Queues another run of the submission run `run_id` belongs to. Only the vendor organisation
/// that owns it may (anyone else: not found); the scenario must be one of the suite's; a version
/// with a run still queued or running is refused.
pub async fn rerun(
    market: &Market,
    actor: &Actor,
    run_id: i64,
    request: &Rerun,
) -> Result<Run, AppError> {
    let organisation = policy::vendor_organisation(actor)?;
    let of = market
        .stores
        .market
        .run(run_id)
        .await?
        .filter(|r| r.organisation_id == organisation)
        .ok_or(AppError::NotFound)?;
    let scenario = request
        .scenario
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    if let Some(id) = scenario
        && !market.runner.suite.scenarios.contains_key(id)
    {
        return Err(AppError::invalid(crate::i18n::Msg::new(
            "msg_no_such_scenario",
        )));
    }
    let new = NewRun {
        submission_id: of.submission_id,
        scenario: scenario.map(str::to_owned),
        at: market.clock.now(),
    };
    let (audit, who) = (market.audit.clone(), actor.audit_name());
    let suite = market.runner.suite.manifest.version.clone();
    let run = market
        .stores
        .market
        .queue_run(
            new,
            Box::new(move |r| {
                vec![audit.event(
                    &who,
                    "run.queue",
                    &format!("run:{}", r.id),
                    None,
                    json!({ "submission_id": r.submission_id, "again_of": run_id, "scenario": r.scenario, "suite": suite }),
                )]
            }),
        )
        .await
        .map_err(|e| match e {
            StoreError::Conflict(why) => AppError::Refused(why),
            e => e.into(),
        })?;
    market.runner.notify();
    Ok(run)
}

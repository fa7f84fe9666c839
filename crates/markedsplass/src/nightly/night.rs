//! One night: open (or resume) it and queue a run per listed component, wait for the runs, then
//! evaluate every run and store the night's summary.

use std::time::Duration;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest as _, Sha256};

use super::{ACTOR, Diff, Figures, NightlyError, deliver, evaluate};
use crate::market::Market;
use crate::store::{
    Duty, ListingChange, NewNight, Night, NightState, RunState, StoreError, Verdict,
};

/// The seed of a night: the first 8 bytes of SHA-256("sandkasse-nightly:" + date), as a positive
/// integer (SQLite stores signed 64-bit).
pub fn seed_for(night: Date) -> i64 {
    let digest = Sha256::digest(format!("sandkasse-nightly:{night}").as_bytes());
    let mut bytes = [0_u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    (u64::from_be_bytes(bytes) >> 1) as i64
}

/// Opens (or resumes) the night of `date` and queues its runs.
pub async fn start_night(market: &Market, date: Date) -> Result<Night, NightlyError> {
    let audit = market.audit.clone();
    let new = NewNight {
        night: date.to_string(),
        seed: seed_for(date),
        suite_version: market.runner.suite.manifest.version.clone(),
        include_latest_godkjent: market.nightly.include_latest_godkjent,
        at: market.clock.now(),
    };
    let opened = market
        .stores
        .nightly
        .open_night(
            new,
            Box::new(move |o| {
                let mut events = Vec::new();
                let subject = format!("night:{}", o.night.night);
                if o.created {
                    events.push(audit.event(
                        ACTOR,
                        "night.start",
                        &subject,
                        None,
                        json!({ "seed": o.night.seed, "suite_version": o.night.suite_version }),
                    ));
                } else if !o.queued.is_empty() {
                    events.push(audit.event(ACTOR, "night.resume", &subject, None, json!({})));
                }
                events.extend(o.queued.iter().map(|r| {
                    audit.event(
                        ACTOR,
                        "run.queue",
                        &format!("run:{}", r.id),
                        None,
                        json!({ "submission_id": r.submission_id, "night": o.night.night }),
                    )
                }));
                events
            }),
        )
        .await?;
    for _ in 0..market.workers {
        market.runner.notify();
    }
    Ok(opened.night)
}

/// Starts (or resumes) the night of `date`, waits for its runs and evaluates it. Returns the night
/// with its summary. The service's workers must be running (the scheduler's case); on its own, use
/// [`run_night_alone`].
pub async fn run_night(
    market: &Market,
    date: Date,
    wait_at_most: Duration,
) -> Result<Night, NightlyError> {
    let night = start_night(market, date).await?;
    finish_when_done(market, night.id, wait_at_most).await
}

/// One night stand-alone, as `sandkasse nightly` runs it: starts (or resumes) the night of `date`
/// with `workers` workers of its own that take only this night's runs — never a vendor's upload,
/// so a `sandkasse serve` on the same database keeps its queue — waits for the runs, evaluates the
/// night and stops the workers. Returns the night with its summary.
///
/// Runs a crashed process left `running` are not requeued here (a serving process may own them);
/// they are taken over when their lease lapses. When other processes share the database, one of
/// them may hold the nights' duty (a serving node that schedules the nights): then this refuses
/// ([`NightlyError::Busy`]) rather than evaluate a night twice.
pub async fn run_night_alone(
    market: &Market,
    date: Date,
    wait_at_most: Duration,
) -> Result<Night, NightlyError> {
    let Some(_duty) = market.stores.shared.lead(Duty::Nights).await? else {
        return Err(NightlyError::Busy);
    };
    let night = start_night(market, date).await?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let workers = market
        .runner
        .spawn_for_night(market.workers, night.id, stopped);
    let done = finish_when_done(market, night.id, wait_at_most).await;
    let _ = stop.send(true);
    // Idle once the night is done; after a timeout a run's thread ends on its own budget.
    for worker in workers {
        worker.abort();
    }
    done
}

/// Polls until every run of the night has finished, then evaluates it and delivers its
/// notifications.
async fn finish_when_done(
    market: &Market,
    night_id: i64,
    wait_at_most: Duration,
) -> Result<Night, NightlyError> {
    let started = std::time::Instant::now();
    loop {
        match finish_night(market, night_id).await {
            Ok(Some(done)) => {
                deliver(market).await;
                return Ok(done);
            }
            Ok(None) => {}
            // The database restarting mid-night: its runs are safe in the queue; ask again.
            Err(NightlyError::Store(e)) => {
                tracing::warn!(night = night_id, error = %e, "reading the night failed; trying again");
            }
            Err(e) => return Err(e),
        }
        if started.elapsed() > wait_at_most {
            return Err(NightlyError::Timeout(wait_at_most));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// One product's line in a night's summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub product_id: i64,
    pub product: String,
    pub vendor: String,
    pub version: String,
    pub run_id: i64,
    pub state: RunState,
    pub verdict: Option<Verdict>,
    pub score: Option<f64>,
    pub error: Option<String>,
    pub failing_skal: Vec<String>,
    pub diff: Diff,
    /// When the listing's health changed.
    pub listing_change: Option<ListingChange>,
    pub figures: Option<Figures>,
}

/// What a night tested and what came of it: what the summary page, its JSON and its JUnit show.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NightSummary {
    pub night: String,
    pub seed: i64,
    pub suite_version: String,
    pub started_at: jiff::Timestamp,
    pub finished_at: jiff::Timestamp,
    /// To a tenth of a second.
    pub duration_seconds: f64,
    pub tested: usize,
    /// Runs godkjent and ikke godkjent.
    pub passed: usize,
    pub failed: usize,
    /// Runs that produced no report.
    pub errors: usize,
    /// Runs with newly failing vilkår, or whose listing became at risk.
    pub regressions: usize,
    /// Runs with newly passing vilkår, or whose listing's risk was cleared.
    pub improvements: usize,
    /// Listings suspended this night.
    pub suspended: usize,
    /// One per run, by run id.
    pub entries: Vec<Entry>,
}

/// Evaluates the night if every run of it has finished; `None` while runs are pending. A night
/// already evaluated is returned as stored.
pub async fn finish_night(market: &Market, night_id: i64) -> Result<Option<Night>, NightlyError> {
    let nightly = &market.stores.nightly;
    let night = nightly
        .night(night_id)
        .await?
        .ok_or_else(|| StoreError::Corrupt(format!("night {night_id} vanished")))?;
    if night.state == NightState::Done {
        return Ok(Some(night));
    }
    // Counted, not loaded: a night of a thousand runs is polled while it runs. A finished run
    // stays finished, so once none is pending the runs are loaded once, all final.
    if nightly.night_pending(night_id).await? > 0 {
        return Ok(None);
    }
    let runs = nightly.night_runs(night_id).await?;
    let now = market.clock.now();
    let grace_days = i64::from(market.nightly.grace_days);
    let mut entries = Vec::new();
    for run in &runs {
        entries.push(evaluate::entry(market, &night, run, now, grace_days).await?);
    }
    let count = |f: &dyn Fn(&Entry) -> bool| entries.iter().filter(|e| f(e)).count();
    let change = |e: &Entry, c| e.listing_change == Some(c);
    let summary = NightSummary {
        night: night.night.clone(),
        seed: night.seed,
        suite_version: night.suite_version.clone(),
        started_at: night.started_at,
        finished_at: now,
        duration_seconds: (now.duration_since(night.started_at).as_secs_f64() * 10.0).round()
            / 10.0,
        tested: entries.len(),
        passed: count(&|e| e.verdict == Some(Verdict::Godkjent)),
        failed: count(&|e| e.verdict == Some(Verdict::IkkeGodkjent)),
        errors: count(&|e| e.state == RunState::Error),
        regressions: count(&|e| {
            !e.diff.newly_failing.is_empty() || change(e, ListingChange::AtRisk)
        }),
        improvements: count(&|e| {
            !e.diff.newly_passing.is_empty() || change(e, ListingChange::Cleared)
        }),
        suspended: count(&|e| change(e, ListingChange::Suspended)),
        entries,
    };
    let audit = market.audit.clone();
    let (subject, details) = (
        format!("night:{}", night.night),
        json!({ "tested": summary.tested, "regressions": summary.regressions, "suspended": summary.suspended }),
    );
    nightly
        .finish_night(
            night_id,
            summary,
            now,
            Box::new(move |_| vec![audit.event(ACTOR, "night.finish", &subject, None, details)]),
        )
        .await?;
    Ok(nightly.night(night_id).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The summary is stored as the JSON the night's pages and API have always shown: the same
    /// keys in the same order as when it was built as a `json!` object.
    #[test]
    fn the_summary_serialises_as_before() {
        let at: jiff::Timestamp = "2026-11-20T01:00:00Z".parse().unwrap();
        let entry = Entry {
            product_id: 1,
            product: "Journal".into(),
            vendor: "Acme AS".into(),
            version: "1.0.0".into(),
            run_id: 7,
            state: RunState::Done,
            verdict: Some(Verdict::IkkeGodkjent),
            score: Some(0.5),
            error: None,
            failing_skal: vec!["SIK-01".into()],
            diff: Diff::default(),
            listing_change: Some(ListingChange::AtRisk),
            figures: None,
        };
        let summary = NightSummary {
            night: "2026-11-20".into(),
            seed: 42,
            suite_version: "2.1.0".into(),
            started_at: at,
            finished_at: at,
            duration_seconds: 12.5,
            tested: 1,
            passed: 0,
            failed: 1,
            errors: 0,
            regressions: 1,
            improvements: 0,
            suspended: 0,
            entries: vec![entry.clone()],
        };
        let before = json!({
            "night": "2026-11-20", "seed": 42, "suite_version": "2.1.0", "started_at": at,
            "finished_at": at, "duration_seconds": 12.5, "tested": 1, "passed": 0, "failed": 1,
            "errors": 0, "regressions": 1, "improvements": 0, "suspended": 0,
            "entries": [{
                "product_id": 1, "product": "Journal", "vendor": "Acme AS", "version": "1.0.0",
                "run_id": 7, "state": "done", "verdict": "ikke-godkjent", "score": 0.5,
                "error": null, "failing_skal": ["SIK-01"], "diff": Diff::default(),
                "listing_change": "at_risk", "figures": null,
            }],
        });
        let text = serde_json::to_string(&summary).unwrap();
        assert_eq!(text, before.to_string());
        assert_eq!(
            serde_json::from_str::<NightSummary>(&text).unwrap(),
            summary
        );
    }

    #[test]
    fn seeds_are_per_date_stable_and_positive() {
        let a = seed_for("2026-11-23".parse().unwrap());
        assert_eq!(a, seed_for("2026-11-23".parse().unwrap()));
        assert_ne!(a, seed_for("2026-11-24".parse().unwrap()));
        assert!(a >= 0);
    }
}

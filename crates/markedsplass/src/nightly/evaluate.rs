//! The evaluation of a night's runs: what changed since the previous night ([`Diff`]) and the
//! listing's health — the regression rules that put a listing at risk, suspend it after the grace
//! period and clear it again.

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{ACTOR, Entry, Figures, NightlyError};
use crate::i18n::{Lang, Msg, one_side};
use crate::market::Market;
use crate::store::{NewNotification, Night, RiskChange, Run, RunState, StoreError};

/// What changed since the previous night.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Diff {
    pub newly_failing: Vec<String>,
    pub newly_passing: Vec<String>,
    /// Vilkår this run has that the previous did not (the suite changed).
    pub new_vilkar: Vec<String>,
    /// Relative change of the resource figures (0.1 = 10 % more), when there is a previous run.
    pub fuel_change: Option<f64>,
    pub memory_change: Option<f64>,
    pub requests_change: Option<f64>,
}

fn change(before: u64, now: u64) -> Option<f64> {
    (before > 0).then(|| ((now as f64 - before as f64) / before as f64 * 1e4).round() / 1e4)
}

/// The difference between two runs' figures.
pub fn diff(previous: Option<&Figures>, now: &Figures) -> Diff {
    let Some(prev) = previous else {
        return Diff::default();
    };
    let mut d = Diff::default();
    for id in now.outcomes.keys() {
        match prev.outcomes.get(id) {
            None => d.new_vilkar.push(id.clone()),
            Some(_) if now.failing(id) && !prev.failing(id) => d.newly_failing.push(id.clone()),
            Some(_) if !now.failing(id) && prev.failing(id) => d.newly_passing.push(id.clone()),
            Some(_) => {}
        }
    }
    d.fuel_change = change(prev.fuel, now.fuel);
    d.memory_change = change(prev.peak_memory_bytes, now.peak_memory_bytes);
    d.requests_change = change(prev.requests, now.requests);
    d
}

/// Evaluates one finished run of `night`: its figures against the baseline ([`diff`]) and the
/// risk rules for its listing — at risk on a failing run, suspended when still failing after
/// `grace_days` nights, cleared by a godkjent run — applied with their notification and audit
/// event. Returns the run's line in the summary.
pub(super) async fn entry(
    market: &Market,
    night: &Night,
    run: &Run,
    now: Timestamp,
    grace_days: i64,
) -> Result<Entry, NightlyError> {
    let store = &market.stores.market;
    let product = store
        .product(run.product_id)
        .await?
        .ok_or_else(|| StoreError::Corrupt("product vanished".into()))?;
    let submission = store
        .submission(run.submission_id)
        .await?
        .ok_or_else(|| StoreError::Corrupt("submission vanished".into()))?;
    let figures = run.figures.clone();
    let listing = store.listing(run.product_id).await?;
    let previous_figures = baseline_figures(market, night, run, listing.as_ref()).await?;
    let diff = match &figures {
        Some(f) => diff(previous_figures.as_ref(), f),
        None => Diff::default(),
    };
    let failing_skal = figures
        .as_ref()
        .map(Figures::failing_skal)
        .unwrap_or_default();
    let mut listing_change = None;
    if let Some(listing) = listing.filter(|l| {
        l.state == crate::store::ListingState::Listed && l.submission_id == run.submission_id
    }) {
        let passing = run.godkjent();
        // Stored in both languages (`Msg::both`); the run's own error is stored so already.
        let what = |lang: Lang| {
            let what = if run.state == RunState::Error {
                let error = run.error.as_deref().unwrap_or_default();
                Msg::new("night_run_failed").arg("error", one_side(error, lang))
            } else {
                Msg::new("night_failing_skal").arg("vilkar", failing_skal.join(", "))
            };
            what.render(lang)
        };
        let both = |key: &'static str, days: Option<u32>| {
            let text = |lang| {
                let mut m = Msg::new(key)
                    .arg("product", &product.name)
                    .arg("version", &submission.version)
                    .arg("run", run.id)
                    .arg("what", what(lang));
                if let Some(days) = days {
                    m = m.arg("days", days);
                }
                m.render(lang)
            };
            crate::i18n::both(text)
        };
        // The grace period counts nights, not the minutes a batch happened to take.
        let at_risk_nights = match listing.at_risk_run_id {
            Some(id) => night_date_of(market, id).await?,
            None => None,
        };
        let tonight: Option<Date> = night.night.parse().ok();
        let days_at_risk = match (at_risk_nights, tonight) {
            (Some(since), Some(now_night)) => {
                since.until(now_night).map_or(0, |s| s.get_days().into())
            }
            _ => listing
                .at_risk_since
                .map_or(0, |since| now.duration_since(since).as_hours() / 24),
        };
        let change = match (passing, listing.at_risk_since) {
            (false, None) => Some((
                RiskChange::AtRisk { run_id: run.id },
                both("night_at_risk", None),
            )),
            (false, Some(_)) if days_at_risk >= grace_days => Some((
                RiskChange::Suspend {
                    run_id: run.id,
                    reason: both("night_suspend_reason", Some(market.nightly.grace_days)),
                },
                both("night_suspended", None),
            )),
            (true, Some(_)) => Some((
                RiskChange::Cleared { run_id: run.id },
                both("night_cleared", None),
            )),
            _ => None,
        };
        if let Some((risk, message)) = change {
            let kind = risk.kind();
            let payload = json!({
                "kind": kind, "night": night.night, "product_id": product.id, "product": product.name, "vendor": product.vendor,
                "version": submission.version, "run_id": run.id, "failing_skal": failing_skal, "message": message, "at": now,
            });
            let audit = market.audit.clone();
            let (action, reason, run_id) = (kind.audit_action(), message.clone(), run.id);
            let applied = market
                .stores
                .nightly
                .change_risk(
                    product.id,
                    risk,
                    Some(NewNotification {
                        kind: kind.into(),
                        message,
                        night_id: Some(night.id),
                        run_id: Some(run.id),
                        case_id: None,
                        version: Some(submission.version.clone()),
                        note: None,
                        payload,
                    }),
                    now,
                    Box::new(move |l| {
                        vec![audit.event(
                            ACTOR,
                            action,
                            &format!("product:{}", l.product_id),
                            Some(&reason),
                            json!({ "run_id": run_id, "state": l.state }),
                        )]
                    }),
                )
                .await;
            match applied {
                Ok(_) => {}
                // Another evaluation of this night applied it first.
                Err(StoreError::Refused(why)) => {
                    tracing::debug!(product = product.id, %why, "risk change already applied")
                }
                Err(e) => return Err(e.into()),
            }
            listing_change = Some(kind);
        }
    }
    Ok(Entry {
        product_id: product.id,
        product: product.name,
        vendor: product.vendor,
        version: submission.version,
        run_id: run.id,
        state: run.state,
        verdict: run.verdict,
        score: run.score,
        error: run.error.clone(),
        failing_skal,
        diff,
        listing_change,
        figures,
    })
}

/// What a nightly run is compared with: the product's previous nightly run of the same version,
/// else the run its listing was approved on.
async fn baseline_figures(
    market: &Market,
    night: &Night,
    run: &Run,
    listing: Option<&crate::store::Listing>,
) -> Result<Option<Figures>, NightlyError> {
    let history = market
        .stores
        .nightly
        .product_history(run.product_id)
        .await?;
    let previous = history.into_iter().rev().find(|r| {
        r.submission_id == run.submission_id
            && r.night_id.is_some_and(|n| n != night.id)
            && r.id < run.id
    });
    let baseline = match (previous, listing) {
        (Some(previous), _) => Some(previous),
        (None, Some(listing)) => match market.stores.market.case(listing.case_id).await? {
            Some(case) => market.stores.market.run(case.run_id).await?,
            None => None,
        },
        (None, None) => None,
    };
    Ok(baseline.and_then(|r| r.figures))
}

/// The night (date) a nightly run belongs to.
async fn night_date_of(market: &Market, run_id: i64) -> Result<Option<Date>, NightlyError> {
    let Some(night_id) = market
        .stores
        .market
        .run(run_id)
        .await?
        .and_then(|r| r.night_id)
    else {
        return Ok(None);
    };
    Ok(market
        .stores
        .nightly
        .night(night_id)
        .await?
        .and_then(|n| n.night.parse().ok()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diffs_name_newly_failing_passing_and_new_vilkar() {
        let f = |pairs: &[(&str, &str)], fuel| Figures {
            outcomes: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), serde_json::from_value(json!(v)).unwrap()))
                .collect(),
            skal: vec!["A".into(), "B".into()],
            fuel,
            peak_memory_bytes: 100,
            requests: 10,
        };
        let before = f(&[("A", "pass"), ("B", "fail"), ("C", "pass")], 1000);
        let now = f(
            &[("A", "fail"), ("B", "pass"), ("C", "pass"), ("D", "pass")],
            1100,
        );
        let d = diff(Some(&before), &now);
        assert_eq!(
            (d.newly_failing, d.newly_passing, d.new_vilkar),
            (
                vec!["A".to_string()],
                vec!["B".to_string()],
                vec!["D".to_string()]
            )
        );
        assert_eq!(d.fuel_change, Some(0.1));
        assert_eq!(now.failing_skal(), vec!["A".to_string()]);
        assert_eq!(diff(None, &now), Diff::default());
    }
}

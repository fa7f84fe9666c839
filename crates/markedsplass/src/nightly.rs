//! Nightly conformance runs (`docs/nightly.md`): every night, every listed component is re-tested
//! on the current suite with fresh synthetic data; what changed is recorded; regressions reach the
//! vendor and the project; a listing that keeps failing a skal-vilkår is suspended after a grace
//! period.
//!
//! - **The night** is the local date (`nightly.time_zone`) the batch starts. Its seed is derived
//!   from that date ([`seed_for`]), recorded with the night and every run, so any night can be
//!   reproduced (`sandkasse test ADAPTER.wasm --seed SEED`).
//! - **The batch** ([`start_night`]) queues one nightly run per listed or suspended product (and,
//!   with `include_latest_godkjent`, per product's latest godkjent version) in the durable run
//!   queue: the worker pool bounds the concurrency, `run_budget_seconds` bounds each component, and
//!   a batch started again for the same night queues only what is missing — an interrupted night
//!   resumes instead of starting over.
//! - **Evaluation** ([`finish_night`], once every run of the night has finished) compares each
//!   run with the product's previous nightly run (or, the first night, with the run it was approved
//!   on): newly failing and newly passing vilkår, vilkår new to the suite, resource trends. Then the
//!   listing's health: a listed product whose run is not godkjent becomes *at risk*; still failing
//!   after `grace_days` it is suspended, with an audit event naming the nightly run; a godkjent run
//!   clears the risk. Each change notifies the vendor and the project (in the UI, and by webhook
//!   with an HMAC-SHA256 signature, [`deliver`]).
//! - **The summary** (JSON, page, JUnit) says what was tested, what passed, regressed, improved or
//!   errored, and how long it took.

use std::collections::BTreeMap;
use std::time::Duration;

use hmac::{Hmac, Mac as _};
use jiff::civil::{Date, Time};
use jiff::{Timestamp, Zoned};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest as _, Sha256};

use crate::server::AppState;
use crate::store::{NewNight, Night, RiskChange, Run, RunState, StoreError};

/// Delivery attempts of one notification before it is given up (it stays visible in the UI).
pub const MAX_DELIVERY_ATTEMPTS: i64 = 5;

/// The scheduler's and the evaluation's name in the audit trail.
pub const ACTOR: &str = "system:nightly";

/// Why a night could not run.
#[derive(Debug, thiserror::Error)]
pub enum NightlyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("invalid nightly configuration: {0}")]
    Config(String),
    #[error("the night's runs did not finish within {0:?}")]
    Timeout(Duration),
}

/// The seed of a night: the first 8 bytes of SHA-256("sandkasse-nightly:" + date), as a positive
/// integer (SQLite stores signed 64-bit).
pub fn seed_for(night: Date) -> i64 {
    let digest = Sha256::digest(format!("sandkasse-nightly:{night}").as_bytes());
    let mut bytes = [0_u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    (u64::from_be_bytes(bytes) >> 1) as i64
}

/// What a run measured, for comparison between nights.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    /// Outcome per vilkår id (`pass`, `fail`, `not-applicable`, `error`).
    pub outcomes: BTreeMap<String, String>,
    /// The ids of the skal-vilkår.
    pub skal: Vec<String>,
    /// Fuel consumed over every call (≈ instructions).
    pub fuel: u64,
    /// Highest linear memory of any instance, bytes.
    pub peak_memory_bytes: u64,
    /// HTTP requests the component made to the platform.
    pub requests: u64,
}

impl Figures {
    /// The figures of a report.
    pub fn of(report: &sandkasse_suite::report::Report) -> Figures {
        let mut f = Figures::default();
        for v in &report.vilkar {
            let outcome = serde_json::to_value(v.outcome)
                .ok()
                .and_then(|o| o.as_str().map(str::to_owned))
                .unwrap_or_default();
            f.outcomes.insert(v.id.clone(), outcome);
            if v.level == sandkasse_suite::model::Level::Skal {
                f.skal.push(v.id.clone());
            }
        }
        for call in report.scenarios.iter().flat_map(|s| &s.calls) {
            f.fuel += call["fuel_used"].as_u64().unwrap_or(0);
            f.peak_memory_bytes = f
                .peak_memory_bytes
                .max(call["peak_memory_bytes"].as_u64().unwrap_or(0));
            f.requests += call["exchanges"].as_array().map_or(0, |e| e.len() as u64);
        }
        f
    }

    fn failing(&self, id: &str) -> bool {
        matches!(
            self.outcomes.get(id).map(String::as_str),
            Some("fail" | "error")
        )
    }

    /// The skal-vilkår that fail.
    pub fn failing_skal(&self) -> Vec<String> {
        self.skal
            .iter()
            .filter(|id| self.failing(id))
            .cloned()
            .collect()
    }
}

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

/// The local date "now" in the configured time zone.
pub fn night_of(at: Timestamp, time_zone: &str) -> Result<Date, NightlyError> {
    let tz = jiff::tz::TimeZone::get(time_zone).map_err(|e| NightlyError::Config(e.to_string()))?;
    Ok(at.to_zoned(tz).date())
}

/// The next start of a night at or after `after`: `time` (HH:MM) in `time_zone`.
pub fn next_start(after: Timestamp, time: &str, time_zone: &str) -> Result<Zoned, NightlyError> {
    let today = start_on(night_of(after, time_zone)?, time, time_zone)?;
    if today.timestamp() >= after {
        return Ok(today);
    }
    start_on(
        today
            .date()
            .tomorrow()
            .map_err(|e| NightlyError::Config(e.to_string()))?,
        time,
        time_zone,
    )
}

/// When the batch of the night `date` starts: `time` (HH:MM) that day in `time_zone`.
pub fn start_on(date: Date, time: &str, time_zone: &str) -> Result<Zoned, NightlyError> {
    let config = |e: jiff::Error| NightlyError::Config(e.to_string());
    let tz = jiff::tz::TimeZone::get(time_zone).map_err(config)?;
    let at = Time::strptime("%H:%M", time).map_err(config)?;
    date.to_datetime(at).to_zoned(tz).map_err(config)
}

/// Opens (or resumes) the night of `date` and queues its runs.
pub async fn start_night(state: &AppState, date: Date) -> Result<Night, NightlyError> {
    let audit = state.audit.clone();
    let new = NewNight {
        night: date.to_string(),
        seed: seed_for(date),
        suite_version: state.runner.suite.manifest.version.clone(),
        include_latest_godkjent: state.config.nightly.include_latest_godkjent,
        at: state.clock.now(),
    };
    let opened = state
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
    for _ in 0..state.config.workers {
        state.runner.notify();
    }
    Ok(opened.night)
}

/// Starts (or resumes) the night of `date`, waits for its runs and evaluates it. Returns the night
/// with its summary. The workers must be running.
pub async fn run_night(
    state: &AppState,
    date: Date,
    wait_at_most: Duration,
) -> Result<Night, NightlyError> {
    let night = start_night(state, date).await?;
    let started = std::time::Instant::now();
    loop {
        if let Some(done) = finish_night(state, night.id).await? {
            deliver(state).await;
            return Ok(done);
        }
        if started.elapsed() > wait_at_most {
            return Err(NightlyError::Timeout(wait_at_most));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// One product's line in a night's summary.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    pub product_id: i64,
    pub product: String,
    pub vendor: String,
    pub version: String,
    pub run_id: i64,
    pub state: String,
    pub verdict: Option<String>,
    pub score: Option<f64>,
    pub error: Option<String>,
    pub failing_skal: Vec<String>,
    pub diff: Diff,
    /// `at_risk`, `suspended` or `cleared` when the listing's health changed.
    pub listing_change: Option<String>,
    pub figures: Option<Figures>,
}

/// Evaluates the night if every run of it has finished; `None` while runs are pending. A night
/// already evaluated is returned as stored.
pub async fn finish_night(state: &AppState, night_id: i64) -> Result<Option<Night>, NightlyError> {
    let nightly = &state.stores.nightly;
    let night = nightly
        .night(night_id)
        .await?
        .ok_or_else(|| StoreError::Corrupt(format!("night {night_id} vanished")))?;
    if night.state == "done" {
        return Ok(Some(night));
    }
    let runs = nightly.night_runs(night_id).await?;
    if runs
        .iter()
        .any(|r| !matches!(r.state, RunState::Done | RunState::Error))
    {
        return Ok(None);
    }
    let now = state.clock.now();
    let grace_days = i64::from(state.config.nightly.grace_days);
    let mut entries = Vec::new();
    for run in &runs {
        entries.push(evaluate(state, &night, run, now, grace_days).await?);
    }
    let count = |f: &dyn Fn(&Entry) -> bool| entries.iter().filter(|e| f(e)).count();
    let summary = json!({
        "night": night.night,
        "seed": night.seed,
        "suite_version": night.suite_version,
        "started_at": night.started_at,
        "finished_at": now,
        "duration_seconds": (now.duration_since(night.started_at).as_secs_f64() * 10.0).round() / 10.0,
        "tested": entries.len(),
        "passed": count(&|e| e.verdict.as_deref() == Some("godkjent")),
        "failed": count(&|e| e.verdict.as_deref() == Some("ikke-godkjent")),
        "errors": count(&|e| e.state == "error"),
        "regressions": count(&|e| !e.diff.newly_failing.is_empty() || e.listing_change.as_deref() == Some("at_risk")),
        "improvements": count(&|e| !e.diff.newly_passing.is_empty() || e.listing_change.as_deref() == Some("cleared")),
        "suspended": count(&|e| e.listing_change.as_deref() == Some("suspended")),
        "entries": entries,
    });
    let audit = state.audit.clone();
    let (subject, details) = (
        format!("night:{}", night.night),
        json!({ "tested": summary["tested"], "regressions": summary["regressions"], "suspended": summary["suspended"] }),
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

async fn evaluate(
    state: &AppState,
    night: &Night,
    run: &Run,
    now: Timestamp,
    grace_days: i64,
) -> Result<Entry, NightlyError> {
    let market = &state.stores.market;
    let product = market
        .product(run.product_id)
        .await?
        .ok_or_else(|| StoreError::Corrupt("product vanished".into()))?;
    let submission = market
        .submission(run.submission_id)
        .await?
        .ok_or_else(|| StoreError::Corrupt("submission vanished".into()))?;
    let figures: Option<Figures> = run
        .figures
        .clone()
        .and_then(|f| serde_json::from_value(f).ok());
    let listing = market.listing(run.product_id).await?;
    let previous_figures = baseline_figures(state, night, run, listing.as_ref()).await?;
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
        let what = if run.state == RunState::Error {
            format!(
                "kjøringen feilet / the run failed: {}",
                run.error.clone().unwrap_or_default()
            )
        } else {
            format!(
                "skal-vilkår som feiler / failing skal-vilkår: {}",
                failing_skal.join(", ")
            )
        };
        // The grace period counts nights, not the minutes a batch happened to take.
        let at_risk_nights = match listing.at_risk_run_id {
            Some(id) => night_date_of(state, id).await?,
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
                "at_risk",
                RiskChange::AtRisk { run_id: run.id },
                format!(
                    "{} {} er i faresonen etter nattens kjøring {} / is at risk after nightly run {}: {what}",
                    product.name, submission.version, run.id, run.id
                ),
            )),
            (false, Some(_)) if days_at_risk >= grace_days => Some((
                "suspended",
                RiskChange::Suspend {
                    run_id: run.id,
                    reason: format!(
                        "nattlig kjøring {} feilet fortsatt etter {} dager / nightly run {} still failed after {} days: {what}",
                        run.id,
                        state.config.nightly.grace_days,
                        run.id,
                        state.config.nightly.grace_days
                    ),
                },
                format!(
                    "{} {} er suspendert etter nattens kjøring {} / is suspended after nightly run {}: {what}",
                    product.name, submission.version, run.id, run.id
                ),
            )),
            (true, Some(_)) => Some((
                "cleared",
                RiskChange::Cleared { run_id: run.id },
                format!(
                    "{} {} er ute av faresonen: nattens kjøring {} er godkjent / is no longer at risk: nightly run {} is godkjent",
                    product.name, submission.version, run.id, run.id
                ),
            )),
            _ => None,
        };
        if let Some((kind, risk, message)) = change {
            let payload = json!({
                "kind": kind, "night": night.night, "product_id": product.id, "product": product.name, "vendor": product.vendor,
                "version": submission.version, "run_id": run.id, "failing_skal": failing_skal, "message": message, "at": now,
            });
            let audit = state.audit.clone();
            let (action, reason, run_id) = (format!("listing.{kind}"), message.clone(), run.id);
            let applied = state
                .stores
                .nightly
                .change_risk(
                    product.id,
                    risk,
                    Some((kind.to_owned(), message, Some(night.id), payload)),
                    now,
                    Box::new(move |l| {
                        let action = if action == "listing.suspended" {
                            "listing.suspend".to_owned()
                        } else {
                            action
                        };
                        vec![audit.event(
                            ACTOR,
                            &action,
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
                    tracing::debug!(product = product.id, why, "risk change already applied")
                }
                Err(e) => return Err(e.into()),
            }
            listing_change = Some(kind.to_owned());
        }
    }
    Ok(Entry {
        product_id: product.id,
        product: product.name,
        vendor: product.vendor,
        version: submission.version,
        run_id: run.id,
        state: run.state.as_str().into(),
        verdict: run.verdict.clone(),
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
    state: &AppState,
    night: &Night,
    run: &Run,
    listing: Option<&crate::store::Listing>,
) -> Result<Option<Figures>, NightlyError> {
    let history = state.stores.nightly.product_history(run.product_id).await?;
    let previous = history.into_iter().rev().find(|r| {
        r.submission_id == run.submission_id
            && r.night_id.is_some_and(|n| n != night.id)
            && r.id < run.id
    });
    let baseline = match (previous, listing) {
        (Some(previous), _) => Some(previous),
        (None, Some(listing)) => match state.stores.market.case(listing.case_id).await? {
            Some(case) => state.stores.market.run(case.run_id).await?,
            None => None,
        },
        (None, None) => None,
    };
    Ok(baseline
        .and_then(|r| r.figures)
        .and_then(|f| serde_json::from_value(f).ok()))
}

/// The night (date) a nightly run belongs to.
async fn night_date_of(state: &AppState, run_id: i64) -> Result<Option<Date>, NightlyError> {
    let Some(night_id) = state
        .stores
        .market
        .run(run_id)
        .await?
        .and_then(|r| r.night_id)
    else {
        return Ok(None);
    };
    Ok(state
        .stores
        .nightly
        .night(night_id)
        .await?
        .and_then(|n| n.night.parse().ok()))
}

/// Delivers undelivered notifications to the webhook, if one is configured: a POST of the JSON
/// payload with `X-Sandkasse-Timestamp`, `X-Sandkasse-Signature: sha256=HEX` (the HMAC-SHA256
/// of `TIMESTAMP.BODY` with `webhook_secret`) and `X-Sandkasse-Delivery: ID` (to deduplicate).
/// Failures are recorded and retried after the next night, at most [`MAX_DELIVERY_ATTEMPTS`] times.
pub async fn deliver(state: &AppState) {
    let Some(url) = state.config.nightly.webhook_url.clone() else {
        return;
    };
    let secret = state
        .config
        .nightly
        .webhook_secret
        .clone()
        .unwrap_or_default();
    let pending = match state.stores.nightly.undelivered(100).await {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(error = %e, "reading undelivered notifications");
            return;
        }
    };
    for n in pending {
        let body = n.payload.to_string();
        let timestamp = state.clock.now().as_second().to_string();
        let signature = sign_webhook(&secret, &timestamp, &body);
        let result = post(&url, &body, &timestamp, &signature, n.id).await;
        let error = result.err();
        if let Some(e) = &error {
            tracing::warn!(notification = n.id, error = %e, "webhook delivery failed");
        }
        if let Err(e) = state
            .stores
            .nightly
            .delivery(n.id, state.clock.now(), error.as_deref())
            .await
        {
            tracing::warn!(error = %e, "recording a webhook delivery");
        }
    }
}

/// `sha256=` + hex HMAC-SHA256 of `TIMESTAMP.BODY`: what a receiver recomputes to trust a webhook.
pub fn sign_webhook(secret: &str, timestamp: &str, body: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

async fn post(
    url: &str,
    body: &str,
    timestamp: &str,
    signature: &str,
    id: i64,
) -> Result<(), String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or("only http:// webhooks are supported")?;
    let (authority, path) = rest
        .split_once('/')
        .map_or((rest, "/".to_owned()), |(a, p)| (a, format!("/{p}")));
    let stream = tokio::time::timeout(
        Duration::from_secs(10),
        tokio::net::TcpStream::connect(authority),
    )
    .await
    .map_err(|_| "connect timed out".to_owned())?
    .map_err(|e| e.to_string())?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .map_err(|e| e.to_string())?;
    tokio::spawn(connection);
    let request = axum::http::Request::post(path)
        .header(axum::http::header::HOST, authority)
        .header(axum::http::header::CONTENT_TYPE, "application/json")
        .header("x-sandkasse-timestamp", timestamp)
        .header("x-sandkasse-signature", signature)
        // The same notification may arrive twice (two processes delivering); receivers dedupe on it.
        .header("x-sandkasse-delivery", id.to_string())
        .body(axum::body::Body::from(body.to_owned()))
        .map_err(|e| e.to_string())?;
    let response = tokio::time::timeout(Duration::from_secs(10), sender.send_request(request))
        .await
        .map_err(|_| "the webhook did not answer within 10 s".to_owned())?
        .map_err(|e| e.to_string())?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(format!("the webhook answered {}", response.status()))
    }
}

/// The night to catch up at start-up: today's, if its start time has passed and it never ran or
/// was interrupted (the service was down or stopped at the start time).
pub async fn missed_night(state: &AppState) -> Result<Option<Date>, NightlyError> {
    let nightly = &state.config.nightly;
    let now = state.clock.now();
    let today = night_of(now, &nightly.time_zone)?;
    // A night left unfinished (the service stopped during it) is finished first.
    if let Some(unfinished) = state
        .stores
        .nightly
        .nights(7)
        .await?
        .into_iter()
        .find(|n| n.state == "running")
    {
        return Ok(unfinished.night.parse().ok());
    }
    if start_on(today, &nightly.time, &nightly.time_zone)?.timestamp() > now {
        return Ok(None);
    }
    match state
        .stores
        .nightly
        .night_by_date(&today.to_string())
        .await?
    {
        Some(night) if night.state == "done" => Ok(None),
        _ => Ok(Some(today)),
    }
}

/// Runs a batch every night at `nightly.time` in `nightly.time_zone` until `stop` turns true;
/// first catches up today's night if it was missed or interrupted ([`missed_night`]).
pub fn spawn_scheduler(
    state: AppState,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        match missed_night(&state).await {
            Ok(Some(date)) => {
                tracing::info!(night = %date, "catching up tonight's batch, missed or interrupted");
                if let Err(e) = run_night(&state, date, Duration::from_secs(20 * 3600)).await {
                    tracing::error!(error = %e, "nightly batch failed");
                }
            }
            Ok(None) => {}
            Err(e) => tracing::error!(error = %e, "checking for a missed night"),
        }
        loop {
            let next = match next_start(
                state.clock.now(),
                &state.config.nightly.time,
                &state.config.nightly.time_zone,
            ) {
                Ok(next) => next,
                Err(e) => {
                    tracing::error!(error = %e, "the nightly scheduler stops");
                    return;
                }
            };
            let wait = next
                .timestamp()
                .duration_since(state.clock.now())
                .unsigned_abs();
            tracing::info!(next = %next, "next nightly batch");
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = stop.changed() => return,
            }
            match run_night(&state, next.date(), Duration::from_secs(20 * 3600)).await {
                Ok(night) => tracing::info!(night = night.night, "nightly batch finished"),
                Err(e) => tracing::error!(error = %e, "nightly batch failed"),
            }
            // Past the start minute before computing the next one.
            tokio::time::sleep(Duration::from_secs(61)).await;
        }
    })
}

/// A night's summary as JUnit XML: one test case per product, failing when not godkjent.
pub fn junit(night: &Night) -> String {
    use sandkasse_suite::markup::escape;
    let entries: Vec<Entry> = night
        .summary
        .as_ref()
        .and_then(|s| serde_json::from_value(s["entries"].clone()).ok())
        .unwrap_or_default();
    let failures = entries
        .iter()
        .filter(|e| e.verdict.as_deref() != Some("godkjent") && e.state != "error")
        .count();
    let errors = entries.iter().filter(|e| e.state == "error").count();
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"sandkasse nightly {}\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\">\n<testsuite name=\"nightly {}\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\">\n",
        escape(&night.night),
        entries.len(),
        escape(&night.night),
        entries.len()
    );
    for e in &entries {
        out.push_str(&format!(
            "<testcase classname=\"{}\" name=\"{} {}\">",
            escape(&e.vendor),
            escape(&e.product),
            escape(&e.version)
        ));
        if e.state == "error" {
            out.push_str(&format!(
                "<error message=\"{}\"/>",
                escape(e.error.as_deref().unwrap_or_default())
            ));
        } else if e.verdict.as_deref() != Some("godkjent") {
            out.push_str(&format!(
                "<failure message=\"{}\">run {}</failure>",
                escape(&e.failing_skal.join(", ")),
                e.run_id
            ));
        }
        out.push_str("</testcase>\n");
    }
    out.push_str("</testsuite>\n</testsuites>\n");
    out
}

/// The trend of a product's nightly runs as an accessible SVG: score (line, 0–100 %) and fuel
/// relative to its highest night (dashed), one point per night.
pub fn trend_svg(history: &[Run], title: &str) -> String {
    use sandkasse_suite::markup::escape;
    let (w, h, pad) = (480.0_f64, 160.0_f64, 28.0_f64);
    let n = history.len().max(1);
    let x = |i: usize| {
        pad + (w - 2.0 * pad)
            * if n == 1 {
                0.5
            } else {
                i as f64 / (n - 1) as f64
            }
    };
    let y = |v: f64| h - pad - (h - 2.0 * pad) * v.clamp(0.0, 1.0);
    let fuel: Vec<f64> = history
        .iter()
        .map(|r| {
            r.figures
                .as_ref()
                .and_then(|f| f["fuel"].as_f64())
                .unwrap_or(0.0)
        })
        .collect();
    let max_fuel = fuel.iter().cloned().fold(0.0, f64::max).max(1.0);
    let score_points: Vec<String> = history
        .iter()
        .enumerate()
        .map(|(i, r)| format!("{:.1},{:.1}", x(i), y(r.score.unwrap_or(0.0))))
        .collect();
    let fuel_points: Vec<String> = fuel
        .iter()
        .enumerate()
        .map(|(i, f)| format!("{:.1},{:.1}", x(i), y(f / max_fuel)))
        .collect();
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" role=\"img\" aria-labelledby=\"trend-title trend-desc\">\
         <title id=\"trend-title\">{}</title><desc id=\"trend-desc\">{} nights; score 0–100 % (solid), fuel relative to the highest night (dashed)</desc>\
         <rect x=\"0\" y=\"0\" width=\"{w}\" height=\"{h}\" fill=\"#ffffff\"/>\
         <line x1=\"{pad}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"#4a4a4a\"/>\
         <line x1=\"{pad}\" y1=\"{pad}\" x2=\"{pad}\" y2=\"{:.1}\" stroke=\"#4a4a4a\"/>\
         <text x=\"4\" y=\"{:.1}\" font-size=\"11\" fill=\"#1a1a1a\">100%</text><text x=\"4\" y=\"{:.1}\" font-size=\"11\" fill=\"#1a1a1a\">0%</text>",
        escape(title),
        history.len(),
        h - pad,
        w - pad,
        h - pad,
        h - pad,
        pad + 4.0,
        h - pad,
    );
    out.push_str(&format!(
        "<polyline fill=\"none\" stroke=\"#0b4f8a\" stroke-width=\"2.5\" points=\"{}\"/>",
        score_points.join(" ")
    ));
    out.push_str(&format!("<polyline fill=\"none\" stroke=\"#7a4a00\" stroke-width=\"1.5\" stroke-dasharray=\"5 3\" points=\"{}\"/>", fuel_points.join(" ")));
    for (i, r) in history.iter().enumerate() {
        let colour = if r.godkjent() { "#1d6b33" } else { "#a4161a" };
        out.push_str(&format!("<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"4\" fill=\"{colour}\"><title>run {}: {}</title></circle>", x(i), y(r.score.unwrap_or(0.0)), r.id, escape(r.verdict.as_deref().unwrap_or(r.state.as_str()))));
    }
    out.push_str("</svg>");
    out
}

/// Today's night (for `sandkasse nightly` without `--date`).
pub fn tonight(state: &AppState) -> Result<Date, NightlyError> {
    night_of(state.clock.now(), &state.config.nightly.time_zone)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_are_per_date_stable_and_positive() {
        let a = seed_for("2026-11-23".parse().unwrap());
        assert_eq!(a, seed_for("2026-11-23".parse().unwrap()));
        assert_ne!(a, seed_for("2026-11-24".parse().unwrap()));
        assert!(a >= 0);
    }

    #[test]
    fn diffs_name_newly_failing_passing_and_new_vilkar() {
        let f = |pairs: &[(&str, &str)], fuel| Figures {
            outcomes: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
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

    #[test]
    fn the_next_start_is_at_the_local_time() {
        // From local midnight, today's start.
        let midnight: Timestamp = "2026-11-22T23:00:00Z".parse().unwrap();
        assert_eq!(
            next_start(midnight, "02:00", "Europe/Oslo")
                .unwrap()
                .date()
                .to_string(),
            "2026-11-23"
        );
        // 2026-11-23 01:00 UTC is 02:00 in Oslo (CET, +01:00).
        let after: Timestamp = "2026-11-23T00:30:00Z".parse().unwrap();
        assert_eq!(
            next_start(after, "02:00", "Europe/Oslo")
                .unwrap()
                .timestamp()
                .to_string(),
            "2026-11-23T01:00:00Z"
        );
        let after: Timestamp = "2026-11-23T01:00:01Z".parse().unwrap();
        assert_eq!(
            next_start(after, "02:00", "Europe/Oslo")
                .unwrap()
                .timestamp()
                .to_string(),
            "2026-11-24T01:00:00Z"
        );
        // Summer time: 02:00 in Oslo is 00:00 UTC.
        let after: Timestamp = "2026-06-01T12:00:00Z".parse().unwrap();
        assert_eq!(
            next_start(after, "02:00", "Europe/Oslo")
                .unwrap()
                .timestamp()
                .to_string(),
            "2026-06-02T00:00:00Z"
        );
        assert!(next_start(after, "02:00", "Mars/Olympus").is_err());
    }
}

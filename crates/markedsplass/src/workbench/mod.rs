//! The vendor's workbench: a hosted development sandbox per organisation (`docs/workbench.md`).
//!
//! Each vendor organisation gets its own [`Platform`] — the same router, access rules, audit and
//! fault injection as the suite's — over a synthetic dataset generated from its own seed (the
//! organisation's id), served under `/sandkasse/{org}/{kommunenummer}/fhir` by
//! `axum::http::hosted`. [`Workbench`] holds them:
//!
//! - **lazily and bounded**: a sandbox is built on its first request and kept in a least-recently
//!   used set of `workbench.loaded_sandboxes`; an evicted one is rebuilt on its next request;
//! - **persistently**: accepted launches and writes go to the sandbox's journal
//!   ([`crate::store::WorkbenchStore`]) and are replayed in order when it is built — the platform
//!   is deterministic, so the replay gives the same ids and the same token texts — until the
//!   vendor resets it ([`reset`]);
//! - **isolated**: every sandbox has its own secret; its tokens are MACs under it, so a token of
//!   another sandbox is refused before any platform is touched ([`Workbench::admits_token`]);
//! - **bounded per organisation** ([`limit::OrgLimits`]): a token bucket and a cap on requests
//!   at once, each answering 429 with `Retry-After` rather than queueing.
//!
//! The operations below take the [`Market`] and the [`Actor`] like every other; only vendors
//! have a sandbox (their organisation's), everyone else gets 403.

pub mod exchanges;
pub mod export;
pub mod faults;
pub mod kinds;
pub mod launch;
pub mod limit;

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, RwLock};

use rand_core::{OsRng, RngCore as _};
use sandkasse_kommune::kommuner::SAMARBEIDSKOMMUNER;
use sandkasse_platform::{AuditEntry, Base, Platform, PlatformConfig};
use serde::Serialize;
use serde_json::json;

use crate::config;
use crate::error::AppError;
use crate::market::Market;
use crate::policy::{self, Actor};
use crate::store::{FaultPreset, JournalEntry, SandboxRecord, StoreError, WorkbenchStore};
use exchanges::Exchange;

pub use kinds::PatientKind;
pub use launch::{LaunchInput, Launched};

/// One organisation's loaded sandbox.
pub struct Sandbox {
    pub organisation_id: i64,
    pub platform: Arc<Platform>,
    secret: [u8; 32],
    /// Writes and launches take turns, so the journal's order is the platform's.
    pub write_turn: tokio::sync::Mutex<()>,
    /// Journal entries this copy has applied (replayed or appended).
    applied: std::sync::atomic::AtomicU32,
}

impl Sandbox {
    /// The ground truth of a kommune of the sandbox (400 `unknown_kommune` if it has none).
    pub fn truth(&self, kommunenummer: &str) -> Result<&sandkasse_kommune::Truth, AppError> {
        self.platform
            .base()
            .truth(kommunenummer)
            .ok_or_else(|| unknown_kommune(kommunenummer))
    }
}

/// The caller's organisation and its sandbox (built if need be).
pub async fn caller_sandbox(
    market: &Market,
    actor: &Actor,
) -> Result<(i64, Arc<Sandbox>), AppError> {
    let org = organisation(actor)?;
    Ok((
        org,
        market.workbench.sandbox(org, market.clock.now()).await?,
    ))
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("organisation_id", &self.organisation_id)
            .finish_non_exhaustive()
    }
}

/// Every organisation's sandbox, loaded on demand. See the [module docs](self).
pub struct Workbench {
    pub config: config::Workbench,
    store: Arc<dyn WorkbenchStore>,
    /// `http://{listen}` until the server knows its address, or `workbench.public_url`.
    public_url: RwLock<String>,
    /// Loaded sandboxes, most recently used last.
    loaded: Mutex<Vec<Arc<Sandbox>>>,
    /// One loader at a time per organisation.
    loading: Mutex<HashMap<i64, Arc<tokio::sync::Mutex<()>>>>,
    exchanges: Mutex<HashMap<i64, VecDeque<Exchange>>>,
    pub limits: limit::OrgLimits,
}

impl std::fmt::Debug for Workbench {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workbench")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// The seed of an organisation's synthetic data: its id.
pub fn seed(org: i64) -> u64 {
    org.unsigned_abs()
}

fn new_secret() -> [u8; 32] {
    let mut secret = [0_u8; 32];
    OsRng.fill_bytes(&mut secret);
    secret
}

impl Workbench {
    pub fn new(
        config: &config::Workbench,
        listen: std::net::SocketAddr,
        store: Arc<dyn WorkbenchStore>,
    ) -> Workbench {
        let public = config
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{listen}"));
        Workbench {
            limits: limit::OrgLimits::new(
                config.requests_per_second,
                config.burst,
                config.concurrency_per_organisation,
            ),
            config: config.clone(),
            store,
            public_url: RwLock::new(public.trim_end_matches('/').to_owned()),
            loaded: Mutex::default(),
            loading: Mutex::default(),
            exchanges: Mutex::default(),
        }
    }

    /// The server's real address, once bound (unless `public_url` is configured).
    pub fn set_listen_addr(&self, addr: std::net::SocketAddr) {
        if self.config.public_url.is_none() {
            *self.public_url.write().unwrap_or_else(|e| e.into_inner()) = format!("http://{addr}");
        }
    }

    /// `{public_url}/sandkasse/{org}`: what the sandbox's platform calls its base.
    pub fn sandbox_url(&self, org: i64) -> String {
        let public = self.public_url.read().unwrap_or_else(|e| e.into_inner());
        format!("{public}/sandkasse/{org}")
    }

    /// The FHIR base URL of a kommune in an organisation's sandbox.
    pub fn fhir_base(&self, org: i64, kommunenummer: &str) -> String {
        format!("{}/{kommunenummer}/fhir", self.sandbox_url(org))
    }

    fn loaded(&self, org: i64) -> Option<Arc<Sandbox>> {
        let mut loaded = self.loaded.lock().unwrap_or_else(|e| e.into_inner());
        let at = loaded.iter().position(|s| s.organisation_id == org)?;
        let sandbox = loaded.remove(at);
        loaded.push(sandbox.clone());
        Some(sandbox)
    }

    /// Forgets a loaded sandbox (after a reset, or when its journal could not be written): its
    /// next request rebuilds it from the store.
    pub fn evict(&self, org: i64) {
        self.loaded
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|s| s.organisation_id != org);
    }

    /// Whether `token` was issued by `org`'s sandbox (its MAC holds under the sandbox's secret):
    /// answered from the loaded sandbox or the stored record, never by building one.
    pub async fn admits_token(&self, org: i64, token: &str) -> Result<bool, StoreError> {
        let secret = match self.loaded(org) {
            Some(s) => s.secret,
            None => match self.store.sandbox(org).await? {
                Some(record) => record.secret,
                None => return Ok(false),
            },
        };
        Ok(sandkasse_platform::token::is_issued_under(&secret, token))
    }

    /// The organisation's sandbox, built (and its journal replayed) if it is not loaded.
    pub async fn sandbox(&self, org: i64, now: jiff::Timestamp) -> Result<Arc<Sandbox>, AppError> {
        if let Some(s) = self.loaded(org) {
            return Ok(s);
        }
        let turn = self
            .loading
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(org)
            .or_default()
            .clone();
        let _turn = turn.lock().await;
        if let Some(s) = self.loaded(org) {
            return Ok(s);
        }
        let record = self.store.open_sandbox(org, new_secret(), now).await?;
        let sandbox = Arc::new(self.build(&record).await?);
        let mut loaded = self.loaded.lock().unwrap_or_else(|e| e.into_inner());
        loaded.push(sandbox.clone());
        let over = loaded
            .len()
            .saturating_sub(self.config.loaded_sandboxes.max(1));
        loaded.drain(..over);
        Ok(sandbox)
    }

    async fn build(&self, record: &SandboxRecord) -> Result<Sandbox, AppError> {
        let org = record.organisation_id;
        let generation = sandkasse_kommune::GenConfig::new(seed(org), self.config.innbyggere);
        let base = tokio::task::spawn_blocking(move || {
            sandkasse_kommune::try_generate(&generation).map(|data| Base::new(&data))
        })
        .await
        .map_err(|e| AppError::Internal(Box::new(e)))?
        .map_err(|e| AppError::Internal(Box::new(e)))?;
        let config = PlatformConfig {
            base_url: self.sandbox_url(org),
            secret: Some(record.secret),
            ..PlatformConfig::default()
        };
        let platform = Arc::new(Platform::on_tokio_clock(Arc::new(base), config));
        let journal = self.store.journal(org).await?;
        for entry in &journal {
            replay(&platform, entry).await;
        }
        platform
            .set_faults(faults::plan(record.faults))
            .map_err(|e| AppError::Internal(Box::new(e)))?;
        Ok(Sandbox {
            organisation_id: org,
            platform,
            secret: record.secret,
            write_turn: tokio::sync::Mutex::new(()),
            applied: std::sync::atomic::AtomicU32::new(
                u32::try_from(journal.len()).unwrap_or(u32::MAX),
            ),
        })
    }

    /// Appends to the journal what `sandbox` just applied (under its `write_turn`). When that
    /// fails — the journal is full, the store does not answer, or another process changed the
    /// sandbox meanwhile (409 `msg_workbench_stale`) — the loaded sandbox is dropped, so no
    /// platform holds a change the store does not, and the next request rebuilds it.
    pub async fn journal(&self, sandbox: &Sandbox, entry: &JournalEntry) -> Result<(), AppError> {
        use std::sync::atomic::Ordering;
        let org = sandbox.organisation_id;
        let after = sandbox.applied.load(Ordering::SeqCst);
        let appended = self
            .store
            .append_journal(org, entry, after, self.config.max_journal_entries)
            .await;
        match appended {
            Ok(true) => {
                sandbox.applied.fetch_add(1, Ordering::SeqCst);
                Ok(())
            }
            Ok(false) => {
                self.evict(org);
                Err(AppError::Refused(crate::i18n::Msg::new(
                    "msg_workbench_stale",
                )))
            }
            Err(e) => {
                self.evict(org);
                Err(e.into())
            }
        }
    }

    /// Keeps an exchange (the newest `exchanges_kept`).
    pub fn record_exchange(&self, org: i64, exchange: Exchange) {
        let keep = self.config.exchanges_kept;
        if keep == 0 {
            return;
        }
        let mut all = self.exchanges.lock().unwrap_or_else(|e| e.into_inner());
        let list = all.entry(org).or_default();
        list.push_front(exchange);
        list.truncate(keep);
    }

    fn exchanges_of(&self, org: i64) -> Vec<Exchange> {
        self.exchanges
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&org)
            .map(|l| l.iter().cloned().collect())
            .unwrap_or_default()
    }
}

/// Applies one journal entry again. A refusal now (which the platform's determinism rules out)
/// is logged, not fatal: the sandbox still serves everything else.
async fn replay(platform: &Platform, entry: &JournalEntry) {
    match entry {
        JournalEntry::Launch { context } => {
            if let Err(e) = platform.issue_token(context) {
                tracing::warn!(error = %e, "a journaled launch was refused on replay");
            }
        }
        JournalEntry::Write {
            method,
            path,
            headers,
            body,
            token,
        } => {
            let mut request = axum::http::Request::builder()
                .method(method.as_str())
                .uri(path.as_str())
                .header(axum::http::header::AUTHORIZATION, format!("Bearer {token}"));
            for (name, value) in headers {
                request = request.header(name.as_str(), value.as_str());
            }
            let Ok(request) = request.body(axum::body::Body::from(body.clone())) else {
                tracing::warn!(%path, "a journaled write is not a request");
                return;
            };
            let status = platform.handle(request).await.status();
            if !status.is_success() {
                tracing::warn!(%path, %status, "a journaled write was refused on replay");
            }
        }
    }
}

/// The organisation whose sandbox the caller works in: vendors only.
pub fn organisation(actor: &Actor) -> Result<i64, AppError> {
    policy::vendor_organisation(actor)
}

/// A kommune of the sandboxes, with its FHIR base URL.
#[derive(Debug, Clone, Serialize)]
pub struct KommuneView {
    pub nummer: &'static str,
    pub navn: &'static str,
    pub fhir_base: String,
}

/// The caller's sandbox as `GET /api/v1/sandbox` and the page describe it.
#[derive(Debug, Clone, Serialize)]
pub struct SandboxView {
    pub organisation_id: i64,
    /// The seed of the synthetic data (`sandkasse generate --seed {seed} --innbyggere {innbyggere}`
    /// gives the same data locally).
    pub seed: u64,
    pub innbyggere: u32,
    pub kommuner: Vec<KommuneView>,
    /// The fault preset switched on.
    pub faults: FaultPreset,
    /// Every preset there is.
    pub fault_presets: Vec<FaultPreset>,
    /// Launches and writes kept (replayed after a restart), and the most there may be.
    pub journal_entries: u32,
    pub max_journal_entries: u32,
    pub reset_at: Option<jiff::Timestamp>,
    pub requests_per_second: u32,
    pub burst: u32,
    pub concurrency: usize,
    pub exchanges_kept: usize,
}

/// The caller's sandbox, without building it.
pub async fn describe(market: &Market, actor: &Actor) -> Result<SandboxView, AppError> {
    let org = organisation(actor)?;
    let wb = &market.workbench;
    let record = market.stores.workbench.sandbox(org).await?;
    Ok(SandboxView {
        organisation_id: org,
        seed: seed(org),
        innbyggere: wb.config.innbyggere,
        kommuner: SAMARBEIDSKOMMUNER
            .iter()
            .map(|k| KommuneView {
                nummer: k.nummer,
                navn: k.navn,
                fhir_base: wb.fhir_base(org, k.nummer),
            })
            .collect(),
        faults: record.as_ref().map(|r| r.faults).unwrap_or_default(),
        fault_presets: FaultPreset::ALL.to_vec(),
        journal_entries: record.as_ref().map_or(0, |r| r.journal_entries),
        max_journal_entries: wb.config.max_journal_entries,
        reset_at: record.as_ref().and_then(|r| r.reset_at),
        requests_per_second: wb.config.requests_per_second,
        burst: wb.config.burst,
        concurrency: wb.config.concurrency_per_organisation,
        exchanges_kept: wb.config.exchanges_kept,
    })
}

/// Switches the caller's fault preset (audited as `workbench.faults`).
pub async fn set_faults(
    market: &Market,
    actor: &Actor,
    preset: FaultPreset,
) -> Result<FaultPreset, AppError> {
    let (org, sandbox) = caller_sandbox(market, actor).await?;
    let audit = market.audit.clone();
    let who = actor.audit_name();
    market
        .stores
        .workbench
        .set_faults(
            org,
            preset,
            Box::new(move |p| {
                vec![audit.event(
                    &who,
                    "workbench.faults",
                    &format!("organisation:{org}"),
                    None,
                    json!({ "faults": p.as_str() }),
                )]
            }),
        )
        .await?;
    sandbox
        .platform
        .set_faults(faults::plan(preset))
        .map_err(|e| AppError::Internal(Box::new(e)))?;
    Ok(preset)
}

/// Resets the caller's sandbox: its writes and tokens are gone, its exchanges forgotten, its
/// fault preset kept. Audited as `workbench.reset` with the number of journal entries removed.
pub async fn reset(market: &Market, actor: &Actor) -> Result<u32, AppError> {
    let (org, sandbox) = caller_sandbox(market, actor).await?;
    let wb = &market.workbench;
    let _turn = sandbox.write_turn.lock().await;
    let audit = market.audit.clone();
    let who = actor.audit_name();
    let removed = market
        .stores
        .workbench
        .reset_sandbox(
            org,
            new_secret(),
            market.clock.now(),
            Box::new(move |removed| {
                vec![audit.event(
                    &who,
                    "workbench.reset",
                    &format!("organisation:{org}"),
                    None,
                    json!({ "journal_entries_removed": removed }),
                )]
            }),
        )
        .await?;
    wb.evict(org);
    wb.exchanges
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&org);
    Ok(removed)
}

/// The caller's last exchanges, newest first.
pub fn exchanges(market: &Market, actor: &Actor) -> Result<Vec<Exchange>, AppError> {
    let org = organisation(actor)?;
    Ok(market.workbench.exchanges_of(org))
}

/// The audit log of the caller's sandbox, newest first (at most `limit`).
pub async fn audit_events(
    market: &Market,
    actor: &Actor,
    limit: usize,
) -> Result<Vec<AuditEntry>, AppError> {
    let (_, sandbox) = caller_sandbox(market, actor).await?;
    let mut events = sandbox.platform.audit_events();
    events.reverse();
    events.truncate(limit);
    Ok(events)
}

/// The special kinds of person in a kommune of the caller's sandbox.
pub async fn person_kinds(
    market: &Market,
    actor: &Actor,
    kommunenummer: &str,
) -> Result<Vec<kinds::KindSummary>, AppError> {
    let (_, sandbox) = caller_sandbox(market, actor).await?;
    Ok(kinds::summary(sandbox.truth(kommunenummer)?))
}

fn unknown_kommune(k: &str) -> AppError {
    AppError::BadRequest {
        code: "unknown_kommune",
        message: crate::i18n::Msg::new("msg_workbench_unknown_kommune").arg("kommune", k),
    }
}

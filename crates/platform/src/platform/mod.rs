//! [`Platform`]: one scenario's (or one server's) view of the synthetic platform.
//!
//! A platform is an `Arc<Base>` (shared, immutable) plus its own state: write overlay, audit log,
//! token table, fault plan with counters, and a [`Clock`]. Creating one allocates nothing but
//! empty maps, so every scenario gets a fresh one. Everything it does is deterministic: ids come
//! from counters, output never depends on hash-map order, time comes from the clock, so the same
//! base, request sequence and clock give byte-identical responses and audit events.
//!
//! Requests go through [`Platform::handle`] (the router from [`crate::app`] calls it). Data access
//! runs synchronously under one lock per platform; only injected latency waits (on tokio time).
//!
//! One request passes through the files of this folder in order:
//!
//! | file | stage |
//! |---|---|
//! | `mod.rs` | [`Platform::handle`]: faults that answer before routing, then `dispatch` by [`Route`] |
//! | `wire.rs` | HTTP: content negotiation, the body and its limit, form bodies, response rewriting faults |
//! | `guard.rs` | the bearer token, the care relation, shielding, compartments and scopes |
//! | `read.rs` | read and vread |
//! | `search.rs` | search: candidates, access per resource, paging, notices of withheld resources |
//! | `write.rs` | create and update: validation, write access, conditional create, If-Match |
//! | `token.rs` | issuing tokens (`POST /{k}/auth/token` and the library call) |
//! | `bundle.rs` | what goes on the wire: a stored resource rendered, the searchset Bundle |

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::{Body, Bytes};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, StatusCode, header, request::Parts};
use jiff::{SignedDuration, Timestamp};
use sandkasse_fhir::outcome::{Issue, Severity, operation_outcome};
use sandkasse_fhir::{schema, systems};
use sandkasse_kommune::Skjerming;
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::access::{self, Action, Decision, Denial, Relation, Requester};
use crate::audit::{Agent, AuditEntry, AuditOutcome, Interaction, Withheld};
use crate::clock::{self, Clock};
use crate::error::{ApiError, FHIR_JSON};
use crate::faults::{Effects, FaultPlan, FaultPlanError, FaultState, FiredFault};
use crate::route::{self, Op, Route, Target};
use crate::search::{Cursor, Query, QueryError, TokenValue};
use crate::store::{Base, Found, Overlay, Stored, TenantBase, View};
use crate::token::{Grant, LaunchContext, TokenError};
use crate::types::TypeInfo;

/// Default public base URL (docs/architecture.md §3); the FHIR base of a kommune is `{base_url}/{k}/fhir`.
pub const DEFAULT_BASE_URL: &str = "https://plattform.sandkasse.test";

/// Default request body limit: 1 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 1 << 20;

/// Settings of a platform.
#[derive(Clone)]
pub struct PlatformConfig {
    /// Public base URL, without trailing slash, used in `fullUrl`, `Location` and links.
    /// Default [`DEFAULT_BASE_URL`]; the HTTP server sets its own address.
    pub base_url: String,
    /// Key for token and cursor MACs. Default: derived from the dataset seed (deterministic);
    /// a server open to others should set a random one.
    pub secret: Option<[u8; 32]>,
    /// Largest request body accepted (413 beyond). Default [`DEFAULT_BODY_LIMIT`].
    pub body_limit: usize,
    /// Token lifetime in seconds. Default [`crate::token::TOKEN_LIFETIME_SECS`].
    pub token_lifetime_secs: i64,
}

impl Default for PlatformConfig {
    fn default() -> Self {
        PlatformConfig {
            base_url: DEFAULT_BASE_URL.to_owned(),
            secret: None,
            body_limit: DEFAULT_BODY_LIMIT,
            token_lifetime_secs: crate::token::TOKEN_LIFETIME_SECS,
        }
    }
}

impl fmt::Debug for PlatformConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PlatformConfig")
            .field("base_url", &self.base_url)
            .field("secret", &self.secret.map(|_| "<redacted>"))
            .field("body_limit", &self.body_limit)
            .field("token_lifetime_secs", &self.token_lifetime_secs)
            .finish()
    }
}

#[derive(Debug, Default)]
struct State {
    overlays: BTreeMap<String, Overlay>,
    tokens: HashMap<String, Grant>,
    tokens_issued: u64,
    audit: Vec<AuditEntry>,
    faults: FaultState,
}

/// The synthetic platform for one scenario or one server. See the [module docs](self).
pub struct Platform {
    base: Arc<Base>,
    clock: Arc<dyn Clock>,
    config: PlatformConfig,
    secret: [u8; 32],
    state: Mutex<State>,
}

impl fmt::Debug for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Platform")
            .field("config", &self.config)
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

/// Parts of an audit entry filled in while a request is handled.
#[derive(Debug, Default)]
struct Draft {
    description: Option<String>,
    query: Option<String>,
    emergency: bool,
    patients: Vec<String>,
    returned: Vec<String>,
    withheld: Vec<Withheld>,
}

impl Draft {
    fn patient(&mut self, id: &str) {
        if !self.patients.iter().any(|p| p == id) {
            self.patients.push(id.to_owned());
        }
    }
}

/// Per-request context.
struct Ctx<'a> {
    tb: &'a TenantBase,
    fx: &'a Effects,
    now: Timestamp,
    today: String,
    /// `{base_url}/{k}/fhir`.
    fhir_base: String,
}

/// One authenticated call on one resource type: where, who, on what, and what the audit
/// entry of it records as it goes.
struct Call<'a> {
    ctx: &'a Ctx<'a>,
    grant: &'a Grant,
    info: &'static TypeInfo,
    draft: &'a mut Draft,
}

mod bundle;
mod guard;
mod read;
mod search;
mod token;
mod wire;
mod write;

use bundle::{BundleMeta, BundleOut, EntryOut, Link, SearchMode, render};
use search::query_error;
use wire::{
    JSON_TYPES, check_accept, fhir_json_response, foreign_links, parse_json_body,
    require_content_type, schema_issues, search_form, set_header, truncate,
};

impl Platform {
    /// A platform over `base` with the default configuration.
    pub fn new(base: Arc<Base>, clock: Arc<dyn Clock>) -> Platform {
        Platform::with_config(base, clock, PlatformConfig::default())
    }

    /// A platform whose clock starts at the dataset's reference time and runs on tokio's clock:
    /// virtual and instant on a paused runtime (a scenario), real time otherwise (a server).
    /// Create it inside the runtime that will drive it.
    pub fn on_tokio_clock(base: Arc<Base>, config: PlatformConfig) -> Platform {
        let clock = Arc::new(crate::clock::TokioClock::new(base.reference_time()));
        Platform::with_config(base, clock, config)
    }

    /// A platform with explicit settings.
    pub fn with_config(base: Arc<Base>, clock: Arc<dyn Clock>, config: PlatformConfig) -> Platform {
        let secret = config.secret.unwrap_or_else(|| {
            let mut h = Sha256::new();
            h.update(b"sandkasse-platform-secret\0");
            h.update(base.seed().to_le_bytes());
            h.finalize().into()
        });
        Platform {
            base,
            clock,
            config,
            secret,
            state: Mutex::new(State::default()),
        }
    }

    /// Installs a fault plan (counters start at zero).
    pub fn with_faults(self, plan: FaultPlan) -> Result<Platform, FaultPlanError> {
        self.set_faults(plan)?;
        Ok(self)
    }

    /// Replaces the fault plan (counters start again at zero).
    pub fn set_faults(&self, plan: FaultPlan) -> Result<(), FaultPlanError> {
        plan.validate()?;
        self.lock().faults = FaultState::new(plan);
        Ok(())
    }

    pub fn base(&self) -> &Arc<Base> {
        &self.base
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    pub fn config(&self) -> &PlatformConfig {
        &self.config
    }

    /// The FHIR base URL of a kommune, e.g. `https://plattform.sandkasse.test/4601/fhir`.
    pub fn fhir_base(&self, kommunenummer: &str) -> String {
        format!("{}/{kommunenummer}/fhir", self.config.base_url)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves consistent data (every mutation is a single
        // insert/push), so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Every audit entry so far, in order.
    pub fn audit_events(&self) -> Vec<AuditEntry> {
        self.lock().audit.clone()
    }

    /// Every audit entry as a FHIR `AuditEvent`.
    pub fn audit_event_resources(&self) -> Vec<Value> {
        self.lock().audit.iter().map(AuditEntry::to_fhir).collect()
    }

    /// Faults that fired so far.
    pub fn fired_faults(&self) -> Vec<FiredFault> {
        self.lock().faults.fired.clone()
    }

    /// The current version of a resource as stored (base or written), without access rules or
    /// faults — for the suite's evaluation, not for adapters.
    pub fn resource(&self, kommunenummer: &str, resource_type: &str, id: &str) -> Option<Value> {
        let tb = self.base.tenant(kommunenummer)?;
        let st = self.lock();
        let view = View {
            base: tb,
            overlay: st.overlays.get(kommunenummer),
        };
        view.get(resource_type, id)
            .and_then(|s| serde_json::from_str(s.json.get()).ok())
    }

    /// Resources created or updated in a kommune, in type order then creation order.
    pub fn written(&self, kommunenummer: &str) -> Vec<Value> {
        let st = self.lock();
        let Some(o) = st.overlays.get(kommunenummer) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for map in o.by_type.values() {
            let mut items: Vec<&Arc<Stored>> = map.values().collect();
            items.sort_by(|a, b| (a.last_updated, &a.id).cmp(&(b.last_updated, &b.id)));
            out.extend(
                items
                    .into_iter()
                    .filter_map(|s| serde_json::from_str(s.json.get()).ok()),
            );
        }
        out
    }

    /// Every current resource of `resource_type` in a kommune (the base's, then the written ones,
    /// in creation order), one compact JSON document a line (FHIR Bulk Data NDJSON), without
    /// access rules or faults — the sandbox's test-data export, not an adapter's read. `None`
    /// for an unknown kommune; empty for a type without resources.
    pub fn export_ndjson(&self, kommunenummer: &str, resource_type: &str) -> Option<(u64, String)> {
        let tb = self.base.tenant(kommunenummer)?;
        let st = self.lock();
        let view = View {
            base: tb,
            overlay: st.overlays.get(kommunenummer),
        };
        let mut out = String::new();
        let mut count = 0;
        for found in view.candidates(resource_type, None) {
            out.push_str(found.json.get());
            out.push('\n');
            count += 1;
        }
        Some((count, out))
    }

    /// The grant behind a token, if issued by this platform (expired or not).
    pub fn grant(&self, access_token: &str) -> Option<Grant> {
        self.lock().tokens.get(access_token).cloned()
    }

    /// Issues a token for a launch context (`ctx.kommunenummer` names the kommune).
    pub fn issue_token(&self, ctx: &LaunchContext) -> Result<String, TokenError> {
        let mut st = self.lock();
        self.issue(&mut st, ctx).map(|g| g.access_token)
    }

    fn record(
        st: &mut State,
        now: Timestamp,
        grant: &Grant,
        interaction: Interaction,
        rtype: Option<&str>,
        status: u16,
        d: Draft,
    ) {
        let id = format!("ae-{}", st.audit.len() + 1);
        st.audit.push(AuditEntry {
            id,
            kommunenummer: grant.kommunenummer.clone(),
            recorded: now,
            interaction,
            resource_type: rtype.map(str::to_owned),
            query: d.query,
            status,
            outcome: AuditOutcome::of_status(status),
            description: d.description.unwrap_or_else(|| "OK".to_owned()),
            agent: Agent::of(grant),
            purpose: grant.purpose,
            reason: grant.reason.clone(),
            emergency: d.emergency,
            patients: d.patients,
            returned: d.returned,
            withheld: d.withheld,
        });
    }

    /// Handles one HTTP request: the whole API. Never panics on client input; see
    /// [`crate::app`] for the last-resort panic layer.
    pub async fn handle(&self, req: http::Request<Body>) -> Response {
        let (parts, body) = req.into_parts();
        let path = parts.uri.path().to_owned();
        let routed = route::route(&parts.method, &path);
        let (rtype, kind) = match &routed {
            Ok(r) => (r.resource_type(), Some(r.kind())),
            Err(_) => (None, None),
        };
        let fx = self
            .lock()
            .faults
            .on_request(parts.method.as_str(), rtype, kind, &path);
        if fx.latency_ms > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(fx.latency_ms)).await;
        }
        if let Some((status, retry_after)) = fx.status {
            let (code, text) = if status == 429 {
                (
                    "throttled",
                    "For mange forespørsler (injisert feil) / too many requests (injected fault)",
                )
            } else {
                (
                    "transient",
                    "Tjenesten er midlertidig utilgjengelig (injisert feil) / service temporarily unavailable (injected fault)",
                )
            };
            return ApiError::new(
                StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE),
                code,
                format!("{text}; Retry-After: {retry_after}"),
            )
            .header(header::RETRY_AFTER, retry_after.to_string())
            .into_response();
        }
        if let Some(authority) = &fx.redirect {
            let target = format!(
                "https://{authority}{}",
                parts
                    .uri
                    .path_and_query()
                    .map_or(path.as_str(), |p| p.as_str())
            );
            let mut r = ApiError::new(
                StatusCode::TEMPORARY_REDIRECT,
                "informational",
                "Flyttet midlertidig (injisert feil) / moved temporarily (injected fault)",
            )
            .into_response();
            *r.status_mut() = StatusCode::TEMPORARY_REDIRECT;
            set_header(&mut r, header::LOCATION, &target);
            return r;
        }
        let route = match routed {
            Ok(r) => r,
            Err(e) => return e.into_response(),
        };
        let body = match self.read_body(&parts, body).await {
            Ok(b) => b,
            Err(e) => return e.into_response(),
        };
        let response = match self.dispatch(&route, &parts, &body, &fx) {
            Ok(r) => r,
            Err(e) => e.into_response(),
        };
        let response = match &fx.foreign_links {
            Some(authority) => foreign_links(response, &self.config.base_url, authority).await,
            None => response,
        };
        match fx.truncate {
            Some(limit) => truncate(response, limit).await,
            None => response,
        }
    }

    fn dispatch(
        &self,
        route: &Route,
        parts: &Parts,
        body: &Bytes,
        fx: &Effects,
    ) -> Result<Response, ApiError> {
        let kommune = route.kommune.as_str();
        let tb = self.base.tenant(kommune).ok_or_else(|| {
            ApiError::not_found(format!(
                "Ukjent kommune {kommune}; kjente / unknown kommune {kommune}; known: {}",
                self.base.kommuner().collect::<Vec<_>>().join(", ")
            ))
        })?;
        let mut pairs = match parts.uri.query() {
            Some(q) => crate::search::parse_form(q).map_err(|e| {
                ApiError::bad_request(format!(
                    "Ugyldig spørrestreng / malformed query string: {e}"
                ))
            })?,
            None => Vec::new(),
        };
        let mut format = None;
        pairs.retain(|(k, v)| {
            if k == "_format" {
                format = Some(v.clone());
                false
            } else {
                true
            }
        });
        if route.target != Target::Token {
            check_accept(&parts.headers, format.as_deref())?;
        }
        let now = self.clock.now();
        let ctx = Ctx {
            tb,
            fx,
            now,
            today: clock::date_of(now),
            fhir_base: self.fhir_base(tb.nummer),
        };
        let (info, op) = match &route.target {
            Target::Metadata => return Ok(self.metadata(&ctx)),
            Target::Token => return self.token_endpoint(&ctx, parts, body),
            Target::Resource(info, op) => (*info, op),
        };
        if !pairs.is_empty() && !matches!(op, Op::Search { .. }) {
            return Err(ApiError::not_supported(format!(
                "Spørreparametre er bare tillatt ved søk (fikk {}) / query parameters are only allowed on searches (got {})",
                pairs[0].0, pairs[0].0
            )));
        }
        let mut st = self.lock();
        let grant = self.authenticate(&mut st, &ctx, (info, op), &parts.headers)?;
        let mut draft = Draft::default();
        let mut it = Call {
            ctx: &ctx,
            grant: &grant,
            info,
            draft: &mut draft,
        };
        let result = match op {
            Op::Read { id, version } => self.read(&mut st, &mut it, id, version.as_deref()),
            Op::Search { post } => {
                let mut all = pairs;
                if *post {
                    all.extend(search_form(parts, body)?);
                }
                self.search(&mut st, &mut it, &all)
            }
            Op::Create => self.create(&mut st, &mut it, &parts.headers, body),
            Op::Update { id } => self.update(&mut st, &mut it, id, &parts.headers, body),
        };
        let status = match &result {
            Ok(r) => r.status().as_u16(),
            Err(e) => {
                if draft.description.is_none() {
                    draft.description = Some(e.diagnostics().to_owned());
                }
                e.status.as_u16()
            }
        };
        Self::record(
            &mut st,
            now,
            &grant,
            op.interaction(),
            Some(info.name),
            status,
            draft,
        );
        result
    }

    fn metadata(&self, ctx: &Ctx<'_>) -> Response {
        let cs = crate::capability::statement(ctx.tb.nummer, ctx.tb.navn, &ctx.fhir_base, ctx.now);
        fhir_json_response(StatusCode::OK, serde_json::to_vec(&cs).unwrap_or_default())
    }
}

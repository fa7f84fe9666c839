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

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::{Body, Bytes};
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, Mac};
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
use crate::route::{self, Route};
use crate::search::{self, Cursor, Query, QueryError, TokenValue};
use crate::store::{Base, Found, Overlay, Stored, TenantBase, View};
use crate::token::{self, Grant, LaunchContext, TokenError};
use crate::types::TypeInfo;

/// Default public base URL (DESIGN §4); the FHIR base of a kommune is `{base_url}/{k}/fhir`.
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
    /// Token lifetime in seconds. Default [`token::TOKEN_LIFETIME_SECS`].
    pub token_lifetime_secs: i64,
}

impl Default for PlatformConfig {
    fn default() -> Self {
        PlatformConfig {
            base_url: DEFAULT_BASE_URL.to_owned(),
            secret: None,
            body_limit: DEFAULT_BODY_LIMIT,
            token_lifetime_secs: token::TOKEN_LIFETIME_SECS,
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

fn fhir_json_response(status: StatusCode, body: Vec<u8>) -> Response {
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(FHIR_JSON));
    r
}

fn set_header(r: &mut Response, name: header::HeaderName, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        r.headers_mut().insert(name, v);
    }
}

fn media_type(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(|v| {
        v.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    })
}

const JSON_TYPES: &[&str] = &[
    "application/fhir+json",
    "application/json",
    "application/json+fhir",
];

fn check_accept(headers: &HeaderMap, format: Option<&str>) -> Result<(), ApiError> {
    let not_acceptable = |what: &str| {
        ApiError::new(
            StatusCode::NOT_ACCEPTABLE,
            "not-supported",
            format!(
                "Plattformen svarer bare med application/fhir+json (ba om {what}) / the platform answers only application/fhir+json (asked for {what})"
            ),
        )
    };
    if let Some(f) = format
        && !matches!(
            f,
            "json" | "application/fhir+json" | "application/json" | "application/json+fhir"
        )
    {
        return Err(not_acceptable(f));
    }
    for value in headers.get_all(header::ACCEPT) {
        let text = value
            .to_str()
            .map_err(|_| ApiError::bad_request("Accept er ikke ASCII / Accept is not ASCII"))?;
        let ok = text.split(',').any(|range| {
            let m = range
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            m.is_empty() || m == "*/*" || m == "application/*" || JSON_TYPES.contains(&m.as_str())
        });
        if !ok {
            return Err(not_acceptable(text));
        }
    }
    Ok(())
}

fn require_content_type(headers: &HeaderMap, allowed: &[&str]) -> Result<(), ApiError> {
    match media_type(headers, header::CONTENT_TYPE) {
        Some(m) if allowed.contains(&m.as_str()) => Ok(()),
        other => Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "not-supported",
            format!(
                "Content-Type må være {} (fikk {}) / Content-Type must be {} (got {})",
                allowed.join(" eller "),
                other.as_deref().unwrap_or("ingen"),
                allowed.join(" or "),
                other.as_deref().unwrap_or("none"),
            ),
        )),
    }
}

fn parse_json_body(body: &[u8]) -> Result<Value, ApiError> {
    if body.is_empty() {
        return Err(ApiError::bad_request(
            "Tom forespørsel; forventet en FHIR-ressurs i JSON / empty body; expected a FHIR resource in JSON",
        ));
    }
    serde_json::from_slice(body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "structure",
            format!(
                "Ugyldig JSON / malformed JSON: {e} (linje / line {}, kolonne / column {})",
                e.line(),
                e.column()
            ),
        )
    })
}

fn schema_issues(err: schema::SchemaError) -> Vec<Issue> {
    match err {
        schema::SchemaError::Invalid(violations) => violations
            .into_iter()
            .map(|v| {
                Issue::error(
                    "structure",
                    format!(
                        "Brudd på FHIR R4-skjemaet / FHIR R4 schema violation: {}",
                        v.message
                    ),
                )
                .at(v.expression)
            })
            .collect(),
        other => vec![Issue::error("structure", other.to_string())],
    }
}

/// Removes a Patient's addresses and labels it REDACTED.
fn redact_address(v: &mut Value) {
    if let Some(obj) = v.as_object_mut() {
        obj.remove("address");
        if let Some(contacts) = obj.get_mut("contact").and_then(Value::as_array_mut) {
            for c in contacts {
                if let Some(c) = c.as_object_mut() {
                    c.remove("address");
                }
            }
        }
    }
    let meta = &mut v["meta"];
    if !meta.is_object() {
        *meta = json!({});
    }
    let security = &mut meta["security"];
    if !security.is_array() {
        *security = json!([]);
    }
    if let Some(list) = security.as_array_mut() {
        list.push(json!({"system": systems::V3_OBSERVATION_VALUE, "code": "REDACTED", "display": "redacted"}));
    }
}

/// Unknown element and extension for tolerant-reading faults.
fn inject_unknown(v: &mut Value) {
    v["sandkasseUkjent"] =
        json!({"beskrivelse": "ukjent element fra en nyere plattformversjon", "verdi": 42});
    let ext = json!({"url": "https://sandkasse.test/fhir/StructureDefinition/ukjent-utvidelse", "valueString": "tolerant lesing"});
    match v.get_mut("extension").and_then(Value::as_array_mut) {
        Some(list) => list.push(ext),
        None => v["extension"] = json!([ext]),
    }
}

fn render(s: &Stored, redact: bool, unknown: bool) -> Box<RawValue> {
    if !redact && !unknown {
        return s.json.clone();
    }
    let mut v: Value = serde_json::from_str(s.json.get()).unwrap_or(Value::Null);
    if redact {
        redact_address(&mut v);
    }
    if unknown {
        inject_unknown(&mut v);
    }
    serde_json::value::to_raw_value(&v).unwrap_or_else(|_| s.json.clone())
}

#[derive(Serialize)]
struct BundleOut {
    #[serde(rename = "resourceType")]
    resource_type: &'static str,
    meta: BundleMeta,
    #[serde(rename = "type")]
    kind: &'static str,
    total: usize,
    link: Vec<Link>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    entry: Vec<EntryOut>,
}

#[derive(Serialize)]
struct BundleMeta {
    #[serde(rename = "lastUpdated")]
    last_updated: String,
}

#[derive(Serialize)]
struct Link {
    relation: &'static str,
    url: String,
}

#[derive(Serialize)]
struct EntryOut {
    #[serde(rename = "fullUrl", skip_serializing_if = "Option::is_none")]
    full_url: Option<String>,
    resource: Box<RawValue>,
    search: SearchMode,
}

#[derive(Serialize)]
struct SearchMode {
    mode: &'static str,
}

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

    /// The grant behind a token, if issued by this platform (expired or not).
    pub fn grant(&self, access_token: &str) -> Option<Grant> {
        self.lock().tokens.get(access_token).cloned()
    }

    /// Issues a token for a launch context (`ctx.kommunenummer` names the kommune).
    pub fn issue_token(&self, ctx: &LaunchContext) -> Result<String, TokenError> {
        let mut st = self.lock();
        self.issue(&mut st, ctx).map(|g| g.access_token)
    }

    fn issue(&self, st: &mut State, ctx: &LaunchContext) -> Result<Grant, TokenError> {
        let tb = self
            .base
            .tenant(&ctx.kommunenummer)
            .ok_or_else(|| TokenError::UnknownKommune(ctx.kommunenummer.clone()))?;
        let mut grant = token::check(tb, ctx)?;
        st.tokens_issued += 1;
        let n = st.tokens_issued;
        let mut m =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.secret).expect("HMAC takes any key length");
        m.update(b"sandkasse-token\0");
        m.update(tb.nummer.as_bytes());
        m.update(&n.to_le_bytes());
        let mac: String = m.finalize().into_bytes()[..12]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let now = self.clock.now();
        grant.access_token = format!("sk-{}-{n}-{mac}", tb.nummer);
        grant.issued = now;
        grant.expires = now
            .checked_add(SignedDuration::from_secs(self.config.token_lifetime_secs))
            .unwrap_or(now);
        st.tokens.insert(grant.access_token.clone(), grant.clone());
        let mut draft = Draft {
            description: Some(format!(
                "Token utstedt / token issued: scope {}",
                grant.scopes.join(" ")
            )),
            ..Draft::default()
        };
        if let Some(p) = &grant.patient {
            draft.patient(p);
        }
        Self::record(st, now, &grant, Interaction::Login, None, 200, draft);
        Ok(grant)
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

    async fn read_body(&self, parts: &Parts, body: Body) -> Result<Bytes, ApiError> {
        let limit = self.config.body_limit;
        let too_large = || {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too-long",
                format!(
                    "Forespørselen er større enn {limit} byte / request body larger than {limit} bytes"
                ),
            )
        };
        let declared = parts
            .headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > limit as u64) {
            return Err(too_large());
        }
        axum::body::to_bytes(body, limit)
            .await
            .map_err(|_| too_large())
    }

    fn dispatch(
        &self,
        route: &Route,
        parts: &Parts,
        body: &Bytes,
        fx: &Effects,
    ) -> Result<Response, ApiError> {
        let kommune = route.kommune();
        let tb = self.base.tenant(kommune).ok_or_else(|| {
            ApiError::not_found(format!(
                "Ukjent kommune {kommune}; kjente / unknown kommune {kommune}; known: {}",
                self.base.kommuner().collect::<Vec<_>>().join(", ")
            ))
        })?;
        let mut pairs = match parts.uri.query() {
            Some(q) => search::parse_form(q).map_err(|e| {
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
        if !matches!(route, Route::Token { .. }) {
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
        match route {
            Route::Metadata { .. } => Ok(self.metadata(&ctx)),
            Route::Token { .. } => self.token_endpoint(&ctx, parts, body),
            _ => {
                if !pairs.is_empty() && !matches!(route, Route::Search { .. }) {
                    return Err(ApiError::not_supported(format!(
                        "Spørreparametre er bare tillatt ved søk (fikk {}) / query parameters are only allowed on searches (got {})",
                        pairs[0].0, pairs[0].0
                    )));
                }
                let mut st = self.lock();
                let grant = self.authenticate(&mut st, &ctx, route, &parts.headers)?;
                let mut draft = Draft::default();
                let (interaction, rtype) = match route {
                    Route::Read { info, .. } => (Interaction::Read, info.name),
                    Route::Search { info, .. } => (Interaction::Search, info.name),
                    Route::Create { info, .. } => (Interaction::Create, info.name),
                    Route::Update { info, .. } => (Interaction::Update, info.name),
                    Route::Metadata { .. } | Route::Token { .. } => unreachable_route(),
                };
                let result = match route {
                    Route::Read {
                        info, id, version, ..
                    } => self.read(
                        &mut st,
                        &ctx,
                        &grant,
                        info,
                        id,
                        version.as_deref(),
                        &mut draft,
                    ),
                    Route::Search { info, post, .. } => {
                        let mut all = pairs;
                        if *post {
                            if !body.is_empty() {
                                require_content_type(
                                    &parts.headers,
                                    &["application/x-www-form-urlencoded"],
                                )?;
                            }
                            let text = std::str::from_utf8(body).map_err(|_| {
                                ApiError::bad_request(
                                    "Skjemaet er ikke UTF-8 / form body is not UTF-8",
                                )
                            })?;
                            all.extend(search::parse_form(text).map_err(|e| {
                                ApiError::bad_request(format!(
                                    "Ugyldig skjema / malformed form body: {e}"
                                ))
                            })?);
                        }
                        self.search(&mut st, &ctx, &grant, info, &all, &mut draft)
                    }
                    Route::Create { info, .. } => self.create(
                        &mut st,
                        &ctx,
                        &grant,
                        info,
                        &parts.headers,
                        body,
                        &mut draft,
                    ),
                    Route::Update { info, id, .. } => self.update(
                        &mut st,
                        &ctx,
                        &grant,
                        info,
                        id,
                        &parts.headers,
                        body,
                        &mut draft,
                    ),
                    Route::Metadata { .. } | Route::Token { .. } => Err(ApiError::internal()),
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
                    interaction,
                    Some(rtype),
                    status,
                    draft,
                );
                result
            }
        }
    }

    fn authenticate(
        &self,
        st: &mut State,
        ctx: &Ctx<'_>,
        route: &Route,
        headers: &HeaderMap,
    ) -> Result<Grant, ApiError> {
        let Some(value) = headers.get(header::AUTHORIZATION) else {
            return Err(ApiError::unauthorized(
                "invalid_request",
                false,
                format!(
                    "Mangler Authorization: Bearer-token; hent et fra POST /{k}/auth/token / missing Authorization: Bearer token; get one from POST /{k}/auth/token",
                    k = ctx.tb.nummer
                ),
            ));
        };
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(str::trim)
            .ok_or_else(|| ApiError::unauthorized("invalid_request", false, "Authorization må være «Bearer <token>» / Authorization must be `Bearer <token>`"))?;
        let unknown =
            || ApiError::unauthorized("invalid_token", false, "Ukjent token / unknown token");
        let grant = st.tokens.get(token).cloned().ok_or_else(unknown)?;
        if grant.kommunenummer != ctx.tb.nummer {
            return Err(ApiError::unauthorized(
                "invalid_token",
                false,
                format!(
                    "Tokenet gjelder kommune {} / the token is for kommune {}",
                    grant.kommunenummer, grant.kommunenummer
                ),
            ));
        }
        let expired_by_fault = ctx.fx.expire_token;
        if expired_by_fault && let Some(g) = st.tokens.get_mut(token) {
            g.expires = g.expires.min(ctx.now);
        }
        if expired_by_fault || grant.expires <= ctx.now {
            let (interaction, rtype) = match route {
                Route::Read { info, .. } => (Interaction::Read, Some(info.name)),
                Route::Create { info, .. } => (Interaction::Create, Some(info.name)),
                Route::Update { info, .. } => (Interaction::Update, Some(info.name)),
                Route::Search { info, .. } => (Interaction::Search, Some(info.name)),
                _ => (Interaction::Read, None),
            };
            let text = "Tokenet er utløpt; hent et nytt / the token has expired; get a new one";
            let draft = Draft {
                description: Some(text.to_owned()),
                ..Draft::default()
            };
            Self::record(st, ctx.now, &grant, interaction, rtype, 401, draft);
            return Err(ApiError::unauthorized("invalid_token", true, text));
        }
        Ok(grant)
    }

    fn relation(tb: &TenantBase, grant: &Grant, patient: Option<&str>, today: &str) -> Relation {
        let Some(patient) = patient else {
            return Relation::None;
        };
        match tb
            .relations
            .get(&grant.unit_id)
            .and_then(|m| m.get(patient))
        {
            None => Relation::None,
            Some(list) => {
                if list
                    .iter()
                    .any(|i| tb.truth.care_relations[*i].active_on(today))
                {
                    Relation::Active
                } else {
                    Relation::Ended
                }
            }
        }
    }

    fn requester(grant: &Grant) -> Requester<'_> {
        Requester {
            category: &grant.category,
            purpose: grant.purpose,
            reason: grant.reason.as_deref(),
        }
    }

    /// The shielding of a stored resource: its label, or sperring if a Consent of its patient
    /// blocks it.
    fn shielding(view: &View<'_>, s: &Stored) -> Option<Skjerming> {
        let sperret = view.sperret();
        if !sperret.is_empty() {
            let reference = s.reference();
            if let Some(p) = sperret.get(reference.as_str())
                && (s.patient.as_deref() == Some(&**p) || (s.rtype == "Patient" && *s.id == **p))
            {
                return Some(Skjerming::Sperring);
            }
        }
        s.skjerming
    }

    fn compartment(s: &Stored) -> Option<&str> {
        if s.rtype == "Patient" {
            Some(&s.id)
        } else {
            s.patient.as_deref()
        }
    }

    fn scope_check(grant: &Grant, rtype: &str, write: bool) -> Result<(), ApiError> {
        if grant.allows(rtype, write) {
            return Ok(());
        }
        let verb = if write { "write" } else { "read" };
        let need = if rtype == "AuditEvent" {
            token::AUDIT_SCOPE.to_owned()
        } else {
            format!("user/{rtype}.{verb}")
        };
        Err(ApiError::forbidden(format!(
            "Tokenets scope ({}) gir ikke tilgang; krever {need} / the token's scope ({}) does not allow this; needs {need}",
            grant.scopes.join(" "),
            grant.scopes.join(" ")
        )))
    }

    fn denial(d: Denial) -> ApiError {
        let code = match d {
            Denial::RoleNotPermitted => "forbidden",
            _ => "security",
        };
        ApiError::new(StatusCode::FORBIDDEN, code, access::explain(d))
    }

    fn suppressed(s: Skjerming) -> ApiError {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "suppressed",
            format!(
                "Ressursen er holdt tilbake: {} / the resource is withheld",
                access::category_text(s)
            ),
        )
    }

    fn resource_headers(r: &mut Response, s: &Stored) {
        set_header(r, header::ETAG, &format!("W/\"{}\"", s.version));
        set_header(
            r,
            header::LAST_MODIFIED,
            &clock::http_date(s.last_updated()),
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn read(
        &self,
        st: &mut State,
        ctx: &Ctx<'_>,
        grant: &Grant,
        info: &'static TypeInfo,
        id: &str,
        version: Option<&str>,
        draft: &mut Draft,
    ) -> Result<Response, ApiError> {
        draft.query = Some(format!("{}/{id}", info.name));
        Self::scope_check(grant, info.name, false)?;
        if info.name == "AuditEvent" {
            let found = st
                .audit
                .iter()
                .find(|e| e.id == id && e.kommunenummer == ctx.tb.nummer)
                .map(AuditEntry::to_fhir);
            let Some(event) = found else {
                return Err(ApiError::not_found(format!(
                    "AuditEvent/{id} finnes ikke / not found"
                )));
            };
            if version.is_some_and(|v| v != "1") {
                return Err(ApiError::not_found(
                    "Versjonen finnes ikke / version not found",
                ));
            }
            draft.returned.push(format!("AuditEvent/{id}"));
            return Ok(fhir_json_response(
                StatusCode::OK,
                serde_json::to_vec(&event).unwrap_or_default(),
            ));
        }
        let view = View {
            base: ctx.tb,
            overlay: st.overlays.get(ctx.tb.nummer),
        };
        let Some(found) = view.get(info.name, id) else {
            return Err(ApiError::not_found(format!(
                "{}/{id} finnes ikke i kommune {} / not found in kommune {}",
                info.name, ctx.tb.nummer, ctx.tb.nummer
            )));
        };
        if let Some(v) = version
            && v != found.version.to_string()
        {
            return Err(ApiError::not_found(format!(
                "Versjon {v} finnes ikke; plattformen har bare gjeldende versjon ({}) / version {v} not found; only the current version ({}) is kept",
                found.version, found.version
            )));
        }
        let patient = Self::compartment(&found).map(str::to_owned);
        if let Some(p) = &patient {
            draft.patient(p);
        }
        let relation = Self::relation(ctx.tb, grant, patient.as_deref(), &ctx.today);
        match access::decide(
            &Self::requester(grant),
            info.name,
            Action::Read,
            relation,
            Self::shielding(&view, &found),
        ) {
            Decision::Deny(d) => Err(Self::denial(d)),
            Decision::Withhold { skjerming } => {
                draft.withheld.push(Withheld {
                    reference: found.reference(),
                    skjerming,
                });
                Err(Self::suppressed(skjerming))
            }
            Decision::Allow {
                emergency,
                redact_address,
            } => {
                draft.emergency = emergency;
                draft.returned.push(found.reference());
                let body = render(&found, redact_address, ctx.fx.unknown_elements);
                let mut r = fhir_json_response(StatusCode::OK, body.get().as_bytes().to_vec());
                Self::resource_headers(&mut r, &found);
                Ok(r)
            }
        }
    }

    /// Candidates for a search: narrowed by `_id`, a full identifier or the patient, filtered by
    /// every parameter, in stable order.
    fn candidates<'a>(
        view: &View<'a>,
        rtype: &str,
        q: &Query,
        patient: Option<&str>,
    ) -> Vec<Found<'a>> {
        let ix = view.base.index(rtype);
        let mut positions: Option<Vec<u32>> = None;
        if let Some(ids) = q.ids.first() {
            positions = Some(
                ids.iter()
                    .filter_map(|id| ix.and_then(|ix| ix.by_id.get(id.as_str())).copied())
                    .collect(),
            );
        } else if let Some(
            [
                TokenValue {
                    system: Some(s),
                    value: Some(v),
                },
            ],
        ) = q.identifiers.first().map(Vec::as_slice)
        {
            positions = Some(
                ix.and_then(|ix| ix.by_identifier.get(s.as_str()))
                    .and_then(|m| m.get(v.as_str()))
                    .cloned()
                    .unwrap_or_default(),
            );
        } else if let Some(p) = patient {
            if rtype == "Patient" {
                positions = Some(
                    ix.and_then(|ix| ix.by_id.get(p))
                        .copied()
                        .into_iter()
                        .collect(),
                );
            } else {
                positions = Some(
                    ix.and_then(|ix| ix.by_patient.get(p))
                        .cloned()
                        .unwrap_or_default(),
                );
            }
        }
        view.candidates(rtype, positions)
            .into_iter()
            .filter(|s| q.matches(s))
            .filter(|s| patient.is_none_or(|p| Self::compartment(s) == Some(p)))
            .collect()
    }

    fn search(
        &self,
        st: &mut State,
        ctx: &Ctx<'_>,
        grant: &Grant,
        info: &'static TypeInfo,
        pairs: &[(String, String)],
        draft: &mut Draft,
    ) -> Result<Response, ApiError> {
        let rtype = info.name;
        // A cursor replaces every other parameter.
        let (q, from_cursor) = match pairs.iter().find(|(k, _)| k == "_cursor") {
            Some((_, text)) => {
                if pairs.len() > 1 {
                    return Err(ApiError::bad_request(
                        "_cursor kan ikke kombineres med andre parametre / _cursor cannot be combined with other parameters",
                    ));
                }
                let c = Cursor::decode(text, &self.secret, ctx.tb.nummer, rtype).ok_or_else(|| {
                    ApiError::bad_request("Ugyldig eller endret _cursor; start søket på nytt / invalid or tampered _cursor; start the search again")
                })?;
                let mut q = search::parse(info, &c.params, false).map_err(query_error)?;
                q.offset = c.offset;
                q.count = Some(c.count);
                (q, true)
            }
            None => (
                search::parse(info, pairs, false).map_err(query_error)?,
                false,
            ),
        };
        draft.query = Some(format!("{rtype}?{}", search::encode_query(&q.params)));
        Self::scope_check(grant, rtype, false)?;

        let requested = q.count.unwrap_or(search::DEFAULT_COUNT);
        let mut notices: Vec<Issue> = Vec::new();
        let mut count = requested;
        if let Some(n) = ctx.fx.oversized {
            count = n.unwrap_or(usize::MAX);
        } else if requested > search::MAX_COUNT {
            count = search::MAX_COUNT;
            if !from_cursor {
                notices.push(Issue::new(
                    Severity::Warning,
                    "informational",
                    format!("_count={requested} er begrenset til {max} / _count={requested} capped at {max}", max = search::MAX_COUNT),
                ));
            }
        }
        let page_size = match ctx.fx.short_page {
            Some(k) => count.min(k),
            None => count,
        };

        let mut visible: Vec<(Box<RawValue>, String)> = Vec::new(); // (json, Type/id) rendered lazily below
        let mut visible_refs: Vec<Found<'_>> = Vec::new();
        let mut redact: Vec<bool> = Vec::new();
        let mut withheld: Vec<(String, Skjerming)> = Vec::new();

        if rtype == "AuditEvent" {
            let events: Vec<&AuditEntry> = st
                .audit
                .iter()
                .filter(|e| e.kommunenummer == ctx.tb.nummer)
                .filter(|e| q.ids.iter().all(|ids| ids.contains(&e.id)))
                .filter(|e| q.patient.as_ref().is_none_or(|p| e.patients.contains(p)))
                .filter(|e| {
                    q.agents.iter().all(|any| {
                        any.iter().any(|t| {
                            t.matches(systems::HPR, &e.agent.hpr)
                                || t.value.as_deref()
                                    == Some(&format!("Practitioner/{}", e.agent.practitioner_id))
                        })
                    })
                })
                .filter(|e| {
                    let ms = e.recorded.as_millisecond();
                    let r = crate::dates::DateRange {
                        start: ms,
                        end: ms + 1,
                    };
                    q.dates
                        .iter()
                        .chain(&q.last_updated)
                        .all(|(p, v)| p.matches(v, &r))
                })
                .collect();
            if let Some(p) = &q.patient {
                draft.patient(p);
            }
            for e in events {
                let json = serde_json::value::to_raw_value(&e.to_fhir())
                    .map_err(|_| ApiError::internal())?;
                visible.push((json, format!("AuditEvent/{}", e.id)));
            }
        } else {
            let view = View {
                base: ctx.tb,
                overlay: st.overlays.get(ctx.tb.nummer),
            };
            let who = Self::requester(grant);
            let explicit = !q.ids.is_empty() || !q.identifiers.is_empty();
            let found: Vec<Found<'_>> = if rtype == "Patient" {
                if explicit {
                    Self::candidates(&view, rtype, &q, None)
                } else {
                    // Without _id/identifier: the unit's patients with a relation in force today.
                    let positions = ctx
                        .tb
                        .unit_patients
                        .get(&grant.unit_id)
                        .cloned()
                        .unwrap_or_default();
                    view.candidates("Patient", Some(positions))
                        .into_iter()
                        .filter(|p| {
                            Self::relation(ctx.tb, grant, Some(&p.id), &ctx.today)
                                == Relation::Active
                        })
                        .filter(|p| q.matches(p))
                        .collect()
                }
            } else if info.patient_data {
                let Some(patient) = q.patient.clone() else {
                    return Err(ApiError::new(
                        StatusCode::BAD_REQUEST,
                        "required",
                        format!(
                            "Søk i {rtype} krever pasient: {rtype}?patient=<id> (pasientopplysninger søkes per pasient) / searching {rtype} requires a patient: {rtype}?patient=<id> (patient data is searched per patient)"
                        ),
                    ));
                };
                draft.patient(&patient);
                let relation = Self::relation(ctx.tb, grant, Some(&patient), &ctx.today);
                if let Decision::Deny(d) = access::decide(&who, rtype, Action::Read, relation, None)
                {
                    return Err(Self::denial(d));
                }
                Self::candidates(&view, rtype, &q, Some(&patient))
            } else {
                Self::candidates(&view, rtype, &q, None)
            };
            for s in found {
                let patient = Self::compartment(&s).map(str::to_owned);
                if let Some(p) = &patient {
                    draft.patient(p);
                }
                let relation = Self::relation(ctx.tb, grant, patient.as_deref(), &ctx.today);
                match access::decide(
                    &who,
                    rtype,
                    Action::Read,
                    relation,
                    Self::shielding(&view, &s),
                ) {
                    Decision::Deny(d) => return Err(Self::denial(d)),
                    Decision::Withhold { skjerming } => withheld.push((s.reference(), skjerming)),
                    Decision::Allow {
                        emergency,
                        redact_address,
                    } => {
                        draft.emergency |= emergency;
                        redact.push(redact_address);
                        visible_refs.push(s);
                    }
                }
            }
        }

        let total = visible.len() + visible_refs.len();
        let start = q.offset.min(total);
        let end = start.saturating_add(page_size).min(total);
        let mut entries: Vec<EntryOut> = Vec::new();
        if rtype == "AuditEvent" {
            for (json, reference) in visible.into_iter().skip(start).take(end - start) {
                entries.push(EntryOut {
                    full_url: Some(format!("{}/{reference}", ctx.fhir_base)),
                    resource: json,
                    search: SearchMode { mode: "match" },
                });
                draft.returned.push(reference);
            }
        } else {
            for (s, redact) in visible_refs
                .iter()
                .zip(redact)
                .skip(start)
                .take(end - start)
            {
                let reference = s.reference();
                if let Some(p) = Self::compartment(s) {
                    draft.patient(p);
                }
                entries.push(EntryOut {
                    full_url: Some(format!("{}/{reference}", ctx.fhir_base)),
                    resource: render(s, redact, ctx.fx.unknown_elements),
                    search: SearchMode { mode: "match" },
                });
                draft.returned.push(reference);
            }
        }
        // `notices-on-last-page`: the notice only where the search ends.
        let notice_here = !ctx.fx.notices_on_last_page || end >= total;
        if !withheld.is_empty() {
            let mut by_category: BTreeMap<&'static str, (Skjerming, usize)> = BTreeMap::new();
            for (_, s) in &withheld {
                by_category.entry(s.code()).or_insert((*s, 0)).1 += 1;
            }
            for (s, n) in by_category.values().filter(|_| notice_here) {
                notices.push(Issue::new(
                    Severity::Information,
                    "suppressed",
                    format!(
                        "{n} {} holdt tilbake: {} / {n} {} withheld: {}",
                        if *n == 1 { "ressurs" } else { "ressurser" },
                        access::category_text(*s).split(" / ").next().unwrap_or(""),
                        if *n == 1 { "resource" } else { "resources" },
                        access::category_text(*s).split(" / ").nth(1).unwrap_or(""),
                    ),
                ));
            }
            draft.withheld = withheld
                .into_iter()
                .map(|(reference, skjerming)| Withheld {
                    reference,
                    skjerming,
                })
                .collect();
        }
        if !notices.is_empty() {
            let oo = serde_json::value::to_raw_value(&operation_outcome(&notices))
                .map_err(|_| ApiError::internal())?;
            entries.push(EntryOut {
                full_url: None,
                resource: oo,
                search: SearchMode { mode: "outcome" },
            });
        }
        let link_base = format!("{}/{rtype}", ctx.fhir_base);
        let self_url = if from_cursor {
            let c = Cursor {
                params: q.params.clone(),
                offset: q.offset,
                count,
            };
            format!(
                "{link_base}?_cursor={}",
                c.encode(&self.secret, ctx.tb.nummer, rtype)
            )
        } else {
            let mut params = q.params.clone();
            if let Some(c) = q.count {
                params.push(("_count".into(), c.to_string()));
            }
            if params.is_empty() {
                link_base.clone()
            } else {
                format!("{link_base}?{}", search::encode_query(&params))
            }
        };
        let mut link = vec![Link {
            relation: "self",
            url: self_url,
        }];
        if end < total && end > start {
            let c = Cursor {
                params: q.params.clone(),
                offset: end,
                count,
            };
            link.push(Link {
                relation: "next",
                url: format!(
                    "{link_base}?_cursor={}",
                    c.encode(&self.secret, ctx.tb.nummer, rtype)
                ),
            });
        }
        let bundle = BundleOut {
            resource_type: "Bundle",
            meta: BundleMeta {
                last_updated: clock::instant(ctx.now),
            },
            kind: "searchset",
            total,
            link,
            entry: entries,
        };
        let body = serde_json::to_vec(&bundle).map_err(|_| ApiError::internal())?;
        Ok(fhir_json_response(StatusCode::OK, body))
    }

    /// Stamps id, version, lastUpdated and the generator's tags on a resource to be stored.
    fn stamp(ctx: &Ctx<'_>, json: &mut Value, id: &str, version: u32) {
        json["id"] = json!(id);
        if !json["meta"].is_object() {
            json["meta"] = json!({});
        }
        let meta = &mut json["meta"];
        meta["versionId"] = json!(version.to_string());
        meta["lastUpdated"] = json!(clock::instant(ctx.now));
        if !ctx.tb.tags.is_empty() {
            if !meta["tag"].is_array() {
                meta["tag"] = json!([]);
            }
            if let Some(tags) = meta["tag"].as_array_mut() {
                for t in &ctx.tb.tags {
                    if !tags
                        .iter()
                        .any(|have| have["system"] == t["system"] && have["code"] == t["code"])
                    {
                        tags.push(t.clone());
                    }
                }
            }
        }
    }

    /// Parses, schema-checks and profile-checks a body for `info`; returns the JSON and the
    /// compartment patient.
    fn validate_body(
        &self,
        st: &State,
        ctx: &Ctx<'_>,
        info: &'static TypeInfo,
        headers: &HeaderMap,
        body: &[u8],
        previous_patient: Option<&str>,
    ) -> Result<(Value, Option<String>), ApiError> {
        require_content_type(headers, JSON_TYPES)?;
        let json = parse_json_body(body)?;
        match json.get("resourceType").and_then(Value::as_str) {
            Some(t) if t == info.name => {}
            Some(t) => {
                return Err(ApiError::bad_request(format!(
                    "resourceType {t} stemmer ikke med adressen ({}) / resourceType {t} does not match the URL ({})",
                    info.name, info.name
                )));
            }
            None => {
                return Err(ApiError::bad_request(
                    "resourceType mangler / missing resourceType",
                ));
            }
        }
        schema::validate(&json).map_err(|e| {
            ApiError::with_issues(StatusCode::UNPROCESSABLE_ENTITY, schema_issues(e))
        })?;
        let view = View {
            base: ctx.tb,
            overlay: st.overlays.get(ctx.tb.nummer),
        };
        let checked = crate::profile::check(
            info.name,
            &json,
            view,
            &format!("{}/", ctx.fhir_base),
            previous_patient,
        )
        .map_err(|issues| ApiError::with_issues(StatusCode::UNPROCESSABLE_ENTITY, issues))?;
        if ctx.fx.unprocessable {
            return Err(ApiError::with_issues(
                StatusCode::UNPROCESSABLE_ENTITY,
                vec![
                    Issue::error(
                        "business-rule",
                        "Ressursen avvises (injisert feil) / resource rejected (injected fault)",
                    )
                    .at(info.name),
                ],
            ));
        }
        Ok((json, checked.patient))
    }

    fn check_write_access(
        ctx: &Ctx<'_>,
        grant: &Grant,
        rtype: &str,
        patient: Option<&str>,
        shielding: Option<Skjerming>,
        draft: &mut Draft,
    ) -> Result<(), ApiError> {
        if let Some(p) = patient {
            draft.patient(p);
        }
        let relation = Self::relation(ctx.tb, grant, patient, &ctx.today);
        match access::decide(
            &Self::requester(grant),
            rtype,
            Action::Write,
            relation,
            shielding,
        ) {
            Decision::Deny(d) => Err(Self::denial(d)),
            Decision::Withhold { skjerming } => Err(Self::suppressed(skjerming)),
            Decision::Allow { emergency, .. } => {
                draft.emergency = emergency;
                Ok(())
            }
        }
    }

    fn store(
        st: &mut State,
        ctx: &Ctx<'_>,
        rtype: &'static str,
        id: &str,
        patient: Option<&str>,
        json: &Value,
        created: bool,
    ) -> Arc<Stored> {
        let stored = Arc::new(Stored::from_json(rtype, id, patient, json));
        let overlay = st.overlays.entry(ctx.tb.nummer.to_owned()).or_default();
        overlay
            .by_type
            .entry(rtype)
            .or_default()
            .insert(id.into(), stored.clone());
        if created {
            overlay.created.entry(rtype).or_default().push(id.into());
        }
        if rtype == "Consent" {
            overlay.sperret = None;
            let view = View {
                base: ctx.tb,
                overlay: Some(overlay),
            };
            let sperret = view.compute_sperret();
            overlay.sperret = Some(sperret);
        }
        stored
    }

    fn written_response(&self, ctx: &Ctx<'_>, status: StatusCode, s: &Stored) -> Response {
        let body = render(s, false, ctx.fx.unknown_elements);
        let mut r = fhir_json_response(status, body.get().as_bytes().to_vec());
        Self::resource_headers(&mut r, s);
        if status == StatusCode::CREATED {
            set_header(
                &mut r,
                header::LOCATION,
                &format!(
                    "{}/{}/{}/_history/{}",
                    ctx.fhir_base, s.rtype, s.id, s.version
                ),
            );
        }
        r
    }

    #[allow(clippy::too_many_arguments)]
    fn create(
        &self,
        st: &mut State,
        ctx: &Ctx<'_>,
        grant: &Grant,
        info: &'static TypeInfo,
        headers: &HeaderMap,
        body: &[u8],
        draft: &mut Draft,
    ) -> Result<Response, ApiError> {
        let rtype = info.name;
        Self::scope_check(grant, rtype, true)?;
        let (mut json, patient) = self.validate_body(st, ctx, info, headers, body, None)?;
        Self::check_write_access(ctx, grant, rtype, patient.as_deref(), None, draft)?;
        if let Some(cond) = headers.get("if-none-exist") {
            let text = cond.to_str().map_err(|_| {
                ApiError::bad_request("If-None-Exist er ikke ASCII / If-None-Exist is not ASCII")
            })?;
            let text = text.split_once('?').map_or(text, |(_, q)| q);
            let pairs = search::parse_form(text)
                .map_err(|e| ApiError::bad_request(format!("Ugyldig If-None-Exist: {e}")))?;
            if pairs.is_empty() {
                return Err(ApiError::bad_request(
                    "If-None-Exist er tomt / If-None-Exist is empty",
                ));
            }
            let q = search::parse(info, &pairs, true).map_err(query_error)?;
            draft.query = Some(format!("{rtype}?{}", search::encode_query(&q.params)));
            let view = View {
                base: ctx.tb,
                overlay: st.overlays.get(ctx.tb.nummer),
            };
            let matches = Self::candidates(&view, rtype, &q, q.patient.as_deref());
            match matches.as_slice() {
                [] => {}
                [existing] => {
                    let relation =
                        Self::relation(ctx.tb, grant, Self::compartment(existing), &ctx.today);
                    return match access::decide(
                        &Self::requester(grant),
                        rtype,
                        Action::Read,
                        relation,
                        Self::shielding(&view, existing),
                    ) {
                        Decision::Allow { .. } => {
                            draft.returned.push(existing.reference());
                            draft.description = Some(format!(
                                "Finnes allerede (If-None-Exist) / already exists: {}",
                                existing.reference()
                            ));
                            Ok(self.written_response(ctx, StatusCode::OK, existing))
                        }
                        Decision::Withhold { skjerming } => {
                            // The writer may not read the match, but must learn that its entry is
                            // stored (a retried sensitive note is not a new note): 200 with the
                            // match's Location, the content withheld.
                            draft.returned.push(existing.reference());
                            draft.description = Some(format!(
                                "Finnes allerede (If-None-Exist), innholdet holdt tilbake / already exists, content withheld: {}",
                                existing.reference()
                            ));
                            let outcome = sandkasse_fhir::outcome::operation_outcome(&[
                                sandkasse_fhir::outcome::Issue::new(
                                    sandkasse_fhir::outcome::Severity::Information,
                                    "duplicate",
                                    format!(
                                        "Finnes allerede; innholdet er holdt tilbake: {} / already exists; the content is withheld",
                                        access::category_text(skjerming)
                                    ),
                                ),
                            ]);
                            let mut r = fhir_json_response(
                                StatusCode::OK,
                                serde_json::to_vec(&outcome).unwrap_or_default(),
                            );
                            Self::resource_headers(&mut r, existing);
                            set_header(
                                &mut r,
                                header::LOCATION,
                                &format!(
                                    "{}/{}/{}/_history/{}",
                                    ctx.fhir_base, existing.rtype, existing.id, existing.version
                                ),
                            );
                            Ok(r)
                        }
                        Decision::Deny(d) => Err(Self::denial(d)),
                    };
                }
                several => {
                    return Err(ApiError::new(
                        StatusCode::PRECONDITION_FAILED,
                        "multiple-matches",
                        format!(
                            "If-None-Exist traff {} ressurser; vilkåret må være entydig / If-None-Exist matched {} resources; the condition must be selective",
                            several.len(),
                            several.len()
                        ),
                    ));
                }
            }
        }
        let id = {
            let overlay = st.overlays.entry(ctx.tb.nummer.to_owned()).or_default();
            loop {
                let n = overlay.next_id.entry(rtype).or_insert(0);
                *n += 1;
                let id = format!("{}-w{:06}", rtype.to_ascii_lowercase(), n);
                if ctx.tb.get(rtype, &id).is_none() && overlay.get(rtype, &id).is_none() {
                    break id;
                }
            }
        };
        Self::stamp(ctx, &mut json, &id, 1);
        let stored = Self::store(st, ctx, rtype, &id, patient.as_deref(), &json, true);
        draft.returned.push(stored.reference());
        Ok(self.written_response(ctx, StatusCode::CREATED, &stored))
    }

    #[allow(clippy::too_many_arguments)]
    fn update(
        &self,
        st: &mut State,
        ctx: &Ctx<'_>,
        grant: &Grant,
        info: &'static TypeInfo,
        id: &str,
        headers: &HeaderMap,
        body: &[u8],
        draft: &mut Draft,
    ) -> Result<Response, ApiError> {
        let rtype = info.name;
        draft.query = Some(format!("{rtype}/{id}"));
        Self::scope_check(grant, rtype, true)?;
        let Some(if_match) = headers.get(header::IF_MATCH) else {
            return Err(ApiError::precondition_failed(
                "If-Match: W/\"<versionId>\" er påkrevd ved oppdatering / If-Match: W/\"<versionId>\" is required on update",
            ));
        };
        let wanted = if_match
            .to_str()
            .ok()
            .map(|v| {
                v.trim()
                    .trim_start_matches("W/")
                    .trim_matches('"')
                    .to_owned()
            })
            .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| {
                ApiError::bad_request(
                    "If-Match må ha formen W/\"<versionId>\" / If-Match must be W/\"<versionId>\"",
                )
            })?;
        let view = View {
            base: ctx.tb,
            overlay: st.overlays.get(ctx.tb.nummer),
        };
        let Some(current) = view.get(rtype, id) else {
            return Err(ApiError::not_found(format!(
                "{rtype}/{id} finnes ikke; opprett med POST (plattformen tildeler id) / not found; create with POST (the platform assigns ids)"
            )));
        };
        let previous_patient = Self::compartment(&current).map(str::to_owned);
        Self::check_write_access(
            ctx,
            grant,
            rtype,
            previous_patient.as_deref(),
            Self::shielding(&view, &current),
            draft,
        )?;
        if wanted != current.version.to_string() || ctx.fx.precondition_failed {
            let injected = if ctx.fx.precondition_failed {
                " (injisert feil / injected fault)"
            } else {
                ""
            };
            return Err(ApiError::precondition_failed(format!(
                "Versjonskonflikt: gjeldende versjon er W/\"{v}\", If-Match var W/\"{wanted}\"; les ressursen på nytt{injected} / version conflict: current version is W/\"{v}\", If-Match was W/\"{wanted}\"; read the resource again",
                v = current.version
            )));
        }
        let version = current.version + 1;
        let (mut json, patient) =
            self.validate_body(st, ctx, info, headers, body, previous_patient.as_deref())?;
        match json.get("id").and_then(Value::as_str) {
            Some(body_id) if body_id == id => {}
            Some(body_id) => {
                return Err(ApiError::bad_request(format!(
                    "id i ressursen ({body_id}) stemmer ikke med adressen ({id}) / the resource id ({body_id}) does not match the URL ({id})"
                )));
            }
            None => {
                return Err(ApiError::bad_request(
                    "Ressursen må ha id lik adressen ved oppdatering / the resource must carry the URL's id on update",
                ));
            }
        }
        Self::stamp(ctx, &mut json, id, version);
        let stored = Self::store(
            st,
            ctx,
            rtype,
            id,
            patient.as_deref().or(previous_patient.as_deref()),
            &json,
            false,
        );
        draft.returned.push(stored.reference());
        Ok(self.written_response(ctx, StatusCode::OK, &stored))
    }

    fn token_endpoint(
        &self,
        ctx: &Ctx<'_>,
        parts: &Parts,
        body: &Bytes,
    ) -> Result<Response, ApiError> {
        require_content_type(&parts.headers, &["application/json"])?;
        let mut launch: LaunchContext = serde_json::from_slice(body).map_err(|e| {
            ApiError::bad_request(format!(
                "Ugyldig launch-kontekst / invalid launch context: {e}"
            ))
        })?;
        if launch.kommunenummer.is_empty() {
            launch.kommunenummer = ctx.tb.nummer.to_owned();
        } else if launch.kommunenummer != ctx.tb.nummer {
            return Err(ApiError::bad_request(format!(
                "kommunenummer {} stemmer ikke med adressen ({}) / kommunenummer {} does not match the path ({})",
                launch.kommunenummer, ctx.tb.nummer, launch.kommunenummer, ctx.tb.nummer
            )));
        }
        let mut st = self.lock();
        let grant = self.issue(&mut st, &launch).map_err(|e| {
            let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
            let code = match status {
                StatusCode::FORBIDDEN => "forbidden",
                StatusCode::NOT_FOUND => "not-found",
                _ => "invalid",
            };
            ApiError::new(status, code, e.to_string())
        })?;
        let body = json!({
            "access_token": grant.access_token,
            "token_type": "Bearer",
            "expires_in": grant.expires.duration_since(grant.issued).as_secs(),
            "scope": grant.scopes.join(" "),
            "patient": grant.patient,
            "practitioner": grant.practitioner_id,
            "hpr": grant.hpr,
            "role": grant.category,
            "unit": grant.orgnr,
            "purpose": grant.purpose,
            "reason": grant.reason,
            "fhir_base": ctx.fhir_base,
        });
        let mut r = Response::new(Body::from(serde_json::to_vec(&body).unwrap_or_default()));
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        r.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        Ok(r)
    }

    fn metadata(&self, ctx: &Ctx<'_>) -> Response {
        let cs = crate::capability::statement(ctx.tb.nummer, ctx.tb.navn, &ctx.fhir_base, ctx.now);
        fhir_json_response(StatusCode::OK, serde_json::to_vec(&cs).unwrap_or_default())
    }
}

fn unreachable_route() -> (Interaction, &'static str) {
    // Metadata and token requests are answered before this point.
    (Interaction::Read, "")
}

fn query_error(e: QueryError) -> ApiError {
    match e {
        QueryError::Unsupported(_) => ApiError::not_supported(e.to_string()),
        _ => ApiError::bad_request(e.to_string()),
    }
}

/// The `foreign-links` fault: every occurrence of the platform's base URL in the body (links,
/// `fullUrl`) and in `Location` replaced by the same URL on `authority`.
async fn foreign_links(response: Response, base_url: &str, authority: &str) -> Response {
    let foreign = match base_url.split_once("://") {
        Some((scheme, _)) => format!("{scheme}://{authority}"),
        None => format!("https://{authority}"),
    };
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes).replace(base_url, &foreign);
    if let Some(location) = parts
        .headers
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.replace(base_url, &foreign))
        && let Ok(value) = http::HeaderValue::from_str(&location)
    {
        parts.headers.insert(header::LOCATION, value);
    }
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(text))
}

async fn truncate(response: Response, limit: usize) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let cut = bytes.slice(..limit.min(bytes.len()));
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(cut))
}

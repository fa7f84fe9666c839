//! The hosted sandboxes' FHIR endpoint: `/sandkasse/{org}/{kommunenummer}/fhir/...`, the
//! platform's own router (`sandkasse_platform::Platform::handle`) behind the organisation's gate.
//!
//! A request passes, in order:
//!
//! 1. **the gate** — it carries a token the organisation's sandbox issued (checked by its MAC,
//!    without building any platform), or it comes from a member of the organisation (session or
//!    API token; for `metadata` from a browser). Anything else — another organisation's token or
//!    person, nobody — is one and the same 401, whether the organisation exists or not;
//! 2. **the organisation's bounds** ([`crate::workbench::limit`]): over its rate or its requests
//!    at once, 429 with `Retry-After`;
//! 3. **the platform**, on a blocking thread (its data access is synchronous), with the
//!    `/sandkasse/{org}` prefix taken off. Token requests (`/{k}/auth/token`) are refused: tokens
//!    come from the launch simulator, so the journal knows every one;
//! 4. **the journal** — a create or update the platform accepted is appended before the answer
//!    goes out (a failure there is a 503 and the sandbox is rebuilt from the journal);
//! 5. **the exchanges** — every answered request is kept, tokens redacted.
//!
//! Answers are the platform's: FHIR `OperationOutcome`s with bokmål and English diagnostics.
//! Every answer allows cross-origin use without credentials (CORS `*`), and `OPTIONS` (a browser's
//! preflight) is answered `204` before the gate, so a SMART app on its own origin can call it.

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{FromRequestParts as _, Path, Request, State};
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse as _, Response};
use axum::routing::any;
use sandkasse_platform::ApiError;

use super::server::AppState;
use crate::policy::Actor;
use crate::store::{JournalEntry, Role, WriteMethod};
use crate::workbench::limit::Busy;
use crate::workbench::{
    self,
    exchanges::{self, Exchange},
};

/// The hosted routes (listed for the authorisation test).
pub const ROUTES: &[(&str, &str)] = &[("ANY", "/sandkasse/{org}/{*rest}")];

pub fn routes() -> Router<AppState> {
    Router::new().route("/sandkasse/{org}/{*rest}", any(hosted))
}

fn refuse(status: StatusCode, code: &'static str, text: &str) -> Response {
    ApiError::new(status, code, text).into_response()
}

fn not_yours() -> Response {
    let mut r = refuse(
        StatusCode::UNAUTHORIZED,
        "login",
        "Sandkassen tar bare imot tokens den selv har utstedt (fra oppstartssimulatoren eller POST /api/v1/sandbox/launch) / \
         the sandbox accepts only tokens it issued (from the launch simulator or POST /api/v1/sandbox/launch)",
    );
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        header::HeaderValue::from_static("Bearer error=\"invalid_token\""),
    );
    r
}

fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

async fn hosted(
    State(state): State<AppState>,
    Path((org, rest)): Path<(String, String)>,
    request: Request,
) -> Response {
    if request.method() == Method::OPTIONS {
        return with_cors(StatusCode::NO_CONTENT.into_response());
    }
    with_cors(gated(state, org, rest, request).await)
}

/// Cross-origin reads and writes by a browser app (a SMART app on its own origin): any origin, no
/// credentials — the gate admits a browser's cross-origin request only by its bearer token, which
/// the app must hold, never by a cookie.
fn with_cors(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in [
        (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
        (
            header::ACCESS_CONTROL_ALLOW_METHODS,
            "GET, POST, PUT, OPTIONS",
        ),
        (
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            "authorization, accept, content-type, if-match, if-none-exist, prefer",
        ),
        (
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            "location, etag, content-location, retry-after, www-authenticate",
        ),
        (header::ACCESS_CONTROL_MAX_AGE, "600"),
    ] {
        headers.insert(name, header::HeaderValue::from_static(value));
    }
    response
}

async fn gated(state: AppState, org: String, rest: String, request: Request) -> Response {
    let Ok(org) = org.parse::<i64>() else {
        return not_yours();
    };
    let (mut parts, body) = request.into_parts();
    // 1. The gate.
    let admitted = match bearer(&parts.headers) {
        Some(token) if token.starts_with("sk-") => {
            match state.workbench.admits_token(org, token).await {
                Ok(ok) => ok,
                Err(e) => {
                    tracing::error!(error = %e, "reading a sandbox's secret");
                    return refuse(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "transient",
                        "Prøv igjen / try again",
                    );
                }
            }
        }
        _ => match Actor::from_request_parts(&mut parts, &state).await {
            Ok(Actor::User { user, .. }) => {
                user.role == Role::Vendor && user.organisation_id == Some(org)
            }
            _ => false,
        },
    };
    if !admitted {
        return not_yours();
    }
    // 2. The organisation's bounds.
    let _permit = match state.workbench.limits.admit(org, Instant::now()) {
        Ok(permit) => permit,
        Err(busy) => {
            let retry_after = match busy {
                Busy::Rate { retry_after } => retry_after,
                Busy::Concurrency => 1,
            };
            return ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "throttled",
                format!(
                    "Sandkassens grense er nådd; prøv igjen om {retry_after} s / the sandbox's limit is reached; retry in {retry_after} s"
                ),
            )
            .header(header::RETRY_AFTER, retry_after.to_string())
            .into_response();
        }
    };
    // 3. The platform.
    let segments: Vec<&str> = rest.split('/').collect();
    if segments.get(1) == Some(&"auth") {
        return refuse(
            StatusCode::FORBIDDEN,
            "forbidden",
            "Tokens til sandkassen lages i oppstartssimulatoren eller med POST /api/v1/sandbox/launch / \
             the sandbox's tokens are made by the launch simulator or POST /api/v1/sandbox/launch",
        );
    }
    let sandbox = match state.workbench.sandbox(org, state.clock.now()).await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "building a sandbox");
            return refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                "transient",
                "Prøv igjen / try again",
            );
        }
    };
    let target = match parts.uri.query() {
        Some(q) => format!("/{rest}?{q}"),
        None => format!("/{rest}"),
    };
    let keep = state.workbench.config.exchange_body_bytes;
    let limit = sandbox.platform.config().body_limit;
    let body = match axum::body::to_bytes(body, limit).await {
        Ok(b) => b,
        Err(_) => {
            return refuse(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too-costly",
                &format!("Kroppen er over {limit} byte / the body is over {limit} bytes"),
            );
        }
    };
    let write = match (parts.method.clone(), segments.len()) {
        (Method::POST, 3) if segments[1] == "fhir" && !segments[2].starts_with('_') => {
            Some(WriteMethod::Post)
        }
        (Method::PUT, 4) if segments[1] == "fhir" => Some(WriteMethod::Put),
        _ => None,
    };
    let request_headers = exchanges::headers(&parts.headers);
    let mut forward = axum::http::Request::builder()
        .method(parts.method.clone())
        .uri(target.as_str());
    for (name, value) in &parts.headers {
        if name != header::COOKIE {
            forward = forward.header(name, value);
        }
    }
    let Ok(forward) = forward.body(Body::from(body.clone())) else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "invalid",
            "Ugyldig forespørsel / invalid request",
        );
    };
    let started = Instant::now();
    let turn = match write {
        Some(_) => Some(sandbox.write_turn.lock().await),
        None => None,
    };
    let response = match segments.get(2).filter(|s| s.starts_with("$export")) {
        Some(op) => export(
            &state,
            &sandbox,
            org,
            &segments,
            op,
            parts.uri.query(),
            bearer(&parts.headers),
        ),
        None => run_on_blocking_thread(sandbox.platform.clone(), forward).await,
    };
    let (mut head, out) = response.into_parts();
    let out = axum::body::to_bytes(out, usize::MAX)
        .await
        .unwrap_or_default();
    // 4. The journal.
    if let (Some(method), Some(token)) = (write, bearer(&parts.headers))
        && head.status.is_success()
    {
        let entry = JournalEntry::Write {
            method,
            path: format!("/{rest}"),
            headers: [
                header::CONTENT_TYPE,
                header::IF_MATCH,
                axum::http::HeaderName::from_static("if-none-exist"),
            ]
            .iter()
            .filter_map(|h| {
                let v = parts.headers.get(h)?.to_str().ok()?;
                Some((h.as_str().to_owned(), v.to_owned()))
            })
            .collect(),
            body: String::from_utf8_lossy(&body).into_owned(),
            token: token.to_owned(),
        };
        match state.workbench.journal(&sandbox, &entry).await {
            Ok(()) => {}
            // The journal is full, or another process changed the sandbox: the write is undone
            // (the sandbox is rebuilt from the journal without it).
            Err(crate::error::AppError::Refused(why)) => {
                return refuse(StatusCode::CONFLICT, "conflict", &why.both());
            }
            Err(e) => {
                tracing::warn!(error = %e, "a sandbox write could not be journaled");
                return refuse(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "transient",
                    "Skrivingen ble ikke lagret; prøv igjen / the write was not kept; try again",
                );
            }
        }
    }
    drop(turn);
    // 5. The exchanges.
    state.workbench.record_exchange(
        org,
        Exchange {
            at: state.clock.now(),
            method: parts.method.to_string(),
            target,
            status: head.status.as_u16(),
            millis: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            request_headers,
            request_body: exchanges::Body::of(&body, keep),
            response_headers: exchanges::headers(&head.headers),
            response_body: exchanges::Body::of(&out, keep),
        },
    );
    head.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(head, Body::from(out))
}

/// The platform handles the request on a blocking thread: a sandbox busy with a large search
/// holds none of the threads that serve the service's pages.
async fn run_on_blocking_thread(
    platform: Arc<sandkasse_platform::Platform>,
    request: axum::http::Request<Body>,
) -> Response {
    let handle = tokio::runtime::Handle::current();
    match tokio::task::spawn_blocking(move || handle.block_on(platform.handle(request))).await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "the platform's task failed");
            ApiError::internal().into_response()
        }
    }
}

/// `$export`, `$export-status` and `$export-file/{Type}` of a kommune ([`workbench::export`]):
/// for a token of this sandbox for that kommune only.
fn export(
    state: &AppState,
    sandbox: &workbench::Sandbox,
    org: i64,
    segments: &[&str],
    op: &str,
    query: Option<&str>,
    token: Option<&str>,
) -> Response {
    let kommune = segments[0];
    let platform = &sandbox.platform;
    let granted = token
        .and_then(|t| platform.grant(t))
        .is_some_and(|g| g.kommunenummer == kommune && g.expires > platform.clock().now());
    if !granted {
        return not_yours();
    }
    let base = state.workbench.fhir_base(org, kommune);
    let wanted = query.and_then(|q| {
        q.split('&')
            .find_map(|kv| kv.strip_prefix("_type="))
            .map(|v| {
                percent_encoding::percent_decode_str(v)
                    .decode_utf8_lossy()
                    .into_owned()
            })
    });
    let not_found = || {
        refuse(
            StatusCode::NOT_FOUND,
            "not-found",
            "Ukjent eksport / unknown export",
        )
    };
    match (op, segments.get(3)) {
        ("$export", None) => {
            let status = match &wanted {
                Some(w) => format!("{base}/$export-status?_type={w}"),
                None => format!("{base}/$export-status"),
            };
            let mut r = StatusCode::ACCEPTED.into_response();
            if let Ok(v) = header::HeaderValue::from_str(&status) {
                r.headers_mut().insert(header::CONTENT_LOCATION, v);
            }
            r
        }
        ("$export-status", None) => {
            match workbench::export::manifest(
                platform,
                kommune,
                &base,
                wanted.as_deref(),
                state.clock.now(),
            ) {
                Some(m) => axum::Json(m).into_response(),
                None => not_found(),
            }
        }
        ("$export-file", Some(rtype)) => match platform.export_ndjson(kommune, rtype) {
            Some((_, ndjson)) if workbench::export::types().any(|t| t == *rtype) => {
                ([(header::CONTENT_TYPE, "application/fhir+ndjson")], ndjson).into_response()
            }
            _ => not_found(),
        },
        _ => not_found(),
    }
}

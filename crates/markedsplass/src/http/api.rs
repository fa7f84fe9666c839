//! The JSON API under `/api/v1`: everything the web pages can do, for machines (API tokens) and
//! scripts (the session cookie plus the `X-CSRF-Token` header). Errors use the one shape of
//! [`AppError`], their message in the language of `Accept-Language` (bokmål by default; see
//! [`super::refusals`]). The routes are listed in [`ROUTES`] and described in `openapi.json` (checked in,
//! served at `/api/v1/openapi.json`; a test keeps the two in step).

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use sandkasse_suite::report::Report;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::AppError;
use crate::http::auth;
use crate::http::csrf::{self, Csrf, CsrfJson};
use crate::http::server::AppState;
use crate::i18n::Msg;
use crate::picker::ProductChoice;
use crate::policy::Actor;
use crate::service::{
    self, CatalogueFilter, DecisionInput, ListingAction, ListingChange, ListingRequest, Upload,
};
use crate::trail::{Cursor, TrailFilter};

/// The OpenAPI document, as checked in.
pub const OPENAPI: &str = include_str!("../../openapi.json");

/// Every API route as `(method, path)` in axum's syntax — the authorisation test and the OpenAPI
/// test walk this list.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/api/v1/openapi.json"),
    ("POST", "/api/v1/session"),
    ("DELETE", "/api/v1/session"),
    ("GET", "/api/v1/me"),
    ("GET", "/api/v1/catalogue"),
    ("GET", "/api/v1/catalogue/{product_id}/badge.svg"),
    ("GET", "/api/v1/products"),
    ("GET", "/api/v1/products/{id}"),
    ("POST", "/api/v1/products/{id}/listing-requests"),
    ("POST", "/api/v1/submissions"),
    ("GET", "/api/v1/submissions/{id}"),
    ("GET", "/api/v1/runs/{id}"),
    ("GET", "/api/v1/runs/{id}/events"),
    ("POST", "/api/v1/runs/{id}/reruns"),
    ("GET", "/api/v1/runs/{id}/report.json"),
    ("GET", "/api/v1/runs/{id}/report.xml"),
    ("GET", "/api/v1/runs/{id}/report.html"),
    ("GET", "/api/v1/runs/{id}/badge.svg"),
    ("GET", "/api/v1/runs/{id}/evidence.zip"),
    ("GET", "/api/v1/cases"),
    ("GET", "/api/v1/cases/{id}"),
    ("POST", "/api/v1/cases/{id}/decisions"),
    ("GET", "/api/v1/attachments/{id}"),
    ("POST", "/api/v1/listings/{product_id}/{action}"),
    ("GET", "/api/v1/audit"),
    ("GET", "/api/v1/notifications"),
    ("GET", "/api/v1/tokens"),
    ("POST", "/api/v1/tokens"),
    ("DELETE", "/api/v1/tokens/{id}"),
    ("GET", "/api/v1/nights"),
    ("GET", "/api/v1/nights/{night}"),
    ("GET", "/api/v1/nights/{night}/junit.xml"),
    ("GET", "/api/v1/sandbox"),
    ("POST", "/api/v1/sandbox/launch"),
    ("GET", "/api/v1/sandbox/person-kinds"),
];

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/session", post(login).delete(logout))
        .route("/api/v1/me", get(me))
        .route("/api/v1/catalogue", get(catalogue))
        .route(
            "/api/v1/catalogue/{product_id}/badge.svg",
            get(catalogue_badge),
        )
        .route("/api/v1/products", get(products))
        .route("/api/v1/products/{id}", get(product))
        .route(
            "/api/v1/products/{id}/listing-requests",
            post(request_listing),
        )
        .route("/api/v1/submissions", post(submit))
        .route("/api/v1/submissions/{id}", get(submission))
        .route("/api/v1/runs/{id}", get(run))
        .route("/api/v1/runs/{id}/events", get(events))
        .route("/api/v1/runs/{id}/reruns", post(rerun))
        .route("/api/v1/runs/{id}/{rendering}", get(rendering))
        .route("/api/v1/cases", get(cases))
        .route("/api/v1/cases/{id}", get(case))
        .route("/api/v1/cases/{id}/decisions", post(decide))
        .route("/api/v1/attachments/{id}", get(attachment))
        .route(
            "/api/v1/listings/{product_id}/{action}",
            post(change_listing),
        )
        .route("/api/v1/audit", get(audit))
        .route("/api/v1/notifications", get(notifications))
        .route("/api/v1/tokens", get(tokens).post(create_token))
        .route("/api/v1/tokens/{id}", axum::routing::delete(revoke_token))
        .route("/api/v1/nights", get(nights))
        .route("/api/v1/nights/{night}", get(night))
        .route("/api/v1/nights/{night}/junit.xml", get(night_junit))
}

async fn notifications(
    State(state): State<AppState>,
    actor: Actor,
) -> Result<Json<Value>, AppError> {
    Ok(Json(
        json!({ "notifications": service::notifications(&state, &actor).await? }),
    ))
}

async fn tokens(State(state): State<AppState>, actor: Actor) -> Result<Json<Value>, AppError> {
    Ok(Json(
        json!({ "tokens": crate::tokens::list(&state, &actor).await? }),
    ))
}

#[derive(Debug, Deserialize)]
struct NewToken {
    name: String,
}

async fn create_token(
    State(state): State<AppState>,
    actor: Actor,
    CsrfJson(new): CsrfJson<NewToken>,
) -> Result<Response, AppError> {
    let created = crate::tokens::create(&state, &actor, &new.name).await?;
    // The token exists only in this answer: no cache may keep it.
    Ok((
        StatusCode::CREATED,
        [(header::CACHE_CONTROL, "no-store")],
        Json(json!({ "token": created.token, "record": created.record })),
    )
        .into_response())
}

async fn revoke_token(
    State(state): State<AppState>,
    actor: Actor,
    _: Csrf,
    Path(id): Path<i64>,
) -> Result<StatusCode, AppError> {
    crate::tokens::revoke(&state, &actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn nights(State(state): State<AppState>, actor: Actor) -> Result<Json<Value>, AppError> {
    Ok(Json(
        json!({ "nights": service::nights(&state, &actor).await? }),
    ))
}

async fn night(
    State(state): State<AppState>,
    actor: Actor,
    Path(date): Path<String>,
) -> Result<Json<Value>, AppError> {
    Ok(Json(
        json!({ "night": service::night(&state, &actor, &date).await? }),
    ))
}

async fn night_junit(
    State(state): State<AppState>,
    actor: Actor,
    Path(date): Path<String>,
) -> Result<Response, AppError> {
    let night = service::night(&state, &actor, &date).await?;
    Ok((
        [(header::CONTENT_TYPE, "application/xml")],
        crate::nightly::junit(&night),
    )
        .into_response())
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

#[derive(Debug, Deserialize)]
struct Login {
    username: String,
    password: String,
}

async fn login(
    State(state): State<AppState>,
    address: auth::ClientAddr,
    Json(login): Json<Login>,
) -> Result<Response, AppError> {
    let user = auth::login(&state, address, &login.username, &login.password).await?;
    let cookie = auth::start_session(&state, &user).await?;
    let body = json!({ "user": { "username": user.username, "role": user.role, "organisation_id": user.organisation_id } });
    Ok(([(header::SET_COOKIE, cookie)], Json(body)).into_response())
}

async fn logout(
    State(state): State<AppState>,
    _: Csrf,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let cookie = auth::end_session(&state, &headers).await?;
    Ok(([(header::SET_COOKIE, cookie)], StatusCode::NO_CONTENT).into_response())
}

async fn me(actor: Actor) -> Result<Json<Value>, AppError> {
    let user = actor.user()?;
    Ok(Json(json!({
        "username": user.username,
        "role": user.role,
        "organisation_id": user.organisation_id,
        "csrf": actor.csrf(),
    })))
}

async fn catalogue(
    State(state): State<AppState>,
    Query(filter): Query<CatalogueFilter>,
) -> Result<Json<Value>, AppError> {
    let entries = service::catalogue(&state, &filter).await?;
    Ok(Json(json!({ "entries": entries, "filter": filter })))
}

/// A badge: `no-cache` (a listing's badge changes the moment it is suspended) with an `ETag` of
/// its bytes, so revalidating an unchanged badge is a `304` without a body.
fn svg(body: String, request: &HeaderMap) -> Response {
    use sha2::Digest as _;
    let etag = format!(
        "\"{}\"",
        &hex::encode(sha2::Sha256::digest(body.as_bytes()))[..32]
    );
    let fresh = request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let headers = [
        (header::CONTENT_TYPE, "image/svg+xml".to_owned()),
        (header::CACHE_CONTROL, "no-cache".to_owned()),
        (header::ETAG, etag),
    ];
    if fresh {
        (StatusCode::NOT_MODIFIED, headers).into_response()
    } else {
        (headers, body).into_response()
    }
}

async fn catalogue_badge(
    State(state): State<AppState>,
    Path(product_id): Path<i64>,
    request: HeaderMap,
) -> Result<Response, AppError> {
    Ok(svg(
        service::catalogue_badge(&state, product_id).await?,
        &request,
    ))
}

async fn products(State(state): State<AppState>, actor: Actor) -> Result<Json<Value>, AppError> {
    Ok(Json(
        json!({ "products": service::products(&state, &actor).await? }),
    ))
}

async fn product(
    State(state): State<AppState>,
    actor: Actor,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Json<Value>, AppError> {
    let lang = super::refusals::accept_language(&headers);
    Ok(Json(
        serde_json::to_value(service::product(&state, &actor, id, lang).await?)
            .map_err(|e| AppError::Internal(Box::new(e)))?,
    ))
}

async fn request_listing(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
    CsrfJson(request): CsrfJson<ListingRequest>,
) -> Result<Response, AppError> {
    // The answers are refused (if at all) after the product and the version: a stranger learns
    // nothing from how the body is refused.
    let answers = request.answers();
    let case = service::request_listing(&state, &actor, id, request.submission_id, answers).await?;
    Ok((StatusCode::CREATED, Json(json!({ "case": case }))).into_response())
}

/// A declaration's attachment, for the vendor who gave it and the project (404 for others): a
/// download, never shown inline, with the media type it was checked to be.
async fn attachment(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let file = service::attachment(&state, &actor, id).await?;
    Ok(attachment_response(file))
}

/// The download response of an attachment.
fn attachment_response(file: crate::store::AttachmentFile) -> Response {
    let name: String = file
        .attachment
        .file_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded = percent_encoding::utf8_percent_encode(
        &file.attachment.file_name,
        percent_encoding::NON_ALPHANUMERIC,
    );
    let headers = [
        (header::CONTENT_TYPE, file.attachment.content_type.clone()),
        (
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\"; filename*=UTF-8''{encoded}"),
        ),
        (header::CACHE_CONTROL, "private, no-store".to_owned()),
    ];
    (headers, file.bytes).into_response()
}

/// Tests the run's version again: every scenario on the current suite, or only `scenario`.
async fn rerun(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
    CsrfJson(request): CsrfJson<crate::rerun::Rerun>,
) -> Result<Response, AppError> {
    let run = crate::rerun::rerun(&state, &actor, id, &request).await?;
    Ok((StatusCode::CREATED, Json(json!({ "run": run }))).into_response())
}

async fn submit(
    State(state): State<AppState>,
    actor: Actor,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, AppError> {
    // Refuse non-vendors before reading a (possibly large) body.
    crate::policy::vendor_organisation(&actor)?;
    let multipart = multipart.map_err(|_| not_a_form(&headers))?;
    let UploadForm {
        upload,
        csrf: token,
    } = read_upload(state.config.max_upload_bytes, multipart).await?;
    // The token is a field of the form (else the header), so it is checked once the form is read.
    csrf::check(&actor, token.as_deref().or(csrf::header_token(&headers)))?;
    let s = service::submit(&state, &actor, upload).await?;
    let body = json!({ "product": s.product, "submission": s.submission, "run": s.run });
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, format!("/api/v1/runs/{}", s.run.id))],
        Json(body),
    )
        .into_response())
}

async fn submission(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<Json<Value>, AppError> {
    let view = service::submission(&state, &actor, id).await?;
    Ok(Json(
        json!({ "submission": view.submission, "runs": view.runs }),
    ))
}

async fn run(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<Json<Value>, AppError> {
    let (run, submission, product) = service::run(&state, &actor, id).await?;
    let progress = service::stored_progress(&state, &run);
    Ok(Json(json!({
        "id": run.id, "state": run.state, "verdict": run.verdict, "score": run.score, "error": run.error,
        "attempts": run.attempts, "queued_at": run.queued_at, "started_at": run.started_at, "finished_at": run.finished_at,
        "capabilities": run.capabilities, "purpose": run.purpose, "scenario": run.scenario,
        "submission": { "id": submission.id, "version": submission.version, "sha256": submission.component_sha256 },
        "product": { "id": product.id, "name": product.name, "vendor": product.vendor },
        "progress": progress,
    })))
}

/// Server-sent events: `progress` events with [`crate::runner::Progress`] as JSON until the run
/// is done or failed; the last event has a final state.
async fn events(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let (run, _, _) = service::run(&state, &actor, id).await?;
    let initial = service::stored_progress(&state, &run);
    // Subscribe first, then re-read the stored state, so a finish in between is not missed.
    let mut rx = state.runner.hub.subscribe(id, initial.clone());
    let stored = state
        .stores
        .market
        .run(id)
        .await?
        .map(|r| service::stored_progress(&state, &r))
        .unwrap_or(initial);
    let first = if stored.is_final() {
        stored
    } else {
        rx.borrow_and_update().clone()
    };
    let stream =
        futures_util::stream::unfold((Some(first), rx, false), move |(pending, mut rx, ended)| {
            let state = state.clone();
            async move {
                if ended {
                    return None;
                }
                let progress = match pending {
                    Some(p) => p,
                    None => next_progress(&state, id, &mut rx).await?,
                };
                let is_final = progress.is_final();
                let event = Event::default()
                    .event("progress")
                    .json_data(&progress)
                    .unwrap_or_default();
                Some((Ok::<_, Infallible>(event), (None, rx, is_final)))
            }
        });
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response())
}

/// The next progress of run `id` to tell a watcher. Another process may run the run and its
/// signals can be lost (a database connection that broke), so while nothing arrives the stored
/// run is re-read every [`PROGRESS_REREAD`]: a final state there ends the stream.
async fn next_progress(
    state: &AppState,
    id: i64,
    rx: &mut tokio::sync::watch::Receiver<crate::runner::Progress>,
) -> Option<crate::runner::Progress> {
    loop {
        match tokio::time::timeout(PROGRESS_REREAD, rx.changed()).await {
            Ok(changed) => {
                changed.ok()?;
                return Some(rx.borrow_and_update().clone());
            }
            Err(_) => {
                if let Ok(Some(run)) = state.stores.market.run(id).await {
                    let stored = service::stored_progress(state, &run);
                    if stored.is_final() {
                        return Some(stored);
                    }
                }
            }
        }
    }
}

/// How often a progress stream re-reads a run while no progress arrives.
const PROGRESS_REREAD: Duration = Duration::from_secs(5);

async fn rendering(
    State(state): State<AppState>,
    actor: Actor,
    Path((id, rendering)): Path<(i64, String)>,
    request: HeaderMap,
) -> Result<Response, AppError> {
    if rendering == "badge.svg" {
        return Ok(svg(service::badge(&state, &actor, id).await?, &request));
    }
    if rendering == "evidence.zip" {
        let bytes = crate::evidence::bundle(&state, &actor, id).await?;
        let disposition = format!(
            "attachment; filename=\"{}\"",
            crate::evidence::file_name(id)
        );
        return Ok((
            [
                (header::CONTENT_TYPE, "application/zip".to_owned()),
                (header::CONTENT_DISPOSITION, disposition),
            ],
            bytes,
        )
            .into_response());
    }
    let (content_type, render): (&str, fn(&Report) -> String) = match rendering.as_str() {
        "report.json" => ("application/json", |r| {
            serde_json::to_string_pretty(r).unwrap_or_default()
        }),
        "report.xml" => ("application/xml", sandkasse_suite::render::junit::to_junit),
        "report.html" => (
            "text/html; charset=utf-8",
            sandkasse_suite::render::html::to_html,
        ),
        _ => return Err(AppError::NotFound),
    };
    let body = service::with_report(&state, &actor, id, move |r| render(&r)).await?;
    let mut response = ([(header::CONTENT_TYPE, content_type)], body).into_response();
    if rendering == "report.html" {
        response.headers_mut().insert(
            header::CONTENT_SECURITY_POLICY,
            header::HeaderValue::from_static(REPORT_CSP),
        );
    }
    Ok(response)
}

/// The report page's own policy: it is self-contained (inline style, data: images).
pub const REPORT_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

#[derive(Debug, Deserialize)]
struct CaseQuery {
    #[serde(default)]
    all: bool,
}

async fn cases(
    State(state): State<AppState>,
    actor: Actor,
    Query(q): Query<CaseQuery>,
) -> Result<Json<Value>, AppError> {
    let cases = if q.all {
        service::all_cases(&state, &actor).await?
    } else {
        service::queue(&state, &actor).await?
    };
    Ok(Json(json!({ "cases": cases })))
}

async fn case(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
) -> Result<Json<Value>, AppError> {
    let (case, run) = service::case(&state, &actor, id).await?;
    Ok(Json(json!({ "case": case, "run": run })))
}

async fn decide(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<i64>,
    CsrfJson(input): CsrfJson<DecisionInput>,
) -> Result<Json<Value>, AppError> {
    let decided = service::decide(&state, &actor, id, &input).await?;
    Ok(Json(
        json!({ "case": decided.case, "listing": decided.listing }),
    ))
}

async fn change_listing(
    State(state): State<AppState>,
    actor: Actor,
    Path((product_id, action)): Path<(i64, String)>,
    CsrfJson(change): CsrfJson<ListingChange>,
) -> Result<Json<Value>, AppError> {
    let action = ListingAction::parse(&action).ok_or(AppError::NotFound)?;
    let listing = service::change_listing(&state, &actor, product_id, action, &change).await?;
    Ok(Json(json!({ "listing": listing })))
}

/// `GET /api/v1/audit?kind=&actor=&subject=&from=&to=&after=&before=&limit=`: the filters of
/// [`TrailFilter`]; from `after` (default 0) oldest first, or the page before `before`.
async fn audit(
    State(state): State<AppState>,
    actor: Actor,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Json<Value>, AppError> {
    // Who may not read the trail learns that before anything about the query.
    actor.require(crate::policy::AUDITORS)?;
    let limit = match pairs.iter().rev().find(|(k, _)| k == "limit") {
        Some((_, v)) => v
            .trim()
            .parse::<u32>()
            .map_err(|_| AppError::invalid(crate::i18n::Msg::new("msg_audit_limit")))?,
        None => 100,
    };
    let (filter, cursor) =
        TrailFilter::parse(pairs).map_err(|e| AppError::invalid(Msg::from(&e)))?;
    let cursor = match cursor {
        Cursor::Newest => Cursor::After(0),
        c => c,
    };
    let page = crate::trail::page(&state, &actor, &filter, cursor, limit).await?;
    let next = page.events.last().map(|e| e.seq);
    Ok(Json(
        json!({ "events": page.events, "next_after": next, "filter": filter }),
    ))
}

/// The 413 of a request body over `max_upload_bytes`, naming the limit.
pub fn too_large(limit: u64) -> AppError {
    let shown = if limit >= 1 << 20 {
        format!("{} MiB", limit >> 20)
    } else {
        format!("{} KiB", limit.div_ceil(1024))
    };
    AppError::TooLarge(Msg::new("msg_upload_too_large").arg("limit", shown))
}

/// An upload form as read: the upload for the core, and the CSRF token it carried.
#[derive(Debug, Default)]
pub struct UploadForm {
    pub upload: Upload,
    pub csrf: Option<String>,
}

/// Why a body is not an upload form: another media type (415), or a multipart one without its
/// boundary (400).
pub fn not_a_form(headers: &HeaderMap) -> AppError {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if content_type
        .to_ascii_lowercase()
        .starts_with("multipart/form-data")
    {
        AppError::invalid(Msg::new("msg_no_boundary"))
    } else {
        AppError::UnsupportedMediaType(Msg::new("msg_not_multipart"))
    }
}

/// Reads the fields `product`, `new_product` (`true`: create it, `false`: it must exist, absent:
/// either — see [`crate::picker`]), `new_product_name` (the upload page's name field for a new
/// product, used instead of `product` when `new_product` is true), `version`, `changelog`,
/// `component` (the file) and `csrf`; other fields are ignored. A text field that is not valid
/// UTF-8 is a 400 naming the field; a body over `limit` (`max_upload_bytes`) is a 413 that names
/// the limit.
pub async fn read_upload(limit: u64, mut multipart: Multipart) -> Result<UploadForm, AppError> {
    // One mapping for every read: over the limit is a 413 naming it, anything else a 400 naming what.
    // The parser's own words (English, technical) go to the log, not into the message.
    let failed = |e: axum::extract::multipart::MultipartError, what: Msg| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            too_large(limit)
        } else {
            tracing::debug!(error = %e.body_text(), "an upload form could not be read");
            AppError::invalid(Msg::new("msg_unreadable").msg("what", what))
        }
    };
    let UploadForm {
        mut upload,
        mut csrf,
    } = UploadForm::default();
    let mut new_product_name = String::new();
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| failed(e, Msg::new("what_form")))?
    {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "component" {
            upload.file_name = field
                .file_name()
                .unwrap_or("component.wasm")
                .chars()
                .take(200)
                .collect();
            upload.bytes = field
                .bytes()
                .await
                .map_err(|e| failed(e, Msg::new("what_file")))?
                .to_vec();
            continue;
        }
        // Strict UTF-8: `Field::text` would turn invalid bytes into U+FFFD and store them.
        let bytes = field
            .bytes()
            .await
            .map_err(|e| failed(e, Msg::new("what_field").arg("name", &name)))?;
        if !matches!(
            name.as_str(),
            "product" | "new_product" | "new_product_name" | "version" | "changelog" | "csrf"
        ) {
            continue;
        }
        let text = String::from_utf8(bytes.to_vec())
            .map_err(|_| AppError::invalid(Msg::new("msg_not_utf8").arg("name", &name)))?;
        match name.as_str() {
            "product" => upload.product = text,
            "new_product" => {
                upload.product_choice = ProductChoice::parse(&text).ok_or_else(|| {
                    AppError::invalid(Msg::new("msg_true_or_false").arg("field", "new_product"))
                })?;
            }
            "new_product_name" => new_product_name = text,
            "version" => upload.version = text,
            "changelog" => upload.changelog = text,
            "csrf" => csrf = Some(text),
            _ => {}
        }
    }
    // The upload page has both a picker (`product`) and a name field for a new product.
    if upload.product_choice == ProductChoice::New && !new_product_name.trim().is_empty() {
        upload.product = new_product_name;
    }
    Ok(UploadForm { upload, csrf })
}

//! Who is asking: the [`Actor`] extractor, login sessions and CSRF protection.
//!
//! Two ways in:
//!
//! - **People** log in with a password and get a session cookie ([`SESSION_COOKIE`]): 32 random
//!   bytes, `HttpOnly`, `SameSite=Lax`, `Path=/`, `Secure` when `secure_cookies` is set, lasting
//!   `session_hours`. Only the SHA-256 of the id is stored, so a copy of the database cannot be
//!   used to log in. Logging out deletes the session.
//! - **Machines** send `Authorization: Bearer sk_…` (an API token, see [`crate::accounts`]). A
//!   token that is wrong or revoked is a 401 wherever a caller is identified — never silently
//!   anonymous. (The public JSON catalogue, badges and OpenAPI do not look at credentials; the
//!   public pages do, to show who is logged in, so a bad token is a 401 there too.)
//!
//! The caller is extracted once per request (later extractors reuse it). A disabled user's
//! sessions are gone and their tokens are a 401. After a password reset, the user's session
//! reaches only the password page (and logging out) until they have chosen a new password.
//!
//! # CSRF
//!
//! A cookie is sent by the browser whatever page makes the request, so every state-changing
//! request authenticated by a session must prove it comes from our own pages:
//!
//! 1. [`check_origin`] (middleware, every route): an unsafe request (not GET/HEAD/OPTIONS) that
//!    carries a session cookie — or logs in — with an `Origin` or `Referer` of another host is
//!    refused;
//! 2. the synchroniser token: each session has a random `csrf` value, rendered into every form
//!    as a hidden field and expected in the `X-CSRF-Token` header of script calls. The handlers
//!    that change state take an extractor of [`super::csrf`] that checks it; bearer-token
//!    requests are exempt (no ambient credential).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use axum::response::{IntoResponse as _, Response};
use base64::Engine as _;
use jiff::SignedDuration;
use rand_core::{OsRng, RngCore as _};
use serde_json::json;

use crate::accounts::token_sha256;
use crate::error::AppError;
use crate::http::server::AppState;
use crate::policy::{Actor, Via};
use crate::store::{NewSession, User};

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "sandkasse_session";
fn random_token() -> String {
    let mut bytes = [0_u8; 32];
    OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn session_id(parts: &Parts) -> Option<String> {
    let jar = axum_extra::extract::cookie::CookieJar::from_headers(&parts.headers);
    jar.get(SESSION_COOKIE).map(|c| c.value().to_owned())
}

impl FromRequestParts<AppState> for Actor {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Actor, Response> {
        if let Some(Identified(actor)) = parts.extensions.get::<Identified>() {
            return Ok(actor.clone());
        }
        let actor = identify(parts, state).await?;
        parts.extensions.insert(Identified(actor.clone()));
        if let Some(redirect) = password_change_first(&actor, parts.uri.path()) {
            return Err(redirect);
        }
        Ok(actor)
    }
}

/// Paths a user who must change their password may still reach: the password page itself, logging
/// in and out, and who-am-I.
const BEFORE_PASSWORD_CHANGE: &[&str] = &[
    "/passord",
    "/logg-inn",
    "/logg-ut",
    "/api/v1/session",
    "/api/v1/me",
];

/// A session of a user whose password was reset reaches nothing but [`BEFORE_PASSWORD_CHANGE`]
/// until the user has chosen a new password: pages redirect to `/passord`, the API answers 403
/// `password_change_required`. (API tokens are not sessions and are not held back.) `None`: the
/// request may go on.
fn password_change_first(actor: &Actor, path: &str) -> Option<Response> {
    let Actor::User {
        user,
        via: Via::Session { .. },
    } = actor
    else {
        return None;
    };
    if !user.must_change_password || BEFORE_PASSWORD_CHANGE.contains(&path) {
        return None;
    }
    Some(if path.starts_with("/api/") {
        AppError::PasswordChangeRequired.into_response()
    } else {
        axum::response::Redirect::to("/passord").into_response()
    })
}

/// The caller of this request, once found (the page, CSRF and handler extractors all ask).
#[derive(Debug, Clone)]
struct Identified(Actor);

/// The caller: a bearer token, else a live session, else anonymous.
async fn identify(parts: &Parts, state: &AppState) -> Result<Actor, Response> {
    if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default()
            .trim();
        let user = state
            .accounts
            .verify_token(token)
            .await
            .map_err(|e| AppError::from(e).into_response())?;
        return Ok(Actor::User {
            user,
            via: Via::Token,
        });
    }
    if let Some(id) = session_id(parts) {
        let session = state
            .stores
            .accounts
            .session(&token_sha256(&id), state.clock.now())
            .await
            .map_err(|e| AppError::from(e).into_response())?;
        if let Some(session) = session {
            return Ok(Actor::User {
                user: session.user,
                via: Via::Session { csrf: session.csrf },
            });
        }
    }
    Ok(Actor::Anonymous)
}

/// Starts a session for `user` and returns the `Set-Cookie` value.
pub async fn start_session(state: &AppState, user: &User) -> Result<String, AppError> {
    let id = random_token();
    let now = state.clock.now();
    let hours = i64::from(state.config.session_hours);
    let expires_at = now
        .checked_add(SignedDuration::from_hours(hours))
        .map_err(|e| AppError::Internal(Box::new(e)))?;
    let audit = state.audit.clone();
    let actor = format!("user:{}", user.username);
    let new = NewSession {
        sha256: token_sha256(&id),
        user_id: user.id,
        csrf: random_token(),
        created_at: now,
        expires_at,
    };
    state
        .stores
        .accounts
        .insert_session(
            new,
            Box::new(move |_| vec![audit.event(&actor, "session.login", &actor, None, json!({}))]),
        )
        .await?;
    Ok(session_cookie(
        &id,
        hours * 3600,
        state.config.secure_cookies,
    ))
}

/// Ends the request's session (if any) and returns the `Set-Cookie` value that clears it.
pub async fn end_session(state: &AppState, headers: &HeaderMap) -> Result<String, AppError> {
    let jar = axum_extra::extract::cookie::CookieJar::from_headers(headers);
    if let Some(cookie) = jar.get(SESSION_COOKIE) {
        let sha = token_sha256(cookie.value());
        if let Some(session) = state
            .stores
            .accounts
            .session(&sha, state.clock.now())
            .await?
        {
            let audit = state.audit.clone();
            let actor = format!("user:{}", session.user.username);
            state
                .stores
                .accounts
                .delete_session(
                    &sha,
                    Box::new(move |_| {
                        vec![audit.event(&actor, "session.logout", &actor, None, json!({}))]
                    }),
                )
                .await?;
        }
    }
    Ok(session_cookie("", 0, state.config.secure_cookies))
}

/// The `Set-Cookie` value of the session cookie (`max_age` 0 clears it).
fn session_cookie(id: &str, max_age: i64, secure: bool) -> String {
    cookie::Cookie::build((SESSION_COOKIE, id))
        .http_only(true)
        .same_site(cookie::SameSite::Lax)
        .path("/")
        .max_age(cookie::time::Duration::seconds(max_age))
        .secure(secure)
        .build()
        .to_string()
}

/// Middleware: refuses a state-changing, cookie-carrying request from another origin.
pub async fn check_origin(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let unsafe_method = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    let has_session = request
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .any(|v| v.to_str().is_ok_and(|v| v.contains(SESSION_COOKIE)));
    // Logging in is checked too, so another site cannot log a visitor into its own account.
    let login = matches!(request.uri().path(), "/logg-inn" | "/api/v1/session");
    if unsafe_method && (has_session || login) && !same_origin(request.headers()) {
        return AppError::BadRequest {
            code: "cross_origin",
            message: crate::i18n::Msg::new("msg_cross_origin"),
        }
        .into_response();
    }
    next.run(request).await
}

/// Whether `Origin` (else `Referer`) names the `Host` the request was sent to; true when neither
/// is present (non-browser clients; the CSRF token still applies).
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(source) = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER))
    else {
        return true;
    };
    let (Ok(source), Some(host)) = (
        source.to_str(),
        headers.get(header::HOST).and_then(|h| h.to_str().ok()),
    ) else {
        return false;
    };
    let rest = source.split_once("://").map_or(source, |(_, rest)| rest);
    rest.split('/').next() == Some(host)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::csrf::constant_time_eq;
    use axum::http::HeaderValue;

    #[test]
    fn origins_are_compared_by_host() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8080"));
        assert!(same_origin(&h));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://127.0.0.1:8080"),
        );
        assert!(same_origin(&h));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://evil.example"),
        );
        assert!(!same_origin(&h));
        h.remove(header::ORIGIN);
        h.insert(
            header::REFERER,
            HeaderValue::from_static("http://127.0.0.1:8080/leverandor"),
        );
        assert!(same_origin(&h));
        h.insert(
            header::REFERER,
            HeaderValue::from_static("http://127.0.0.1:8080.evil.example/"),
        );
        assert!(!same_origin(&h));
    }

    #[test]
    fn tokens_compare_in_constant_time_and_exactly() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert_eq!(random_token().len(), 43);
    }
}

/// The client's address, when the server knows it (it does behind `axum::serve` with connect
/// info; an in-process `oneshot` call has none, and all such calls share one throttle key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub Option<std::net::IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

/// Checks a password login against the throttle and the accounts: the one way in for the JSON API
/// and the login page. A try during a backoff is refused before any password is hashed.
pub async fn login(
    state: &AppState,
    address: ClientAddr,
    username: &str,
    password: &str,
) -> Result<User, AppError> {
    let now = state.clock.now();
    if let Err(wait) = state.throttle.check(username, address.0, now) {
        tracing::warn!(username, address = ?address.0, "login refused: backing off after failed attempts");
        return Err(AppError::TooManyRequests {
            seconds: wait.as_secs_f64().ceil() as u64,
        });
    }
    match state.accounts.authenticate(username, password).await {
        Ok(user) => {
            state.throttle.succeeded(username, address.0);
            Ok(user)
        }
        Err(e) => {
            if matches!(e, crate::accounts::AccountError::InvalidCredentials) {
                state.throttle.failed(username, address.0, now);
            }
            Err(e.into())
        }
    }
}

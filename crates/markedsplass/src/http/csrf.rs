//! The synchroniser token of state-changing requests, as extractors.
//!
//! A cookie is sent by the browser whatever page makes the request, so every state-changing
//! request authenticated by a session must prove it comes from our own pages. Besides the origin
//! check every route has ([`super::auth::check_origin`]), each session has a random `csrf` value,
//! rendered into every form as a hidden field and expected in the `X-CSRF-Token` header of script
//! calls. The handlers that change state take one of these extractors, which admit the request
//! only with the session's token (a 400 `csrf` otherwise); bearer-token and anonymous requests
//! are exempt (no ambient credential).
//!
//! | extractor | the token is read from | used by |
//! |---|---|---|
//! | [`Csrf`] | the `X-CSRF-Token` header | API calls without a body (logout) |
//! | [`CsrfJson<T>`] | `X-CSRF-Token`, else the JSON body's `csrf` field | API calls with a JSON body |
//! | [`CsrfForm<T>`] | the form's `csrf` field | the pages' forms |
//!
//! The body is read exactly as `Json<T>` / `Form<T>` read it (the same limits, and the same
//! refusals of a wrong content type or a malformed body); then the token is checked, before the
//! operation's own rules. The upload is the exception: its token is a field of the multipart body,
//! which is read only after the vendor check, so its handlers call [`check`] once they have read
//! the form.
//!
//! ```no_run
//! use axum::Json;
//! use sandkasse_markedsplass::http::csrf::CsrfJson;
//! use sandkasse_markedsplass::service::ListingChange;
//! // A handler: the change is admitted only with the session's token.
//! async fn suspend(CsrfJson(change): CsrfJson<ListingChange>) -> Json<String> {
//!     Json(change.reason)
//! }
//! ```

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use hyper::body::{Frame, SizeHint};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::page::PageError;
use super::server::AppState;
use crate::error::AppError;
use crate::policy::{Actor, Via};

/// Header carrying the CSRF token for script calls authenticated by the session cookie.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Checks the token `given` (from the form field or the `X-CSRF-Token` header) against the
/// session's: required for session-authenticated requests only.
pub fn check(actor: &Actor, given: Option<&str>) -> Result<(), AppError> {
    match actor {
        Actor::User {
            via: Via::Session { csrf },
            ..
        } => {
            if given.is_some_and(|g| constant_time_eq(g.as_bytes(), csrf.as_bytes())) {
                Ok(())
            } else {
                Err(AppError::BadRequest {
                    code: "csrf",
                    message: crate::i18n::Msg::new("msg_csrf"),
                })
            }
        }
        _ => Ok(()),
    }
}

/// Whether `a` and `b` are equal, in time that does not depend on where they differ.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    subtle::ConstantTimeEq::ct_eq(a, b).into()
}

/// The `X-CSRF-Token` header, if it is text.
pub fn header_token(headers: &HeaderMap) -> Option<&str> {
    headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok())
}

/// A request admitted by the `X-CSRF-Token` header (a call without a body).
#[derive(Debug, Clone, Copy)]
pub struct Csrf;

impl FromRequestParts<AppState> for Csrf {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Csrf, Response> {
        let actor = Actor::from_request_parts(parts, state).await?;
        check(&actor, header_token(&parts.headers)).map_err(IntoResponse::into_response)?;
        Ok(Csrf)
    }
}

/// A JSON body admitted by the `X-CSRF-Token` header or, when that is absent, the body's own
/// `csrf` field (for clients that cannot set headers).
#[derive(Debug, Clone)]
pub struct CsrfJson<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequest<AppState> for CsrfJson<T> {
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = request.into_parts();
        let actor = Actor::from_request_parts(&mut parts, state).await?;
        let header = header_token(&parts.headers).map(str::to_owned);
        let (Json(value), again) = read::<Json<T>>(parts, body, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let bytes = axum::body::to_bytes(again.into_body(), usize::MAX)
            .await
            .unwrap_or_default();
        // The field is read even when the header is there: a malformed one is a malformed body.
        let field = match Json::<TokenField>::from_bytes(&bytes) {
            Ok(Json(field)) => field.csrf,
            // Not an object (`T` took a sequence or a scalar): there is no field to read.
            Err(_) if !bytes.trim_ascii_start().starts_with(b"{") => None,
            Err(rejection) => return Err(rejection.into_response()),
        };
        check(&actor, header.as_deref().or(field.as_deref()))
            .map_err(IntoResponse::into_response)?;
        Ok(CsrfJson(value))
    }
}

/// A page's form admitted by its `csrf` field.
#[derive(Debug, Clone)]
pub struct CsrfForm<T>(pub T);

/// Why a [`CsrfForm`] was refused: the form could not be read (axum's own answer), or its token
/// is wrong — then the form is handed back, for a page that shows it again with the message.
#[derive(Debug)]
pub enum CsrfFormRejection<T> {
    Form(Response),
    Token { form: T, error: AppError },
}

impl<T> IntoResponse for CsrfFormRejection<T> {
    fn into_response(self) -> Response {
        match self {
            CsrfFormRejection::Form(response) => response,
            CsrfFormRejection::Token { error, .. } => PageError::from(error).into_response(),
        }
    }
}

impl<T: DeserializeOwned + Send> FromRequest<AppState> for CsrfForm<T> {
    type Rejection = CsrfFormRejection<T>;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = request.into_parts();
        let actor = Actor::from_request_parts(&mut parts, state)
            .await
            .map_err(CsrfFormRejection::Form)?;
        let (Form(form), again) = read::<Form<T>>(parts, body, state)
            .await
            .map_err(|r| CsrfFormRejection::Form(r.into_response()))?;
        // The field alone, from the same bytes: refused as a form with a malformed field is.
        let Form(field) = Form::<TokenField>::from_request(again, state)
            .await
            .map_err(|r| CsrfFormRejection::Form(r.into_response()))?;
        match check(&actor, field.csrf.as_deref()) {
            Ok(()) => Ok(CsrfForm(form)),
            Err(error) => Err(CsrfFormRejection::Token { form, error }),
        }
    }
}

/// The token field of a body; its other fields are the extractor's `T`.
#[derive(Debug, Deserialize)]
struct TokenField {
    #[serde(default)]
    csrf: Option<String>,
}

/// Extracts `E` from the request as it came, and returns with it the same request again (its head
/// and the body bytes `E` read), for reading the token field with the same rules.
async fn read<E: FromRequest<AppState>>(
    parts: Parts,
    body: Body,
    state: &AppState,
) -> Result<(E, Request), E::Rejection> {
    let mut again = Request::new(Body::empty());
    *again.method_mut() = parts.method.clone();
    *again.uri_mut() = parts.uri.clone();
    *again.version_mut() = parts.version;
    *again.headers_mut() = parts.headers.clone();
    *again.extensions_mut() = parts.extensions.clone();
    let copy = Arc::new(Mutex::new(Vec::new()));
    let tee = Tee {
        inner: body,
        copy: copy.clone(),
    };
    let value = E::from_request(Request::from_parts(parts, Body::new(tee)), state).await?;
    let bytes = std::mem::take(&mut *copy.lock().expect("body copy"));
    *again.body_mut() = Body::from(bytes);
    Ok((value, again))
}

/// A body that copies what is read from it.
struct Tee {
    inner: Body,
    copy: Arc<Mutex<Vec<u8>>>,
}

impl hyper::body::Body for Tee {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = &mut *self;
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &polled
            && let Some(data) = frame.data_ref()
        {
            this.copy.lock().expect("body copy").extend_from_slice(data);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

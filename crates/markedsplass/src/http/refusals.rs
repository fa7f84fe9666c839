//! Every refusal, answered in the request's language and in its side's shape: the JSON error
//! (`{"error": {"code", "message"}}`) for the API under `/api/` (and `/health`, `/ready`), the
//! error page with the site's layout for everything else.
//!
//! [`answer`] is the one middleware over every route that does it. It sees two kinds of refusal:
//!
//! - an [`AppError`] a handler, an extractor of ours or another middleware returned (a page
//!   handler's `PageError`, the origin check's 400, the API's 413 for a declared length, a
//!   panic's 500): it travels inside its response ([`Failure`]);
//! - an answer the HTTP framework gave before any handler ran: axum's extractors' plain-text
//!   rejections (a path id that is not a number, a malformed query, form or JSON body, a wrong
//!   content type, a body over the limit), a method the path does not take (405), an unknown
//!   path (404). It becomes the `AppError` of its status ([`AppError::from_framework`]).
//!
//! The API's message is in the language of `Accept-Language` (bokmål by default); a page's is in
//! the page's language (`?lang=`, the cookie, bokmål), with the caller's menu.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::Response;

use super::error::Failure;
use super::page::{Page, Slot};
use super::server::AppState;
use crate::error::AppError;
use crate::i18n::Lang;

/// Whether a path is answered as the API is (JSON), not as a page.
pub fn is_api(path: &str) -> bool {
    path == "/api" || path.starts_with("/api/") || matches!(path, "/health" | "/ready")
}

/// The language an API request asks for in `Accept-Language` ([`Lang::from_accept_language`]).
pub fn accept_language(headers: &HeaderMap) -> Lang {
    Lang::from_accept_language(
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    )
}

/// Middleware over every route: see the module documentation.
pub async fn answer(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let api = is_api(request.uri().path());
    let method = request.method().clone();
    // What a page for the refusal needs if no handler got as far as extracting its own.
    let (uri, headers) = (request.uri().clone(), request.headers().clone());
    let slot = Slot::default();
    if !api {
        request.extensions_mut().insert(slot.clone());
    }
    let mut response = next.run(request).await;
    let limit = state.config.max_upload_bytes;
    let error = match response.extensions_mut().remove::<Failure>() {
        Some(Failure(error)) => error,
        None if is_framework_refusal(&response) => {
            let status = response.status();
            let detail = if api {
                let body = std::mem::take(response.body_mut());
                let bytes = axum::body::to_bytes(body, 16 * 1024)
                    .await
                    .unwrap_or_default();
                Some(String::from_utf8_lossy(&bytes).trim().to_owned())
            } else {
                None
            };
            std::sync::Arc::new(AppError::from_framework(status, &method, limit, detail))
        }
        None => return response,
    };
    let mut answer = if api {
        error.to_json(accept_language(&headers))
    } else {
        let page = match slot.take() {
            Some(page) => page,
            None => {
                let mut parts = Request::new(()).into_parts().0;
                parts.uri = uri;
                parts.headers = headers;
                Page::for_refusal(&state, &mut parts).await
            }
        };
        page.error(&error)
    };
    keep_headers(response.headers(), answer.headers_mut());
    answer
}

/// A refusal the framework wrote: an error status with a plain-text body or none (our own
/// answers are JSON, HTML, SVG, XML or an event stream).
fn is_framework_refusal(response: &Response) -> bool {
    let status = response.status();
    let plain = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.starts_with("text/plain"));
    (status.is_client_error() || status.is_server_error()) && plain
}

/// The headers of the refused answer the new answer keeps (a 405's `Allow`, a cookie); its body's
/// own are replaced, and the new answer's own win.
fn keep_headers(from: &HeaderMap, to: &mut HeaderMap) {
    for (name, value) in from {
        let body_header = name == header::CONTENT_TYPE || name == header::CONTENT_LENGTH;
        if !body_header && !to.contains_key(name) {
            to.append(name, value.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_api_side_is_api_health_and_ready() {
        for path in ["/api/v1/me", "/api", "/health", "/ready"] {
            assert!(is_api(path), "{path}");
        }
        for path in ["/", "/apix", "/kjoringer/1", "/healthy"] {
            assert!(!is_api(path), "{path}");
        }
    }
}

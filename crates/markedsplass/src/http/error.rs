//! [`AppError`] over HTTP: each kind's status and stable `code`, in one JSON shape.
//!
//! ```json
//! { "error": { "code": "unauthorized", "message": "Feil brukernavn eller passord" } }
//! ```
//!
//! `code` is stable and meant for programs; `message` is for people, in the language the request
//! asks for ([`Lang::from_accept_language`]; bokmål by default). A 4xx explains what was wrong
//! with the request; a 5xx says only that something failed on our side, and the cause is logged
//! with `tracing::error!` — internals never reach the client.
//!
//! An `AppError` answers in bokmål JSON on its own and travels inside its response
//! ([`Failure`]), so the one middleware over every route ([`super::refusals`]) can put it in the
//! request's language and in its side's shape: this JSON under `/api/`, the error page elsewhere.

use std::sync::Arc;

use axum::Json;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::error::AppError;
use crate::i18n::{Lang, Msg};

impl AppError {
    /// The HTTP status and the stable `code`.
    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            AppError::BadRequest { code, .. } => (StatusCode::BAD_REQUEST, code),
            AppError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            AppError::Forbidden => (StatusCode::FORBIDDEN, "forbidden"),
            AppError::PasswordChangeRequired => (StatusCode::FORBIDDEN, "password_change_required"),
            AppError::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            AppError::MethodNotAllowed { .. } => {
                (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed")
            }
            AppError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            AppError::Refused(_) => (StatusCode::CONFLICT, "refused"),
            AppError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
            AppError::UnsupportedMediaType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            AppError::Rejected(_) => (StatusCode::UNPROCESSABLE_ENTITY, "component_rejected"),
            AppError::TooManyRequests { .. } => {
                (StatusCode::TOO_MANY_REQUESTS, "too_many_requests")
            }
            AppError::NotReady => (StatusCode::SERVICE_UNAVAILABLE, "not_ready"),
            AppError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }

    /// The JSON answer, its message in `lang` (with `Retry-After` for a login wait).
    pub fn to_json(&self, lang: Lang) -> Response {
        let (status, code) = self.status_and_code();
        let body = serde_json::json!({ "error": { "code": code, "message": self.text(lang) } });
        let mut response = (status, Json(body)).into_response();
        if let AppError::TooManyRequests { seconds } = self {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, (*seconds).into());
        }
        response
    }

    /// The error of a refusal the HTTP framework answered before any handler ran — a path,
    /// query or body its extractors could not read, a method the path does not take, an unknown
    /// path — from its `status`. `detail` is the framework's own (English) diagnostic, which only
    /// the API passes on; `limit` is `max_upload_bytes`, named by a 413.
    pub fn from_framework(
        status: StatusCode,
        method: &Method,
        limit: u64,
        detail: Option<String>,
    ) -> AppError {
        match status {
            StatusCode::NOT_FOUND => AppError::NotFound,
            StatusCode::METHOD_NOT_ALLOWED => AppError::MethodNotAllowed {
                method: method.to_string(),
            },
            StatusCode::PAYLOAD_TOO_LARGE => super::api::too_large(limit),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => {
                AppError::UnsupportedMediaType(Msg::new("msg_unsupported_media_type"))
            }
            status if status.is_server_error() => {
                AppError::Internal(format!("the framework answered {status}").into())
            }
            // 400, and 422 (a body that parses but lacks fields): the caller's input.
            _ => AppError::invalid(match detail.filter(|d| !d.is_empty()) {
                Some(detail) => Msg::new("msg_bad_request_detail").arg("detail", detail),
                None => Msg::new("msg_bad_request"),
            }),
        }
    }
}

/// An [`AppError`] inside its response, for [`super::refusals`] to answer in the request's
/// language and its side's shape.
#[derive(Debug, Clone)]
pub(crate) struct Failure(pub Arc<AppError>);

impl IntoResponse for AppError {
    /// The JSON answer in bokmål, carrying the error itself; an internal error's cause is logged.
    fn into_response(self) -> Response {
        if let AppError::Internal(cause) = &self {
            tracing::error!(error = %cause, "internal error");
        }
        let mut response = self.to_json(Lang::default());
        response.extensions_mut().insert(Failure(Arc::new(self)));
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::AccountError;
    use crate::store::StoreError;

    async fn body(r: Response) -> (StatusCode, serde_json::Value) {
        let status = r.status();
        let bytes = axum::body::to_bytes(r.into_body(), 1 << 16).await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    #[tokio::test]
    async fn a_login_wait_is_named_in_the_language_asked_and_in_retry_after() {
        let response = AppError::TooManyRequests { seconds: 4 }.into_response();
        assert_eq!(
            response.headers().get(axum::http::header::RETRY_AFTER),
            Some(&axum::http::HeaderValue::from_static("4"))
        );
        let (s, v) = body(response).await;
        assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(
            v["error"]["message"],
            "For mange mislykkede innlogginger; prøv igjen om 4 s"
        );
        let (_, v) = body(AppError::TooManyRequests { seconds: 4 }.to_json(Lang::En)).await;
        assert_eq!(
            v["error"]["message"],
            "Too many failed logins; try again in 4 s"
        );
    }

    #[tokio::test]
    async fn errors_have_one_shape_and_5xx_hide_the_cause() {
        let (s, v) =
            body(AppError::from(AccountError::VendorNeedsOrganisation).to_json(Lang::En)).await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert_eq!(v["error"]["code"], "invalid_input");
        assert_eq!(
            v["error"]["message"],
            "A vendor user must belong to an organisation"
        );
        let (s, v) =
            body(AppError::from(StoreError::Corrupt("secret internals".into())).into_response())
                .await;
        assert_eq!(s, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(v["error"]["code"], "internal");
        assert!(!v.to_string().contains("secret"), "{v}");
    }

    #[test]
    fn framework_refusals_keep_their_status() {
        for status in [400, 404, 405, 413, 415, 422, 500] {
            let status = StatusCode::from_u16(status).unwrap();
            let e = AppError::from_framework(status, &Method::PUT, 1 << 20, None);
            let expected = if status == StatusCode::UNPROCESSABLE_ENTITY {
                StatusCode::BAD_REQUEST
            } else {
                status
            };
            assert_eq!(e.status_and_code().0, expected, "{status}");
        }
    }
}

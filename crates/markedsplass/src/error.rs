//! [`AppError`]: the one error type of every HTTP handler, with one JSON shape.
//!
//! ```json
//! { "error": { "code": "invalid_credentials", "message": "wrong username or password" } }
//! ```
//!
//! `code` is stable and meant for programs; `message` is for people. A 4xx explains what was wrong
//! with the request; a 5xx says only that something failed on our side, and the cause is logged
//! with `tracing::error!` — internals never reach the client.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::accounts::AccountError;
use crate::store::StoreError;

/// An error answer of the HTTP API.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// 400 with an explanation.
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    /// 401: no or invalid credentials.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: authenticated, but not allowed.
    #[error("you are not allowed to do this")]
    Forbidden,
    /// 404
    #[error("not found")]
    NotFound,
    /// 409: the thing already exists.
    #[error("{0}")]
    Conflict(String),
    /// 409: not allowed in the current state (a case already decided, a run not godkjent, ...).
    #[error("{0}")]
    Refused(String),
    /// 413: the upload is over the limit.
    #[error("{0}")]
    TooLarge(String),
    /// 422: the sandbox's inspection rejected the component; the message is its exact reason.
    #[error("{0}")]
    Rejected(String),
    /// 429: too many failed logins for a username or from an address; try again in `seconds`
    /// (also sent as `Retry-After`).
    #[error(
        "for mange mislykkede innlogginger; prøv igjen om {seconds} s / too many failed logins; try again in {seconds} s"
    )]
    TooManyRequests { seconds: u64 },
    /// 503: a dependency (the database) does not answer.
    #[error("the service is not ready")]
    NotReady,
    /// 500: logged, never shown.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl AppError {
    /// A 400 `invalid_input` with an explanation.
    pub fn invalid(message: impl Into<String>) -> AppError {
        AppError::BadRequest {
            code: "invalid_input",
            message: message.into(),
        }
    }

    /// The HTTP status and the stable `code`.
    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            AppError::BadRequest { code, .. } => (StatusCode::BAD_REQUEST, code),
            AppError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            AppError::Forbidden => (StatusCode::FORBIDDEN, "forbidden"),
            AppError::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            AppError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            AppError::Refused(_) => (StatusCode::CONFLICT, "refused"),
            AppError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
            AppError::Rejected(_) => (StatusCode::UNPROCESSABLE_ENTITY, "component_rejected"),
            AppError::TooManyRequests { .. } => {
                (StatusCode::TOO_MANY_REQUESTS, "too_many_requests")
            }
            AppError::NotReady => (StatusCode::SERVICE_UNAVAILABLE, "not_ready"),
            AppError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        if let AppError::Internal(cause) = &self {
            tracing::error!(error = %cause, "internal error");
        }
        let body = serde_json::json!({ "error": { "code": code, "message": self.to_string() } });
        let mut response = (status, Json(body)).into_response();
        if let AppError::TooManyRequests { seconds } = self {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        response
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(what) => {
                AppError::Conflict(format!("{what} finnes allerede / already exists"))
            }
            StoreError::Refused(why) => AppError::Refused(why),
            e => AppError::Internal(Box::new(e)),
        }
    }
}

impl From<AccountError> for AppError {
    fn from(e: AccountError) -> Self {
        match e {
            AccountError::InvalidCredentials
            | AccountError::InvalidToken
            | AccountError::RevokedToken => AppError::Unauthorized(e.to_string()),
            AccountError::Duplicate(_) => AppError::Conflict(e.to_string()),
            AccountError::UnknownUser(_) | AccountError::UnknownOrganisation(_) => {
                AppError::BadRequest {
                    code: "unknown_reference",
                    message: e.to_string(),
                }
            }
            AccountError::Store(e) => e.into(),
            AccountError::Hashing(_) | AccountError::Blocking(_) => AppError::Internal(Box::new(e)),
            _ => AppError::BadRequest {
                code: "invalid_input",
                message: e.to_string(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body(e: AppError) -> (StatusCode, serde_json::Value) {
        let r = e.into_response();
        let status = r.status();
        let bytes = axum::body::to_bytes(r.into_body(), 1 << 16).await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    #[tokio::test]
    async fn a_login_wait_is_named_in_both_languages_and_in_retry_after() {
        let response = AppError::TooManyRequests { seconds: 4 }.into_response();
        assert_eq!(
            response.headers().get(axum::http::header::RETRY_AFTER),
            Some(&axum::http::HeaderValue::from_static("4"))
        );
        let (s, v) = body(AppError::TooManyRequests { seconds: 4 }).await;
        assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(
            v["error"]["message"],
            "for mange mislykkede innlogginger; prøv igjen om 4 s / too many failed logins; try again in 4 s"
        );
    }

    #[tokio::test]
    async fn errors_have_one_shape_and_5xx_hide_the_cause() {
        let (s, v) = body(AccountError::VendorNeedsOrganisation.into()).await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert_eq!(v["error"]["code"], "invalid_input");
        assert_eq!(
            v["error"]["message"],
            "a vendor user must belong to an organisation"
        );
        let (s, v) = body(AppError::from(StoreError::Corrupt(
            "secret internals".into(),
        )))
        .await;
        assert_eq!(s, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            v,
            serde_json::json!({ "error": { "code": "internal", "message": "internal error" } })
        );
    }
}

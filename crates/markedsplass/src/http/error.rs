//! [`AppError`] over HTTP: each kind's status and stable `code`, in one JSON shape.
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

use crate::error::AppError;

impl AppError {
    /// The HTTP status and the stable `code`.
    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            AppError::BadRequest { code, .. } => (StatusCode::BAD_REQUEST, code),
            AppError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            AppError::Forbidden => (StatusCode::FORBIDDEN, "forbidden"),
            AppError::PasswordChangeRequired => (StatusCode::FORBIDDEN, "password_change_required"),
            AppError::NotFound => (StatusCode::NOT_FOUND, "not_found"),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::AccountError;
    use crate::store::StoreError;

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

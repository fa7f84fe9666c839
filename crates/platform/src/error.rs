//! [`ApiError`]: every error the API answers, as an `OperationOutcome` with the right status.
//!
//! 4xx outcomes explain (bokmål / English); the one 5xx the platform produces by itself — a
//! panic caught by the last-resort layer — stays generic and the cause goes to the log.

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use http::{HeaderName, HeaderValue, StatusCode, header};
use sandkasse_fhir::outcome::{Issue, Severity, operation_outcome};

/// `Content-Type` of FHIR responses.
pub const FHIR_JSON: &str = "application/fhir+json; charset=utf-8";

/// An error response: status, issues, extra headers.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub issues: Vec<Issue>,
    pub headers: Vec<(HeaderName, String)>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, diagnostics: impl Into<String>) -> Self {
        ApiError {
            status,
            issues: vec![Issue::error(code, diagnostics)],
            headers: Vec::new(),
        }
    }

    pub fn with_issues(status: StatusCode, issues: Vec<Issue>) -> Self {
        ApiError {
            status,
            issues,
            headers: Vec::new(),
        }
    }

    pub fn header(mut self, name: HeaderName, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// 400, `invalid`.
    pub fn bad_request(diagnostics: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid", diagnostics)
    }

    /// 400, `not-supported` (a search parameter the server does not support).
    pub fn not_supported(diagnostics: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "not-supported", diagnostics)
    }

    /// 401 with `WWW-Authenticate: Bearer error="{error}"`; issue code `expired` for an expired
    /// token, `login` otherwise.
    pub fn unauthorized(error: &str, expired: bool, diagnostics: impl Into<String>) -> Self {
        let code = if expired { "expired" } else { "login" };
        ApiError::new(StatusCode::UNAUTHORIZED, code, diagnostics).header(
            header::WWW_AUTHENTICATE,
            format!("Bearer realm=\"sandkasse\", error=\"{error}\""),
        )
    }

    /// 403 `forbidden`.
    pub fn forbidden(diagnostics: impl Into<String>) -> Self {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", diagnostics)
    }

    /// 404 `not-found`.
    pub fn not_found(diagnostics: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "not-found", diagnostics)
    }

    /// 405 `not-supported`.
    pub fn method_not_allowed(diagnostics: impl Into<String>) -> Self {
        ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "not-supported", diagnostics)
    }

    /// 412 `conflict`.
    pub fn precondition_failed(diagnostics: impl Into<String>) -> Self {
        ApiError::new(StatusCode::PRECONDITION_FAILED, "conflict", diagnostics)
    }

    /// 500, generic (cause logged, not told).
    pub fn internal() -> Self {
        ApiError::with_issues(
            StatusCode::INTERNAL_SERVER_ERROR,
            vec![Issue::new(
                Severity::Fatal,
                "exception",
                "Intern feil i plattformen; årsaken er logget. / Internal platform error; the cause is logged.",
            )],
        )
    }

    /// The first issue's text.
    pub fn diagnostics(&self) -> &str {
        self.issues.first().map_or("", |i| i.diagnostics.as_str())
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.status.as_u16(), self.diagnostics())
    }
}

impl std::error::Error for ApiError {}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&operation_outcome(&self.issues)).unwrap_or_default();
        let mut resp = Response::new(Body::from(body));
        *resp.status_mut() = self.status;
        resp.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(FHIR_JSON));
        for (name, value) in self.headers {
            if let Ok(v) = HeaderValue::from_str(&value) {
                resp.headers_mut().append(name, v);
            }
        }
        resp
    }
}

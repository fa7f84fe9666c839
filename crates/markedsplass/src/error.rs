//! [`AppError`]: the one error of every markedsplass operation. Each variant is a kind of answer
//! (not found, refused, too large, …) with the text a person can act on; the HTTP layer
//! (`http/error.rs`) gives each its status and stable code, in one JSON shape for the API and as
//! the error page for the web pages.
//!
//! The message of a 4xx kind explains what was wrong with the request; [`AppError::Internal`]
//! carries its cause for the log only — internals never reach the client.

use crate::accounts::AccountError;
use crate::store::StoreError;

/// Why an operation did not happen.
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
    /// 403: the user must change the temporary password from a reset first (`/passord`).
    #[error("bytt passordet ditt først / change your password first")]
    PasswordChangeRequired,
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
    /// 415: the request body is not of the media type the operation takes.
    #[error("{0}")]
    UnsupportedMediaType(String),
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
            | AccountError::RevokedToken
            | AccountError::Disabled => AppError::Unauthorized(e.to_string()),
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

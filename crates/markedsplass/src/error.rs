//! [`AppError`]: the one error of every markedsplass operation. Each variant is a kind of answer
//! (not found, refused, too large, …) with the text a person can act on; the HTTP layer
//! (`http/error.rs`) gives each its status and stable code, in one JSON shape for the API and as
//! the error page for the web pages.
//!
//! The text is a [`Msg`] — a key of `web/i18n.toml` and its arguments — put into words in the
//! language of the answer ([`AppError::message`]); `Display` is the English, for logs. The
//! message of a 4xx kind explains what was wrong with the request; [`AppError::Internal`]
//! carries its cause for the log only — internals never reach the client.
//!
//! The domain's own errors become an `AppError` here, each variant with its own text:
//! [`AccountError`], [`StoreError`], the governance's [`DecideError`] and the sandbox's
//! [`Rejection`] of a component.

use sandkasse_sandbox::Rejection;
use sandkasse_suite::text::Unplain;

use crate::accounts::AccountError;
use crate::governance::{DecideError, VerdictError};
use crate::i18n::{Lang, Msg};
use crate::store::StoreError;
use crate::trail::FilterError;

/// Why an operation did not happen.
#[derive(Debug)]
pub enum AppError {
    /// 400 with an explanation.
    BadRequest { code: &'static str, message: Msg },
    /// 401: no or invalid credentials.
    Unauthorized(Msg),
    /// 403: authenticated, but not allowed.
    Forbidden,
    /// 403: the user must change the temporary password from a reset first (`/passord`).
    PasswordChangeRequired,
    /// 404
    NotFound,
    /// 405: the path exists, but not for this method.
    MethodNotAllowed { method: String },
    /// 409: the thing already exists.
    Conflict(Msg),
    /// 409: not allowed in the current state (a case already decided, a run not godkjent, ...).
    Refused(Msg),
    /// 413: the upload is over the limit.
    TooLarge(Msg),
    /// 415: the request body is not of the media type the operation takes.
    UnsupportedMediaType(Msg),
    /// 422: the sandbox's inspection rejected the component; the message is its reason.
    Rejected(Msg),
    /// 429: too many failed logins for a username or from an address; try again in `seconds`
    /// (also sent as `Retry-After`).
    TooManyRequests { seconds: u64 },
    /// 503: a dependency (the database) does not answer.
    NotReady,
    /// 500: logged, never shown.
    Internal(Box<dyn std::error::Error + Send + Sync>),
}

impl AppError {
    /// A 400 `invalid_input` with an explanation.
    pub fn invalid(message: impl Into<Msg>) -> AppError {
        AppError::BadRequest {
            code: "invalid_input",
            message: message.into(),
        }
    }

    /// The text for the person who made the request (never the cause of an internal error).
    pub fn message(&self) -> Msg {
        match self {
            AppError::BadRequest { message, .. }
            | AppError::Unauthorized(message)
            | AppError::Conflict(message)
            | AppError::Refused(message)
            | AppError::TooLarge(message)
            | AppError::UnsupportedMediaType(message)
            | AppError::Rejected(message) => message.clone(),
            AppError::Forbidden => Msg::new("msg_forbidden"),
            AppError::PasswordChangeRequired => Msg::new("msg_password_change_required"),
            AppError::NotFound => Msg::new("msg_not_found"),
            AppError::MethodNotAllowed { method } => {
                Msg::new("msg_method_not_allowed").arg("method", method)
            }
            AppError::TooManyRequests { seconds } => {
                Msg::new("msg_too_many_logins").arg("seconds", seconds)
            }
            AppError::NotReady => Msg::new("msg_not_ready"),
            AppError::Internal(_) => Msg::new("msg_internal"),
        }
    }

    /// The message in `lang`.
    pub fn text(&self, lang: Lang) -> String {
        self.message().render(lang)
    }
}

impl std::fmt::Display for AppError {
    /// The English message (for logs); an internal error does not show its cause here either.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.message().fmt(f)
    }
}

impl std::error::Error for AppError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            AppError::Internal(cause) => Some(cause.as_ref()),
            _ => None,
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(what) => {
                AppError::Conflict(Msg::new("msg_exists").msg("what", what))
            }
            StoreError::Refused(why) => AppError::Refused(why),
            e => AppError::Internal(Box::new(e)),
        }
    }
}

impl From<AccountError> for AppError {
    fn from(e: AccountError) -> Self {
        let invalid = |message| AppError::BadRequest {
            code: "invalid_input",
            message,
        };
        let unknown = |message| AppError::BadRequest {
            code: "unknown_reference",
            message,
        };
        match e {
            AccountError::InvalidCredentials => {
                AppError::Unauthorized(Msg::new("msg_invalid_credentials"))
            }
            AccountError::InvalidToken => AppError::Unauthorized(Msg::new("msg_invalid_token")),
            AccountError::RevokedToken => AppError::Unauthorized(Msg::new("msg_revoked_token")),
            AccountError::Disabled => AppError::Unauthorized(Msg::new("msg_account_disabled")),
            AccountError::SamePassword => invalid(Msg::new("msg_same_password")),
            AccountError::InvalidTokenName => invalid(
                Msg::new("msg_invalid_token_name")
                    .arg("max", crate::accounts::MAX_TOKEN_NAME_CHARS),
            ),
            AccountError::Duplicate(what) => {
                AppError::Conflict(Msg::new("msg_exists").msg("what", what))
            }
            AccountError::UnknownUser(name) => {
                unknown(Msg::new("msg_unknown_user").arg("name", format!("{name:?}")))
            }
            AccountError::UnknownOrganisation(name) => {
                unknown(Msg::new("msg_unknown_organisation").arg("name", format!("{name:?}")))
            }
            AccountError::InvalidUsername(name) => {
                invalid(Msg::new("msg_invalid_username").arg("name", format!("{name:?}")))
            }
            AccountError::WeakPassword => invalid(
                Msg::new("msg_weak_password").arg("min", crate::accounts::MIN_PASSWORD_CHARS),
            ),
            AccountError::InvalidOrganisationName(name) => {
                invalid(Msg::new("msg_invalid_organisation_name").arg("name", format!("{name:?}")))
            }
            AccountError::NotPlain { what, why } => invalid(unplain(Msg::new(what), &why)),
            AccountError::VendorNeedsOrganisation => {
                invalid(Msg::new("msg_vendor_needs_organisation"))
            }
            AccountError::OrganisationOnlyForVendors(role) => invalid(
                Msg::new("msg_organisation_only_for_vendors")
                    .msg("role", Msg::new(format!("role_{}", role.as_str()))),
            ),
            AccountError::Store(e) => e.into(),
            e @ (AccountError::Hashing(_) | AccountError::Blocking(_)) => {
                AppError::Internal(Box::new(e))
            }
        }
    }
}

/// Why a text `field` is not plain, in words.
pub fn unplain(field: Msg, why: &Unplain) -> Msg {
    let (key, c) = match why {
        Unplain::Control(c) => ("msg_control_character", c),
        Unplain::Invisible(c) => ("msg_invisible_character", c),
    };
    Msg::new(key)
        .msg("field", field)
        .arg("code", format!("U+{:04X}", u32::from(*c)))
}

impl From<&VerdictError> for Msg {
    fn from(e: &VerdictError) -> Msg {
        let (key, id) = match e {
            VerdictError::Unknown(id) => ("msg_verdict_unknown", id),
            VerdictError::Twice(id) => ("msg_verdict_twice", id),
            VerdictError::Undecided(id) => ("msg_verdict_undecided", id),
            VerdictError::NoComment(id) => ("msg_verdict_no_comment", id),
            VerdictError::Rejected(id) => ("msg_verdict_rejected", id),
        };
        Msg::new(key).arg("id", id)
    }
}

impl From<&DecideError> for Msg {
    fn from(e: &DecideError) -> Msg {
        Msg::new(match e {
            DecideError::Closed => "msg_case_closed",
            DecideError::NotAssigned => "msg_case_not_assigned",
            DecideError::AlreadyDecided => "msg_case_already_decided",
            DecideError::Escalated => "msg_case_escalated",
            DecideError::NotEscalated => "msg_case_not_escalated",
            DecideError::WrongRole => "msg_case_wrong_role",
        })
    }
}

impl From<&FilterError> for Msg {
    /// Why a filter of the audit trail cannot be read, naming the query parameter.
    fn from(e: &FilterError) -> Msg {
        Msg::new("msg_audit_filter")
            .msg("why", Msg::new(format!("audit_error_{}", e.code())))
            .arg("parameter", e.parameter())
    }
}

impl From<&Rejection> for Msg {
    /// The sandbox's reason for rejecting a component.
    fn from(r: &Rejection) -> Msg {
        match r {
            Rejection::Empty => Msg::new("rejection_empty"),
            Rejection::TooLarge { size, limit } => Msg::new("rejection_too_large")
                .arg("size", size)
                .arg("limit", limit),
            Rejection::NotWasm => Msg::new("rejection_not_wasm"),
            Rejection::CoreModule => Msg::new("rejection_core_module"),
            Rejection::Malformed(detail) => Msg::new("rejection_malformed").arg("detail", detail),
            Rejection::MissingExport { expected, found } => Msg::new("rejection_missing_export")
                .arg("expected", expected)
                .arg("found", found),
            Rejection::DisallowedImport { name } => {
                Msg::new("rejection_disallowed_import").arg("name", name)
            }
            Rejection::Incompatible(detail) => {
                Msg::new("rejection_incompatible").arg("detail", detail)
            }
            Rejection::CompileTimeout { seconds } => {
                Msg::new("rejection_compile_timeout").arg("seconds", seconds)
            }
            Rejection::CompileMemory { limit } => {
                Msg::new("rejection_compile_memory").arg("mib", limit >> 20)
            }
            Rejection::CompiledTooLarge { size, limit } => Msg::new("rejection_compiled_too_large")
                .arg("size", size)
                .arg("limit", limit),
            Rejection::Interrupted => Msg::new("rejection_interrupted"),
            Rejection::CompileFailed(detail) => {
                Msg::new("rejection_compile_failed").arg("detail", detail)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_is_one_language_in_each() {
        let errors = [
            AppError::from(AccountError::InvalidCredentials),
            AppError::from(AccountError::VendorNeedsOrganisation),
            AppError::Forbidden,
            AppError::NotFound,
            AppError::TooManyRequests { seconds: 4 },
            AppError::Rejected(Msg::from(&Rejection::CoreModule)),
            AppError::Refused(Msg::from(&DecideError::Escalated)),
        ];
        for e in errors {
            let (nb, en) = (e.text(Lang::Nb), e.text(Lang::En));
            assert_ne!(nb, en, "{e:?}");
            assert!(!nb.contains(" / ") && !en.contains(" / "), "{nb} | {en}");
            assert!(!nb.contains('{') && !en.contains('{'), "{nb} | {en}");
        }
        assert_eq!(
            AppError::from(AccountError::InvalidCredentials).to_string(),
            "Wrong username or password"
        );
    }
}

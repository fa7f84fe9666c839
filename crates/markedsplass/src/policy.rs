//! Who may see and do what — the one place the rules live. Handlers ask here; the authorisation
//! test (`tests/all/authz.rs`) checks every endpoint × role against the table below.
//!
//! | what | anonymous | vendor | reviewer | beslutningsgruppe | admin |
//! |---|---|---|---|---|---|
//! | catalogue, listed product page, badge, OpenAPI | ✓ | ✓ | ✓ | ✓ | ✓ |
//! | own organisation's products, submissions, runs, reports | – | own org | all | all | all |
//! | upload a submission, request a listing | – | own org | – | – | – |
//! | review queue, case pages | – | – | ✓ | ✓ | ✓ (read) |
//! | decide a case | – | – | assigned, in review | escalated | – |
//! | suspend, reinstate, delist a listing | – | – | ✓ | ✓ | ✓ |
//! | audit trail | – | – | ✓ | ✓ | ✓ |
//! | own organisation's API tokens: list | – | own org | – | – | – |
//! | … create, revoke (with a session, not a token) | – | own org | – | – | – |
//! | admin area: organisations, users, roles, password resets, webhook status | – | – | – | – | ✓ |
//! | change one's own password | – | ✓ | ✓ | ✓ | ✓ |
//!
//! An admin cannot change their own role, disable themselves or reset their own password (they
//! change it like everyone else), and no change may leave the service without an enabled admin.
//!
//! Something a caller may not see is a 404, not a 403: a vendor cannot learn by probing ids that
//! another vendor's submission exists.
//!
//! The caller is an [`Actor`]: anonymous, or a user authenticated by a session (with its CSRF
//! token) or an API token. The HTTP layer finds out which, and checks the CSRF token of
//! state-changing requests (`http/auth.rs`); the rules here only read who it is.

use crate::error::AppError;
use crate::store::{ListingState, Role, User};

/// How a user was authenticated.
#[derive(Debug, Clone)]
pub enum Via {
    /// A session cookie, with the session's CSRF token.
    Session { csrf: String },
    /// An API token.
    Token,
}

/// The party making a request.
#[derive(Debug, Clone)]
pub enum Actor {
    Anonymous,
    User { user: User, via: Via },
}

impl Actor {
    /// The user, or 401 for anonymous requests.
    pub fn user(&self) -> Result<&User, AppError> {
        match self {
            Actor::User { user, .. } => Ok(user),
            Actor::Anonymous => Err(AppError::Unauthorized(crate::i18n::Msg::new(
                "msg_log_in_first",
            ))),
        }
    }

    /// The user if anonymous is not enough and their role is one of `roles`: 401 / 403 otherwise.
    pub fn require(&self, roles: &[Role]) -> Result<&User, AppError> {
        let user = self.user()?;
        if roles.contains(&user.role) {
            Ok(user)
        } else {
            Err(AppError::Forbidden)
        }
    }

    pub fn role(&self) -> Option<Role> {
        match self {
            Actor::User { user, .. } => Some(user.role),
            Actor::Anonymous => None,
        }
    }

    /// The actor's name in the audit trail: `user:NAME` or `anonymous`.
    pub fn audit_name(&self) -> String {
        match self {
            Actor::User { user, .. } => format!("user:{}", user.username),
            Actor::Anonymous => "anonymous".into(),
        }
    }

    /// The CSRF token to render into forms (empty for token and anonymous callers).
    pub fn csrf(&self) -> &str {
        match self {
            Actor::User {
                via: Via::Session { csrf },
                ..
            } => csrf,
            _ => "",
        }
    }
}

/// The project's people: they see every organisation's work.
pub const PROJECT: &[Role] = &[Role::Reviewer, Role::Beslutningsgruppe, Role::Admin];
/// Who reviews and manages listings.
pub const REVIEWERS: &[Role] = &[Role::Reviewer, Role::Beslutningsgruppe, Role::Admin];
/// Who decides cases (each at their level, see [`crate::governance`]).
pub const DECIDERS: &[Role] = &[Role::Reviewer, Role::Beslutningsgruppe];
/// Who manages organisations and users.
pub const ADMINS: &[Role] = &[Role::Admin];
/// Who reads the audit trail.
pub const AUDITORS: &[Role] = &[Role::Reviewer, Role::Beslutningsgruppe, Role::Admin];

/// The organisation a vendor manages API tokens for, when it asks with a session: a leaked token
/// cannot mint its own successor or revoke the others (403 for token callers).
pub fn token_manager(actor: &Actor) -> Result<i64, AppError> {
    let org = vendor_organisation(actor)?;
    match actor {
        Actor::User {
            via: Via::Session { .. },
            ..
        } => Ok(org),
        _ => Err(AppError::Forbidden),
    }
}

/// Whether `actor` may see the non-public work of organisation `org`.
pub fn sees_organisation(actor: &Actor, org: i64) -> bool {
    match actor {
        Actor::User { user, .. } => {
            PROJECT.contains(&user.role) || user.organisation_id == Some(org)
        }
        Actor::Anonymous => false,
    }
}

/// [`sees_organisation`] as a result: 404 when not.
pub fn require_organisation(actor: &Actor, org: i64) -> Result<(), AppError> {
    if sees_organisation(actor, org) {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

/// Whether a product page is public: it is (or was until suspension) in the catalogue.
pub fn is_public(listing: Option<ListingState>) -> bool {
    matches!(
        listing,
        Some(ListingState::Listed | ListingState::Suspended)
    )
}

/// The organisation a vendor acts for; 403 for everyone else (only vendors upload).
pub fn vendor_organisation(actor: &Actor) -> Result<i64, AppError> {
    let user = actor.require(&[Role::Vendor])?;
    user.organisation_id.ok_or(AppError::Forbidden)
}

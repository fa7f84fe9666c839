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
//!
//! Something a caller may not see is a 404, not a 403: a vendor cannot learn by probing ids that
//! another vendor's submission exists.

use crate::auth::Actor;
use crate::error::AppError;
use crate::store::{ListingState, Role};

/// The project's people: they see every organisation's work.
pub const PROJECT: &[Role] = &[Role::Reviewer, Role::Beslutningsgruppe, Role::Admin];
/// Who reviews and manages listings.
pub const REVIEWERS: &[Role] = &[Role::Reviewer, Role::Beslutningsgruppe, Role::Admin];
/// Who decides cases (each at their level, see [`crate::listings`]).
pub const DECIDERS: &[Role] = &[Role::Reviewer, Role::Beslutningsgruppe];
/// Who reads the audit trail.
pub const AUDITORS: &[Role] = &[Role::Reviewer, Role::Beslutningsgruppe, Role::Admin];

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

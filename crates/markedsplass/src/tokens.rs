//! A vendor's own API tokens: list, create (the secret shown once), revoke — for the page
//! `/leverandor/nokler` and `/api/v1/tokens`.
//!
//! A vendor sees and manages every token of their organisation (a colleague's CI token too, so a
//! token outlives nobody's attention); another organisation's token is a 404. Creating and revoking
//! need a session ([`policy::token_manager`]): a token cannot mint its own successor. The rules of
//! tokens themselves (format, hashing, `last_used_at`) are [`crate::accounts`]'.
//!
//! ```no_run
//! # async fn f(market: &sandkasse_markedsplass::market::Market, vendor: &sandkasse_markedsplass::policy::Actor) -> Result<(), sandkasse_markedsplass::AppError> {
//! use sandkasse_markedsplass::tokens;
//! let created = tokens::create(market, vendor, "CI").await?;
//! println!("{}", created.token); // shown once
//! tokens::revoke(market, vendor, created.record.id).await?;
//! # Ok(()) }
//! ```

use serde::Serialize;

use crate::error::AppError;
use crate::market::Market;
use crate::policy::{self, Actor};
use crate::store::{ApiTokenRecord, OwnedToken};

/// A token just created: its record and the token itself, which exists nowhere else.
#[derive(Clone, Serialize)]
pub struct Created {
    pub record: ApiTokenRecord,
    pub token: String,
}

impl std::fmt::Debug for Created {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Created")
            .field("record", &self.record)
            .finish_non_exhaustive()
    }
}

/// The tokens of the vendor's organisation, newest first, revoked ones included.
pub async fn list(market: &Market, actor: &Actor) -> Result<Vec<OwnedToken>, AppError> {
    let org = policy::vendor_organisation(actor)?;
    Ok(market.accounts.organisation_tokens(org).await?)
}

/// Creates a token for the calling vendor, named `name`.
pub async fn create(market: &Market, actor: &Actor, name: &str) -> Result<Created, AppError> {
    policy::token_manager(actor)?;
    let user = actor.user()?;
    let (record, token) = market
        .accounts
        .create_token(&actor.audit_name(), &user.username, name)
        .await?;
    Ok(Created { record, token })
}

/// Revokes a token of the vendor's organisation (404 for anyone else's). Revoking a revoked token
/// changes nothing and records nothing.
pub async fn revoke(market: &Market, actor: &Actor, id: i64) -> Result<(), AppError> {
    let org = policy::token_manager(actor)?;
    let record = market.accounts.token(id).await?.ok_or(AppError::NotFound)?;
    let owner = market
        .stores
        .accounts
        .user_by_id(record.user_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if owner.organisation_id != Some(org) {
        return Err(AppError::NotFound);
    }
    market
        .accounts
        .revoke_token(&actor.audit_name(), record.id)
        .await?;
    Ok(())
}

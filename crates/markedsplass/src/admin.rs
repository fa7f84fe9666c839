//! The admin area's operations: organisations, users, roles, password resets and the webhook's
//! delivery status (pages under `/admin`). Each checks [`policy::ADMINS`] and calls the same
//! [`crate::accounts::Accounts`] functions as `sandkasse admin`, which audit every change with the
//! acting admin as the actor.
//!
//! Two rules protect the service from its admins: an admin cannot change their own role, disable
//! themselves or reset their own password (here: they would lock themselves out), and no change may
//! leave the service without an enabled admin (the store: it holds whoever acts).
//!
//! ```no_run
//! # async fn f(market: &sandkasse_markedsplass::market::Market, admin: &sandkasse_markedsplass::policy::Actor) -> Result<(), sandkasse_markedsplass::AppError> {
//! use sandkasse_markedsplass::admin;
//! let kari = admin::overview(market, admin).await?.users.into_iter().find(|u| u.username == "kari@acme.no");
//! if let Some(kari) = kari {
//!     let reset = admin::reset_password(market, admin, kari.id).await?;
//!     println!("{}", reset.password); // shown once; kari must change it at her next login
//! }
//! # Ok(()) }
//! ```

use jiff::Timestamp;
use serde::Serialize;

use crate::error::AppError;
use crate::market::Market;
use crate::policy::{self, Actor};
use crate::store::{MAX_DELIVERY_ATTEMPTS, Notification, Organisation, Role, User};

/// A user as the admin pages show them (never the password hash).
#[derive(Debug, Clone, Serialize)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub role: Role,
    pub organisation: Option<String>,
    pub created_at: Timestamp,
    pub disabled_at: Option<Timestamp>,
    pub must_change_password: bool,
}

/// The admin area's front page: every organisation and every user.
#[derive(Debug, Clone, Serialize)]
pub struct Overview {
    pub organisations: Vec<Organisation>,
    pub users: Vec<UserRow>,
}

fn row(user: User, organisations: &[Organisation]) -> UserRow {
    let organisation = user.organisation_id.and_then(|id| {
        organisations
            .iter()
            .find(|o| o.id == id)
            .map(|o| o.name.clone())
    });
    UserRow {
        id: user.id,
        username: user.username,
        role: user.role,
        organisation,
        created_at: user.created_at,
        disabled_at: user.disabled_at,
        must_change_password: user.must_change_password,
    }
}

/// Every organisation and user.
pub async fn overview(market: &Market, actor: &Actor) -> Result<Overview, AppError> {
    actor.require(policy::ADMINS)?;
    let organisations = market.accounts.organisations().await?;
    let users = market
        .accounts
        .users()
        .await?
        .into_iter()
        .map(|u| row(u, &organisations))
        .collect();
    Ok(Overview {
        organisations,
        users,
    })
}

/// Creates an organisation.
pub async fn create_organisation(
    market: &Market,
    actor: &Actor,
    name: &str,
) -> Result<Organisation, AppError> {
    actor.require(policy::ADMINS)?;
    Ok(market
        .accounts
        .create_organisation(&actor.audit_name(), name)
        .await?)
}

/// Creates a user with a role (and, for vendors, an organisation) and a temporary password they
/// must change at the first login; returns the user and the password, to show once.
pub async fn create_user(
    market: &Market,
    actor: &Actor,
    username: &str,
    role: Role,
    organisation: Option<&str>,
) -> Result<Reset, AppError> {
    actor.require(policy::ADMINS)?;
    let (user, password) = market
        .accounts
        .create_user_with_temporary_password(&actor.audit_name(), username, role, organisation)
        .await?;
    Ok(Reset { user, password })
}

/// One user and every organisation (for the role form).
pub async fn user(
    market: &Market,
    actor: &Actor,
    id: i64,
) -> Result<(UserRow, Vec<Organisation>), AppError> {
    actor.require(policy::ADMINS)?;
    let user = account(market, id).await?;
    let organisations = market.accounts.organisations().await?;
    Ok((row(user, &organisations), organisations))
}

/// The user `id` (404 when there is none).
async fn account(market: &Market, id: i64) -> Result<User, AppError> {
    market
        .stores
        .accounts
        .user_by_id(id)
        .await?
        .ok_or(AppError::NotFound)
}

/// The user `id`, when the acting admin may change them: never themselves.
async fn other_user(market: &Market, actor: &Actor, id: i64) -> Result<User, AppError> {
    let me = actor.require(policy::ADMINS)?;
    let user = account(market, id).await?;
    if user.id == me.id {
        return Err(AppError::Refused(
            "du kan ikke endre rollen, statusen eller passordet til din egen konto her; bytt eget passord på /passord / \
             you cannot change your own account's role, status or password here; change your own password at /passord"
                .into(),
        ));
    }
    Ok(user)
}

/// Gives user `id` a new role, with the organisation a vendor needs.
pub async fn set_role(
    market: &Market,
    actor: &Actor,
    id: i64,
    role: Role,
    organisation: Option<&str>,
) -> Result<User, AppError> {
    let user = other_user(market, actor, id).await?;
    Ok(market
        .accounts
        .set_role(&actor.audit_name(), &user.username, role, organisation)
        .await?)
}

/// Disables or enables user `id`.
pub async fn set_enabled(
    market: &Market,
    actor: &Actor,
    id: i64,
    enabled: bool,
) -> Result<User, AppError> {
    let user = other_user(market, actor, id).await?;
    Ok(market
        .accounts
        .set_enabled(&actor.audit_name(), &user.username, enabled)
        .await?)
}

/// A user with a new temporary password (created or reset), to show once.
#[derive(Clone)]
pub struct Reset {
    pub user: User,
    pub password: String,
}

impl std::fmt::Debug for Reset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reset")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

/// Resets user `id`'s password to a temporary one they must change at the next login.
pub async fn reset_password(market: &Market, actor: &Actor, id: i64) -> Result<Reset, AppError> {
    let user = other_user(market, actor, id).await?;
    let (user, password) = market
        .accounts
        .reset_password(&actor.audit_name(), &user.username)
        .await?;
    Ok(Reset { user, password })
}

/// The webhook and how its deliveries to one organisation went.
#[derive(Debug, Clone, Serialize)]
pub struct WebhookStatus {
    /// The configured URL without credentials or query (`nightly.webhook_url`); none: no webhook,
    /// or one that is not a URL ([`WebhookStatus::url_invalid`]).
    pub url: Option<String>,
    /// A webhook is configured but its URL cannot be read.
    pub url_invalid: bool,
    pub organisations: Vec<OrganisationDeliveries>,
}

/// The deliveries of one organisation's latest notifications.
#[derive(Debug, Clone, Serialize)]
pub struct OrganisationDeliveries {
    pub organisation: Organisation,
    pub delivered: usize,
    /// Not delivered yet, to be tried again.
    pub pending: usize,
    /// Given up after [`MAX_DELIVERY_ATTEMPTS`].
    pub failed: usize,
    pub last_delivered_at: Option<Timestamp>,
    /// The latest notification's error, if its last attempt failed.
    pub last_error: Option<String>,
    /// The latest notifications, newest first.
    pub recent: Vec<Notification>,
}

/// Notifications per organisation read for the status.
const RECENT: u32 = 20;

/// The webhook's configuration and, per organisation, how its latest notifications were delivered.
pub async fn webhook_status(market: &Market, actor: &Actor) -> Result<WebhookStatus, AppError> {
    actor.require(policy::ADMINS)?;
    let mut organisations = Vec::new();
    for organisation in market.accounts.organisations().await? {
        let recent = market
            .stores
            .nightly
            .notifications(Some(organisation.id), RECENT)
            .await?;
        let delivered = recent.iter().filter(|n| n.delivered_at.is_some()).count();
        let failed = recent
            .iter()
            .filter(|n| n.delivered_at.is_none() && n.attempts >= MAX_DELIVERY_ATTEMPTS)
            .count();
        organisations.push(OrganisationDeliveries {
            organisation,
            delivered,
            pending: recent.len() - delivered - failed,
            failed,
            last_delivered_at: recent.iter().filter_map(|n| n.delivered_at).max(),
            last_error: recent
                .iter()
                .find(|n| n.attempts > 0)
                .filter(|n| n.delivered_at.is_none())
                .and_then(|n| n.delivery_error.clone()),
            recent,
        });
    }
    Ok(WebhookStatus {
        url: market.nightly.webhook_url.as_deref().and_then(shown_url),
        url_invalid: market
            .nightly
            .webhook_url
            .as_deref()
            .is_some_and(|u| shown_url(u).is_none()),
        organisations,
    })
}

/// A URL as safe to show: no user information, query or fragment (they may hold secrets).
fn shown_url(url: &str) -> Option<String> {
    match url.parse::<hyper::Uri>() {
        Ok(uri) => {
            let host = uri
                .authority()
                .map(|a| a.as_str().rsplit('@').next().unwrap_or_default().to_owned())
                .unwrap_or_default();
            Some(format!(
                "{}://{host}{}",
                uri.scheme_str().unwrap_or("http"),
                uri.path()
            ))
        }
        Err(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shown_webhook_url_keeps_no_credentials_or_query() {
        assert_eq!(
            shown_url("http://user:pw@hooks.example:8080/in?token=s3cret#x").as_deref(),
            Some("http://hooks.example:8080/in")
        );
        assert_eq!(
            shown_url("http://hooks.example").as_deref(),
            Some("http://hooks.example/")
        );
        assert_eq!(shown_url("http://bad host/"), None);
    }
}

//! People and machines: vendor organisations, users with a [`Role`], passwords and API tokens.
//!
//! [`Accounts`] holds the rules; the [`AccountStore`] only stores. Every change is written to the
//! audit trail with the acting party (`actor`) given by the caller.
//!
//! - **Passwords** are hashed with argon2id (the crate's default parameters: 19 MiB, 2 passes) and
//!   a random 16-byte salt per user, stored as a PHC string. [`Accounts::authenticate`] spends the
//!   same work for an unknown user as for a wrong password, and says the same thing for both.
//! - **API tokens** are `sk_` + 32 random bytes in URL-safe base64 (no padding): 46 characters.
//!   The token is shown once by [`Accounts::create_token`]; only its SHA-256 (hex) and its first
//!   11 characters (to recognise it in a list) are stored. A fast hash is right here: the token has
//!   256 bits of entropy, nothing to brute-force.
//! - **Usernames** are email-like and stored in lower case. A vendor belongs to exactly one
//!   organisation; the project's people (reviewer, beslutningsgruppe, admin) to none.
//! - **Administration** ([`Accounts::set_role`], [`Accounts::set_enabled`],
//!   [`Accounts::reset_password`]) is the same for the admin pages and `sandkasse admin`. A
//!   disabled user cannot log in, and their sessions and API tokens stop working (the tokens work
//!   again when the user is enabled); a new role revokes the user's tokens. A reset sets a
//!   random temporary password ([`TEMPORARY_PASSWORD_CHARS`] characters, about 79 bits), shown
//!   once to the admin, ends the user's sessions, and makes the user choose a new password
//!   ([`Accounts::change_password`]) before anything else. No change may leave the service
//!   without an enabled admin (the store checks it in the change's transaction).
//!
//! ```
//! # async fn f(accounts: sandkasse_markedsplass::accounts::Accounts) -> Result<(), sandkasse_markedsplass::accounts::AccountError> {
//! use sandkasse_markedsplass::accounts::NewAccount;
//! use sandkasse_markedsplass::store::Role;
//! accounts.create_organisation("cli", "Acme Helse AS").await?;
//! let new = NewAccount { username: "kari@acme.no".into(), role: Role::Vendor, organisation: Some("Acme Helse AS".into()), password: "korrekt hest batteri".into() };
//! accounts.create_user("cli", new).await?;
//! let (_, token) = accounts.create_token("cli", "kari@acme.no", "ci").await?;
//! assert_eq!(accounts.verify_token(&token).await?.username, "kari@acme.no");
//! # Ok(()) }
//! ```

use std::sync::{Arc, OnceLock};

use argon2::Argon2;
use argon2::password_hash::rand_core::{OsRng, RngCore as _};
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use base64::Engine as _;
use jiff::Timestamp;
use sandkasse_suite::text::{Lines, check_plain};
use serde_json::json;
use sha2::{Digest as _, Sha256};

use crate::audit::Audit;

mod manage;
use crate::store::{
    AccountStore, ApiTokenRecord, NewUser, Organisation, OwnedToken, Role, StoreError, User,
};

/// Shortest accepted password, in characters.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// The prefix of every API token.
pub const TOKEN_PREFIX: &str = "sk_";
/// Characters of a token kept in clear to recognise it (`sk_` + 8).
const SHOWN_PREFIX: usize = 11;
/// Random characters of a temporary password (in groups of four, joined by `-`).
pub const TEMPORARY_PASSWORD_CHARS: usize = 16;
/// Longest token name, in characters.
pub const MAX_TOKEN_NAME_CHARS: usize = 100;

/// Why an account operation was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("{0:?} is not a valid username: use an email address")]
    InvalidUsername(String),
    #[error("a password needs at least {MIN_PASSWORD_CHARS} characters")]
    WeakPassword,
    #[error("{0:?} is not a valid organisation name")]
    InvalidOrganisationName(String),
    /// A name others will see has a control, bidirectional or invisible character; `what` is the
    /// field's key in `web/i18n.toml`.
    #[error("{}: {why}", crate::i18n::text(crate::i18n::Lang::En, what))]
    NotPlain {
        what: &'static str,
        why: sandkasse_suite::text::Unplain,
    },
    #[error("a vendor user must belong to an organisation")]
    VendorNeedsOrganisation,
    #[error("only vendor users belong to an organisation, not {0}")]
    OrganisationOnlyForVendors(Role),
    #[error("no organisation named {0:?}")]
    UnknownOrganisation(String),
    #[error("no user named {0:?}")]
    UnknownUser(String),
    /// Wrong password or unknown user — deliberately the same.
    #[error("wrong username or password")]
    InvalidCredentials,
    /// Not a token this service issued.
    #[error("invalid API token")]
    InvalidToken,
    #[error("the API token has been revoked")]
    RevokedToken,
    /// The account is disabled (said only after the right password, or for a token).
    #[error("kontoen er deaktivert / the account is disabled")]
    Disabled,
    #[error(
        "det nye passordet må være et annet enn det gamle / the new password must differ from the old one"
    )]
    SamePassword,
    #[error(
        "gi nøkkelen et navn på 1–{MAX_TOKEN_NAME_CHARS} tegn / give the token a name of 1–{MAX_TOKEN_NAME_CHARS} characters"
    )]
    InvalidTokenName,
    #[error("{0} already exists")]
    Duplicate(crate::i18n::Msg),
    #[error("password hashing failed: {0}")]
    Hashing(argon2::password_hash::Error),
    #[error("the password check could not run: {0}")]
    Blocking(String),
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for AccountError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(what) => AccountError::Duplicate(what),
            e => AccountError::Store(e),
        }
    }
}

/// A user to create, with the password in clear (hashed here, never stored or logged).
#[derive(Clone)]
pub struct NewAccount {
    pub username: String,
    pub role: Role,
    /// The organisation's name; required for vendors, refused for everyone else.
    pub organisation: Option<String>,
    pub password: String,
}

impl std::fmt::Debug for NewAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewAccount")
            .field("username", &self.username)
            .field("role", &self.role)
            .field("organisation", &self.organisation)
            .finish_non_exhaustive()
    }
}

/// Account rules over an [`AccountStore`], auditing every change.
#[derive(Clone)]
pub struct Accounts {
    store: Arc<dyn AccountStore>,
    audit: Audit,
    hashing: HashPool,
}

/// Where password hashes are computed: argon2id costs ~50 ms of CPU and 19 MiB, so it runs on a
/// blocking thread (never on the async runtime, where it would stall other requests), at most
/// `limits.password_hash_concurrency` at once; further logins wait their turn.
#[derive(Debug, Clone)]
pub struct HashPool(Arc<tokio::sync::Semaphore>);

impl HashPool {
    pub fn new(concurrency: usize) -> HashPool {
        HashPool(Arc::new(tokio::sync::Semaphore::new(concurrency.max(1))))
    }

    /// Runs `hash` on a blocking thread once a permit is free.
    pub async fn run<T: Send + 'static>(
        &self,
        hash: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AccountError> {
        let _permit = self
            .0
            .acquire()
            .await
            .map_err(|e| AccountError::Blocking(e.to_string()))?;
        tokio::task::spawn_blocking(hash)
            .await
            .map_err(|e| AccountError::Blocking(e.to_string()))
    }
}

impl std::fmt::Debug for Accounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Accounts { .. }")
    }
}

impl Accounts {
    pub fn new(store: Arc<dyn AccountStore>, audit: Audit) -> Accounts {
        let concurrency = crate::limits::ServiceLimits::default().password_hash_concurrency;
        Accounts {
            store,
            audit,
            hashing: HashPool::new(concurrency),
        }
    }

    /// The same accounts with at most `n` password hashes computed at once.
    pub fn with_hash_concurrency(mut self, n: usize) -> Accounts {
        self.hashing = HashPool::new(n);
        self
    }

    /// Creates a vendor organisation.
    pub async fn create_organisation(
        &self,
        actor: &str,
        name: &str,
    ) -> Result<Organisation, AccountError> {
        let name = name.trim();
        plain("field_organisation", name)?;
        if name.is_empty() || name.len() > 200 {
            return Err(AccountError::InvalidOrganisationName(name.into()));
        }
        let audit = self.audit.clone();
        let actor = actor.to_owned();
        let org = self
            .store
            .insert_organisation(
                name,
                Box::new(move |org| {
                    vec![audit.event(
                        &actor,
                        "organisation.create",
                        &format!("organisation:{}", org.id),
                        None,
                        json!({ "name": org.name }),
                    )]
                }),
            )
            .await?;
        Ok(org)
    }

    /// Creates a user after checking the username, the password and the role's organisation rule.
    pub async fn create_user(&self, actor: &str, new: NewAccount) -> Result<User, AccountError> {
        self.insert_user(actor, new, false).await
    }

    async fn insert_user(
        &self,
        actor: &str,
        new: NewAccount,
        must_change_password: bool,
    ) -> Result<User, AccountError> {
        let username = normalise_username(&new.username)?;
        if new.password.chars().count() < MIN_PASSWORD_CHARS {
            return Err(AccountError::WeakPassword);
        }
        let organisation_id = self
            .organisation_for(new.role, new.organisation.as_deref())
            .await?;
        let password = new.password.clone();
        let password_hash = self.hashing.run(move || hash_password(&password)).await??;
        let audit = self.audit.clone();
        let actor = actor.to_owned();
        let user = self
            .store
            .insert_user(
                NewUser {
                    username,
                    role: new.role,
                    organisation_id,
                    password_hash,
                    must_change_password,
                },
                Box::new(move |user| {
                    vec![audit.event(
                        &actor,
                        "user.create",
                        &format!("user:{}", user.username),
                        None,
                        json!({ "role": user.role, "organisation_id": user.organisation_id, "temporary_password": user.must_change_password }),
                    )]
                }),
            )
            .await?;
        Ok(user)
    }

    /// The organisation a user of `role` belongs to: the named one for vendors (required), none
    /// for everyone else (refused if named). An empty name counts as none.
    async fn organisation_for(
        &self,
        role: Role,
        organisation: Option<&str>,
    ) -> Result<Option<i64>, AccountError> {
        match (role, organisation.map(str::trim).filter(|n| !n.is_empty())) {
            (Role::Vendor, None) => Err(AccountError::VendorNeedsOrganisation),
            (Role::Vendor, Some(name)) => Ok(Some(
                self.store
                    .organisation_by_name(name)
                    .await?
                    .ok_or_else(|| AccountError::UnknownOrganisation(name.into()))?
                    .id,
            )),
            (role, Some(_)) => Err(AccountError::OrganisationOnlyForVendors(role)),
            (_, None) => Ok(None),
        }
    }

    /// Every organisation, by name.
    pub async fn organisations(&self) -> Result<Vec<Organisation>, AccountError> {
        Ok(self.store.organisations().await?)
    }

    /// Every user, by username.
    pub async fn users(&self) -> Result<Vec<User>, AccountError> {
        Ok(self.store.users().await?)
    }

    /// The tokens of an organisation's users, newest first (never the tokens themselves).
    pub async fn organisation_tokens(
        &self,
        organisation_id: i64,
    ) -> Result<Vec<OwnedToken>, AccountError> {
        Ok(self.store.organisation_tokens(organisation_id).await?)
    }

    /// A token's record by id.
    pub async fn token(&self, id: i64) -> Result<Option<ApiTokenRecord>, AccountError> {
        Ok(self.store.token_by_id(id).await?)
    }

    /// The user with this username and password; [`AccountError::InvalidCredentials`] otherwise.
    pub async fn authenticate(&self, username: &str, password: &str) -> Result<User, AccountError> {
        let user = match normalise_username(username) {
            Ok(name) => self.store.user_by_username(&name).await?,
            Err(_) => None,
        };
        // An unknown username costs the same work as a real check, so timing does not tell
        // which usernames exist.
        let hash = user
            .as_ref()
            .map_or_else(|| dummy_hash().to_owned(), |u| u.password_hash.clone());
        let password = password.to_owned();
        let matches = self
            .hashing
            .run(move || verify_password(&hash, &password))
            .await?;
        match user {
            // Only someone who knows the password learns that the account is disabled.
            Some(user) if matches && !user.enabled() => Err(AccountError::Disabled),
            Some(user) if matches => Ok(user),
            _ => Err(AccountError::InvalidCredentials),
        }
    }

    /// The user named `username`.
    pub async fn user(&self, username: &str) -> Result<User, AccountError> {
        let name = normalise_username(username)?;
        self.store
            .user_by_username(&name)
            .await?
            .ok_or_else(|| AccountError::UnknownUser(name))
    }

    /// Issues an API token for `username`. Returns the stored record and the token, which exists
    /// nowhere else: show it once.
    pub async fn create_token(
        &self,
        actor: &str,
        username: &str,
        name: &str,
    ) -> Result<(ApiTokenRecord, String), AccountError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > MAX_TOKEN_NAME_CHARS {
            return Err(AccountError::InvalidTokenName);
        }
        plain("field_token_name", name)?;
        let user = self.user(username).await?;
        let mut bytes = [0_u8; 32];
        OsRng.fill_bytes(&mut bytes);
        let token = format!(
            "{TOKEN_PREFIX}{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
        );
        let audit = self.audit.clone();
        let (actor, subject) = (actor.to_owned(), format!("user:{}", user.username));
        let record = self
            .store
            .insert_token(
                user.id,
                name,
                &token[..SHOWN_PREFIX],
                &token_sha256(&token),
                Box::new(move |record| {
                    vec![audit.event(
                        &actor,
                        "token.create",
                        &subject,
                        None,
                        json!({ "token_id": record.id, "prefix": record.prefix, "name": record.name }),
                    )]
                }),
            )
            .await?;
        Ok((record, token))
    }

    /// The user a token belongs to, if the token is live; records the use (at most once a minute).
    pub async fn verify_token(&self, token: &str) -> Result<User, AccountError> {
        if !token.starts_with(TOKEN_PREFIX) || token.len() != TOKEN_PREFIX.len() + 43 {
            return Err(AccountError::InvalidToken);
        }
        let record = self
            .store
            .token_by_sha256(&token_sha256(token))
            .await?
            .ok_or(AccountError::InvalidToken)?;
        if record.revoked_at.is_some() {
            return Err(AccountError::RevokedToken);
        }
        let user = self
            .store
            .user_by_id(record.user_id)
            .await?
            .ok_or(AccountError::InvalidToken)?;
        if !user.enabled() {
            return Err(AccountError::Disabled);
        }
        // Recorded to the minute: a busy CI client must not turn every read into a write.
        let now = Timestamp::now();
        if record
            .last_used_at
            .is_none_or(|t| now.duration_since(t) >= jiff::SignedDuration::from_secs(60))
        {
            self.store.touch_token(record.id, now).await?;
        }
        Ok(user)
    }

    /// Revokes a token by id; `false` if it was already revoked or unknown.
    pub async fn revoke_token(&self, actor: &str, token_id: i64) -> Result<bool, AccountError> {
        let audit = self.audit.clone();
        let actor = actor.to_owned();
        let revoked = self
            .store
            .revoke_token(
                token_id,
                Timestamp::now(),
                Box::new(move |id| {
                    vec![audit.event(
                        &actor,
                        "token.revoke",
                        &format!("token:{id}"),
                        None,
                        json!({}),
                    )]
                }),
            )
            .await?;
        Ok(revoked)
    }
}

/// Checks that a name others will see is plain text ([`sandkasse_suite::text`]).
fn plain(what: &'static str, name: &str) -> Result<(), AccountError> {
    check_plain(name, Lines::One).map_err(|why| AccountError::NotPlain { what, why })
}

/// Lower-cases and checks an email-like username: `local@domain.tld`, plain text (no control,
/// bidirectional or invisible characters), no spaces, at most 254 bytes.
pub fn normalise_username(username: &str) -> Result<String, AccountError> {
    plain("field_username", username.trim())?;
    let name = username.trim().to_lowercase();
    let valid = name.len() <= 254
        && !name.chars().any(|c| c.is_whitespace() || c.is_control())
        && match name.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.split('.').count() >= 2
                    && domain.split('.').all(|part| !part.is_empty())
            }
            None => false,
        };
    if valid {
        Ok(name)
    } else {
        Err(AccountError::InvalidUsername(username.into()))
    }
}

/// An argon2id PHC string of `password` with a fresh random salt.
pub fn hash_password(password: &str) -> Result<String, AccountError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(AccountError::Hashing)
}

/// Whether `password` matches the PHC string `hash` (false for a malformed hash).
pub fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_password("not a password of anyone").unwrap_or_default())
}

/// Hex SHA-256 of a token, as stored.
pub fn token_sha256(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_email_like_and_lower_case() {
        assert_eq!(
            normalise_username(" Kari@Acme.NO ").unwrap(),
            "kari@acme.no"
        );
        for bad in [
            "",
            "kari",
            "@acme.no",
            "kari@",
            "kari@acme",
            "ka ri@acme.no",
            "a@b@c.no",
            "kari@acme..no",
        ] {
            assert!(
                matches!(
                    normalise_username(bad),
                    Err(AccountError::InvalidUsername(_))
                ),
                "{bad:?}"
            );
        }
        for (hidden, c) in [
            ("kari\u{202e}on.emca@x.no", '\u{202e}'),
            ("kari\u{200b}@acme.no", '\u{200b}'),
            ("kari@acme.no\u{2066}", '\u{2066}'),
        ] {
            assert!(
                matches!(
                    normalise_username(hidden),
                    Err(AccountError::NotPlain { why: sandkasse_suite::text::Unplain::Invisible(x), .. }) if x == c
                ),
                "{hidden:?}"
            );
        }
        assert!(matches!(
            normalise_username("kari\u{7}@acme.no"),
            Err(AccountError::NotPlain {
                why: sandkasse_suite::text::Unplain::Control('\u{7}'),
                ..
            })
        ));
    }

    #[test]
    fn password_hashes_are_salted_argon2id() {
        let a = hash_password("korrekt hest batteri").unwrap();
        let b = hash_password("korrekt hest batteri").unwrap();
        assert!(a.starts_with("$argon2id$"), "{a}");
        assert_ne!(a, b, "each hash has its own salt");
        assert!(verify_password(&a, "korrekt hest batteri"));
        assert!(!verify_password(&a, "korrekt hest batteri!"));
        assert!(!verify_password("not a phc string", "x"));
    }

    /// On a single-threaded runtime, two hashes overlapping proves they run off the runtime's
    /// thread; never more than two proves the bound.
    #[tokio::test]
    async fn hashes_run_on_blocking_threads_at_most_the_pool_size_at_once() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let pool = HashPool::new(2);
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let tasks = (0..8).map(|_| {
            let (pool, running, most) = (pool.clone(), running.clone(), most.clone());
            async move {
                pool.run(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    let ok = verify_password(dummy_hash(), "x");
                    std::thread::sleep(std::time::Duration::from_millis(30));
                    running.fetch_sub(1, Ordering::SeqCst);
                    ok
                })
                .await
            }
        });
        for r in futures_util::future::join_all(tasks).await {
            assert!(matches!(r, Ok(false)));
        }
        assert_eq!(most.load(Ordering::SeqCst), 2);
    }
}

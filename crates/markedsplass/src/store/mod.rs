//! Storage behind narrow traits, split by capability.
//!
//! Handlers and services never see SQL: they hold an `Arc<dyn AccountStore>`, an
//! `Arc<dyn AuditStore>` and so on ([`Stores`] bundles them). All SQL lives in one backend module
//! per database — [`sqlite`] (embedded, the default) and [`postgres`] (several processes on one
//! database) — with numbered migrations in `crates/markedsplass/migrations/{sqlite,postgres}/`.
//!
//! # Why boxed futures
//!
//! The traits return [`BoxFuture`] (`Pin<Box<dyn Future + Send>>`) instead of `async fn`, because
//! `async fn` in traits is not object-safe and `dyn` is the point: a PostgreSQL backend is another
//! struct implementing the same traits, chosen at start-up from `database_url`, with no generic
//! parameter spreading through the handlers. The cost — one allocation per call — is nothing next
//! to a database round trip. Implementations write `Box::pin(async move { ... })`.
//!
//! The traits speak in plain records ([`User`], [`ApiTokenRecord`], [`AuditEvent`]); the rules
//! (password hashing, validation, the hash chain's format) live in [`crate::accounts`] and
//! [`crate::audit`], so every backend applies the same ones.
//!
//! ```no_run
//! # async fn f() -> Result<(), sandkasse_markedsplass::store::StoreError> {
//! use sandkasse_markedsplass::store::{Stores, sqlite::SqliteStore};
//! let stores = Stores::from_sqlite(SqliteStore::open_file("data/sandkasse.db".as_ref()).await?);
//! let admin = stores.accounts.user_by_username("admin@example.no").await?;
//! # Ok(()) }
//! ```

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

pub mod market;
pub mod nightly;
pub mod postgres;
pub mod queue;
mod rows;
pub mod shared;
pub mod sqlite;
pub mod workbench;

pub use market::*;
pub use nightly::*;
pub use queue::*;
pub use shared::*;
pub use workbench::*;

/// Connections a process keeps to its database at most, unless `database_pool_size` says otherwise.
pub const DEFAULT_POOL_SIZE: u32 = 8;

/// The future every store method returns.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A storage failure. Callers match on [`StoreError::Conflict`]; the rest is a 5xx.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique constraint said no (duplicate name, username, ...); the text names what exists.
    #[error("{0} already exists")]
    Conflict(crate::i18n::Msg),
    /// The change is not allowed in the record's current state; the text says why.
    #[error("{0}")]
    Refused(crate::i18n::Msg),
    #[error(
        "unsupported database URL {0:?}: use sqlite: (embedded) or postgres:// / postgresql://"
    )]
    UnsupportedUrl(String),
    #[error("creating the data directory {path}: {source}")]
    DataDir {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("a stored value is corrupt: {0}")]
    Corrupt(String),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("running migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// What a user may do. Stored as its lower-case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// A vendor's person: sees only its own organisation.
    Vendor,
    /// The project's reviewer: reviews listings.
    Reviewer,
    /// The escalation level when reviewers disagree.
    Beslutningsgruppe,
    /// Operates the service: accounts, audit.
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [
        Role::Vendor,
        Role::Reviewer,
        Role::Beslutningsgruppe,
        Role::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Vendor => "vendor",
            Role::Reviewer => "reviewer",
            Role::Beslutningsgruppe => "beslutningsgruppe",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A vendor organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Organisation {
    pub id: i64,
    pub name: String,
    pub created_at: Timestamp,
}

/// A person's account. `password_hash` is an argon2id PHC string, never a password.
#[derive(Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub role: Role,
    pub organisation_id: Option<i64>,
    pub password_hash: String,
    pub created_at: Timestamp,
    /// When an admin disabled the account; a disabled user cannot log in or use a token.
    pub disabled_at: Option<Timestamp>,
    /// Set by a password reset: the user must choose a new password before doing anything else.
    pub must_change_password: bool,
}

impl User {
    /// Whether the account may be used (not disabled).
    pub fn enabled(&self) -> bool {
        self.disabled_at.is_none()
    }
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("role", &self.role)
            .field("organisation_id", &self.organisation_id)
            .field("password_hash", &"<redacted>")
            .field("disabled_at", &self.disabled_at)
            .field("must_change_password", &self.must_change_password)
            .finish()
    }
}

/// A user to insert; the password is already hashed.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub role: Role,
    pub organisation_id: Option<i64>,
    pub password_hash: String,
    /// The password is a temporary one the user must change at the first login.
    pub must_change_password: bool,
}

/// An API token as stored: its hash and a recognisable prefix, never the token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiTokenRecord {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    pub prefix: String,
    #[serde(skip)]
    pub sha256: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

/// An API token with the user it belongs to, as an organisation's token list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OwnedToken {
    #[serde(flatten)]
    pub token: ApiTokenRecord,
    /// The username of the token's owner.
    pub username: String,
}

/// A change to a user's account ([`AccountStore::update_user`]).
#[derive(Clone, PartialEq, Eq)]
pub enum UserChange {
    /// A new role, with the organisation that role needs (vendors one, everyone else none).
    /// Revokes the user's live API tokens: they were made for the old role.
    Role {
        role: Role,
        organisation_id: Option<i64>,
    },
    /// Disabled since the time (`Some`), or enabled again (`None`). Disabling ends the user's
    /// sessions.
    Disabled(Option<Timestamp>),
    /// A new password hash; `must_change` after a reset (which also ends the user's sessions).
    Password { hash: String, must_change: bool },
}

impl std::fmt::Debug for UserChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UserChange::Role {
                role,
                organisation_id,
            } => f
                .debug_struct("Role")
                .field("role", role)
                .field("organisation_id", organisation_id)
                .finish(),
            UserChange::Disabled(at) => f.debug_tuple("Disabled").field(at).finish(),
            UserChange::Password { must_change, .. } => f
                .debug_struct("Password")
                .field("must_change", must_change)
                .finish_non_exhaustive(),
        }
    }
}

/// An audit event as stored; see [`crate::audit`] for how `hash` is made.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEvent {
    pub seq: i64,
    pub at: Timestamp,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub reason: Option<String>,
    pub details: serde_json::Value,
    pub prev_hash: String,
    pub hash: String,
}

/// An audit event before the store gives it a place in the chain.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAuditEvent {
    pub at: Timestamp,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub reason: Option<String>,
    pub details: serde_json::Value,
}

/// The audit events that go with a change, made from the changed record once it exists (so they
/// can name its id). Stores write them in the same transaction as the change: both or neither.
pub type Audited<'a, T> = Box<dyn FnOnce(&T) -> Vec<NewAuditEvent> + Send + 'a>;

/// `audit` for a change that may not happen: its events when the result is `Some`, none otherwise.
pub fn when_some<'a, T: 'a>(audit: Audited<'a, T>) -> Audited<'a, Option<T>> {
    Box::new(move |value| value.as_ref().map(audit).unwrap_or_default())
}

/// Organisations, users and API tokens. Every change takes its audit events ([`Audited`]).
pub trait AccountStore: Send + Sync {
    fn insert_organisation<'a>(
        &'a self,
        name: &'a str,
        audit: Audited<'a, Organisation>,
    ) -> BoxFuture<'a, Result<Organisation, StoreError>>;
    fn organisation_by_name<'a>(
        &'a self,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Option<Organisation>, StoreError>>;
    /// Every organisation, by name.
    fn organisations(&self) -> BoxFuture<'_, Result<Vec<Organisation>, StoreError>>;
    /// Every user, by username.
    fn users(&self) -> BoxFuture<'_, Result<Vec<User>, StoreError>>;
    /// Changes a user. Refused ([`StoreError::Refused`]) when the change would leave no enabled
    /// admin — checked in the change's own transaction, so two admins demoting each other at once
    /// cannot both succeed. Disabling and a password reset end the user's sessions; a new role
    /// revokes the user's API tokens.
    fn update_user<'a>(
        &'a self,
        id: i64,
        change: UserChange,
        audit: Audited<'a, User>,
    ) -> BoxFuture<'a, Result<User, StoreError>>;
    fn insert_user<'a>(
        &'a self,
        user: NewUser,
        audit: Audited<'a, User>,
    ) -> BoxFuture<'a, Result<User, StoreError>>;
    /// Users with `role`, by id.
    fn users_with_role(&self, role: Role) -> BoxFuture<'_, Result<Vec<User>, StoreError>>;
    fn user_by_username<'a>(
        &'a self,
        username: &'a str,
    ) -> BoxFuture<'a, Result<Option<User>, StoreError>>;
    fn user_by_id(&self, id: i64) -> BoxFuture<'_, Result<Option<User>, StoreError>>;
    fn insert_token<'a>(
        &'a self,
        user_id: i64,
        name: &'a str,
        prefix: &'a str,
        sha256: &'a str,
        audit: Audited<'a, ApiTokenRecord>,
    ) -> BoxFuture<'a, Result<ApiTokenRecord, StoreError>>;
    fn token_by_sha256<'a>(
        &'a self,
        sha256: &'a str,
    ) -> BoxFuture<'a, Result<Option<ApiTokenRecord>, StoreError>>;
    fn token_by_id(&self, id: i64) -> BoxFuture<'_, Result<Option<ApiTokenRecord>, StoreError>>;
    /// The tokens of an organisation's users, newest first, revoked ones included.
    fn organisation_tokens(
        &self,
        organisation_id: i64,
    ) -> BoxFuture<'_, Result<Vec<OwnedToken>, StoreError>>;
    /// Records a use; a no-op for an unknown id.
    fn touch_token(&self, id: i64, at: Timestamp) -> BoxFuture<'_, Result<(), StoreError>>;
    /// Revokes a token; returns whether it was live before (the audit events are written only then).
    fn revoke_token<'a>(
        &'a self,
        id: i64,
        at: Timestamp,
        audit: Audited<'a, i64>,
    ) -> BoxFuture<'a, Result<bool, StoreError>>;
    /// Starts a session: stores the SHA-256 of its id, never the id.
    fn insert_session<'a>(
        &'a self,
        session: NewSession,
        audit: Audited<'a, NewSession>,
    ) -> BoxFuture<'a, Result<(), StoreError>>;
    /// The live session with this id hash and its user (`None` when unknown or expired at `now`).
    fn session<'a>(
        &'a self,
        sha256: &'a str,
        now: Timestamp,
    ) -> BoxFuture<'a, Result<Option<Session>, StoreError>>;
    /// Ends a session; a no-op for an unknown one.
    fn delete_session<'a>(
        &'a self,
        sha256: &'a str,
        audit: Audited<'a, i64>,
    ) -> BoxFuture<'a, Result<(), StoreError>>;
}

/// Which audit events to read ([`AuditStore::search`]): every condition given must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// The action exactly when it has a dot (`review.decide`), else its area (`review` matches
    /// `review.*`).
    pub kind: Option<String>,
    /// Part of the actor, ASCII case-insensitively.
    pub actor: Option<String>,
    /// The subject exactly (`case:3`).
    pub subject: Option<String>,
    /// At or after this time (compared to the whole second).
    pub since: Option<Timestamp>,
    /// Before this time (compared to the whole second).
    pub until: Option<Timestamp>,
    /// `seq > after`, oldest first. Without it the newest come first.
    pub after: Option<i64>,
    /// `seq < before`.
    pub before: Option<i64>,
    /// At most this many.
    pub limit: u32,
}

/// The append-only audit trail.
pub trait AuditStore: Send + Sync {
    /// Appends `event` at the end of the chain, atomically: reads the last event, computes the new
    /// one's `seq` and hash with [`crate::audit::seal`] and inserts it in one transaction, so
    /// concurrent appends never fork the chain.
    fn append(&self, event: NewAuditEvent) -> BoxFuture<'_, Result<AuditEvent, StoreError>>;
    /// Events with `seq > after`, in order, at most `limit`.
    fn events_after(
        &self,
        after: i64,
        limit: u32,
    ) -> BoxFuture<'_, Result<Vec<AuditEvent>, StoreError>>;
    /// The events `query` selects: oldest first from `after`, else newest first.
    fn search<'a>(
        &'a self,
        query: &'a AuditQuery,
    ) -> BoxFuture<'a, Result<Vec<AuditEvent>, StoreError>>;
    /// Every action the trail holds, sorted (for a filter's choices).
    fn actions(&self) -> BoxFuture<'_, Result<Vec<String>, StoreError>>;
}

/// Liveness of the database, for `/ready`.
pub trait StoreHealth: Send + Sync {
    /// Succeeds when the database answers a trivial query.
    fn ping(&self) -> BoxFuture<'_, Result<(), StoreError>>;
    /// Closes the connections, waiting for running queries; later calls fail.
    fn close(&self) -> BoxFuture<'_, ()>;
}

/// A session to store: the SHA-256 of the cookie's id, its user, its CSRF token and expiry.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub sha256: String,
    pub user_id: i64,
    pub csrf: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// A live session with its user.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: User,
    pub csrf: String,
    pub expires_at: Timestamp,
}

/// Every store the service uses, as trait objects.
#[derive(Clone)]
pub struct Stores {
    pub accounts: Arc<dyn AccountStore>,
    pub audit: Arc<dyn AuditStore>,
    pub market: Arc<dyn MarketStore>,
    pub queue: Arc<dyn RunQueue>,
    pub nightly: Arc<dyn NightlyStore>,
    pub workbench: Arc<dyn WorkbenchStore>,
    pub health: Arc<dyn StoreHealth>,
    /// What processes sharing the database tell each other, and who does what only one may do.
    pub shared: Arc<dyn Shared>,
    /// Where uploaded components are kept when every node must read them (PostgreSQL); `None`:
    /// in files under `data_dir` ([`crate::components`]).
    pub components: Option<Arc<dyn crate::components::ComponentBlobs>>,
}

impl std::fmt::Debug for Stores {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Stores { .. }")
    }
}

impl Stores {
    /// All capabilities served by one SQLite database.
    pub fn from_sqlite(store: sqlite::SqliteStore) -> Stores {
        let store = Arc::new(store);
        Stores {
            accounts: store.clone(),
            audit: store.clone(),
            market: store.clone(),
            queue: store.clone(),
            nightly: store.clone(),
            workbench: store.clone(),
            health: store,
            shared: Arc::new(shared::Alone),
            components: None,
        }
    }

    /// All capabilities served by one PostgreSQL database.
    pub fn from_postgres(store: postgres::PostgresStore) -> Stores {
        let store = Arc::new(store);
        Stores {
            accounts: store.clone(),
            audit: store.clone(),
            market: store.clone(),
            queue: store.clone(),
            nightly: store.clone(),
            components: Some(store.clone()),
            workbench: store.clone(),
            shared: store.clone(),
            health: store,
        }
    }

    /// Opens the database `config` names (creating `data_dir`) and runs the migrations: SQLite
    /// for no URL or a `sqlite:` one, PostgreSQL for `postgres://` and `postgresql://`.
    pub async fn open(config: &crate::Config) -> Result<Stores, StoreError> {
        std::fs::create_dir_all(&config.data_dir).map_err(|source| StoreError::DataDir {
            path: config.data_dir.clone(),
            source,
        })?;
        match &config.database_url {
            None => Ok(Stores::from_sqlite(
                sqlite::SqliteStore::open_file_sized(
                    &config.data_dir.join("sandkasse.db"),
                    config.database_pool_size,
                )
                .await?,
            )),
            Some(url) if url.starts_with("sqlite:") => Ok(Stores::from_sqlite(
                sqlite::SqliteStore::open_url(url, config.database_pool_size).await?,
            )),
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                Ok(Stores::from_postgres(
                    postgres::PostgresStore::open_url(url, config.database_pool_size).await?,
                ))
            }
            Some(url) => {
                // Never echo a URL that may carry a password.
                let scheme = url.split(':').next().unwrap_or_default();
                Err(StoreError::UnsupportedUrl(format!("{scheme}:…")))
            }
        }
    }
}

//! The embedded SQLite backend: every store trait over one [`SqlitePool`].
//!
//! Opened with WAL journaling, foreign keys on and a busy timeout; the migrations in
//! `crates/markedsplass/migrations/` run on open (embedded in the binary by `sqlx::migrate!`).
//! Queries are runtime-checked (`sqlx::query`), so building needs no database.

use std::path::Path;
use std::str::FromStr as _;
use std::time::Duration;

use jiff::Timestamp;
use sqlx::Row as _;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow};

use super::{
    AccountStore, ApiTokenRecord, AuditEvent, AuditStore, BoxFuture, NewAuditEvent, NewUser, Organisation, Role,
    StoreError, StoreHealth, User,
};

/// The migrations, embedded at build time.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// SQLite implementation of every store trait.
#[derive(Debug)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// Serialises audit appends in this process (SQLite has one writer anyway); the `seq` primary
    /// key stops a second process from forking the chain.
    audit_lock: tokio::sync::Mutex<()>,
}

impl SqliteStore {
    /// Opens (creating if missing) the database file at `path` and migrates it.
    pub async fn open_file(path: &Path) -> Result<SqliteStore, StoreError> {
        Self::open_with(SqliteConnectOptions::new().filename(path).create_if_missing(true)).await
    }

    /// Opens a `sqlite:` URL and migrates it.
    pub async fn open_url(url: &str) -> Result<SqliteStore, StoreError> {
        Self::open_with(SqliteConnectOptions::from_str(url)?).await
    }

    async fn open_with(options: SqliteConnectOptions) -> Result<SqliteStore, StoreError> {
        let options = options
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new().max_connections(8).connect_with(options).await?;
        MIGRATOR.run(&pool).await?;
        Ok(SqliteStore { pool, audit_lock: tokio::sync::Mutex::new(()) })
    }

    /// The pool, for tests and maintenance tools.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

fn conflict(what: impl Into<String>) -> impl FnOnce(sqlx::Error) -> StoreError {
    let what = what.into();
    move |e| match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(what),
        _ => StoreError::Database(e),
    }
}

fn ts(text: &str) -> Result<Timestamp, StoreError> {
    text.parse().map_err(|e| StoreError::Corrupt(format!("timestamp {text:?}: {e}")))
}

fn opt_ts(text: Option<String>) -> Result<Option<Timestamp>, StoreError> {
    text.as_deref().map(ts).transpose()
}

fn organisation(row: &SqliteRow) -> Result<Organisation, StoreError> {
    Ok(Organisation { id: row.try_get("id")?, name: row.try_get("name")?, created_at: ts(row.try_get("created_at")?)? })
}

fn user(row: &SqliteRow) -> Result<User, StoreError> {
    let role: String = row.try_get("role")?;
    Ok(User {
        id: row.try_get("id")?,
        username: row.try_get("username")?,
        role: Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("role {role:?}")))?,
        organisation_id: row.try_get("organisation_id")?,
        password_hash: row.try_get("password_hash")?,
        created_at: ts(row.try_get("created_at")?)?,
    })
}

fn token(row: &SqliteRow) -> Result<ApiTokenRecord, StoreError> {
    Ok(ApiTokenRecord {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        name: row.try_get("name")?,
        prefix: row.try_get("prefix")?,
        sha256: row.try_get("sha256")?,
        created_at: ts(row.try_get("created_at")?)?,
        last_used_at: opt_ts(row.try_get("last_used_at")?)?,
        revoked_at: opt_ts(row.try_get("revoked_at")?)?,
    })
}

fn audit_event(row: &SqliteRow) -> Result<AuditEvent, StoreError> {
    let details: String = row.try_get("details")?;
    Ok(AuditEvent {
        seq: row.try_get("seq")?,
        at: ts(row.try_get("at")?)?,
        actor: row.try_get("actor")?,
        action: row.try_get("action")?,
        subject: row.try_get("subject")?,
        reason: row.try_get("reason")?,
        details: serde_json::from_str(&details).map_err(|e| StoreError::Corrupt(format!("details: {e}")))?,
        prev_hash: row.try_get("prev_hash")?,
        hash: row.try_get("hash")?,
    })
}

impl AccountStore for SqliteStore {
    fn insert_organisation<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Organisation, StoreError>> {
        Box::pin(async move {
            let row = sqlx::query("INSERT INTO organisations (name, created_at) VALUES (?, ?) RETURNING *")
                .bind(name)
                .bind(Timestamp::now().to_string())
                .fetch_one(&self.pool)
                .await
                .map_err(conflict(format!("organisation {name:?}")))?;
            organisation(&row)
        })
    }

    fn organisation_by_name<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Option<Organisation>, StoreError>> {
        Box::pin(async move {
            let row = sqlx::query("SELECT * FROM organisations WHERE name = ?").bind(name).fetch_optional(&self.pool).await?;
            row.as_ref().map(organisation).transpose()
        })
    }

    fn insert_user(&self, new: NewUser) -> BoxFuture<'_, Result<User, StoreError>> {
        Box::pin(async move {
            let row = sqlx::query(
                "INSERT INTO users (username, role, organisation_id, password_hash, created_at) \
                 VALUES (?, ?, ?, ?, ?) RETURNING *",
            )
            .bind(&new.username)
            .bind(new.role.as_str())
            .bind(new.organisation_id)
            .bind(&new.password_hash)
            .bind(Timestamp::now().to_string())
            .fetch_one(&self.pool)
            .await
            .map_err(conflict(format!("user {:?}", new.username)))?;
            user(&row)
        })
    }

    fn user_by_username<'a>(&'a self, username: &'a str) -> BoxFuture<'a, Result<Option<User>, StoreError>> {
        Box::pin(async move {
            let row = sqlx::query("SELECT * FROM users WHERE username = ?").bind(username).fetch_optional(&self.pool).await?;
            row.as_ref().map(user).transpose()
        })
    }

    fn user_by_id(&self, id: i64) -> BoxFuture<'_, Result<Option<User>, StoreError>> {
        Box::pin(async move {
            let row = sqlx::query("SELECT * FROM users WHERE id = ?").bind(id).fetch_optional(&self.pool).await?;
            row.as_ref().map(user).transpose()
        })
    }

    fn insert_token<'a>(
        &'a self,
        user_id: i64,
        name: &'a str,
        prefix: &'a str,
        sha256: &'a str,
    ) -> BoxFuture<'a, Result<ApiTokenRecord, StoreError>> {
        Box::pin(async move {
            let row = sqlx::query(
                "INSERT INTO api_tokens (user_id, name, prefix, sha256, created_at) VALUES (?, ?, ?, ?, ?) RETURNING *",
            )
            .bind(user_id)
            .bind(name)
            .bind(prefix)
            .bind(sha256)
            .bind(Timestamp::now().to_string())
            .fetch_one(&self.pool)
            .await
            .map_err(conflict("token"))?;
            token(&row)
        })
    }

    fn token_by_sha256<'a>(&'a self, sha256: &'a str) -> BoxFuture<'a, Result<Option<ApiTokenRecord>, StoreError>> {
        Box::pin(async move {
            let row = sqlx::query("SELECT * FROM api_tokens WHERE sha256 = ?").bind(sha256).fetch_optional(&self.pool).await?;
            row.as_ref().map(token).transpose()
        })
    }

    fn touch_token(&self, id: i64, at: Timestamp) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            sqlx::query("UPDATE api_tokens SET last_used_at = ? WHERE id = ?")
                .bind(at.to_string())
                .bind(id)
                .execute(&self.pool)
                .await?;
            Ok(())
        })
    }

    fn revoke_token(&self, id: i64, at: Timestamp) -> BoxFuture<'_, Result<bool, StoreError>> {
        Box::pin(async move {
            let done = sqlx::query("UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL")
                .bind(at.to_string())
                .bind(id)
                .execute(&self.pool)
                .await?;
            Ok(done.rows_affected() == 1)
        })
    }
}

impl AuditStore for SqliteStore {
    fn append(&self, event: NewAuditEvent) -> BoxFuture<'_, Result<AuditEvent, StoreError>> {
        Box::pin(async move {
            let _guard = self.audit_lock.lock().await;
            let mut tx = self.pool.begin().await?;
            let last = sqlx::query("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1")
                .fetch_optional(&mut *tx)
                .await?;
            let (last_seq, last_hash) = match last {
                Some(row) => (row.try_get::<i64, _>("seq")?, row.try_get::<String, _>("hash")?),
                None => (0, crate::audit::GENESIS_HASH.to_string()),
            };
            let sealed = crate::audit::seal(last_seq + 1, last_hash, event);
            sqlx::query(
                "INSERT INTO audit_events (seq, at, actor, action, subject, reason, details, prev_hash, hash) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(sealed.seq)
            .bind(sealed.at.to_string())
            .bind(&sealed.actor)
            .bind(&sealed.action)
            .bind(&sealed.subject)
            .bind(&sealed.reason)
            .bind(sealed.details.to_string())
            .bind(&sealed.prev_hash)
            .bind(&sealed.hash)
            .execute(&mut *tx)
            .await
            .map_err(conflict(format!("audit event {}", sealed.seq)))?;
            tx.commit().await?;
            Ok(sealed)
        })
    }

    fn events_after(&self, after: i64, limit: u32) -> BoxFuture<'_, Result<Vec<AuditEvent>, StoreError>> {
        Box::pin(async move {
            let rows = sqlx::query("SELECT * FROM audit_events WHERE seq > ? ORDER BY seq LIMIT ?")
                .bind(after)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
            rows.iter().map(audit_event).collect()
        })
    }
}

impl StoreHealth for SqliteStore {
    fn ping(&self) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            sqlx::query("SELECT 1").execute(&self.pool).await?;
            Ok(())
        })
    }

    fn close(&self) -> BoxFuture<'_, ()> {
        Box::pin(self.pool.close())
    }
}

//! The embedded SQLite backend: every store trait over one [`SqlitePool`].
//!
//! Opened with WAL journaling, foreign keys on and a busy timeout; the migrations in
//! `crates/markedsplass/migrations/sqlite/` run on open (embedded in the binary by `sqlx::migrate!`).
//! Queries are runtime-checked (`sqlx::query`), so building needs no database. One file per
//! capability (`accounts`, `market`, `nightly`, `queue`, `workbench`); the audit chain's append, which every
//! write shares, and the health check are here.

use std::path::Path;
use std::str::FromStr as _;
use std::time::Duration;

use sqlx::Row as _;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

use super::rows::{self, audit_event, conflict};
use super::{
    AuditEvent, AuditQuery, AuditStore, Audited, BoxFuture, NewAuditEvent, StoreError, StoreHealth,
};
use crate::i18n::Msg;

mod accounts;
mod market;
mod nightly;
mod queue;
mod workbench;

/// The migrations, embedded at build time.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// SQLite implementation of every store trait.
#[derive(Debug)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// Serialises write transactions in this process. SQLite has one writer anyway; taking turns
    /// here means audit appends read the chain's head without racing. Write transactions start
    /// with `BEGIN IMMEDIATE`, so another process on the same file (`sandkasse nightly` next to
    /// `sandkasse serve`) waits for the write lock (busy timeout) instead of failing to upgrade a
    /// read; the `seq` primary key stops it from ever forking the chain.
    write_lock: tokio::sync::Mutex<()>,
}

impl SqliteStore {
    /// Opens (creating if missing) the database file at `path` and migrates it.
    pub async fn open_file(path: &Path) -> Result<SqliteStore, StoreError> {
        Self::open_file_sized(path, crate::store::DEFAULT_POOL_SIZE).await
    }

    /// [`SqliteStore::open_file`] with at most `pool_size` connections.
    pub async fn open_file_sized(path: &Path, pool_size: u32) -> Result<SqliteStore, StoreError> {
        Self::open_with(
            SqliteConnectOptions::new()
                .filename(path)
                .create_if_missing(true),
            pool_size,
        )
        .await
    }

    /// Opens a `sqlite:` URL and migrates it, with at most `pool_size` connections.
    pub async fn open_url(url: &str, pool_size: u32) -> Result<SqliteStore, StoreError> {
        Self::open_with(SqliteConnectOptions::from_str(url)?, pool_size).await
    }

    async fn open_with(
        options: SqliteConnectOptions,
        pool_size: u32,
    ) -> Result<SqliteStore, StoreError> {
        let options = options
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(pool_size)
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(SqliteStore {
            pool,
            write_lock: tokio::sync::Mutex::new(()),
        })
    }

    /// The pool, for tests and maintenance tools.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Runs `change` in a write transaction and appends the audit events made from its result in
    /// the same transaction: the change and its events are committed together or not at all.
    async fn write<'a, T, F>(&'a self, audit: Audited<'a, T>, change: F) -> Result<T, StoreError>
    where
        T: Send,
        F: for<'c> FnOnce(&'c mut sqlx::SqliteConnection) -> BoxFuture<'c, Result<T, StoreError>>
            + Send
            + 'a,
    {
        let _turn = self.write_lock.lock().await;
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let value = change(&mut tx).await?;
        append_in(&mut tx, audit(&value)).await?;
        tx.commit().await?;
        Ok(value)
    }
}

/// Appends `events` at the end of the audit chain inside the caller's transaction.
async fn append_in(
    conn: &mut sqlx::SqliteConnection,
    events: Vec<NewAuditEvent>,
) -> Result<Vec<AuditEvent>, StoreError> {
    let mut sealed_events = Vec::with_capacity(events.len());
    if events.is_empty() {
        return Ok(sealed_events);
    }
    let last = sqlx::query("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1")
        .fetch_optional(&mut *conn)
        .await?;
    let (mut seq, mut prev) = match last {
        Some(row) => (
            row.try_get::<i64, _>("seq")?,
            row.try_get::<String, _>("hash")?,
        ),
        None => (0, crate::audit::GENESIS_HASH.to_string()),
    };
    for event in events {
        seq += 1;
        let sealed = crate::audit::seal(seq, prev, event);
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
        .execute(&mut *conn)
        .await
        .map_err(conflict(Msg::new("what_audit_event").arg("seq", sealed.seq)))?;
        prev = sealed.hash.clone();
        sealed_events.push(sealed);
    }
    Ok(sealed_events)
}

impl AuditStore for SqliteStore {
    fn append(&self, event: NewAuditEvent) -> BoxFuture<'_, Result<AuditEvent, StoreError>> {
        Box::pin(async move {
            let _turn = self.write_lock.lock().await;
            let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
            let mut sealed = append_in(&mut tx, vec![event]).await?;
            tx.commit().await?;
            sealed
                .pop()
                .ok_or_else(|| StoreError::Corrupt("append wrote no event".into()))
        })
    }

    fn events_after(
        &self,
        after: i64,
        limit: u32,
    ) -> BoxFuture<'_, Result<Vec<AuditEvent>, StoreError>> {
        Box::pin(async move {
            let rows = sqlx::query("SELECT * FROM audit_events WHERE seq > ? ORDER BY seq LIMIT ?")
                .bind(after)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
            rows.iter().map(audit_event).collect()
        })
    }

    fn search<'a>(
        &'a self,
        query: &'a AuditQuery,
    ) -> BoxFuture<'a, Result<Vec<AuditEvent>, StoreError>> {
        Box::pin(async move {
            let (sql, binds) = rows::audit_search(query, rows::Dialect::Sqlite);
            let mut q = sqlx::query(&sql);
            for bind in binds {
                q = match bind {
                    rows::Bind::Text(t) => q.bind(t),
                    rows::Bind::Int(i) => q.bind(i),
                };
            }
            let rows = q.fetch_all(&self.pool).await?;
            rows.iter().map(audit_event).collect()
        })
    }

    fn actions(&self) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
        Box::pin(async move {
            Ok(
                sqlx::query_scalar("SELECT DISTINCT action FROM audit_events ORDER BY action")
                    .fetch_all(&self.pool)
                    .await?,
            )
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

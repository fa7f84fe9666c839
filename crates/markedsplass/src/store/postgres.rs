//! The PostgreSQL backend: every store trait over one [`PgPool`], for several processes (web and
//! worker nodes, `sandkasse nightly`) sharing one database.
//!
//! Chosen by a `postgres://` or `postgresql://` `database_url`; the migrations in
//! `crates/markedsplass/migrations/postgres/` run on open (see the README there for how they are
//! numbered next to SQLite's). Queries are runtime-checked (`sqlx::query`), so building needs no
//! database. One file per capability (`accounts`, `components`, `market`, `nightly`, `queue`), as for
//! [`super::sqlite`]; records are made from rows by the same functions (`store::rows`).
//!
//! # Concurrency
//!
//! SQLite has one writer, and its backend takes turns in-process. Here many processes write at
//! once under READ COMMITTED, so each rule the single writer gave for free is a lock:
//!
//! - **The audit chain.** Appending reads the chain's head and inserts after it; the transaction
//!   first takes the advisory lock [`AUDIT_LOCK`] (`pg_advisory_xact_lock`), held until it commits
//!   or rolls back. Appends from every process thus form one chain. The lock is the *last* lock a
//!   write takes (the change's own rows are written before its events are appended), and its
//!   holder only inserts events and commits, so it never waits for another lock: no deadlock.
//! - **Check, then change.** Where a change depends on what it read (the last enabled admin, a
//!   submission's pending run, a case's reviews, a listing's state), the rows read are locked
//!   first (`SELECT … FOR UPDATE`), so two such changes take turns.
//! - **The run queue.** A claim takes the next run with `FOR UPDATE SKIP LOCKED`: workers in
//!   several processes never claim the same run and never wait on each other's candidates.
//!   Whenever a run becomes queued, a trigger sends its id on [`RUNS_CHANNEL`], so idle workers
//!   can `LISTEN` instead of polling hard.

use std::time::Duration;

use sqlx::Row as _;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use super::rows::{self, audit_event, conflict};
use super::{
    AuditEvent, AuditQuery, AuditStore, Audited, BoxFuture, NewAuditEvent, StoreError, StoreHealth,
};
use crate::i18n::Msg;

mod accounts;
mod components;
mod market;
mod nightly;
mod queue;
mod shared;
mod workbench;

pub use shared::{DUTY_LOCKS, LEAD_PING, PROGRESS_CHANNEL};

/// The migrations, embedded at build time.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The channel a run's id is sent on (`pg_notify`) when the run becomes queued — inserted, or put
/// back after an expired lease. Workers `LISTEN` on it.
pub const RUNS_CHANNEL: &str = "sandkasse_runs";

/// The key of the transaction-scoped advisory lock that serialises appends to the audit chain
/// (`pg_advisory_xact_lock(AUDIT_LOCK)`), in every process using the database. The value is
/// arbitrary but fixed (ASCII `sndkAUDT`): another application sharing the database must not use
/// it.
pub const AUDIT_LOCK: i64 = 0x736e_646b_4155_4454;

/// PostgreSQL implementation of every store trait.
#[derive(Debug)]
pub struct PostgresStore {
    pool: PgPool,
    /// What the process's listener hears from every process ([`crate::store::Shared`]).
    signals: tokio::sync::broadcast::Sender<crate::store::Signal>,
}

impl PostgresStore {
    /// Connects to a `postgres://` / `postgresql://` URL with at most `pool_size` connections
    /// (besides the listener's and those holding a duty) and migrates the database.
    pub async fn open_url(url: &str, pool_size: u32) -> Result<PostgresStore, StoreError> {
        let options: PgConnectOptions = url.parse()?;
        let pool = PgPoolOptions::new()
            .max_connections(pool_size)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        let signals = shared::listen(pool.clone());
        Ok(PostgresStore { pool, signals })
    }

    /// The pool, for tests and maintenance tools.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Runs `change` in a transaction and appends the audit events made from its result in the
    /// same transaction: the change and its events are committed together or not at all.
    async fn write<'a, T, F>(&'a self, audit: Audited<'a, T>, change: F) -> Result<T, StoreError>
    where
        T: Send,
        F: for<'c> FnOnce(&'c mut sqlx::PgConnection) -> BoxFuture<'c, Result<T, StoreError>>
            + Send
            + 'a,
    {
        let mut tx = self.pool.begin().await?;
        let value = change(&mut tx).await?;
        append_in(&mut tx, audit(&value)).await?;
        tx.commit().await?;
        Ok(value)
    }
}

/// Appends `events` at the end of the audit chain inside the caller's transaction, holding
/// [`AUDIT_LOCK`] from reading the chain's head until the transaction ends.
async fn append_in(
    conn: &mut sqlx::PgConnection,
    events: Vec<NewAuditEvent>,
) -> Result<Vec<AuditEvent>, StoreError> {
    let mut sealed_events = Vec::with_capacity(events.len());
    if events.is_empty() {
        return Ok(sealed_events);
    }
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(AUDIT_LOCK)
        .execute(&mut *conn)
        .await?;
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
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
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

impl AuditStore for PostgresStore {
    fn append(&self, event: NewAuditEvent) -> BoxFuture<'_, Result<AuditEvent, StoreError>> {
        Box::pin(async move {
            let mut tx = self.pool.begin().await?;
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
            let rows =
                sqlx::query("SELECT * FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2")
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
            let (sql, binds) = rows::audit_search(query, rows::Dialect::Postgres);
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

impl StoreHealth for PostgresStore {
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

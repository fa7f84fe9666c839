//! What the processes of one database tell each other, and the duties only one of them may do at
//! a time — for the service run as several processes on several hosts over one PostgreSQL
//! (`docs/deploy.md`).
//!
//! - **Signals** ([`Signal`]): a run was queued (wake an idle worker), a run progressed or finished
//!   (move the progress bar of whoever watches it on a web node). Best effort — PostgreSQL's
//!   `LISTEN/NOTIFY` drops what is sent while a listener reconnects — so every user has a slow
//!   fallback: workers poll the queue, the progress stream re-reads the run.
//! - **Duties** ([`Duty`]): scheduling and evaluating the nights, delivering webhooks. A process
//!   that [`Shared::lead`]s a duty holds it until it drops the [`Lead`] or loses its connection
//!   ([`Lead::lost`]); every other process asks again later.
//!
//! On SQLite one process serves the database ([`Alone`]): there is nobody to signal and every duty
//! is its own.

use super::BoxFuture;
use super::StoreError;

/// What one process tells the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// A run was queued.
    Queued(i64),
    /// A running run has finished `done` scenarios.
    Progress { run: i64, done: usize },
    /// A run is done or ended in error.
    Finished(i64),
}

/// A duty only one process of the database may do at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Duty {
    /// Starting, waiting for and evaluating the nights ([`crate::nightly::spawn_scheduler`]).
    Nights,
    /// Delivering notifications by webhook ([`crate::nightly::deliver`]).
    Deliveries,
}

/// A duty held by this process.
pub trait Lead: Send {
    /// Resolves when the duty is lost (the connection that held it broke); never for a duty that
    /// cannot be lost.
    fn lost(&mut self) -> BoxFuture<'_, ()>;
}

/// Signals and duties between the processes of one database.
pub trait Shared: Send + Sync {
    /// Tells every process of the database, this one included. Best effort: a failure is logged,
    /// never returned — a lost signal only delays what its fallback does.
    fn send(&self, signal: Signal) -> BoxFuture<'_, ()>;
    /// The signals of every process from now on; `None` when this process is the database's only
    /// one, whose in-process wake-ups suffice.
    fn subscribe(&self) -> Option<tokio::sync::broadcast::Receiver<Signal>>;
    /// Takes `duty` if no other process holds it; `None` when one does.
    fn lead(&self, duty: Duty) -> BoxFuture<'_, Result<Option<Box<dyn Lead>>, StoreError>>;
}

/// The one process of an embedded database: no signals, every duty its own.
#[derive(Debug, Clone, Copy, Default)]
pub struct Alone;

/// A duty that cannot be lost.
struct Held;

impl Lead for Held {
    fn lost(&mut self) -> BoxFuture<'_, ()> {
        Box::pin(std::future::pending())
    }
}

impl Shared for Alone {
    fn send(&self, _: Signal) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }

    fn subscribe(&self) -> Option<tokio::sync::broadcast::Receiver<Signal>> {
        None
    }

    fn lead(&self, _: Duty) -> BoxFuture<'_, Result<Option<Box<dyn Lead>>, StoreError>> {
        Box::pin(async { Ok(Some(Box::new(Held) as Box<dyn Lead>)) })
    }
}

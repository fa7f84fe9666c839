//! Signals and duties between the processes of one PostgreSQL database
//! ([`crate::store::Shared`]).
//!
//! - Signals travel by `LISTEN/NOTIFY`: a queued run by the trigger on `runs` (channel
//!   [`RUNS_CHANNEL`], payload the run's id), progress and finished runs by [`Shared::send`]
//!   (channel [`PROGRESS_CHANNEL`], payload `p:RUN:DONE` or `f:RUN`). One listener connection per
//!   process feeds a broadcast channel; it reconnects by itself, and a reconnect wakes the workers
//!   (what was sent meanwhile is lost, the queue is not).
//! - Duties are session advisory locks ([`DUTY_LOCKS`]), each held on a connection of its own
//!   taken out of the pool: dropping the [`Lead`] closes it, which releases the lock; a process
//!   that dies releases it with its connection. The holder pings its connection every
//!   [`LEAD_PING`] and gives the duty up when it breaks (a restarted server).

use std::time::Duration;

use sqlx::Connection as _;
use sqlx::postgres::{PgConnection, PgListener, PgPool};
use tokio::sync::broadcast;

use super::{PostgresStore, RUNS_CHANNEL};
use crate::store::{BoxFuture, Duty, Lead, Shared, Signal, StoreError};

/// The channel of progress and finished runs.
pub const PROGRESS_CHANNEL: &str = "sandkasse_progress";

/// The advisory lock of each duty (session locks; the audit chain's transaction lock is another
/// key, [`super::AUDIT_LOCK`]).
pub const DUTY_LOCKS: [(Duty, i64); 2] = [
    (Duty::Nights, 0x5341_4e44_0001),
    (Duty::Deliveries, 0x5341_4e44_0002),
];

/// How often the holder of a duty checks that its connection still holds it.
pub const LEAD_PING: Duration = Duration::from_secs(5);

/// Signals buffered for a slow follower before it misses some.
const SIGNAL_BUFFER: usize = 1024;

/// Starts the process's listener: every signal of every process goes to the returned sender's
/// subscribers.
pub(super) fn listen(pool: PgPool) -> broadcast::Sender<Signal> {
    let (tx, _) = broadcast::channel(SIGNAL_BUFFER);
    let out = tx.clone();
    tokio::spawn(async move {
        // Until the store is closed (`StoreHealth::close`, at shutdown).
        while !pool.is_closed() {
            let mut listener = match PgListener::connect_with(&pool).await {
                Ok(listener) => listener,
                Err(e) => {
                    tracing::warn!(error = %e, "listening for signals; trying again");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            if let Err(e) = listener.listen_all([RUNS_CHANNEL, PROGRESS_CHANNEL]).await {
                tracing::warn!(error = %e, "listening for signals; trying again");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
            loop {
                match listener.try_recv().await {
                    Ok(Some(notification)) => {
                        if let Some(signal) = parse(notification.channel(), notification.payload())
                        {
                            // No subscriber is no error: nobody here needs to know.
                            let _ = out.send(signal);
                        }
                    }
                    // The connection broke; the next call reconnects. What was sent meanwhile is
                    // lost: wake the workers to look at the queue.
                    Ok(None) => {
                        tracing::warn!("the signal listener reconnects");
                        let _ = out.send(Signal::Queued(0));
                    }
                    Err(_) if pool.is_closed() => return,
                    Err(e) => {
                        tracing::warn!(error = %e, "the signal listener failed; starting again");
                        let _ = out.send(Signal::Queued(0));
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        break;
                    }
                }
            }
        }
    });
    tx
}

/// A notification as a signal; `None` for one this version does not know.
fn parse(channel: &str, payload: &str) -> Option<Signal> {
    if channel == RUNS_CHANNEL {
        return payload.parse().ok().map(Signal::Queued);
    }
    let mut parts = payload.split(':');
    match (parts.next()?, parts.next()?.parse().ok()?, parts.next()) {
        ("p", run, Some(done)) => Some(Signal::Progress {
            run,
            done: done.parse().ok()?,
        }),
        ("f", run, None) => Some(Signal::Finished(run)),
        _ => None,
    }
}

fn payload(signal: Signal) -> (&'static str, String) {
    match signal {
        Signal::Queued(run) => (RUNS_CHANNEL, run.to_string()),
        Signal::Progress { run, done } => (PROGRESS_CHANNEL, format!("p:{run}:{done}")),
        Signal::Finished(run) => (PROGRESS_CHANNEL, format!("f:{run}")),
    }
}

/// A duty held on a connection of its own.
struct Held {
    connection: PgConnection,
}

impl Lead for Held {
    fn lost(&mut self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            loop {
                tokio::time::sleep(LEAD_PING).await;
                if let Err(e) = self.connection.ping().await {
                    tracing::warn!(error = %e, "the connection holding a duty broke");
                    return;
                }
            }
        })
    }
}

impl Shared for PostgresStore {
    fn send(&self, signal: Signal) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let (channel, payload) = payload(signal);
            if let Err(e) = sqlx::query("SELECT pg_notify($1, $2)")
                .bind(channel)
                .bind(payload)
                .execute(&self.pool)
                .await
            {
                tracing::debug!(error = %e, ?signal, "a signal was not sent");
            }
        })
    }

    fn subscribe(&self) -> Option<broadcast::Receiver<Signal>> {
        Some(self.signals.subscribe())
    }

    fn lead(&self, duty: Duty) -> BoxFuture<'_, Result<Option<Box<dyn Lead>>, StoreError>> {
        Box::pin(async move {
            let key = DUTY_LOCKS
                .iter()
                .find(|(d, _)| *d == duty)
                .map(|(_, key)| *key)
                .expect("every duty has a lock");
            let mut connection = self.pool.acquire().await?;
            let held: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
                .bind(key)
                .fetch_one(&mut *connection)
                .await?;
            if !held {
                return Ok(None);
            }
            // Out of the pool: the lock lives as long as this connection.
            Ok(Some(Box::new(Held {
                connection: connection.detach(),
            }) as Box<dyn Lead>))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_travel_as_text_and_back() {
        for signal in [
            Signal::Queued(7),
            Signal::Progress { run: 7, done: 12 },
            Signal::Finished(7),
        ] {
            let (channel, text) = payload(signal);
            assert_eq!(parse(channel, &text), Some(signal));
        }
        assert_eq!(parse(PROGRESS_CHANNEL, "x:1"), None);
        assert_eq!(parse(PROGRESS_CHANNEL, "p:1"), None);
        assert_eq!(parse(RUNS_CHANNEL, "not a number"), None);
    }
}

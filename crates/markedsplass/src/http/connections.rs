//! The accept loop: connection hygiene against idle, slow and numerous clients.
//!
//! `axum::serve` reads headers and bodies without a deadline and accepts every connection; ~20 000
//! idle or trickling connections once exhausted the process's file descriptors. This loop serves
//! the same router over hyper's HTTP/1 connection with:
//!
//! - a **header read timeout** (hyper's own, which also runs while a kept-alive connection waits for
//!   its next request — so an idle connection is closed after it too);
//! - a **body deadline** ([`GuardedBody`]): no chunk for `body_read_timeout`, or an average below
//!   `min_body_bytes_per_second` once that time has passed, ends the body with an error; the
//!   handler answers 400 or 408 and the connection is closed;
//! - **connection caps**, total and per client address (IPv6 by its /64): a connection over a cap
//!   gets a short `503` with `Retry-After` and is closed at once, before any of it is read;
//! - **bounded draining** at shutdown: connections get `shutdown_grace_seconds` to finish (an open
//!   event stream would otherwise hold the process for ever), then they are dropped.
//!
//! Hand-written rather than a crate because the pieces are small and specific: hyper supplies the
//! header timeout and graceful shutdown; the caps and the body rule are a few dozen lines each,
//! and no maintained tower layer enforces a minimum body rate.

use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::{Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{Instant, Sleep};
use tower::ServiceExt as _;

use crate::limits::ServiceLimits;

/// What the loop enforces, taken from [`ServiceLimits`].
#[derive(Debug, Clone, Copy)]
pub struct Hygiene {
    pub header_read_timeout: Duration,
    pub body_read_timeout: Duration,
    pub min_body_bytes_per_second: u64,
    pub max_connections: usize,
    /// 0: no cap per address.
    pub max_connections_per_address: usize,
    pub shutdown_grace: Duration,
}

impl Hygiene {
    pub fn from_limits(limits: &ServiceLimits) -> Hygiene {
        Hygiene {
            header_read_timeout: Duration::from_secs(limits.header_read_timeout_seconds),
            body_read_timeout: Duration::from_secs(limits.body_read_timeout_seconds),
            min_body_bytes_per_second: limits.min_body_bytes_per_second,
            max_connections: limits.max_connections,
            max_connections_per_address: limits.max_connections_per_address,
            shutdown_grace: Duration::from_secs(limits.shutdown_grace_seconds),
        }
    }
}

/// Serves `router` on `listener` until `shutdown` completes, then drains connections for at most
/// `hygiene.shutdown_grace`.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    hygiene: Hygiene,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let caps = Arc::new(Caps::new(
        hygiene.max_connections,
        hygiene.max_connections_per_address,
    ));
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(hygiene.header_read_timeout);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: the caps should prevent it; back off
                    // briefly instead of spinning (as axum::serve does).
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(slot) = caps.admit(peer.ip()) else {
            refuse(stream);
            continue;
        };
        let service = router
            .clone()
            .map_request(move |request: axum::http::Request<Incoming>| {
                let (mut parts, body) = request.into_parts();
                parts.extensions.insert(ConnectInfo(peer));
                // A request without a body (most of them) needs no clock.
                let body = if hyper::body::Body::is_end_stream(&body) {
                    Body::new(body)
                } else {
                    Body::new(GuardedBody::new(body, hygiene))
                };
                axum::http::Request::from_parts(parts, body)
            });
        let connection =
            http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, %peer, "connection ended with an error");
            }
            drop(slot);
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(hygiene.shutdown_grace) => {
            tracing::warn!(grace = ?hygiene.shutdown_grace, "connections still open after the shutdown grace; closing them");
        }
    }
    Ok(())
}

/// The short answer to a connection over a cap. Written without waiting (a client that does not
/// read gets nothing), then the connection is closed.
const OVER_CAPACITY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\n\
content-type: text/plain; charset=utf-8\r\nretry-after: 5\r\nconnection: close\r\ncontent-length: 91\r\n\r\n\
For mange samtidige tilkoblinger; pr\xc3\xb8v igjen snart.\nToo many connections; try again soon.\n";

fn refuse(stream: TcpStream) {
    let _ = stream.try_write(OVER_CAPACITY);
    tracing::debug!("connection refused: over the connection cap");
}

/// Open connections, in all and per client address.
#[derive(Debug)]
struct Caps {
    max: usize,
    per_address: usize,
    open: Mutex<(usize, HashMap<IpAddr, usize>)>,
}

/// One admitted connection; dropping it frees its place.
#[derive(Debug)]
struct Slot {
    caps: Arc<Caps>,
    key: IpAddr,
}

impl Caps {
    fn new(max: usize, per_address: usize) -> Caps {
        Caps {
            max,
            per_address,
            open: Mutex::new((0, HashMap::new())),
        }
    }

    fn admit(self: &Arc<Caps>, address: IpAddr) -> Option<Slot> {
        let key = crate::throttle::address_key(Some(address));
        let mut open = self.open.lock().expect("connection caps");
        let (total, by_address) = &mut *open;
        let mine = by_address.get(&key).copied().unwrap_or(0);
        if *total >= self.max || (self.per_address > 0 && mine >= self.per_address) {
            return None;
        }
        *total += 1;
        by_address.insert(key, mine + 1);
        Some(Slot {
            caps: self.clone(),
            key,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.caps.open.lock().expect("connection caps");
        let (total, by_address) = &mut *open;
        *total -= 1;
        if let Some(n) = by_address.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                by_address.remove(&self.key);
            }
        }
    }
}

/// A request body with a deadline: the next chunk must come within `body_read_timeout` of the
/// last, and once `body_read_timeout` has passed since the first poll, the body must have averaged
/// at least `min_body_bytes_per_second`. Either miss ends the body with [`TooSlow`].
#[derive(Debug)]
pub struct GuardedBody {
    inner: Incoming,
    hygiene: Hygiene,
    /// Set at the first poll: a handler that never reads the body starts no clock.
    started: Option<Instant>,
    read: u64,
    deadline: Pin<Box<Sleep>>,
}

impl GuardedBody {
    fn new(inner: Incoming, hygiene: Hygiene) -> GuardedBody {
        GuardedBody {
            inner,
            hygiene,
            started: None,
            read: 0,
            deadline: Box::pin(tokio::time::sleep(hygiene.body_read_timeout)),
        }
    }

    /// When the next chunk must have arrived by: `body_read_timeout` after now, and no later than
    /// the moment the average would fall under the minimum rate.
    fn next_deadline(&self, started: Instant) -> Instant {
        let idle = Instant::now() + self.hygiene.body_read_timeout;
        if self.hygiene.min_body_bytes_per_second == 0 {
            return idle;
        }
        let earned = Duration::from_secs_f64(
            self.read as f64 / self.hygiene.min_body_bytes_per_second as f64,
        );
        idle.min(started + self.hygiene.body_read_timeout + earned)
    }
}

/// The body did not arrive in time.
#[derive(Debug, thiserror::Error)]
#[error(
    "the request body arrived too slowly (under {min} bytes/s, or nothing for {idle:?}); the connection is closed"
)]
pub struct TooSlow {
    min: u64,
    idle: Duration,
}

impl hyper::body::Body for GuardedBody {
    type Data = hyper::body::Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = &mut *self;
        let started = match this.started {
            Some(started) => started,
            None => {
                let now = Instant::now();
                this.started = Some(now);
                let first = this.next_deadline(now);
                this.deadline.as_mut().reset(first);
                now
            }
        };
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.read += data.len() as u64;
                }
                let next = this.next_deadline(started);
                this.deadline.as_mut().reset(next);
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e.into()))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => match this.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Some(Err(TooSlow {
                    min: this.hygiene.min_body_bytes_per_second,
                    idle: this.hygiene.body_read_timeout,
                }
                .into()))),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_count_per_address_and_in_all_and_free_on_drop() {
        let caps = Arc::new(Caps::new(3, 2));
        let a: IpAddr = "127.0.0.2".parse().unwrap();
        let b: IpAddr = "127.0.0.3".parse().unwrap();
        let a1 = caps.admit(a).expect("first from a");
        let _a2 = caps.admit(a).expect("second from a");
        assert!(
            caps.admit(a).is_none(),
            "a third from a is over the per-address cap"
        );
        let b1 = caps.admit(b).expect("first from b");
        assert!(caps.admit(b).is_none(), "over the total cap");
        drop(a1);
        assert!(
            caps.admit(a).is_some(),
            "a place freed by a closed connection"
        );
        drop(b1);
        // IPv6 addresses in one /64 share a cap.
        let caps = Arc::new(Caps::new(10, 1));
        let _x = caps.admit("2001:db8::1".parse().unwrap()).unwrap();
        assert!(caps.admit("2001:db8::2".parse().unwrap()).is_none());
        assert!(caps.admit("2001:db8:0:1::1".parse().unwrap()).is_some());
    }

    #[test]
    fn the_refusal_declares_its_length() {
        let text = std::str::from_utf8(OVER_CAPACITY).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.contains(&format!("content-length: {}", body.len())));
    }
}

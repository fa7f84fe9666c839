//! Time as the platform sees it.
//!
//! Every timestamp the platform writes (`meta.lastUpdated` of written resources, `AuditEvent.recorded`,
//! token expiry, "today" for care relations) comes from one [`Clock`] per [`Platform`](crate::Platform).
//! Scenarios use a [`FixedClock`] (set and advanced explicitly) or a [`TokioClock`] (follows tokio's
//! clock, so a paused runtime gives virtual, deterministic time); the HTTP server uses
//! [`SystemClock`].
//!
//! ```
//! use sandkasse_platform::clock::{Clock, FixedClock};
//! let clock = FixedClock::new("2025-03-01T08:00:00Z".parse().unwrap());
//! clock.advance(jiff::SignedDuration::from_secs(90));
//! assert_eq!(clock.now().to_string(), "2025-03-01T08:01:30Z");
//! assert_eq!(sandkasse_platform::clock::today(&clock), "2025-03-01");
//! ```

use std::fmt;
use std::sync::Mutex;

use jiff::{SignedDuration, Timestamp, tz::TimeZone};

/// A source of the current instant.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current instant.
    fn now(&self) -> Timestamp;
}

/// The operating system's clock (for the HTTP server).
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that stands still until it is set or advanced: the scenario clock.
#[derive(Debug)]
pub struct FixedClock {
    now: Mutex<Timestamp>,
}

impl FixedClock {
    pub fn new(now: Timestamp) -> Self {
        FixedClock {
            now: Mutex::new(now),
        }
    }

    /// Sets the current instant.
    pub fn set(&self, now: Timestamp) {
        *self.now.lock().unwrap_or_else(|e| e.into_inner()) = now;
    }

    /// Moves the clock by `by` (may be negative).
    pub fn advance(&self, by: SignedDuration) {
        let mut now = self.now.lock().unwrap_or_else(|e| e.into_inner());
        *now = now.checked_add(by).unwrap_or(*now);
    }
}

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        *self.now.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A clock that starts at a given instant and then follows tokio's clock
/// (`tokio::time::Instant`). On a runtime started paused, time only moves when every task
/// waits on a timer, so a scenario's waits are instant and its timestamps deterministic.
///
/// Must be created inside a tokio runtime when the runtime is paused, so both agree on the start.
#[derive(Debug)]
pub struct TokioClock {
    start: Timestamp,
    origin: tokio::time::Instant,
}

impl TokioClock {
    pub fn new(start: Timestamp) -> Self {
        TokioClock {
            start,
            origin: tokio::time::Instant::now(),
        }
    }
}

impl Clock for TokioClock {
    fn now(&self) -> Timestamp {
        let elapsed = tokio::time::Instant::now().duration_since(self.origin);
        let elapsed = SignedDuration::try_from(elapsed).unwrap_or(SignedDuration::MAX);
        self.start.checked_add(elapsed).unwrap_or(self.start)
    }
}

/// Today's date (`YYYY-MM-DD`, UTC) on `clock`: the day care relations are checked against.
pub fn today(clock: &dyn Clock) -> String {
    date_of(clock.now())
}

/// The UTC date (`YYYY-MM-DD`) of an instant.
pub fn date_of(ts: Timestamp) -> String {
    ts.to_zoned(TimeZone::UTC).date().to_string()
}

/// FHIR `instant` text of a timestamp (UTC, `Z`, fractional seconds only when non-zero).
pub fn instant(ts: Timestamp) -> String {
    ts.to_string()
}

/// HTTP-date (RFC 9110 IMF-fixdate) of a timestamp, for `Last-Modified`.
pub fn http_date(ts: Timestamp) -> String {
    ts.to_zoned(TimeZone::UTC)
        .strftime("%a, %d %b %Y %H:%M:%S GMT")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        let ts: Timestamp = "2025-03-01T08:00:00Z".parse().unwrap();
        assert_eq!(instant(ts), "2025-03-01T08:00:00Z");
        assert_eq!(http_date(ts), "Sat, 01 Mar 2025 08:00:00 GMT");
        assert_eq!(date_of(ts), "2025-03-01");
    }

    #[tokio::test(start_paused = true)]
    async fn tokio_clock_follows_virtual_time() {
        let start: Timestamp = "2025-03-01T08:00:00Z".parse().unwrap();
        let clock = TokioClock::new(start);
        tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
        assert_eq!(clock.now().to_string(), "2025-03-01T08:00:01.5Z");
    }
}

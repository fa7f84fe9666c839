//! Login throttling by exponential backoff, per client address and per username.
//!
//! Each failed login counts against the client's address and against the username tried. After
//! a number of free failures, each further one makes the key wait before its next try:
//! `base · 2^(failures − free)`, capped. A try during the wait is refused with 429 and the time
//! left, without checking the password (no argon2 work is spent on it). The counts are forgotten
//! an hour after the key's last failure, and a successful login clears its username's.
//!
//! - **Spraying** (one password against many usernames) is slowed by the address's count.
//! - **Guessing one username** from many addresses is slowed by the username's count, whose cap
//!   is short ([`crate::limits::ServiceLimits::login_backoff_max_username_seconds`]), and which
//!   does not apply to an address the user has logged in from before: nobody can lock a
//!   reviewer out by typing wrong passwords for them.
//!
//! Kept in memory, per process; each map is bounded ([`MAX_KEYS`]) by forgetting the oldest.
//!
//! ```
//! use std::time::Duration;
//! use sandkasse_markedsplass::throttle::{Backoff, Throttle};
//! let t: Throttle<&str> = Throttle::new(Backoff { free: 2, base: Duration::from_secs(1), max: Duration::from_secs(60) });
//! let now = jiff::Timestamp::UNIX_EPOCH;
//! t.failed("ola", now);
//! assert_eq!(t.wait(&"ola", now), None, "the first failure costs nothing");
//! t.failed("ola", now);
//! assert_eq!(t.wait(&"ola", now), Some(Duration::from_secs(1)));
//! t.failed("ola", now);
//! assert_eq!(t.wait(&"ola", now), Some(Duration::from_secs(2)), "doubles");
//! ```

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

use jiff::Timestamp;

/// Keys kept per map; past it the entries idle longest are forgotten first.
pub const MAX_KEYS: usize = 100_000;

/// How long a key's failures are remembered after its last one.
pub const FORGET_AFTER: Duration = Duration::from_secs(3600);

/// The backoff of one kind of key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Failures before waits begin: the `free`-th failure makes the key wait `base`.
    pub free: u32,
    /// The first wait; each further failure doubles it.
    pub base: Duration,
    /// The longest wait.
    pub max: Duration,
}

impl Backoff {
    /// The wait after `failures` failures.
    pub fn delay(&self, failures: u32) -> Duration {
        if failures < self.free.max(1) {
            return Duration::ZERO;
        }
        let doublings = (failures - self.free.max(1)).min(32);
        self.base
            .saturating_mul(2_u32.saturating_pow(doublings))
            .min(self.max)
    }
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    last: Timestamp,
}

/// Failure counts per key with [`Backoff`].
#[derive(Debug)]
pub struct Throttle<K> {
    backoff: Backoff,
    entries: Mutex<HashMap<K, Entry>>,
}

impl<K: Eq + Hash + Clone> Throttle<K> {
    pub fn new(backoff: Backoff) -> Self {
        Throttle {
            backoff,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// How long `key` must still wait at `now`; `None` when it may try.
    pub fn wait(&self, key: &K, now: Timestamp) -> Option<Duration> {
        let entries = self.entries.lock().expect("throttle");
        let entry = entries.get(key)?;
        let until = add(entry.last, self.backoff.delay(entry.failures));
        let left = until.duration_since(now);
        (left.is_positive()).then(|| left.unsigned_abs())
    }

    /// Counts a failure of `key` at `now`.
    pub fn failed(&self, key: K, now: Timestamp) {
        let mut entries = self.entries.lock().expect("throttle");
        if entries.len() >= MAX_KEYS {
            entries.retain(|_, e| now.duration_since(e.last).unsigned_abs() < FORGET_AFTER);
            if entries.len() >= MAX_KEYS
                && let Some(oldest) = entries
                    .iter()
                    .min_by_key(|(_, e)| e.last)
                    .map(|(k, _)| k.clone())
            {
                entries.remove(&oldest);
            }
        }
        let entry = entries.entry(key).or_insert(Entry {
            failures: 0,
            last: now,
        });
        if now.duration_since(entry.last).unsigned_abs() >= FORGET_AFTER {
            entry.failures = 0;
        }
        entry.failures = entry.failures.saturating_add(1);
        entry.last = now;
    }

    /// Forgets `key`'s failures.
    pub fn clear(&self, key: &K) {
        self.entries.lock().expect("throttle").remove(key);
    }
}

/// The login throttle of the service: one [`Throttle`] per client address, one per username, and
/// the addresses each username last logged in from (exempt from that username's backoff).
#[derive(Debug)]
pub struct LoginThrottle {
    by_address: Throttle<IpAddr>,
    by_username: Throttle<String>,
    known: Mutex<HashMap<String, Vec<IpAddr>>>,
}

/// Addresses remembered per username.
const KNOWN_ADDRESSES: usize = 8;

impl Default for LoginThrottle {
    fn default() -> Self {
        LoginThrottle::new(&crate::limits::ServiceLimits::default())
    }
}

impl LoginThrottle {
    pub fn new(limits: &crate::limits::ServiceLimits) -> Self {
        LoginThrottle {
            by_address: Throttle::new(limits.address_backoff()),
            by_username: Throttle::new(limits.username_backoff()),
            known: Mutex::new(HashMap::new()),
        }
    }

    fn username_key(username: &str) -> String {
        username.trim().to_lowercase()
    }

    /// `Err` with the time left while a login as `username` from `address` must wait.
    pub fn check(
        &self,
        username: &str,
        address: Option<IpAddr>,
        now: Timestamp,
    ) -> Result<(), Duration> {
        let address = address_key(address);
        let username = Self::username_key(username);
        let known = self
            .known
            .lock()
            .expect("login throttle")
            .get(&username)
            .is_some_and(|a| a.contains(&address));
        let by_username = if known {
            None
        } else {
            self.by_username.wait(&username, now)
        };
        match (self.by_address.wait(&address, now), by_username) {
            (None, None) => Ok(()),
            (a, u) => Err(a.unwrap_or_default().max(u.unwrap_or_default())),
        }
    }

    /// Counts a failed login.
    pub fn failed(&self, username: &str, address: Option<IpAddr>, now: Timestamp) {
        self.by_address.failed(address_key(address), now);
        self.by_username.failed(Self::username_key(username), now);
    }

    /// A login succeeded: the username's count is cleared and the address remembered for it. The
    /// address's count stays (a sprayer with one account of their own cannot reset it).
    pub fn succeeded(&self, username: &str, address: Option<IpAddr>) {
        let username = Self::username_key(username);
        self.by_username.clear(&username);
        let mut known = self.known.lock().expect("login throttle");
        if known.len() >= MAX_KEYS {
            known.clear();
        }
        let addresses = known.entry(username).or_default();
        let address = address_key(address);
        addresses.retain(|a| *a != address);
        if addresses.len() >= KNOWN_ADDRESSES {
            addresses.remove(0);
        }
        addresses.push(address);
    }
}

/// An address as a key: IPv4 whole, IPv6 by its /64 (one host has many of those); no address
/// (an in-process call) is the unspecified address. The login throttle and the connection caps
/// count by it.
pub(crate) fn address_key(address: Option<IpAddr>) -> IpAddr {
    match address {
        Some(IpAddr::V6(v6)) => {
            let mut segments = v6.segments();
            segments[4..].fill(0);
            IpAddr::V6(segments.into())
        }
        Some(v4) => v4,
        None => IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
    }
}

fn add(at: Timestamp, delay: Duration) -> Timestamp {
    jiff::SignedDuration::try_from(delay)
        .ok()
        .and_then(|d| at.checked_add(d).ok())
        .unwrap_or(Timestamp::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backoff() -> Backoff {
        Backoff {
            free: 3,
            base: Duration::from_secs(1),
            max: Duration::from_secs(60),
        }
    }

    #[test]
    fn the_wait_doubles_after_the_free_failures_and_is_capped() {
        let b = backoff();
        let waits: Vec<u64> = (0..12).map(|n| b.delay(n).as_secs()).collect();
        assert_eq!(waits, [0, 0, 0, 1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(b.delay(u32::MAX), Duration::from_secs(60));
    }

    #[test]
    fn a_wait_passes_and_old_failures_are_forgotten() {
        let t = Throttle::new(backoff());
        let now: Timestamp = "2026-11-30T10:00:00Z".parse().unwrap();
        for _ in 0..5 {
            t.failed("k", now);
        }
        assert_eq!(t.wait(&"k", now), Some(Duration::from_secs(4)));
        let later = now.checked_add(jiff::SignedDuration::from_secs(4)).unwrap();
        assert_eq!(t.wait(&"k", later), None, "the wait is over");
        t.failed("k", later);
        assert_eq!(t.wait(&"k", later), Some(Duration::from_secs(8)));
        let much_later = later
            .checked_add(jiff::SignedDuration::from_hours(2))
            .unwrap();
        t.failed("k", much_later);
        assert_eq!(t.wait(&"k", much_later), None, "counted from one again");
        t.clear(&"k");
        assert_eq!(t.wait(&"k", later), None);
        assert_eq!(t.wait(&"other", now), None);
    }
}

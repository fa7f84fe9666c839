//! The per-organisation bounds of the hosted sandboxes: a token bucket (requests per second with
//! a burst) and a cap on requests handled at once. Both answer "not now" with the seconds to wait;
//! neither ever makes a request wait, so one organisation's traffic queues nowhere.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// A token bucket: `rate` tokens a second, at most `burst` saved.
#[derive(Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Per-organisation buckets and semaphores.
#[derive(Debug)]
pub struct OrgLimits {
    rate: f64,
    burst: f64,
    concurrency: usize,
    buckets: Mutex<HashMap<i64, Bucket>>,
    running: Mutex<HashMap<i64, Arc<Semaphore>>>,
}

/// Why a request was not admitted, with the whole seconds to wait before trying again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Busy {
    /// Over the rate.
    Rate { retry_after: u64 },
    /// Too many at once.
    Concurrency,
}

impl OrgLimits {
    pub fn new(requests_per_second: u32, burst: u32, concurrency: usize) -> OrgLimits {
        OrgLimits {
            rate: f64::from(requests_per_second.max(1)),
            burst: f64::from(burst.max(1)),
            concurrency: concurrency.max(1),
            buckets: Mutex::default(),
            running: Mutex::default(),
        }
    }

    /// Takes one token of `org`'s bucket and one of its places, or says why not.
    pub fn admit(&self, org: i64, now: Instant) -> Result<OwnedSemaphorePermit, Busy> {
        {
            let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
            let bucket = buckets.entry(org).or_insert(Bucket {
                tokens: self.burst,
                at: now,
            });
            let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
            bucket.tokens = (bucket.tokens + elapsed * self.rate).min(self.burst);
            bucket.at = now;
            if bucket.tokens < 1.0 {
                let wait = ((1.0 - bucket.tokens) / self.rate).ceil().max(1.0);
                return Err(Busy::Rate {
                    retry_after: wait as u64,
                });
            }
            bucket.tokens -= 1.0;
        }
        let semaphore = self
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(org)
            .or_insert_with(|| Arc::new(Semaphore::new(self.concurrency)))
            .clone();
        semaphore.try_acquire_owned().map_err(|_| Busy::Concurrency)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn the_burst_then_the_rate_and_other_organisations_are_not_affected() {
        let limits = OrgLimits::new(2, 3, 100);
        let t0 = Instant::now();
        let mut held = Vec::new();
        for _ in 0..3 {
            held.push(limits.admit(1, t0).expect("within the burst"));
        }
        assert_eq!(
            limits.admit(1, t0).unwrap_err(),
            Busy::Rate { retry_after: 1 }
        );
        assert!(
            limits.admit(2, t0).is_ok(),
            "another organisation has its own bucket"
        );
        assert!(
            limits.admit(1, t0 + Duration::from_millis(500)).is_ok(),
            "one token after 0.5 s at 2/s"
        );
    }

    #[test]
    fn at_most_concurrency_at_once() {
        let limits = OrgLimits::new(100, 100, 2);
        let now = Instant::now();
        let a = limits.admit(7, now).unwrap();
        let _b = limits.admit(7, now).unwrap();
        assert_eq!(limits.admit(7, now).unwrap_err(), Busy::Concurrency);
        drop(a);
        assert!(limits.admit(7, now).is_ok());
    }
}

//! The service's notion of "now": the system clock in production, a clock that tests move by hand
//! (sessions expiring, leases running out, nights passing) without sleeping.

use std::sync::{Arc, Mutex};

use jiff::{SignedDuration, Timestamp};

/// A shared clock. Cloning shares it: advancing a manual clock moves every clone.
#[derive(Debug, Clone, Default)]
pub struct Clock(Option<Arc<Mutex<Timestamp>>>);

impl Clock {
    /// The system clock.
    pub fn system() -> Clock {
        Clock(None)
    }

    /// A clock standing at `at` until [`Clock::advance`] or [`Clock::set`] moves it.
    pub fn manual(at: Timestamp) -> Clock {
        Clock(Some(Arc::new(Mutex::new(at))))
    }

    pub fn now(&self) -> Timestamp {
        match &self.0 {
            None => Timestamp::now(),
            Some(at) => *at.lock().expect("clock"),
        }
    }

    /// Moves a manual clock forward (no-op on the system clock).
    pub fn advance(&self, by: SignedDuration) {
        if let Some(at) = &self.0 {
            let mut at = at.lock().expect("clock");
            *at = at.checked_add(by).expect("clock overflow");
        }
    }

    /// Sets a manual clock (no-op on the system clock).
    pub fn set(&self, to: Timestamp) {
        if let Some(at) = &self.0 {
            *at.lock().expect("clock") = to;
        }
    }
}

//! **Mistake:** the reference adapter, except that it retries 429/503 without any bound on
//! attempts, single waits or total wait; it still honours `Retry-After`.
//!
//! **Must fail** ROB-02 (retries are bounded): under a lasting outage the call never gives up; the
//! sandbox's per-call request limit or virtual-time limit stops it instead of the adapter.
//!
//! Everything else is the reference's (`adapter-core` with one [`Behaviour`] switch), so it should
//! fail only these vilkår.

use adapter_core::Behaviour;

adapter_core::adapter!(
    Flawed,
    Behaviour {
        retries_forever: true,
        ..Behaviour::HONEST
    }
);

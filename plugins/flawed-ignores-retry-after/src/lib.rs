//! **Mistake:** the reference adapter, except that it retries 429/503 at once, ignoring `Retry-
//! After` (bounded: 3 attempts per request, then `unavailable`).
//!
//! **Must fail** ROB-01 (retries honour `Retry-After`): the retry arrives sooner than the platform
//! asked for.
//!
//! Everything else is the reference's (`adapter-core` with one [`Behaviour`] switch), so it should
//! fail only these vilkår.

use adapter_core::Behaviour;

adapter_core::adapter!(
    Flawed,
    Behaviour {
        ignores_retry_after: true,
        ..Behaviour::HONEST
    }
);

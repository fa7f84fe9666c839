//! **Mistake:** the reference adapter, except that it gives up (`unavailable`) when an answer takes
//! more than 200 ms, measured with `wasi:clocks/monotonic-clock` around each request.
//!
//! **Must fail** ROB-03 (latency tolerated): a slow but healthy platform makes every call fail.
//!
//! Everything else is the reference's (`adapter-core` with one [`Behaviour`] switch), so it should
//! fail only these vilkår.

use adapter_core::Behaviour;

adapter_core::adapter!(
    Flawed,
    Behaviour {
        impatient: true,
        ..Behaviour::HONEST
    }
);

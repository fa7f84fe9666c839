//! **Mistake:** the reference adapter, except that it stamps the overview with a random `Bundle.id`
//! (std's `RandomState`, seeded from `wasi:random`) and the wall-clock time as `Bundle.timestamp`.
//!
//! **Must fail** ROB-05 (deterministic output): two identical calls give different overviews.
//!
//! Everything else is the reference's (`adapter-core` with one [`Behaviour`] switch), so it should
//! fail only these vilkår.

use adapter_core::Behaviour;

adapter_core::adapter!(
    Flawed,
    Behaviour {
        nondeterministic: Some(std::time::SystemTime::now),
        ..Behaviour::HONEST
    }
);

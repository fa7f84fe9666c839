//! **Mistake:** the reference adapter, except that it keeps the first overview Bundle in a static
//! and returns it for every later call of the instance, whatever the patient in context.
//!
//! **Must fail** PER-04 (no leakage between patient contexts): the second patient is shown the
//! first patient's record. PER-05 (nothing about patients kept between calls): patient data
//! outlives the call.
//!
//! Everything else is the reference's (`adapter-core` with one [`Behaviour`] switch), so it should
//! fail only these vilkår.

use adapter_core::Behaviour;

adapter_core::adapter!(
    Flawed,
    Behaviour {
        caches_overview: true,
        ..Behaviour::HONEST
    }
);

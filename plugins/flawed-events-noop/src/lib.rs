//! **Mistake:** the reference adapter, except that it `on-event` answers `processed([])` for
//! created/updated resources without fetching them (the kommune check and redelivery check are the
//! reference's).
//!
//! **Must fail** HEN-01 (the announced resource is fetched): nothing is fetched and the outcome
//! names nothing.
//!
//! Everything else is the reference's (`adapter-core` with one [`Behaviour`] switch), so it should
//! fail only these vilkår.

use adapter_core::Behaviour;

adapter_core::adapter!(
    Flawed,
    Behaviour {
        events_noop: true,
        ..Behaviour::HONEST
    }
);

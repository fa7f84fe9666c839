//! **Mistake:** the reference adapter, except that it pages with `_count=200` and no page cap, and
//! after building the overview "syncs" the unit: every patient (`Patient?_count=200`, all pages)
//! and every type of data for all patients (no `patient` parameter, all pages), filtering locally.
//! The overview returned is the reference's.
//!
//! **Must fail** PER-06 (data minimisation): far more resources are fetched than the overview
//! shows. SIK-03 (tjenstlig behov): the adapter reads patients the user has no care relation to.
//! (The sync stops at its first failure, e.g. when the sandbox's request limit refuses a request.)
//!
//! Everything else is the reference's (`adapter-core` with one [`Behaviour`] switch), so it should
//! fail only these vilkår.

use adapter_core::Behaviour;

adapter_core::adapter!(
    Flawed,
    Behaviour {
        fetches_everything: true,
        ..Behaviour::HONEST
    }
);

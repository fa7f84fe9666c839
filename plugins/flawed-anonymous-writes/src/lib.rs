//! **Mistake:** the reference adapter, except that it writes without the practitioner: no
//! performer/author/care manager practitioner (the unit stands in where the profile demands a
//! performer), a Provenance with the unit as its agent, and returns its own numbering
//! (`Observation/1`, …) instead of the ids the platform assigned.
//!
//! **Must fail** KON-02 (the practitioner identity is carried into what is written and its
//! provenance) and INF-06 (the returned ids name the stored resources).
//!
//! Everything else is the reference's (`adapter-core` with one [`Behaviour`] switch), so it should
//! fail only these vilkår.

use adapter_core::Behaviour;

adapter_core::adapter!(
    Flawed,
    Behaviour {
        anonymous_writes: true,
        ..Behaviour::HONEST
    }
);

//! **Mistake:** the reference adapter, except that it writes vital signs with the vendor's own code
//! system and codes (`https://leverandor.example/kodeverk/vitale-tegn`, `VT88674`) instead of
//! LOINC, and puts the practitioner's HPR number with a wrong check digit on the performer.
//!
//! **Must fail** INF-05 (codes and identifiers valid): the platform rejects the Observation with
//! 422, and the adapter returns `invalid-input` — the vital signs are never stored. Other entry
//! types are written correctly.
//!
//! Everything else is the reference's (`adapter-core` with one [`Behaviour`] switch), so it should
//! fail only these vilkår.

use adapter_core::Behaviour;

adapter_core::adapter!(
    Flawed,
    Behaviour {
        invalid_codes: true,
        ..Behaviour::HONEST
    }
);

//! **Mistake:** the reference adapter, except that it logs `opening patient <fødselsnummer> (<given
//! family>)` from the Patient resource when it opens a patient.
//!
//! **Must fail** PER-03 (no personal data in logs): the captured log holds a fødselsnummer and a
//! name.
//!
//! Everything else is the reference's (`adapter-core` with one [`Behaviour`] switch), so it should
//! fail only these vilkår.

use adapter_core::Behaviour;

adapter_core::adapter!(
    Flawed,
    Behaviour {
        logs_personal_data: true,
        ..Behaviour::HONEST
    }
);

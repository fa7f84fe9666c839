//! **Mistake:** the reference adapter, except that it writes care notes without the sensitivity
//! labels (`V`, `sensitivt-notat`) even when the user marked the note `sensitive`.
//!
//! **Must fail** PER-07 (sensitive notes are labelled): the note is stored unshielded and visible
//! to everyone with access to the patient.
//!
//! Everything else is the reference's (`adapter-core` with one [`Behaviour`] switch), so it should
//! fail only these vilkår.

use adapter_core::Behaviour;

adapter_core::adapter!(
    Flawed,
    Behaviour {
        ignores_sensitive: true,
        ..Behaviour::HONEST
    }
);

//! **Mistake:** the reference adapter, except that it drops the platform's `OperationOutcome`
//! notices (search `mode = outcome`, "suppressed": information withheld by sperring, skjerming or
//! shielding) from the overview; only the matches are shown.
//!
//! **Must fail** PER-01 (the withheld-information notice is surfaced): the platform sent a notice
//! and the overview does not carry it, so the user believes the record is complete.
//!
//! Everything else is the reference's (`adapter-core` with one [`Behaviour`] switch), so it should
//! fail only these vilkår.

use adapter_core::Behaviour;

adapter_core::adapter!(
    Flawed,
    Behaviour {
        drops_notices: true,
        ..Behaviour::HONEST
    }
);

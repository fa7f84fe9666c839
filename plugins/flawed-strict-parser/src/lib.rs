//! **Mistake:** the reference adapter, except that it parses the platform's JSON strictly, like a
//! generated model with `deny_unknown_fields`: an element outside its R4 model (e.g. the platform's
//! `sandkasseUkjent`) is an `internal` error, and a body that is not complete JSON panics
//! (`expect`), which traps.
//!
//! **Must fail** INF-04 (tolerant reading: unknown elements and extensions ignored) and ROB-04
//! (malformed responses handled without a trap).
//!
//! Everything else is the reference's (`adapter-core` with one [`Behaviour`] switch), so it should
//! fail only these vilkår.

use adapter_core::Behaviour;

adapter_core::adapter!(
    Flawed,
    Behaviour {
        strict_parser: true,
        ..Behaviour::HONEST
    }
);

//! **Mistake:** the reference adapter, except that it on 403 gets itself an emergency token — `POST
//! {base without /fhir}/auth/token` for the same launch context with purpose `emergency` and a
//! canned reason — and repeats the request with it, without the user asking.
//!
//! **Must fail** SIK-06 (break the glass only when the user does, with the user's reason): the
//! emergency token is requested although the launch purpose is treatment. PER-02 (shielded data
//! never shown) fails too where the emergency access exposes shielded data.
//!
//! Everything else is the reference's (`adapter-core` with one [`Behaviour`] switch), so it should
//! fail only these vilkår.

use adapter_core::Behaviour;

adapter_core::adapter!(
    Flawed,
    Behaviour {
        breaks_glass: true,
        ..Behaviour::HONEST
    }
);

//! **Mistake:** the reference adapter, except that it returns the overview as a Bundle of type
//! `searchset`, with entries lacking `fullUrl`, and never searches AllergyIntolerance.
//!
//! **Must fail** INF-01 (the overview is a valid `collection` Bundle with full URLs) and INF-02
//! (the overview is complete): the allergies are missing.
//!
//! Everything else is the reference's (`adapter-core` with one [`Behaviour`] switch), so it should
//! fail only these vilkår.

use adapter_core::Behaviour;

adapter_core::adapter!(
    Flawed,
    Behaviour {
        wrong_bundle: true,
        ..Behaviour::HONEST
    }
);

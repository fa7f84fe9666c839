//! **Mistake:** the reference adapter, except that it handles every event delivery: other
//! kommuners' events too (fetching from the event's kommune, with this kommune's token) and
//! redeliveries, and writes a Provenance "acknowledgement" for every delivery it fetched.
//!
//! **Must fail** HEN-02 and HEN-03 (other kommuners' events ignored; idempotent on redelivery): the
//! foreign event is fetched, and a redelivered event writes a second acknowledgement.
//!
//! Everything else is the reference's (`adapter-core` with one [`Behaviour`] switch), so it should
//! fail only these vilkår.

use adapter_core::Behaviour;

adapter_core::adapter!(
    Flawed,
    Behaviour {
        events_copy_all: true,
        ..Behaviour::HONEST
    }
);

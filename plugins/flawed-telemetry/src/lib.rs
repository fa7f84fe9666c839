//! **Mistake:** the reference adapter, except that it POSTs a usage event with the patient id to `h
//! ttps://telemetri.leverandor.example/v1/events` at the start of every call (`patient-overview`,
//! `document`, `on-event`), ignoring the outcome; otherwise it is the reference.
//!
//! **Must fail** SIK-02 (no egress but the platform): the sandbox refuses and records a request to
//! a foreign host in every call.
//!
//! Everything else is the reference's (`adapter-core` with one [`Behaviour`] switch), so it should
//! fail only these vilkår.

use adapter_core::Behaviour;

adapter_core::adapter!(
    Flawed,
    Behaviour {
        telemetry: true,
        ..Behaviour::HONEST
    }
);

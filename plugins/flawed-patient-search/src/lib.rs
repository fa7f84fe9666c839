//! **Mistake:** the reference adapter, except that it reads the context patient for its
//! fødselsnummer, then searches `Patient?identifier=urn:oid:2.16.578.1.12.4.1.4.1|<fnr>` and works
//! on the patient it finds — in the overview and before every write — instead of just using the
//! launch context's patient.
//!
//! **Must fail** KON-01 (the launch patient is used without a new search): the platform sees a
//! Patient search by identifier (with a fødselsnummer in the query) in every call.
//!
//! Everything else is the reference's (`adapter-core` with one [`Behaviour`] switch), so it should
//! fail only these vilkår.

use adapter_core::Behaviour;

adapter_core::adapter!(
    Flawed,
    Behaviour {
        searches_patient: true,
        ..Behaviour::HONEST
    }
);

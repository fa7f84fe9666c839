//! **Mistake:** the reference adapter, except that it creates with a plain POST, without `If-None-
//! Exist` (no conditional create), though it still stamps the entry id as an identifier.
//!
//! **Must fail** INF-07 (idempotent writes): the same entry sent twice is stored twice (and two
//! Provenance resources are written).
//!
//! Everything else is the reference's (`adapter-core` with one [`Behaviour`] switch), so it should
//! fail only these vilkår.

use adapter_core::Behaviour;

adapter_core::adapter!(
    Flawed,
    Behaviour {
        unconditional_create: true,
        ..Behaviour::HONEST
    }
);

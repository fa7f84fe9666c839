//! **Mistake:** the reference adapter, except that it never follows `next` links: only the first
//! page (50) of each search is shown.
//!
//! **Must fail** INF-03 (paging followed): a patient with more than a page of a type is shown only
//! part of it.
//!
//! Everything else is the reference's (`adapter-core` with one [`Behaviour`] switch), so it should
//! fail only these vilkår.

use adapter_core::Behaviour;

adapter_core::adapter!(
    Flawed,
    Behaviour {
        first_page_only: true,
        ..Behaviour::HONEST
    }
);

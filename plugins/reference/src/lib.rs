//! The reference adapter: a complete, honest implementation of the sandkasse adapter contract.
//!
//! It proves that the contract can be met well, and it is the baseline every vilkår in the suite
//! must pass. The logic lives in [`adapter_core`] (shared with the flawed sample adapters, which
//! each turn on one mistake); this crate is the component: it runs that logic with
//! [`Behaviour::HONEST`] and exports it. What it does, per role:
//!
//! - **read**: uses the launch context's patient as it is (never searches for the patient), reads
//!   `Patient/{id}` and searches the patient's Condition, MedicationStatement, AllergyIntolerance,
//!   Observation, EpisodeOfCare and DocumentReference, following `next` links up to a page cap;
//!   returns a `collection` Bundle that keeps every withheld-information `OperationOutcome` the
//!   platform sent.
//! - **write**: maps each `clinical-entry` to the platform's write profiles, with patient, author
//!   (the practitioner, resolved once by HPR), unit and time; creates conditionally on the entry
//!   id, so a retried entry is stored once; writes a `Provenance`.
//! - **events**: ignores other kommuners' events and redeliveries, fetches the announced resource
//!   otherwise.
//!
//! Every request carries the bearer token; 429/503 are retried (at most 3 attempts, honouring
//! `Retry-After`, bounded total wait); logs name counts, statuses and resource types, never a
//! person. Nothing about patients is kept between calls.

use adapter_core::Behaviour;
use guest_kit::Guest;
use guest_kit::types::{
    AdapterError, AdapterInfo, ClinicalEntry, Event, EventOutcome, LaunchContext,
};

/// The adapter.
struct Reference;

/// No mistakes.
const HONEST: Behaviour = Behaviour::HONEST;

impl Guest for Reference {
    fn info() -> AdapterInfo {
        adapter_core::info("Referanseadapter")
    }

    fn patient_overview(ctx: LaunchContext) -> Result<String, AdapterError> {
        adapter_core::patient_overview(&ctx, &HONEST)
    }

    fn document(ctx: LaunchContext, entry: ClinicalEntry) -> Result<Vec<String>, AdapterError> {
        adapter_core::document(&ctx, entry, &HONEST)
    }

    fn on_event(ctx: LaunchContext, event: Event) -> Result<EventOutcome, AdapterError> {
        adapter_core::on_event(&ctx, &event, &HONEST)
    }
}

guest_kit::export_adapter!(Reference with_types_in guest_kit::bindings);

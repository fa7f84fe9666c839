//! The reference adapter: a complete, honest implementation of the sandkasse adapter contract.
//!
//! It proves that the contract can be met well, and it is the baseline every vilkår in the suite
//! must pass. What it does, per role:
//!
//! - **read** ([`overview`]): uses the launch context's patient as it is (never searches for the
//!   patient), reads `Patient/{id}` and searches the patient's Condition, MedicationStatement,
//!   AllergyIntolerance, Observation, EpisodeOfCare and DocumentReference, following `next` links
//!   up to a page cap; returns a `collection` Bundle that keeps every withheld-information
//!   `OperationOutcome` the platform sent.
//! - **write** ([`document`]): maps each `clinical-entry` to the platform's write profiles, with
//!   patient, author (the practitioner, resolved once by HPR), unit and time; creates
//!   conditionally on the entry id, so a retried entry is stored once; writes a `Provenance`.
//! - **events** ([`events`]): ignores other kommuners' events and redeliveries, fetches the
//!   announced resource otherwise.
//!
//! Every request carries the bearer token; 429/503 are retried (at most 3 attempts, honouring
//! `Retry-After`, bounded total wait); logs name counts, statuses and resource types, never a
//! person. Nothing about patients is kept between calls.

mod document;
mod events;
mod overview;

use guest_kit::Guest;
use guest_kit::types::{AdapterError, AdapterInfo, Capability, ClinicalEntry, Event, EventOutcome, LaunchContext};

/// The adapter.
struct Reference;

impl Guest for Reference {
    fn info() -> AdapterInfo {
        AdapterInfo {
            vendor: "sandkasse".into(),
            product: "Referanseadapter".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            capabilities: vec![Capability::Read, Capability::Write, Capability::Events],
        }
    }

    fn patient_overview(ctx: LaunchContext) -> Result<String, AdapterError> {
        overview::patient_overview(&ctx)
    }

    fn document(ctx: LaunchContext, entry: ClinicalEntry) -> Result<Vec<String>, AdapterError> {
        document::document(&ctx, entry)
    }

    fn on_event(ctx: LaunchContext, event: Event) -> Result<EventOutcome, AdapterError> {
        events::on_event(&ctx, &event)
    }
}

guest_kit::export_adapter!(Reference with_types_in guest_kit::bindings);

/// Whether `id` is a FHIR logical id (`[A-Za-z0-9\-\.]{1,64}`); anything else is not put in a URL.
fn is_fhir_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

/// The patient in context, checked.
fn patient_in_context(ctx: &LaunchContext) -> Result<&str, AdapterError> {
    match ctx.patient.as_deref() {
        Some(p) if is_fhir_id(p) => Ok(p),
        Some(_) => Err(AdapterError::InvalidInput("the launch context's patient is not a FHIR id".into())),
        None => Err(AdapterError::InvalidInput("no patient in the launch context".into())),
    }
}

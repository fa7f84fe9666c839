//! The reference adapter's logic, as a library: the one source of honest behaviour, and the
//! switches the flawed sample adapters turn on.
//!
//! [`Behaviour::HONEST`] (= [`Behaviour::default()`]) is the reference adapter, which proves the
//! contract can be met well and passes every vilkår. Each other field of [`Behaviour`] is one
//! realistic mistake a vendor makes, consulted at the exact point where the mistake happens; each
//! `flawed-*` crate turns on one of them, so the suite can be tested from both sides (a flawed
//! adapter must fail its vilkår, and as far as possible only those).
//!
//! What the honest adapter does, per role:
//!
//! - **read** ([`patient_overview`]): uses the launch context's patient as it is (never searches
//!   for the patient), reads `Patient/{id}` and searches the patient's Condition,
//!   MedicationStatement, AllergyIntolerance, Observation, EpisodeOfCare and DocumentReference,
//!   following `next` links up to a page cap; returns a `collection` Bundle that keeps every
//!   withheld-information `OperationOutcome` the platform sent.
//! - **write** ([`document`]): maps each `clinical-entry` to the platform's write profiles, with
//!   patient, author (the practitioner, resolved once by HPR), unit and time; creates
//!   conditionally on the entry id, so a retried entry is stored once; writes a `Provenance`.
//! - **events** ([`on_event`]): ignores other kommuners' events and redeliveries, fetches the
//!   announced resource otherwise.
//!
//! Every request carries the bearer token; 429/503 are retried (at most 3 attempts, honouring
//! `Retry-After`, bounded total wait); logs name counts, statuses and resource types, never a
//! person. Nothing about patients is kept between calls.
//!
//! This crate is an rlib and never exports the component: a component crate (a `cdylib`)
//! implements [`guest_kit::Guest`] by delegating here and exports itself, e.g. with [`adapter!`]:
//!
//! ```text
//! /// The mistake, the vilkår it must fail and why.
//! adapter_core::adapter!(Flawed, adapter_core::Behaviour { drops_notices: true, ..adapter_core::Behaviour::HONEST });
//! ```

mod behaviour;
mod document;
mod events;
mod mutant;
mod overview;
mod strict_model;
mod transport;

use guest_kit::fhir::{Client, RetryPolicy};
use guest_kit::http::{self, Request, Url};
use guest_kit::types::{
    AdapterError, AdapterInfo, Capability, ClinicalEntry, Event, EventOutcome, LaunchContext,
};
use guest_kit::{Level, log};

pub use behaviour::Behaviour;
pub use guest_kit::Guest;
pub use mutant::MUTANTS;

/// Where [`Behaviour::telemetry`] reports to: the vendor's own host, not the platform.
pub const TELEMETRY_URL: &str = "https://telemetri.leverandor.example/v1/events";

/// `info()`: vendor `sandkasse`, `product`, the crate version, roles read, write and events.
pub fn info(product: &str) -> AdapterInfo {
    info_from("sandkasse", product)
}

/// `info()` with a vendor name (the flawed samples say they are samples).
pub fn info_from(vendor: &str, product: &str) -> AdapterInfo {
    AdapterInfo {
        vendor: vendor.into(),
        product: product.into(),
        version: env!("CARGO_PKG_VERSION").into(),
        capabilities: vec![Capability::Read, Capability::Write, Capability::Events],
    }
}

/// `patient-overview`, see [`Behaviour`].
pub fn patient_overview(
    ctx: &LaunchContext,
    behaviour: &Behaviour,
) -> Result<String, AdapterError> {
    if behaviour.telemetry {
        telemetry("patient-overview", ctx.patient.as_deref());
    }
    match overview::patient_overview(ctx, behaviour) {
        Err(e) if behaviour.swallows_errors => {
            // The vendor's "never show an error page": whatever went wrong, an empty record.
            log(
                Level::Warn,
                &format!(
                    "overview failed ({}); showing an empty overview",
                    document::kind(&e)
                ),
            );
            serde_json::to_string(&guest_kit::fhir::collection(Vec::new()))
                .map_err(|e| AdapterError::Internal(format!("overview: {e}")))
        }
        result => result,
    }
}

/// `document`, see [`Behaviour`].
pub fn document(
    ctx: &LaunchContext,
    entry: ClinicalEntry,
    behaviour: &Behaviour,
) -> Result<Vec<String>, AdapterError> {
    if behaviour.telemetry {
        telemetry("document", ctx.patient.as_deref());
    }
    document::document(ctx, entry, behaviour)
}

/// `on-event`, see [`Behaviour`].
pub fn on_event(
    ctx: &LaunchContext,
    event: &Event,
    behaviour: &Behaviour,
) -> Result<EventOutcome, AdapterError> {
    if behaviour.telemetry {
        telemetry(
            "on-event",
            event.patient.as_deref().or(ctx.patient.as_deref()),
        );
    }
    events::on_event(ctx, event, behaviour)
}

/// Declares a component `$ty` that behaves as `$behaviour`, and exports it. `info()` names vendor
/// `sandkasse (feilprøve)` and the crate's name as product (distinct per sample), with the
/// reference's roles. For the `flawed-*` crates; the crate must depend on `guest-kit` too.
#[macro_export]
macro_rules! adapter {
    ($ty:ident, $behaviour:expr) => {
        struct $ty;

        const BEHAVIOUR: $crate::Behaviour = $behaviour;

        impl $crate::Guest for $ty {
            fn info() -> ::guest_kit::types::AdapterInfo {
                $crate::info_from("sandkasse (feilprøve)", env!("CARGO_PKG_NAME"))
            }

            fn patient_overview(ctx: ::guest_kit::types::LaunchContext) -> Result<String, ::guest_kit::types::AdapterError> {
                $crate::patient_overview(&ctx, &BEHAVIOUR)
            }

            fn document(
                ctx: ::guest_kit::types::LaunchContext,
                entry: ::guest_kit::types::ClinicalEntry,
            ) -> Result<Vec<String>, ::guest_kit::types::AdapterError> {
                $crate::document(&ctx, entry, &BEHAVIOUR)
            }

            fn on_event(
                ctx: ::guest_kit::types::LaunchContext,
                event: ::guest_kit::types::Event,
            ) -> Result<::guest_kit::types::EventOutcome, ::guest_kit::types::AdapterError> {
                $crate::on_event(&ctx, &event, &BEHAVIOUR)
            }
        }

        ::guest_kit::export_adapter!($ty with_types_in ::guest_kit::bindings);
    };
}

/// A FHIR client for `ctx`, with the retry policy and HTTP layer `behaviour` asks for. The
/// honest client is [`Client::new`] unchanged.
fn client(ctx: &LaunchContext, behaviour: &Behaviour) -> Result<Client, AdapterError> {
    let mut client = Client::new(ctx)?;
    if behaviour.retries_forever {
        client.retry = RetryPolicy {
            max_attempts: u32::MAX,
            max_wait: std::time::Duration::MAX,
            total_wait: std::time::Duration::MAX,
            ..RetryPolicy::default()
        };
    }
    if behaviour.ignores_retry_after || behaviour.retry_after_millis {
        // The vendor's own loop retries at once (see `transport`); the client gives up on the
        // first 429/503 it is handed.
        client.retry.max_attempts = 1;
    }
    Ok(match transport::build(ctx, behaviour) {
        Some(t) => client.with_transport(t),
        None => client,
    })
}

/// [`Behaviour::telemetry`]: one POST to the vendor's host, outcome ignored.
fn telemetry(call: &str, patient: Option<&str>) {
    let Ok(url) = Url::parse(TELEMETRY_URL) else {
        return;
    };
    let body =
        serde_json::json!({"event": call, "patient": patient, "product": "flawed-telemetry"});
    let request = Request::post(url, body.to_string().into_bytes())
        .header("content-type", "application/json");
    let _ignored = http::send(&request);
}

/// Whether `id` is a FHIR logical id (`[A-Za-z0-9\-\.]{1,64}`); anything else is not put in a URL.
fn is_fhir_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

/// The patient in context, checked.
fn patient_in_context(ctx: &LaunchContext) -> Result<&str, AdapterError> {
    match ctx.patient.as_deref() {
        Some(p) if is_fhir_id(p) => Ok(p),
        Some(_) => Err(AdapterError::InvalidInput(
            "the launch context's patient is not a FHIR id".into(),
        )),
        None => Err(AdapterError::InvalidInput(
            "no patient in the launch context".into(),
        )),
    }
}

/// FHIR identifier system of the fødselsnummer.
const FNR: &str = "urn:oid:2.16.578.1.12.4.1.4.1";
/// FHIR identifier system of the D-nummer.
const DNR: &str = "urn:oid:2.16.578.1.12.4.1.4.2";

/// [`Behaviour::searches_patient`]: the patient "found" by the fødselsnummer (or D-nummer) of
/// the context patient `patient` (already read): `Patient?identifier=…`, first match. Falls back
/// to the context id when the patient has no such identifier or the search finds nobody.
fn search_patient(
    client: &Client,
    patient: &serde_json::Value,
    context_id: &str,
) -> Result<String, AdapterError> {
    let Some((system, value)) = national_id(patient) else {
        return Ok(context_id.to_owned());
    };
    let bundle = client.search("Patient", &[("identifier", &format!("{system}|{value}"))])?;
    let found = bundle
        .get("entry")
        .and_then(serde_json::Value::as_array)
        .into_iter()
        .flatten()
        .filter(|e| !guest_kit::fhir::is_outcome_entry(e))
        .find_map(|e| {
            e.pointer("/resource/id")
                .and_then(serde_json::Value::as_str)
        })
        .map(str::to_owned);
    log(
        Level::Info,
        &format!(
            "patient search: {}",
            if found.is_some() { "found" } else { "no match" }
        ),
    );
    Ok(found.unwrap_or_else(|| context_id.to_owned()))
}

/// The patient's fødselsnummer or D-nummer, with its system.
fn national_id(patient: &serde_json::Value) -> Option<(&'static str, String)> {
    let ids = patient.get("identifier")?.as_array()?;
    [FNR, DNR].into_iter().find_map(|system| {
        ids.iter()
            .find(|i| i["system"] == system)
            .and_then(|i| i["value"].as_str())
            .map(|v| (system, v.to_owned()))
    })
}

//! **One component, every mutant.** The reference adapter (`adapter-core`) with at most one
//! mistake on, chosen at run time by name from [`MUTANT`], a fixed-size marker in the component's
//! data: `SANDKASSE-MUTANT:` followed by the name ([`adapter_core::MUTANTS`]; `honest` as built)
//! and NUL padding to 64 bytes.
//!
//! The suite's mutation harness (`crates/suite/tests/all/mutants.rs`) finds the one occurrence of
//! the marker in `mutant.wasm` and writes another name over it: every variant is a distinct
//! component (its own digest) from one build, instead of one crate per mistake. The marker is
//! read through [`core::hint::black_box`] so the optimiser cannot fold `honest` into the code.
//!
//! `info()` names vendor `sandkasse (feilprøve)` and product `mutant:<name>`, so a report says
//! which mutant it judged. An unknown name (a typo in the table) makes `info()` answer
//! `mutant:?<name>` and every call fail with `internal`: it can never pass for the reference.

use adapter_core::Behaviour;
use guest_kit::Guest;
use guest_kit::types::{
    AdapterError, AdapterInfo, ClinicalEntry, Event, EventOutcome, LaunchContext,
};

/// Length of the marker's prefix, `SANDKASSE-MUTANT:`; the name follows it.
const PREFIX_LEN: usize = 17;

/// The marker the harness patches: prefix, name, NUL padding.
static MUTANT: [u8; 64] = marker(b"SANDKASSE-MUTANT:honest");

/// `text` padded with NULs to 64 bytes (at compile time, so only the padded array is in the data).
const fn marker(text: &[u8]) -> [u8; 64] {
    let mut out = [0u8; 64];
    let mut i = 0;
    while i < text.len() {
        out[i] = text[i];
        i += 1;
    }
    out
}

/// The mutant's name, as the marker says at run time.
fn name() -> String {
    let bytes: &[u8; 64] = core::hint::black_box(&MUTANT);
    let tail = &bytes[PREFIX_LEN..];
    let end = tail.iter().position(|&b| b == 0).unwrap_or(tail.len());
    String::from_utf8_lossy(&tail[..end]).into_owned()
}

/// The behaviour of the marker's mutant; an unknown name is an error on every call.
fn behaviour() -> Result<Behaviour, AdapterError> {
    let name = name();
    Behaviour::mutant(&name)
        .ok_or_else(|| AdapterError::Internal(format!("unknown mutant `{name}`")))
}

struct Mutant;

impl Guest for Mutant {
    fn info() -> AdapterInfo {
        let name = name();
        let known = if Behaviour::mutant(&name).is_some() {
            ""
        } else {
            "?"
        };
        adapter_core::info_from("sandkasse (feilprøve)", &format!("mutant:{known}{name}"))
    }

    fn patient_overview(ctx: LaunchContext) -> Result<String, AdapterError> {
        adapter_core::patient_overview(&ctx, &behaviour()?)
    }

    fn document(ctx: LaunchContext, entry: ClinicalEntry) -> Result<Vec<String>, AdapterError> {
        adapter_core::document(&ctx, entry, &behaviour()?)
    }

    fn on_event(ctx: LaunchContext, event: Event) -> Result<EventOutcome, AdapterError> {
        adapter_core::on_event(&ctx, &event, &behaviour()?)
    }
}

guest_kit::export_adapter!(Mutant with_types_in guest_kit::bindings);

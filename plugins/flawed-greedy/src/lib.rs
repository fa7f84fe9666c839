//! **Mistake:** the reference adapter, except that it is greedy: every `patient-overview` burns
//! about 700 million instructions in a busy loop and allocates and touches 80 MiB ("warming a
//! cache"), and the component carries a 40 MiB incompressible blob (a bundled model it barely
//! uses: one byte per call).
//!
//! **Must fail** RES-01 (fuel per call), RES-02 (memory per instance) and RES-03 (component size):
//! each stays under the sandbox's hard limits (2 000 M fuel, 256 MiB, 64 MiB), so the calls still
//! succeed and only the resource vilkår judge it.
//!
//! Everything else is the reference's (`adapter-core` with [`Behaviour::greedy`]), so it should
//! fail only these vilkår.

use adapter_core::Behaviour;
use guest_kit::Guest;
use guest_kit::types::{
    AdapterError, AdapterInfo, ClinicalEntry, Event, EventOutcome, LaunchContext,
};

/// 40 MiB of pseudo-random bytes from `build.rs`.
static BLOB: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/blob.bin"));

const GREEDY: Behaviour = Behaviour {
    greedy: true,
    ..Behaviour::HONEST
};

struct Flawed;

impl Guest for Flawed {
    fn info() -> AdapterInfo {
        adapter_core::info_from("sandkasse (feilprøve)", env!("CARGO_PKG_NAME"))
    }

    fn patient_overview(ctx: LaunchContext) -> Result<String, AdapterError> {
        // One byte of the blob, at an index the optimiser cannot see, keeps all of it linked.
        let byte = BLOB[std::hint::black_box(BLOB.len() / 2)];
        guest_kit::log(
            guest_kit::Level::Debug,
            &format!("model checksum byte {}", byte & 1),
        );
        adapter_core::patient_overview(&ctx, &GREEDY)
    }

    fn document(ctx: LaunchContext, entry: ClinicalEntry) -> Result<Vec<String>, AdapterError> {
        adapter_core::document(&ctx, entry, &GREEDY)
    }

    fn on_event(ctx: LaunchContext, event: Event) -> Result<EventOutcome, AdapterError> {
        adapter_core::on_event(&ctx, &event, &GREEDY)
    }
}

guest_kit::export_adapter!(Flawed with_types_in guest_kit::bindings);

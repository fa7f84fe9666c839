//! Proves: a component importing anything beyond the allowed set is rejected at upload.
//!
//! This component is a complete member of the adapter world (it exports
//! `kommune:sandkasse/adapter-api@0.1.0`) and *also* imports `evil:host/spawn` (declared in this
//! crate's `wit/evil.wit`), which `patient-overview` calls. The host must reject it when it is
//! loaded — before instantiating or calling anything — with a message naming the offending
//! import `evil:host/spawn`; classification **rejected: disallowed import**.
//!
//! It generates its own bindings (not `guest-kit`'s), because its world is not the contract's;
//! the generated glue and its `export!` expand here, hence the crate-wide `unsafe_code` allowance.
#![allow(unsafe_code)]

#[allow(clippy::all)]
mod bindings {
    wit_bindgen::generate!({
        world: "evil:host/adapter-with-spawn",
        path: ["../../conformance/wit", "wit"],
        generate_all,
    });
}

use bindings::exports::kommune::sandkasse::adapter_api::Guest;
use bindings::kommune::sandkasse::types::{
    AdapterError, AdapterInfo, Capability, ClinicalEntry, Event, EventOutcome, LaunchContext,
};

struct DisallowedImport;

impl Guest for DisallowedImport {
    fn info() -> AdapterInfo {
        AdapterInfo {
            vendor: "sandkasse (testfixtur)".into(),
            product: env!("CARGO_PKG_NAME").into(),
            version: env!("CARGO_PKG_VERSION").into(),
            capabilities: vec![Capability::Read],
        }
    }

    fn patient_overview(_ctx: LaunchContext) -> Result<String, AdapterError> {
        let code = bindings::evil::host::spawn::spawn("cat /etc/passwd");
        Err(AdapterError::Internal(format!("spawn returned {code}")))
    }

    fn document(_ctx: LaunchContext, _entry: ClinicalEntry) -> Result<Vec<String>, AdapterError> {
        Err(AdapterError::Internal("not offered".into()))
    }

    fn on_event(_ctx: LaunchContext, _event: Event) -> Result<EventOutcome, AdapterError> {
        Err(AdapterError::Internal("not offered".into()))
    }
}

bindings::export!(DisallowedImport with_types_in bindings);

//! Guest-side kit for sandkasse adapters: the bindings of the adapter world, generated once, a
//! small blocking HTTP client over `wasi:http`, and FHIR helpers.
//!
//! Every adapter crate in `plugins/` is a `cdylib` that implements
//! [`bindings::exports::kommune::sandkasse::adapter_api::Guest`] and exports it with the macro this
//! crate provides:
//!
//! ```text
//! use guest_kit::bindings::exports::kommune::sandkasse::adapter_api::Guest;
//! use guest_kit::types::*;
//!
//! struct MyAdapter;
//! impl Guest for MyAdapter { /* info, patient_overview, document, on_event */ }
//! guest_kit::export_adapter!(MyAdapter with_types_in guest_kit::bindings);
//! ```
//!
//! - [`bindings`]: `wit_bindgen::generate!` for world `kommune:sandkasse/adapter` from
//!   `conformance/wit/` (the one contract), with every `wasi:*` interface generated.
//! - [`http`]: [`http::send`] a [`http::Request`], get a [`http::Response`]; [`http::Url`] splits
//!   URLs such as the launch context's `fhir-base-url`.
//! - [`fhir`]: [`fhir::Client`] — bearer token on every request, bounded retries of 429/503
//!   honouring `Retry-After`, status → `adapter-error` mapping, bundle paging with a page cap,
//!   `OperationOutcome` detection.
//! - [`sleep`] (monotonic clock; virtual time in the sandbox) and [`log`] (the `logging`
//!   import; never log personal data).

// The generated bindings need `unsafe` (canonical ABI glue); nothing else in the kit does.
#[allow(unsafe_code, clippy::all, missing_docs, dead_code)]
pub mod bindings {
    wit_bindgen::generate!({
        world: "kommune:sandkasse/adapter",
        path: "../../conformance/wit",
        generate_all,
        pub_export_macro: true,
        export_macro_name: "export_adapter",
        default_bindings_module: "guest_kit::bindings",
    });
}

pub mod fhir;
pub mod http;

use std::time::Duration;

/// `export_adapter!(Type with_types_in guest_kit::bindings)`: exports `Type` as the adapter.
pub use bindings::export_adapter;
/// The trait an adapter implements.
pub use bindings::exports::kommune::sandkasse::adapter_api::Guest;
pub use bindings::kommune::sandkasse::logging::Level;
/// The contract's data types (`launch-context`, `adapter-error`, `clinical-entry`, …).
pub use bindings::kommune::sandkasse::types;

/// Writes one log line through the contract's `logging` import. Log what happened, never about
/// whom: no names, fødselsnummer, addresses or patient ids.
pub fn log(level: Level, message: &str) {
    bindings::kommune::sandkasse::logging::log(level, message);
}

/// Sleeps for `duration` on the monotonic clock (`subscribe-duration(..).block()`). In the
/// sandbox, time is virtual: the wait costs no real time.
pub fn sleep(duration: Duration) {
    let nanos = u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX);
    bindings::wasi::clocks::monotonic_clock::subscribe_duration(nanos).block();
}

/// Current reading of the monotonic clock, in nanoseconds (for bounding total waits).
pub fn now_nanos() -> u64 {
    bindings::wasi::clocks::monotonic_clock::now()
}

/// `info()` of a test fixture: vendor "sandkasse (testfixtur)", the fixture's crate name as
/// product, and only the read role — the fixtures misbehave in `patient-overview`.
pub fn fixture_info(product: &str) -> types::AdapterInfo {
    types::AdapterInfo {
        vendor: "sandkasse (testfixtur)".into(),
        product: product.into(),
        version: env!("CARGO_PKG_VERSION").into(),
        capabilities: vec![types::Capability::Read],
    }
}

/// The error a fixture returns from the roles it does not claim.
pub fn not_offered() -> types::AdapterError {
    types::AdapterError::Internal("this test fixture implements only patient-overview".into())
}

/// Declares a fixture adapter `$ty` whose `patient-overview` is `$overview`, and exports it.
/// `info()` is [`fixture_info`] with the crate's name; `document` and `on-event` return
/// [`not_offered`].
#[macro_export]
macro_rules! fixture {
    ($ty:ident, $overview:path) => {
        struct $ty;

        impl $crate::Guest for $ty {
            fn info() -> $crate::types::AdapterInfo {
                $crate::fixture_info(env!("CARGO_PKG_NAME"))
            }

            fn patient_overview(ctx: $crate::types::LaunchContext) -> Result<String, $crate::types::AdapterError> {
                $overview(ctx)
            }

            fn document(
                _ctx: $crate::types::LaunchContext,
                _entry: $crate::types::ClinicalEntry,
            ) -> Result<Vec<String>, $crate::types::AdapterError> {
                Err($crate::not_offered())
            }

            fn on_event(
                _ctx: $crate::types::LaunchContext,
                _event: $crate::types::Event,
            ) -> Result<$crate::types::EventOutcome, $crate::types::AdapterError> {
                Err($crate::not_offered())
            }
        }

        $crate::export_adapter!($ty with_types_in $crate::bindings);
    };
}

//! Proves: a trap inside a call is classified and contained.
//!
//! `patient-overview` panics; on wasm32-wasip2 a panic aborts with the `unreachable`
//! instruction (after writing the panic message to stderr). The host must classify the call as a
//! **trap** (`unreachable`, with the captured stderr as evidence), treat the instance as poisoned
//! (no further calls into it) and keep working.

use guest_kit::types::{AdapterError, LaunchContext};

fn trap(_ctx: LaunchContext) -> Result<String, AdapterError> {
    panic!("hostile-trap: deliberate panic in patient-overview");
}

guest_kit::fixture!(Trap, trap);

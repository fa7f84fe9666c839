//! Proves: a result that is not JSON is kept as bounded evidence, not stored whole.
//!
//! `patient-overview` returns `Ok` with 4 MiB of text that is not JSON (under the sandbox's
//! 16 MiB result limit, so the call succeeds and fails the checks). Unbounded, every call adds
//! 4 MiB to the stored report; the service must keep the report within `limits.max_report_bytes`.

use guest_kit::types::{AdapterError, LaunchContext};

const SIZE: usize = 4 << 20;

fn not_json(_ctx: LaunchContext) -> Result<String, AdapterError> {
    Ok("ikke json ".repeat(std::hint::black_box(SIZE / 10)))
}

guest_kit::fixture!(NonJsonResult, not_json);

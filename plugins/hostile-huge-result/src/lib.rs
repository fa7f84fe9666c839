//! Proves: an oversized result is refused, not copied into the host unbounded.
//!
//! `patient-overview` returns `Ok` with a 100 MiB string (a real overview is well under 1 MiB).
//! The host must classify the call as a **contract error: result too large** (checking the
//! string's length before lifting it into the host, or failing the call at its result cap); if
//! its memory limit is below ~100 MiB the call instead ends as **memory limit exceeded** while
//! building the string — both are bounded, and the host keeps working.

use guest_kit::types::{AdapterError, LaunchContext};

const SIZE: usize = 100 << 20;

fn huge(_ctx: LaunchContext) -> Result<String, AdapterError> {
    Ok("x".repeat(std::hint::black_box(SIZE)))
}

guest_kit::fixture!(HugeResult, huge);

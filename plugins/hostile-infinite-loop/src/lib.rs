//! Proves: a component that never returns is stopped.
//!
//! `patient-overview` spins in a loop that does no I/O and never yields. The host must end the
//! call by fuel exhaustion (or, as a backstop, the epoch deadline) and classify it as
//! **out of fuel** / **deadline exceeded**; the host keeps working.

use guest_kit::types::{AdapterError, LaunchContext};

fn spin(_ctx: LaunchContext) -> Result<String, AdapterError> {
    let mut n: u64 = 0;
    loop {
        n = std::hint::black_box(n.wrapping_add(1));
    }
}

guest_kit::fixture!(InfiniteLoop, spin);

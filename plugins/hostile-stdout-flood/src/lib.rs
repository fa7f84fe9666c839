//! Proves: stdout and stderr are captured with a byte cap, whatever the component writes.
//!
//! `patient-overview` writes 64 KiB blocks to stdout and stderr in turn, forever, ignoring
//! write errors. The host must keep at most its cap of each stream (marked as truncated in the
//! evidence) and end the call by **out of fuel** / **deadline exceeded** (or, if it makes writes
//! past the cap fail hard, a **trap**); host memory must not grow with the output.

use std::io::Write as _;

use guest_kit::types::{AdapterError, LaunchContext};

fn flood(_ctx: LaunchContext) -> Result<String, AdapterError> {
    let block = vec![b'A'; 64 * 1024];
    loop {
        let _ = std::io::stdout().write_all(&block);
        let _ = std::io::stdout().flush();
        let _ = std::io::stderr().write_all(&block);
    }
}

guest_kit::fixture!(StdoutFlood, flood);

//! Proves: a component cannot inflate its report, the database or the pages by what it returns
//! and logs.
//!
//! `patient-overview` logs 250 lines of 4 KiB and returns an empty `Bundle` padded with 2 MiB of
//! JSON whitespace (under the sandbox's result limit, so the call succeeds). Unbounded, every call
//! adds ~1 MB of log lines to the report. (Kept this size so that the service's tests run it in
//! minutes; the issue's 15 MiB variant behaves the same, only slower.) The service must store the report within
//! its byte budget (`limits.max_report_bytes`), with the cut evidence counted.

use guest_kit::Level;
use guest_kit::types::{AdapterError, LaunchContext};

const PADDING: usize = 2 << 20;
const LINES: usize = 250;
const LINE: usize = 4 << 10;

fn padded(_ctx: LaunchContext) -> Result<String, AdapterError> {
    let line = "l".repeat(LINE);
    for _ in 0..std::hint::black_box(LINES) {
        guest_kit::log(Level::Info, &line);
    }
    let mut body = String::with_capacity(PADDING + 64);
    body.push_str(r#"{"resourceType": "Bundle", "type": "collection", "entry": []"#);
    body.push_str(&" ".repeat(std::hint::black_box(PADDING)));
    body.push('}');
    Ok(body)
}

guest_kit::fixture!(PaddedOverview, padded);

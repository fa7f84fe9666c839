//! Limits: every resource a component can consume is bounded, and every bound is data with a
//! documented default. Hitting a limit is a classified outcome of the call, never a host failure.
//!
//! The defaults are informed by what production hosts publish — Shopify Functions allow 11 M
//! instructions, 10 MB of memory and a 512 KB stack; Fastly Compute 50 ms of CPU and a 128 MB
//! heap — and sized up for adapters that do real HTTP work (paging through a patient's record)
//! and for multi-MB components from JavaScript and Python toolchains.

use serde::{Deserialize, Serialize};

/// Limits applied to every component. See the field docs for defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Largest component accepted, in bytes. Default 64 MiB (JS and Python components are 10–20 MB).
    pub max_component_bytes: usize,
    /// Fuel (≈ wasm instructions) per call. Default 2 000 000 000 — about a second of
    /// CPU; the reference adapter's `patient-overview` uses 20–30 million, a Python
    /// component's start-up a few million more.
    pub fuel_per_call: u64,
    /// Wall-clock backstop per call in milliseconds, enforced by epoch interruption. Default 10 000.
    pub wall_clock_ms: u64,
    /// Virtual (scenario) time a call may take in milliseconds, including injected latency,
    /// `Retry-After` waits and the adapter's own sleeps. Default 300 000 (five minutes).
    pub virtual_time_ms: u64,
    /// Linear memory per instance in bytes; growth beyond it traps. Default 256 MiB.
    pub max_memory_bytes: usize,
    /// Elements per table; growth beyond it traps. Default 200 000.
    pub max_table_elements: usize,
    /// Maximum wasm stack in bytes. Default 1 MiB.
    pub max_wasm_stack: usize,
    /// HTTP requests per call. Default 500.
    pub max_requests_per_call: u32,
    /// Bytes per HTTP request or response body. Default 8 MiB.
    pub max_body_bytes: usize,
    /// Bytes of each HTTP body kept as evidence. Default 64 KiB.
    pub evidence_body_bytes: usize,
    /// Bytes captured from stdout and from stderr per instance; writing more traps. Default 1 MiB.
    pub max_stdio_bytes: usize,
    /// Bytes of the result string kept (longer results fail the call). Default 16 MiB.
    pub max_result_bytes: usize,
    /// Log lines kept per call (further lines are counted, not kept). Default 1 000.
    pub max_log_lines: usize,
    /// Wall-clock seconds compiling a component may take; the compile worker is killed after it
    /// and the component rejected ([`Rejection::CompileTimeout`](crate::Rejection)). Enforced only
    /// with a compile worker ([`SandboxConfig::compile_worker`](crate::SandboxConfig)). Default
    /// 300: the 18 MiB componentize-py reference compiles in 6 s on two quiet cores and took 81 s
    /// on two cores with a load of 10 (docs/performance.md); a wall-clock limit must leave room
    /// for load.
    pub compile_timeout_seconds: u64,
    /// Resident memory of the compile worker process in bytes, its own start-up included; it is
    /// killed above it and the component rejected ([`Rejection::CompileMemory`](crate::Rejection)).
    /// Enforced only with a compile worker, on Linux. Default 2 GiB: the Python reference peaks
    /// at 414 MiB.
    pub compile_memory_bytes: usize,
    /// Bytes of compiled code (the serialised artefact) a component may produce; more is rejected
    /// ([`Rejection::CompiledTooLarge`](crate::Rejection)) and never stored. Default 128 MiB: the
    /// Python reference compiles to 38 MiB.
    pub max_compiled_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_component_bytes: 64 << 20,
            fuel_per_call: 2_000_000_000,
            wall_clock_ms: 10_000,
            virtual_time_ms: 300_000,
            max_memory_bytes: 256 << 20,
            max_table_elements: 200_000,
            max_wasm_stack: 1 << 20,
            max_requests_per_call: 500,
            max_body_bytes: 8 << 20,
            evidence_body_bytes: 64 << 10,
            max_stdio_bytes: 1 << 20,
            max_result_bytes: 16 << 20,
            max_log_lines: 1_000,
            compile_timeout_seconds: 300,
            compile_memory_bytes: 2 << 30,
            max_compiled_bytes: 128 << 20,
        }
    }
}

/// Epoch tick of the wall-clock backstop.
pub const EPOCH_TICK_MS: u64 = 10;

impl Limits {
    /// Epoch ticks of the wall-clock backstop.
    pub fn deadline_ticks(&self) -> u64 {
        self.wall_clock_ms.div_ceil(EPOCH_TICK_MS).max(1)
    }
}

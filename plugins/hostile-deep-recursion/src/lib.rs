//! Proves: unbounded recursion ends in a classified stack overflow, not a host crash.
//!
//! `patient-overview` recurses without bound. Each frame lives on the wasm value stack only
//! (no addressable locals, so Rust's shadow stack in linear memory is not touched), the call is
//! indirect and its result is used after the call, so the compiler cannot turn it into a loop.
//! The host must classify the call as **stack overflow** (wasmtime `Trap::StackOverflow`, from
//! `max_wasm_stack`) and keep working.

use guest_kit::types::{AdapterError, LaunchContext};

/// The recursive step, called through a pointer the optimiser cannot see through.
static STEP: std::sync::OnceLock<fn(u64) -> u64> = std::sync::OnceLock::new();

#[inline(never)]
fn deeper(n: u64) -> u64 {
    let step = STEP.get().copied().unwrap_or(deeper);
    let below = step(n.wrapping_add(1));
    below.wrapping_mul(31) ^ n
}

fn recurse(_ctx: LaunchContext) -> Result<String, AdapterError> {
    let _ = STEP.set(std::hint::black_box(deeper as fn(u64) -> u64));
    Ok(deeper(std::hint::black_box(0)).to_string())
}

guest_kit::fixture!(DeepRecursion, recurse);

//! Proves: a component that allocates without bound is stopped at the memory limit.
//!
//! `patient-overview` keeps 1 MiB blocks (each written, so the pages are really used) in a `Vec`
//! until allocation fails. The host must refuse the growth of linear memory beyond its limit and
//! classify the call as **memory limit exceeded** (with trap-on-grow-failure the denied
//! `memory.grow` traps; without it Rust's allocation-failure handler aborts with `unreachable`,
//! which the host should still attribute to the memory limit via its `ResourceLimiter`).

use guest_kit::types::{AdapterError, LaunchContext};

const BLOCK: usize = 1 << 20;

fn bomb(_ctx: LaunchContext) -> Result<String, AdapterError> {
    let mut blocks: Vec<Vec<u8>> = Vec::new();
    loop {
        let mut block = vec![0u8; BLOCK];
        block.iter_mut().step_by(4096).for_each(|b| *b = 1);
        blocks.push(std::hint::black_box(block));
        if blocks.len() == usize::MAX {
            return Ok(format!("{} MiB", blocks.len()));
        }
    }
}

guest_kit::fixture!(MemoryBomb, bomb);

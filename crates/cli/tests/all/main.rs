//! End-to-end tests of the `sandkasse` binary.

// The compile bomb of the sandbox's tests; these use only some of its fixtures.
#[allow(dead_code)]
#[path = "../../../sandbox/tests/all/bomb.rs"]
mod bomb;
mod certify;
mod generate;
mod markedsplass;
mod sandbox;
mod shared;

use std::process::{Command, Output};

/// Runs the built `sandkasse` binary.
pub fn sandkasse(args: &[&str]) -> Output {
    // Tests never touch the user's compile cache.
    Command::new(env!("CARGO_BIN_EXE_sandkasse"))
        .args(args)
        .env("SANDKASSE_NO_CACHE", "1")
        .output()
        .expect("run sandkasse")
}

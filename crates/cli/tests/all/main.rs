//! End-to-end tests of the `sandkasse` binary.

mod certify;
mod generate;
mod markedsplass;
mod sandbox;

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

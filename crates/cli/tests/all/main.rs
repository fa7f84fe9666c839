//! End-to-end tests of the `sandkasse` binary.

mod generate;
mod sandbox;

use std::process::{Command, Output};

/// Runs the built `sandkasse` binary.
pub fn sandkasse(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sandkasse")).args(args).output().expect("run sandkasse")
}

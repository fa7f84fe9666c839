//! Integration tests of the synthetic kommune (one test binary, modules by topic).

mod code_lists;
mod determinism;
mod identifiers;
mod realism;
mod validity;
mod valuesets;

use std::sync::OnceLock;

use sandkasse_kommune::{Dataset, GenConfig, generate};

/// A medium dataset shared by the tests that only read it.
pub fn medium() -> &'static Dataset {
    static DATA: OnceLock<Dataset> = OnceLock::new();
    DATA.get_or_init(|| generate(&GenConfig::new(2026, 6_000)))
}

//! Fairness as a measured number: two independent honest adapters — the Rust `reference` and the
//! Python `python-reference` (written from the documentation alone, `plugins/python-reference/`)
//! — must both be *godkjent* with score 1.0 on every data seed in [`SEEDS`].
//!
//! A vilkår that one honest implementation passes and the other fails is either a bug in that
//! adapter or a check that demands more than the documentation says; the failure message lists
//! every non-passing vilkår per seed with its reason and evidence, so it says which.
//!
//! Each component is prepared (compiled) once by the shared [`sandbox`](super::sandbox) and reused
//! for every seed. `cargo run --release -p sandkasse-suite --example fairness -- --seeds 50` is
//! the longer, measured run.

use std::path::PathBuf;

use sandkasse_suite::harness::{TestOptions, test_component};
use sandkasse_suite::report::{Outcome, Report};

use super::{plugin, sandbox, suite};

/// The data seeds: ten consecutive seeds, fixed so that a failure names a seed to reproduce with
/// `sandkasse test ADAPTER.wasm --seed S`.
const SEEDS: std::ops::RangeInclusive<u64> = 1..=10;

/// The Python adapter, built by `plugins/python-reference/build.sh` (or `cargo xtask plugins`).
fn python_reference() -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../plugins/python-reference/target/python_reference.wasm");
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}. Build it first: cargo xtask plugins (needs pip install componentize-py==0.25.1)", p.display()))
}

/// Every non-passing vilkår of a report, one block per vilkår: outcome, reason, each failing
/// check with its evidence.
fn not_passing(r: &Report) -> Vec<String> {
    r.vilkar
        .iter()
        .filter(|v| {
            matches!(
                v.outcome,
                Outcome::Fail | Outcome::Error | Outcome::NotApplicable
            )
        })
        .map(|v| {
            let mut block = format!("  {} {:?}: {}", v.id, v.outcome, v.reason);
            for c in v.checks.iter().filter(|c| c.outcome != Outcome::Pass) {
                block.push_str(&format!(
                    "\n    check {} ({}) {:?}: {}",
                    c.id, c.scenario, c.outcome, c.reason
                ));
                for e in &c.evidence {
                    block.push_str(&format!("\n      evidence: {e}"));
                }
                block.push_str(&format!("\n      reproduce: {}", c.reproduce));
            }
            block
        })
        .collect()
}

/// Runs the whole suite on `component` for every seed; panics listing every seed that is not
/// godkjent with score 1.0.
fn godkjent_on_every_seed(name: &str, component: &[u8]) {
    let mut failures = Vec::new();
    for seed in SEEDS {
        let options = TestOptions {
            seed: Some(seed),
            component_name: format!("{name}.wasm"),
            ..TestOptions::default()
        };
        let r = test_component(suite(), sandbox(), component, &options, &|_| {})
            .unwrap_or_else(|e| panic!("{name}, seed {seed}: {e}"));
        if !r.godkjent() || r.score != 1.0 || r.vilkar.len() != suite().vilkar.len() {
            failures.push(format!(
                "seed {seed}: verdict {:?}, score {}\n{}",
                r.verdict,
                r.score,
                not_passing(&r).join("\n")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{name} is not godkjent with score 1.0 on {} of {} seeds:\n{}",
        failures.len(),
        SEEDS.count(),
        failures.join("\n")
    );
}

#[test]
fn the_rust_reference_is_godkjent_on_every_seed() {
    godkjent_on_every_seed("reference", &plugin("reference"));
}

#[test]
fn the_python_reference_is_godkjent_on_every_seed() {
    godkjent_on_every_seed("python_reference", &python_reference());
}

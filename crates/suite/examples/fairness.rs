//! Fairness over many data seeds: runs the whole suite on the two independent honest adapters —
//! the Rust `reference` and the Python `python-reference` — for each seed, and prints per adapter
//! how many seeds are *godkjent*, the mean and lowest score, the vilkår that failed on each seed,
//! and the time taken.
//!
//! ```text
//! cargo xtask plugins      # builds both components
//! cargo run --release -p sandkasse-suite --example fairness -- --seeds 50 [--first 1]
//! ```
//!
//! Seeds run one after the other, `--first` (default 1) to `--first + --seeds - 1` (default 50
//! seeds); each run's scenarios run in parallel, as `sandkasse test` does. Each component is
//! compiled once (reported as `prepare`) and reused for every seed; each seed's data is generated
//! by an untimed warm-up run before the timed ones, so the per-adapter times compare like with like. Exits with 1 when any run is
//! not godkjent with score 1.0, so the program can gate CI as well as measure.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use sandkasse_sandbox::{Sandbox, SandboxConfig};
use sandkasse_suite::harness::{TestOptions, test_component};
use sandkasse_suite::load::{default_root, load};
use sandkasse_suite::report::Outcome;

/// The adapters compared: name and path from the repository root.
const ADAPTERS: &[(&str, &str)] = &[
    (
        "reference",
        "plugins/target/wasm32-wasip2/release/reference.wasm",
    ),
    (
        "python-reference",
        "plugins/python-reference/target/python_reference.wasm",
    ),
];

/// The scenario of the untimed run per seed that generates the seed's data.
const WARM_UP: &str = "events-basic";

/// What one adapter did over every seed.
#[derive(Default)]
struct Tally {
    godkjent: usize,
    scores: Vec<f64>,
    /// seed → the vilkår that did not pass (with their outcome).
    failing: BTreeMap<u64, Vec<String>>,
    prepare: Duration,
    runs: Duration,
}

fn main() -> Result<ExitCode> {
    let (first, seeds) = parse_args()?;
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let suite = load(&default_root()).context("loading the suite")?;
    let sandbox = Sandbox::new(SandboxConfig::default()).context("creating the sandbox")?;

    let mut components = Vec::new();
    let mut tallies: Vec<Tally> = Vec::new();
    for (name, path) in ADAPTERS {
        let bytes = read(&root.join(path), name)?;
        let started = Instant::now();
        sandbox
            .prepare(&bytes)
            .with_context(|| format!("{name} was rejected"))?;
        let prepare = started.elapsed();
        println!(
            "{name}: {} bytes, prepared (compiled) in {:.1} s",
            bytes.len(),
            prepare.as_secs_f64()
        );
        components.push((*name, bytes));
        tallies.push(Tally {
            prepare,
            ..Tally::default()
        });
    }

    let wall = Instant::now();
    let mut data = Duration::ZERO;
    for seed in first..first + seeds {
        // The seed's synthetic kommune is generated (and cached by the harness) by a small
        // untimed run first, so neither adapter's time includes it.
        let started = Instant::now();
        let warm = TestOptions {
            seed: Some(seed),
            scenarios: vec![WARM_UP.to_owned()],
            ..TestOptions::default()
        };
        test_component(&suite, &sandbox, &components[0].1, &warm, &|_| {})
            .with_context(|| format!("warm-up, seed {seed}"))?;
        data += started.elapsed();
        let mut line = format!("seed {seed:>4}:");
        for ((name, bytes), tally) in components.iter().zip(&mut tallies) {
            let options = TestOptions {
                seed: Some(seed),
                component_name: format!("{name}.wasm"),
                ..TestOptions::default()
            };
            let started = Instant::now();
            let r = test_component(&suite, &sandbox, bytes, &options, &|_| {})
                .with_context(|| format!("{name}, seed {seed}"))?;
            let took = started.elapsed();
            tally.runs += took;
            tally.scores.push(r.score);
            let failing: Vec<String> = r
                .vilkar
                .iter()
                .filter(|v| v.outcome != Outcome::Pass)
                .map(|v| format!("{} ({:?})", v.id, v.outcome))
                .collect();
            if r.godkjent() && r.score == 1.0 && failing.is_empty() {
                tally.godkjent += 1;
            } else {
                tally.failing.insert(seed, failing.clone());
            }
            let verdict = if r.godkjent() {
                "godkjent"
            } else {
                "IKKE godkjent"
            };
            line.push_str(&format!(
                "  {name} {verdict} {:.4} {:.1}s{}",
                r.score,
                took.as_secs_f64(),
                if failing.is_empty() {
                    String::new()
                } else {
                    format!(" [{}]", failing.join(", "))
                }
            ));
        }
        println!("{line}");
    }
    let wall = wall.elapsed();

    println!(
        "\n{seeds} seeds ({first}..={}), total wall time {:.1} s, of which data generation and warm-up ({WARM_UP} on {}) {:.1} s",
        first + seeds - 1,
        wall.as_secs_f64(),
        components[0].0,
        data.as_secs_f64()
    );
    println!(
        "| adapter | godkjent with 1.0 | mean score | min score | prepare | suite runs (total / per seed) |"
    );
    println!("|---|---|---|---|---|---|");
    let mut all_pass = true;
    for ((name, _), tally) in components.iter().zip(&tallies) {
        let n = tally.scores.len() as f64;
        let mean = tally.scores.iter().sum::<f64>() / n;
        let min = tally.scores.iter().copied().fold(f64::INFINITY, f64::min);
        println!(
            "| {name} | {}/{seeds} | {mean:.4} | {min:.4} | {:.1} s | {:.1} s / {:.2} s |",
            tally.godkjent,
            tally.prepare.as_secs_f64(),
            tally.runs.as_secs_f64(),
            tally.runs.as_secs_f64() / n
        );
        all_pass &= tally.failing.is_empty();
    }
    for ((name, _), tally) in components.iter().zip(&tallies) {
        let mut by_vilkar: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
        for (seed, failing) in &tally.failing {
            for v in failing {
                by_vilkar.entry(v.as_str()).or_default().push(*seed);
            }
        }
        for (vilkar, seeds) in by_vilkar {
            println!(
                "{name}: {vilkar} not passed on {} seed(s): {seeds:?}",
                seeds.len()
            );
        }
    }
    Ok(if all_pass {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// `--seeds N` (default 50) and `--first S` (default 1).
fn parse_args() -> Result<(u64, u64)> {
    let (mut first, mut seeds) = (1u64, 50u64);
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .with_context(|| format!("{flag} needs a value"))?;
        let number: u64 = value
            .parse()
            .with_context(|| format!("{flag} {value}: not a whole number"))?;
        match flag.as_str() {
            "--seeds" => seeds = number,
            "--first" => first = number,
            other => bail!("unknown flag {other}; usage: fairness [--seeds N] [--first S]"),
        }
    }
    if seeds == 0 {
        bail!("--seeds must be at least 1");
    }
    Ok((first, seeds))
}

fn read(path: &Path, name: &str) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| {
        format!(
            "{name}: cannot read {}; build it first with `cargo xtask plugins` (the Python adapter needs `pip install componentize-py==0.25.1`)",
            path.display()
        )
    })
}

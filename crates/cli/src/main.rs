//! `sandkasse`: the command-line front of the libraries. Glue only: every command parses its
//! arguments and calls a library.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use sandkasse_kommune::GenConfig;

#[derive(Debug, Parser)]
#[command(name = "sandkasse", version, about = "Conformance sandbox for kommune health-IT adapters")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Options choosing the synthetic dataset.
#[derive(Debug, clap::Args)]
struct DataArgs {
    /// Seed of the synthetic data; the same seed and size give byte-identical data.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Innbyggere in the whole dataset, split across the kommuner by population.
    #[arg(long, default_value_t = 2_000)]
    innbyggere: u32,
    /// Kommunenummer to include (comma-separated); default: the eight samarbeidskommuner.
    #[arg(long, value_delimiter = ',')]
    kommuner: Vec<String>,
}

impl DataArgs {
    fn config(&self) -> GenConfig {
        let mut c = GenConfig::new(self.seed, self.innbyggere);
        if !self.kommuner.is_empty() {
            c.kommuner = self.kommuner.clone();
        }
        c
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Generate a synthetic dataset as FHIR R4 NDJSON per kommune and resource type, with the
    /// ground truth and a manifest (counts and SHA-256 digests).
    Generate {
        #[command(flatten)]
        data: DataArgs,
        /// Output directory (created if missing).
        #[arg(long)]
        out: PathBuf,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Generate { data, out } => generate(&data, &out),
    }
}

fn generate(data: &DataArgs, out: &std::path::Path) -> anyhow::Result<()> {
    let config = data.config();
    let started = Instant::now();
    let manifest = sandkasse_kommune::output::write_ndjson(&config, out)
        .with_context(|| format!("generating into {}", out.display()))?;
    let resources: u64 =
        manifest.kommuner.iter().flat_map(|k| &k.output).filter(|f| f.kind != "truth").map(|f| f.count).sum();
    println!(
        "Genererte {} innbyggere i {} kommuner: {resources} FHIR-ressurser på {:.1} s",
        manifest.innbyggere,
        manifest.kommuner.len(),
        started.elapsed().as_secs_f64()
    );
    for k in &manifest.kommuner {
        println!("  {} {:<13} {:>7} innbyggere", k.nummer, k.navn, k.innbyggere);
    }
    println!("Manifest: {}", out.join("manifest.json").display());
    println!("Digest:   {}", manifest.digest);
    Ok(())
}

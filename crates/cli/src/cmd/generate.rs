//! `sandkasse generate`: a synthetic dataset as FHIR R4 NDJSON, over `sandkasse-kommune`.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context as _;

use super::DataArgs;

// The arguments of `sandkasse generate` (the subcommand's own help is on `Command`).
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub data: DataArgs,
    /// Output directory (created if missing).
    #[arg(long)]
    pub out: PathBuf,
}

pub fn run(args: &Args) -> anyhow::Result<()> {
    let (config, out) = (args.data.config(), &args.out);
    let started = Instant::now();
    let manifest = sandkasse_kommune::output::write_ndjson(&config, out)
        .with_context(|| format!("generating into {}", out.display()))?;
    let resources: u64 = manifest
        .kommuner
        .iter()
        .flat_map(|k| &k.output)
        .filter(|f| f.kind != "truth")
        .map(|f| f.count)
        .sum();
    println!(
        "Genererte {} innbyggere i {} kommuner: {resources} FHIR-ressurser på {:.1} s",
        manifest.innbyggere,
        manifest.kommuner.len(),
        started.elapsed().as_secs_f64()
    );
    for k in &manifest.kommuner {
        println!(
            "  {} {:<13} {:>7} innbyggere",
            k.nummer, k.navn, k.innbyggere
        );
    }
    println!("Manifest: {}", out.join("manifest.json").display());
    println!("Digest:   {}", manifest.digest);
    Ok(())
}

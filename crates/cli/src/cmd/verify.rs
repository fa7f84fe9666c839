//! `sandkasse verify`: a report's signature.

use std::path::PathBuf;

use anyhow::Context as _;

// The arguments of `sandkasse verify` (the subcommand's own help is on `Command`).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The report (JSON).
    pub report: PathBuf,
    /// Trusted public key (hex); default: the key embedded in the report.
    #[arg(long)]
    pub key: Option<String>,
}

/// `sandkasse verify`.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let (path, key) = (&args.report, args.key.as_deref());
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let report = super::report::verify(&bytes, key)?;
    println!(
        "Signaturen er gyldig / the signature is valid: {} {} — {} ({:.1} %)",
        report.suite.id,
        report.suite.version,
        if report.godkjent() {
            "godkjent"
        } else {
            "ikke godkjent"
        },
        report.score * 100.0
    );
    Ok(())
}

//! `sandkasse test`: the conformance suite on one component, a signed report and a verdict.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use sandkasse_suite::report::{Outcome, Report};

use super::CompileArgs;

// The arguments of `sandkasse test` (the subcommand's own help is on `Command`).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The component (.wasm).
    pub adapter: PathBuf,
    /// Data seed; default: the suite's.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Where to write the reports. Default: `sandkasse-report/`.
    #[arg(long, default_value = "sandkasse-report")]
    pub out: PathBuf,
    /// Report formats to write: json, junit, html, badge.
    #[arg(long, value_delimiter = ',', default_value = "json,junit,html,badge")]
    pub format: Vec<String>,
    /// The suite folder. Default: `conformance/` of this repository.
    #[arg(long)]
    pub suite: Option<PathBuf>,
    /// Run only these scenarios.
    #[arg(long, value_delimiter = ',')]
    pub scenario: Vec<String>,
    #[command(flatten)]
    pub compile: CompileArgs,
}

/// Runs the suite; returns the exit code (0 godkjent, 1 not godkjent).
pub fn run(args: &Args) -> anyhow::Result<i32> {
    let root = args
        .suite
        .clone()
        .unwrap_or_else(sandkasse_suite::load::default_root);
    let suite = sandkasse_suite::load::load(&root)
        .with_context(|| format!("loading the suite in {}", root.display()))?;
    let bytes = std::fs::read(&args.adapter)
        .with_context(|| format!("reading {}", args.adapter.display()))?;
    let sandbox = super::sandbox(&args.compile)?;
    let total = if args.scenario.is_empty() {
        suite.scenarios.len()
    } else {
        args.scenario.len()
    };
    let bar = indicatif::ProgressBar::new(total as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} scenarier {msg}")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    let options = sandkasse_suite::harness::TestOptions {
        seed: args.seed,
        scenarios: args.scenario.clone(),
        component_name: args.adapter.display().to_string(),
        generated_at: jiff::Timestamp::now().to_string(),
    };
    let report =
        sandkasse_suite::harness::test_component(&suite, &sandbox, &bytes, &options, &|id| {
            bar.set_message(id.to_owned());
            bar.inc(1);
        })?;
    bar.finish_and_clear();
    let report = super::report::sign(report)?;
    write(&report, &args.out, &args.format)?;
    print_summary(&report);
    println!("Rapporter / reports: {}", args.out.display());
    Ok(if report.godkjent() { 0 } else { 1 })
}

fn write(report: &Report, out: &Path, formats: &[String]) -> anyhow::Result<()> {
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    for f in formats {
        let (name, text) = super::report::render(report, f)?;
        let path = out.join(name);
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

fn mark(o: Outcome) -> &'static str {
    match o {
        Outcome::Pass => "✓ bestått",
        Outcome::Fail => "✗ ikke bestått",
        Outcome::NotApplicable => "– ikke relevant",
        Outcome::Error => "! feil",
    }
}

fn print_summary(report: &Report) {
    println!();
    println!(
        "{:<8} {:<5} {:<16} tittel / årsak",
        "vilkår", "nivå", "resultat"
    );
    for v in &report.vilkar {
        let level = match v.level {
            sandkasse_suite::model::Level::Skal => "skal",
            sandkasse_suite::model::Level::Bor => "bør",
        };
        println!(
            "{:<8} {:<5} {:<16} {}",
            v.id,
            level,
            mark(v.outcome),
            v.title.nb
        );
        if matches!(v.outcome, Outcome::Fail | Outcome::Error) {
            println!(
                "{:<31} ↳ {}",
                "",
                v.reason.chars().take(200).collect::<String>()
            );
        }
    }
    let s = report.summary;
    println!();
    println!(
        "Resultat / verdict: {}  poengsum / score {:.1} %  ({} bestått, {} ikke bestått, {} ikke relevant, {} feil)",
        if report.godkjent() {
            "GODKJENT"
        } else {
            "IKKE GODKJENT"
        },
        report.score * 100.0,
        s.passed,
        s.failed,
        s.not_applicable,
        s.error
    );
    println!(
        "Komponent / component: {} (sha-256 {})",
        report.component.size, report.component.digest
    );
    println!("Reproduser / reproduce: {}", report.reproduce);
}

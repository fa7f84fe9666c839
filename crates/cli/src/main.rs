//! `sandkasse`: the command-line front of the libraries. Glue only: every command parses its
//! arguments and calls a library; each has its file in `cmd/`.

use clap::{Parser, Subcommand};

mod cmd;

/// The process's allocator. A run allocates and frees hundreds of MiB on whichever thread the
/// runtime gives it (a hostile component's 16 MiB result, its evidence, the report before it is
/// bounded); glibc's malloc keeps such memory in per-thread arenas and a long-running
/// `sandkasse serve` grew to ≈ 880 MiB after 50 mixed runs. mimalloc returns freed pages to the
/// system (docs/performance.md, "The service's memory").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(
    name = "sandkasse",
    version,
    about = "Conformance sandbox for kommune health-IT adapters"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Generate a synthetic dataset as FHIR R4 NDJSON per kommune and resource type, with the
    /// ground truth and a manifest (counts and SHA-256 digests).
    Generate(cmd::generate::Args),
    /// Serve the synthetic FHIR platform over HTTP, to explore with curl or any FHIR client.
    Platform(cmd::platform::Args),
    /// Inspect an adapter component: digest, size, world, imports, exports and the verdict of the
    /// import audit.
    Inspect(cmd::inspect::Args),
    /// Run one call of an adapter against a generated kommune and print the evidence.
    Run(cmd::run::Args),
    /// Test an adapter against the conformance suite: every vilkår, a signed report, a verdict.
    /// Exits non-zero when the verdict is not godkjent, so it can run in a vendor's CI unchanged.
    Test(cmd::test::Args),
    /// Verify a report's Ed25519 signature.
    Verify(cmd::verify::Args),
    /// Serve the markedsplass: accounts, submissions, reviews, the catalogue (configuration:
    /// defaults → --config FILE → SANDKASSE__* environment → flags). Ctrl-C stops it gracefully.
    Serve(cmd::serve::Args),
    /// Run one night's regression batch against the markedsplass database (for cron or CI): every
    /// listed component re-tested with the night's seed, regressions flagged, listings at risk or
    /// suspended, a summary printed. Resumes a night that was interrupted.
    Nightly(cmd::nightly::Args),
    /// Administer the markedsplass: organisations, users, API tokens, the audit trail.
    Admin(cmd::admin::Args),
    /// The markedsplass with demo content on 127.0.0.1: demo accounts (printed), the sample
    /// adapters uploaded and tested, one product approved and listed, one in the review queue.
    Demo(cmd::demo::Args),
}

fn main() -> std::process::ExitCode {
    // The compile worker: this program re-run by its own sandbox (`sandkasse_sandbox::compile`),
    // before any argument parsing or logging set-up.
    if std::env::args_os()
        .nth(1)
        .is_some_and(|a| a == sandkasse_sandbox::compile::SUBCOMMAND)
    {
        return sandkasse_sandbox::compile::worker_main();
    }
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Error: {e:?}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SANDKASSE_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    // Commands that judge (test, nightly, admin's verify-audit) say so in the exit code.
    let code = match cli.command {
        Command::Generate(args) => cmd::generate::run(&args).map(|()| 0),
        Command::Platform(args) => cmd::platform::run(&args).map(|()| 0),
        Command::Inspect(args) => cmd::inspect::run(&args).map(|()| 0),
        Command::Run(args) => cmd::run::run(&args).map(|()| 0),
        Command::Test(args) => cmd::test::run(&args),
        Command::Verify(args) => cmd::verify::run(&args).map(|()| 0),
        Command::Serve(args) => cmd::serve::run(&args).map(|()| 0),
        Command::Nightly(args) => cmd::nightly::run(&args),
        Command::Admin(args) => cmd::admin::run(args),
        Command::Demo(args) => cmd::demo::run(&args).map(|()| 0),
    }?;
    if code != 0 {
        std::process::exit(code);
    }
    Ok(())
}

//! `sandkasse`: the command-line front of the libraries. Glue only: every command parses its
//! arguments and calls a library; each has its file in `cmd/`.

use clap::{Parser, Subcommand};

mod cmd;

/// The process's allocator. A run allocates and frees hundreds of MiB on whichever thread the
/// runtime gives it (a hostile component's 16 MiB result, its evidence, the report before it is
/// bounded); glibc's malloc keeps such memory in per-thread arenas and a long-running
/// `sandkasse serve` grew to ≈ 880 MiB after 50 mixed runs. mimalloc returns freed pages to the
/// system (docs/performance.md, "The service's memory"). Built without transparent huge pages
/// (the `no_thp` feature): a huge page stays resident for one live object in it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc's `mi_option_e` (`mimalloc.h`); libmimalloc-sys names the
/// options of mimalloc 2 only. A test checks that the index still holds the purge delay.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Freed memory goes back to the system at once instead of after mimalloc's default delay of
/// 1 s: with the default, the service's resident memory after a run depended on which runs came
/// before it (257–484 MiB over 500 mixed runs; 159–184 MiB with no delay). A delay of 10 ms was
/// less flat (160–194 MiB) and no delay costs a one-shot `sandkasse test` ≈ 15 % more time in
/// page faults (0.28 s instead of 0.25 s): the service's memory comes first
/// (docs/performance.md). The environment variable `MIMALLOC_PURGE_DELAY` (milliseconds)
/// overrides it.
const PURGE_DELAY_MS: std::ffi::c_long = 0;

#[allow(unsafe_code)] // mimalloc's options are a C API; no safe wrapper sets them.
fn tune_allocator() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: called first in `main`, before any other thread exists (the option is not
        // synchronised); the option and value are valid for mimalloc 3.
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, PURGE_DELAY_MS) };
    }
}

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
    tune_allocator();
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The index names the purge delay: in this process nothing set it, so it holds mimalloc 3's
    /// default of 1 000 ms, and the option after it (the number of NUMA nodes) holds 0.
    #[test]
    #[allow(unsafe_code)]
    fn the_purge_delay_option_is_where_main_sets_it() {
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
            panic!("unset MIMALLOC_PURGE_DELAY to run this test: it checks mimalloc's default");
        }
        // SAFETY: reading an option is valid at any time.
        let (delay, next) = unsafe {
            (
                libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY),
                libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY + 1),
            )
        };
        assert_eq!((delay, next), (1000, 0));
    }
}

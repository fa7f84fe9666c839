//! `sandkasse`: the command-line front of the libraries. Glue only: every command parses its
//! arguments and calls a library.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use sandkasse_kommune::{GenConfig, UnitKind};
use sandkasse_platform::{Base, FaultPlan, Platform, PlatformConfig};
use sandkasse_sandbox::LaunchSpec;

mod admin;
mod certify;
mod certify_sign;
mod commands;

/// The adapter export `sandkasse run` calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CallKind {
    Info,
    PatientOverview,
    Document,
    OnEvent,
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
    /// Serve the synthetic FHIR platform over HTTP, to explore with curl or any FHIR client.
    Platform {
        #[command(flatten)]
        data: DataArgs,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Fault plan to apply (JSON or TOML, see docs/platform.md).
        #[arg(long)]
        faults: Option<PathBuf>,
        /// Print a working token and curl commands to try.
        #[arg(long)]
        guide: bool,
    },
    /// Inspect an adapter component: digest, size, world, imports, exports and the verdict of the
    /// import audit.
    Inspect {
        /// The component (.wasm).
        adapter: PathBuf,
        /// Print JSON instead of a readable summary.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        compile: commands::CompileArgs,
    },
    /// Run one call of an adapter against a generated kommune and print the evidence.
    Run {
        /// The component (.wasm).
        adapter: PathBuf,
        /// The export to call.
        #[arg(long, value_enum, default_value_t = CallKind::PatientOverview)]
        call: CallKind,
        /// Patient id in context (e.g. pas-4601-000000); default: a patient of the chosen unit.
        #[arg(long)]
        patient: Option<String>,
        /// Kommunenummer of the tenant.
        #[arg(long, default_value = "4601")]
        kommune: String,
        /// The clinical entry for `--call document`, as JSON (see `docs/adapter-guide.md`).
        #[arg(long)]
        entry: Option<PathBuf>,
        /// The event for `--call on-event`, as JSON.
        #[arg(long)]
        event: Option<PathBuf>,
        #[command(flatten)]
        data: DataArgs,
        /// Print the evidence as JSON instead of a readable summary.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        compile: commands::CompileArgs,
    },
    /// Test an adapter against the conformance suite: every vilkår, a signed report, a verdict.
    /// Exits non-zero when the verdict is not godkjent, so it can run in a vendor's CI unchanged.
    Test {
        /// The component (.wasm).
        adapter: PathBuf,
        /// Data seed; default: the suite's.
        #[arg(long)]
        seed: Option<u64>,
        /// Where to write the reports. Default: `sandkasse-report/`.
        #[arg(long, default_value = "sandkasse-report")]
        out: PathBuf,
        /// Report formats to write: json, junit, html, badge.
        #[arg(long, value_delimiter = ',', default_value = "json,junit,html,badge")]
        format: Vec<String>,
        /// The suite folder. Default: `conformance/` of this repository.
        #[arg(long)]
        suite: Option<PathBuf>,
        /// Run only these scenarios.
        #[arg(long, value_delimiter = ',')]
        scenario: Vec<String>,
        #[command(flatten)]
        compile: commands::CompileArgs,
    },
    /// Verify a report's Ed25519 signature.
    Verify {
        /// The report (JSON).
        report: PathBuf,
        /// Trusted public key (hex); default: the key embedded in the report.
        #[arg(long)]
        key: Option<String>,
    },
    /// Serve the markedsplass: accounts, submissions, reviews, the catalogue (configuration:
    /// defaults → --config FILE → SANDKASSE__* environment → flags). Ctrl-C stops it gracefully.
    Serve {
        #[command(flatten)]
        config: admin::ConfigArgs,
        /// Address to listen on. Default: 127.0.0.1:8080.
        #[arg(long)]
        listen: Option<SocketAddr>,
    },
    /// Run one night's regression batch against the markedsplass database (for cron or CI): every
    /// listed component re-tested with the night's seed, regressions flagged, listings at risk or
    /// suspended, a summary printed. Resumes a night that was interrupted.
    Nightly {
        #[command(flatten)]
        config: admin::ConfigArgs,
        /// The night, YYYY-MM-DD. Default: today in the configured time zone.
        #[arg(long)]
        date: Option<String>,
        /// Write the night's JUnit XML here.
        #[arg(long)]
        junit: Option<PathBuf>,
    },
    /// Administer the markedsplass: organisations, users, API tokens, the audit trail.
    Admin {
        #[command(flatten)]
        config: admin::ConfigArgs,
        #[command(subcommand)]
        action: admin::AdminAction,
    },
    /// The markedsplass with demo content on 127.0.0.1: demo accounts (printed), the sample
    /// adapters uploaded and tested, one product approved and listed, one in the review queue.
    Demo {
        /// Port on 127.0.0.1.
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// Data directory; must be empty or missing. Default: a new temporary directory, removed
        /// when the demo stops.
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Folder with the built sample adapters. Default: plugins/target/wasm32-wasip2/release
        /// of this repository (`cargo xtask plugins` builds them).
        #[arg(long)]
        plugins: Option<PathBuf>,
    },
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
    match cli.command {
        Command::Generate { data, out } => generate(&data, &out),
        Command::Platform {
            data,
            listen,
            faults,
            guide,
        } => platform(&data, listen, faults.as_deref(), guide),
        Command::Inspect {
            adapter,
            json,
            compile,
        } => commands::inspect(&adapter, json, &compile),
        Command::Run {
            adapter,
            call,
            patient,
            kommune,
            entry,
            event,
            data,
            json,
            compile,
        } => commands::run(&commands::RunArgs {
            adapter,
            call,
            patient,
            kommune,
            entry,
            event,
            config: data.config(),
            json,
            compile,
        }),
        Command::Test {
            adapter,
            seed,
            out,
            format,
            suite,
            scenario,
            compile,
        } => {
            let code = certify::test(&certify::TestArgs {
                adapter,
                seed,
                out,
                format,
                suite,
                scenario,
                compile,
            })?;
            std::process::exit(code)
        }
        Command::Verify { report, key } => certify::verify(&report, key.as_deref()),
        Command::Serve { config, listen } => admin::serve(&config, listen),
        Command::Nightly {
            config,
            date,
            junit,
        } => {
            let code = admin::nightly(&config, date.as_deref(), junit.as_deref())?;
            std::process::exit(code)
        }
        Command::Admin { config, action } => {
            let code = admin::admin(&config, action)?;
            std::process::exit(code)
        }
        Command::Demo {
            port,
            data_dir,
            plugins,
        } => admin::demo(port, data_dir, plugins),
    }
}

fn read_faults(path: &Path) -> anyhow::Result<FaultPlan> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let plan = if path.extension().is_some_and(|e| e == "toml") {
        toml::from_str(&text).with_context(|| format!("parsing {} as TOML", path.display()))?
    } else {
        serde_json::from_str(&text)
            .with_context(|| format!("parsing {} as JSON", path.display()))?
    };
    Ok(plan)
}

fn platform(
    data: &DataArgs,
    listen: SocketAddr,
    faults: Option<&Path>,
    guide: bool,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let dataset = sandkasse_kommune::try_generate(&data.config())?;
    let base = Arc::new(Base::new(&dataset));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting tokio")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("listening on {listen}"))?;
        let addr = listener.local_addr()?;
        let config = PlatformConfig { base_url: format!("http://{addr}"), ..PlatformConfig::default() };
        // The platform's clock starts at the dataset's reference date ("today" in the data).
        let mut platform = Platform::on_tokio_clock(base.clone(), config);
        if let Some(path) = faults {
            platform = platform.with_faults(read_faults(path)?).context("invalid fault plan")?;
        }
        let platform = Arc::new(platform);
        println!(
            "Plattformen er klar / the platform is ready: http://{addr} ({} ressurser, {} kommuner, {:.1} s)",
            base.resource_count(),
            dataset.tenants.len(),
            started.elapsed().as_secs_f64()
        );
        if guide {
            print_guide(&platform, addr)?;
        }
        println!("Ctrl-C stopper / stops.");
        sandkasse_platform::serve(listener, platform, async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .context("serving")
    })
}

/// Prints a launch context that works and the curl commands to try it.
fn print_guide(platform: &Platform, addr: SocketAddr) -> anyhow::Result<()> {
    let spec = LaunchSpec {
        unit_kind: Some(UnitKind::Hjemmesykepleie),
        category: Some("SP".into()),
        ..LaunchSpec::default()
    };
    let ctx = sandkasse_sandbox::launch(platform, &spec)?;
    let patient = ctx.patient.clone().unwrap_or_default();
    let body = serde_json::json!({
        "practitioner": ctx.practitioner_hpr, "role": ctx.role, "unit": ctx.unit_orgnr, "patient": patient,
    });
    let fhir = format!("http://{addr}/4601/fhir");
    println!();
    println!(
        "Prøv / try (sykepleier HPR {} i enhet {}, pasient {patient}):",
        ctx.practitioner_hpr, ctx.unit_orgnr
    );
    println!("  curl -s {fhir}/metadata");
    println!(
        "  curl -s -X POST http://{addr}/4601/auth/token -H 'Content-Type: application/json' -d '{body}'"
    );
    println!("  TOKEN={}", ctx.access_token);
    println!("  curl -s -H \"Authorization: Bearer $TOKEN\" {fhir}/Patient/{patient}");
    println!(
        "  curl -s -H \"Authorization: Bearer $TOKEN\" '{fhir}/Observation?patient={patient}&_count=5'"
    );
    println!("Mer i / more in docs/platform.md");
    println!();
    Ok(())
}
fn generate(data: &DataArgs, out: &std::path::Path) -> anyhow::Result<()> {
    let config = data.config();
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

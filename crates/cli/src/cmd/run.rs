//! `sandkasse run`: one call of an adapter against a generated kommune, with its evidence.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use sandkasse_platform::{Base, Platform};
use sandkasse_sandbox::types::{ClinicalEntry, Event};
use sandkasse_sandbox::{CallEvidence, LaunchSpec, Outcome, SessionOptions, block_on_virtual};

use super::{CompileArgs, DataArgs, read, sandbox};

/// The adapter export `sandkasse run` calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CallKind {
    Info,
    PatientOverview,
    Document,
    OnEvent,
}

// The arguments of `sandkasse run` (the subcommand's own help is on `Command`).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The component (.wasm).
    pub adapter: PathBuf,
    /// The export to call.
    #[arg(long, value_enum, default_value_t = CallKind::PatientOverview)]
    pub call: CallKind,
    /// Patient id in context (e.g. pas-4601-000000); default: a patient of the chosen unit.
    #[arg(long)]
    pub patient: Option<String>,
    /// Kommunenummer of the tenant.
    #[arg(long, default_value = "4601")]
    pub kommune: String,
    /// The clinical entry for `--call document`, as JSON (see `docs/adapter-guide.md`).
    #[arg(long)]
    pub entry: Option<PathBuf>,
    /// The event for `--call on-event`, as JSON.
    #[arg(long)]
    pub event: Option<PathBuf>,
    #[command(flatten)]
    pub data: DataArgs,
    /// Print the evidence as JSON instead of a readable summary.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub compile: CompileArgs,
}

pub fn run(args: &Args) -> anyhow::Result<()> {
    let bytes = read(&args.adapter)?;
    let sandbox = sandbox(&args.compile)?;
    let prepared = sandbox
        .prepare(&bytes)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let entry: Option<ClinicalEntry> = match &args.entry {
        Some(p) => Some(
            serde_json::from_slice(&read(p)?)
                .with_context(|| format!("parsing {} as a clinical entry", p.display()))?,
        ),
        None => None,
    };
    let event: Option<Event> = match &args.event {
        Some(p) => Some(
            serde_json::from_slice(&read(p)?)
                .with_context(|| format!("parsing {} as an event", p.display()))?,
        ),
        None => None,
    };
    let dataset = sandkasse_kommune::try_generate(&args.data.config())?;
    let base = Arc::new(Base::new(&dataset));
    let evidence: Vec<CallEvidence> = block_on_virtual(async {
        let platform = Arc::new(Platform::on_tokio_clock(base.clone(), Default::default()));
        let spec = LaunchSpec {
            kommune: Some(args.kommune.clone()),
            patient: args.patient.clone(),
            ..LaunchSpec::default()
        };
        let ctx = sandkasse_sandbox::launch(&platform, &spec)?;
        let mut session = sandbox
            .session(
                &prepared,
                sandkasse_platform::app(platform),
                SessionOptions::default(),
            )
            .await;
        let mut out = vec![session.instantiation().clone()];
        let evidence = match args.call {
            CallKind::Info => session.info().await.0,
            CallKind::PatientOverview => session.patient_overview(&ctx).await,
            CallKind::Document => {
                session
                    .document(
                        &ctx,
                        entry
                            .as_ref()
                            .context("--call document needs --entry FILE.json")?,
                    )
                    .await
            }
            CallKind::OnEvent => {
                session
                    .on_event(
                        &ctx,
                        event
                            .as_ref()
                            .context("--call on-event needs --event FILE.json")?,
                    )
                    .await
            }
        };
        out.push(evidence);
        anyhow::Ok(out)
    })?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&evidence)?);
    } else {
        for e in &evidence {
            summary(e);
        }
    }
    Ok(())
}

fn summary(e: &CallEvidence) {
    println!("── {} → {}", e.call, e.class);
    match &e.outcome {
        Outcome::Ok { value } => {
            let text = value
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| value.to_string());
            println!(
                "   resultat / result: {} byte: {}",
                text.len(),
                text.chars().take(160).collect::<String>()
            );
        }
        Outcome::AdapterError { code, message } => println!("   adapter-error {code}: {message}"),
        Outcome::Failure { class, detail } => {
            println!(
                "   feil / failure {}: {}",
                class.name(),
                detail.lines().next().unwrap_or_default()
            )
        }
    }
    for x in &e.exchanges {
        let status = x
            .status
            .map(|s| s.to_string())
            .unwrap_or_else(|| format!("{:?}", x.disposition));
        println!("   {:>6} ms  {status}  {}", x.sent_ms, x.request_line);
    }
    for l in &e.logs {
        println!("   log {} {}", l.level, l.message);
    }
    println!(
        "   fuel {}  minne / memory {} KiB  virtuell tid / virtual time {}–{} ms  {} µs",
        e.fuel_used,
        e.peak_memory_bytes / 1024,
        e.virtual_start_ms,
        e.virtual_end_ms,
        e.duration_us
    );
}

//! `sandkasse inspect` and `sandkasse run`: glue over the sandbox.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use sandkasse_kommune::GenConfig;
use sandkasse_platform::{Base, Platform};
use sandkasse_sandbox::types::{ClinicalEntry, Event};
use sandkasse_sandbox::{
    CallEvidence, CompileWorker, LaunchSpec, Limits, Outcome, Sandbox, SandboxConfig,
    SessionOptions, block_on_virtual,
};

use crate::CallKind;

/// Limits on compiling the component, which runs in a child process of this program
/// (`sandkasse_sandbox::compile`); going over one rejects the component and names the limit.
#[derive(Debug, clap::Args)]
pub struct CompileArgs {
    /// Seconds compiling the component may take.
    #[arg(long, env = "SANDKASSE_COMPILE_TIMEOUT_SECONDS", default_value_t = Limits::default().compile_timeout_seconds)]
    pub compile_timeout_seconds: u64,
    /// Bytes of memory compiling the component may use (the compiling process's resident set).
    #[arg(long, env = "SANDKASSE_COMPILE_MEMORY_BYTES", default_value_t = Limits::default().compile_memory_bytes)]
    pub compile_memory_bytes: usize,
    /// Bytes of compiled code the component may produce.
    #[arg(long, env = "SANDKASSE_MAX_COMPILED_BYTES", default_value_t = Limits::default().max_compiled_bytes)]
    pub max_compiled_bytes: usize,
}

/// The sandbox for CLI commands: components compile in a child process of this program within
/// `compile`'s limits, and compiled components are cached in `$XDG_CACHE_HOME/sandkasse` (or
/// `~/.cache/sandkasse`), so a second `inspect` or `run` of the same component skips
/// compilation. `SANDKASSE_NO_CACHE=1` disables the cache.
pub fn sandbox(compile: &CompileArgs) -> anyhow::Result<Sandbox> {
    Ok(Sandbox::new(SandboxConfig {
        limits: Limits {
            compile_timeout_seconds: compile.compile_timeout_seconds,
            compile_memory_bytes: compile.compile_memory_bytes,
            max_compiled_bytes: compile.max_compiled_bytes,
            ..Limits::default()
        },
        cache_dir: cache_dir(),
        compile_worker: Some(CompileWorker::current_exe().context("locating this program")?),
        ..SandboxConfig::default()
    })?)
}

/// The CLI's compile cache directory, unless `SANDKASSE_NO_CACHE` is set.
pub fn cache_dir() -> Option<PathBuf> {
    if std::env::var_os("SANDKASSE_NO_CACHE").is_some() {
        return None;
    }
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .map(|d| d.join("sandkasse").join("compiled"))
}

fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("reading {}", path.display()))
}

pub fn inspect(adapter: &Path, json: bool, compile: &CompileArgs) -> anyhow::Result<()> {
    let bytes = read(adapter)?;
    let sandbox = sandbox(compile)?;
    let (inspection, verdict) = sandbox.inspect(&bytes);
    if json {
        let out = serde_json::json!({
            "inspection": inspection,
            "accepted": verdict.is_ok(),
            "rejection": verdict.as_ref().err().map(|e| e.to_string()),
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!("Fil / file:  {}", adapter.display());
        println!("Størrelse:   {} byte", bytes.len());
        println!(
            "SHA-256:     {}",
            sandkasse_sandbox::inspect::digest(&bytes)
        );
        if let Some(i) = &inspection {
            println!("Verden:      {}", i.world);
            println!("Eksporterer / exports:");
            for e in &i.exports {
                println!("  {e}");
            }
            println!("Importerer / imports:");
            for name in &i.imports {
                let ok = sandkasse_sandbox::inspect::audit_imports([name.as_str()]).is_ok();
                println!("  {} {name}", if ok { "✓" } else { "✗" });
            }
        }
        match &verdict {
            Ok(()) => println!("Vurdering / verdict: godtatt / accepted"),
            Err(e) => println!("Vurdering / verdict: avvist / rejected — {e}"),
        }
    }
    if verdict.is_err() {
        // The verdict is printed above; the exit code tells scripts and CI.
        std::process::exit(1);
    }
    Ok(())
}

/// Arguments of `sandkasse run`.
#[derive(Debug)]
pub struct RunArgs {
    pub adapter: PathBuf,
    pub call: CallKind,
    pub patient: Option<String>,
    pub kommune: String,
    pub entry: Option<PathBuf>,
    pub event: Option<PathBuf>,
    pub config: GenConfig,
    pub json: bool,
    pub compile: CompileArgs,
}

pub fn run(args: &RunArgs) -> anyhow::Result<()> {
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
    let dataset = sandkasse_kommune::try_generate(&args.config)?;
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

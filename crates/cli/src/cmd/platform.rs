//! `sandkasse platform`: the synthetic FHIR platform over HTTP, over `sandkasse-platform`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;
use sandkasse_kommune::UnitKind;
use sandkasse_platform::{Base, FaultPlan, Platform, PlatformConfig};
use sandkasse_sandbox::LaunchSpec;

use super::DataArgs;

// The arguments of `sandkasse platform` (the subcommand's own help is on `Command`).
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub data: DataArgs,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Fault plan to apply (JSON or TOML, see docs/platform.md).
    #[arg(long)]
    pub faults: Option<PathBuf>,
    /// Print a working token and curl commands to try.
    #[arg(long)]
    pub guide: bool,
}

pub fn run(args: &Args) -> anyhow::Result<()> {
    let (data, listen, faults, guide) =
        (&args.data, args.listen, args.faults.as_deref(), args.guide);
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

//! `sandkasse nightly`: one night's regression batch, over `sandkasse_markedsplass::nightly`.

use std::path::PathBuf;

use anyhow::Context as _;

use super::{ConfigArgs, runtime};

// The arguments of `sandkasse nightly` (the subcommand's own help is on `Command`).
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// The night, YYYY-MM-DD. Default: today in the configured time zone.
    #[arg(long)]
    pub date: Option<String>,
    /// Write the night's JUnit XML here.
    #[arg(long)]
    pub junit: Option<PathBuf>,
}

/// `sandkasse nightly`: one night's batch with this process's own workers. Exit code 0 when the
/// night completed (whatever its results), 1 when it could not.
pub fn run(args: &Args) -> anyhow::Result<i32> {
    let (date, junit) = (args.date.as_deref(), args.junit.as_deref());
    use sandkasse_markedsplass::nightly;
    let config = args.config.load(None)?;
    let runtime = runtime()?;
    let result = runtime.block_on(async move {
        let market = sandkasse_markedsplass::market::Market::open(&config).await.context("opening the markedsplass")?;
        let date = match date {
            Some(d) => d.parse().with_context(|| format!("--date {d:?} is not YYYY-MM-DD"))?,
            None => nightly::tonight(&market)?,
        };
        let night = nightly::run_night_alone(&market, date, std::time::Duration::from_secs(20 * 3600)).await?;
        let Some(s) = &night.summary else {
            anyhow::bail!("night {} finished without its summary", night.night);
        };
        println!(
            "Natt / night {} (frø / seed {}, suite {}): {} testet / tested, {} godkjent, {} ikke godkjent, {} feil / errors, \
             {} regresjoner / regressions, {} forbedringer / improvements, {} suspendert / suspended, {} s",
            night.night, night.seed, night.suite_version, s.tested, s.passed, s.failed, s.errors, s.regressions,
            s.improvements, s.suspended, serde_json::json!(s.duration_seconds)
        );
        for e in &s.entries {
            println!(
                "  {:<30} {:<10} run {:>5}  {:<14} {}",
                format!("{} ({})", e.product, e.vendor),
                e.version,
                serde_json::json!(e.run_id),
                e.verdict.map_or(e.state.as_str(), |v| v.as_str()),
                e.listing_change.map_or("", |c| c.as_str())
            );
        }
        if let Some(path) = junit {
            std::fs::write(path, nightly::junit(&night)).with_context(|| format!("writing {}", path.display()))?;
        }
        market.stores.health.close().await;
        anyhow::Ok(0)
    });
    runtime.shutdown_timeout(std::time::Duration::from_secs(5));
    result
}

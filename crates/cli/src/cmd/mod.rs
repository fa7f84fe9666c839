//! The subcommands of `sandkasse`, one file each, and what several of them share: the option
//! groups ([`DataArgs`], [`CompileArgs`], [`ConfigArgs`]) and the sandbox, runtime and signal
//! they set up. Each file has the subcommand's arguments (`Args`) and its `run`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use sandkasse_kommune::GenConfig;
use sandkasse_markedsplass::config::{Config, Overrides};
use sandkasse_sandbox::{CompileWorker, Limits, Sandbox, SandboxConfig};

pub mod admin;
pub mod demo;
pub mod generate;
pub mod inspect;
pub mod nightly;
pub mod platform;
pub mod report;
pub mod run;
pub mod serve;
pub mod test;
pub mod verify;

/// Options choosing the synthetic dataset.
#[derive(Debug, clap::Args)]
pub struct DataArgs {
    /// Seed of the synthetic data; the same seed and size give byte-identical data.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Innbyggere in the whole dataset, split across the kommuner by population.
    #[arg(long, default_value_t = 2_000)]
    pub innbyggere: u32,
    /// Kommunenummer to include (comma-separated); default: the eight samarbeidskommuner.
    #[arg(long, value_delimiter = ',')]
    pub kommuner: Vec<String>,
}

impl DataArgs {
    pub fn config(&self) -> GenConfig {
        let mut c = GenConfig::new(self.seed, self.innbyggere);
        if !self.kommuner.is_empty() {
            c.kommuner = self.kommuner.clone();
        }
        c
    }
}

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

pub fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("reading {}", path.display()))
}

/// Where the configuration comes from.
#[derive(Debug, clap::Args)]
pub struct ConfigArgs {
    /// Configuration file (TOML). Keys and defaults: `crates/markedsplass/src/config.rs`.
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// Data directory (database, components, reports). Default: `./sandkasse-data`.
    #[arg(long, global = true)]
    pub data_dir: Option<PathBuf>,
}

impl ConfigArgs {
    pub fn load(&self, listen: Option<SocketAddr>) -> anyhow::Result<Config> {
        self.load_as(listen, None)
    }

    /// [`ConfigArgs::load`] with the process's role (`sandkasse serve --role`).
    pub fn load_as(
        &self,
        listen: Option<SocketAddr>,
        role: Option<sandkasse_markedsplass::config::NodeRole>,
    ) -> anyhow::Result<Config> {
        let overrides = Overrides {
            listen,
            data_dir: self.data_dir.clone(),
            role,
        };
        let config = Config::load(self.config.as_deref(), &overrides)
            .context("loading the configuration")?;
        with_compile_worker(config)
    }
}

/// Uploads compile in a child process of this program, within the `[limits]` compile limits.
pub fn with_compile_worker(mut config: Config) -> anyhow::Result<Config> {
    config.compile_worker =
        Some(sandkasse_sandbox::CompileWorker::current_exe().context("locating this program")?);
    Ok(config)
}

pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting tokio")
}

pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}

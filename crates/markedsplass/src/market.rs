//! [`Market`]: the core of the markedsplass — what its operations need, and nothing of HTTP.
//!
//! The operations ([`crate::service`]), the listing rules ([`crate::governance`]), the access rules
//! ([`crate::policy`]), the run queue ([`crate::runner`]) and the nightly runs ([`crate::nightly`])
//! take a `&Market`. The HTTP layer (`http/`, whose `AppState` holds one) adds what only it needs
//! (templates, the login throttle, the listener's configuration); `sandkasse nightly` serves
//! nothing and needs only the market.
//!
//! ```no_run
//! # async fn f() -> Result<(), Box<dyn std::error::Error>> {
//! use sandkasse_markedsplass::{Config, clock::Clock, market::Market, store::Stores};
//! let config = Config::default();
//! let stores = Stores::open(&config).await?; // or `Market::open(&config)`
//! let market = Market::new(&config, stores, Clock::system())?; // loads the suite, starts the sandbox
//! let night = sandkasse_markedsplass::nightly::tonight(&market)?;
//! # Ok(()) }
//! ```

use std::sync::Arc;
use std::time::Duration;

use crate::accounts::Accounts;
use crate::audit::Audit;
use crate::clock::Clock;
use crate::components::ComponentStore;
use crate::config::{Config, Nightly};
use crate::runner::Runner;
use crate::store::{StoreError, Stores};

/// What the markedsplass's operations reach: the stores and the rules over them, the clock, the
/// run queue's workers, and the parts of the configuration the domain reads.
#[derive(Debug)]
pub struct Market {
    pub stores: Stores,
    pub accounts: Accounts,
    pub audit: Audit,
    pub clock: Clock,
    pub runner: Arc<Runner>,
    /// Permits to compile an upload (`limits.upload_compile_concurrency`).
    pub upload_compiles: Arc<tokio::sync::Semaphore>,
    /// Reviewers assigned to each listing case (`reviewers_per_case`).
    pub reviewers_per_case: usize,
    /// Runs executed at the same time (`workers`).
    pub workers: usize,
    /// When and how the nightly runs go (`nightly`).
    pub nightly: Nightly,
    /// What the answers to the declarations may hold (`declarations`).
    pub declarations: crate::config::Declarations,
    /// Notifications waiting for the webhook ([`crate::nightly::spawn_sender`]).
    pub outbox: Arc<crate::nightly::Outbox>,
    /// The vendors' hosted sandboxes (`workbench`).
    pub workbench: Arc<crate::workbench::Workbench>,
}

/// Why the core could not be built.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("loading the conformance suite: {0}")]
    Suite(String),
    #[error("starting the sandbox: {0}")]
    Sandbox(String),
    #[error("the report signing key: {0}")]
    Key(String),
}

impl Market {
    /// The core over opened `stores`: loads the suite, starts the sandbox, loads (or creates) the
    /// signing key. `clock` is [`Clock::system`] except in tests.
    pub fn new(config: &Config, stores: Stores, clock: Clock) -> Result<Market, StartError> {
        let audit = Audit::with_clock(stores.audit.clone(), clock.clone());
        let accounts = Accounts::new(stores.accounts.clone(), audit.clone())
            .with_hash_concurrency(config.limits.password_hash_concurrency);
        let suite_dir = config
            .suite_dir
            .clone()
            .unwrap_or_else(sandkasse_suite::load::default_root);
        let suite = sandkasse_suite::load::load(&suite_dir)
            .map_err(|e| StartError::Suite(e.to_string()))?;
        let sandbox = sandkasse_sandbox::Sandbox::new(sandkasse_sandbox::SandboxConfig {
            limits: config.limits.sandbox(),
            cache_dir: Some(config.data_dir.join("compiled")),
            compile_worker: config.compile_worker.clone(),
            ..Default::default()
        })
        .map_err(|e| StartError::Sandbox(e.to_string()))?;
        let key = signing_key(config, stores.shared.subscribe().is_some())?;
        let runner = Runner::new(
            stores.clone(),
            audit.clone(),
            clock.clone(),
            match &stores.components {
                Some(blobs) => ComponentStore::Database(blobs.clone()),
                None => ComponentStore::new(config.data_dir.join("components")),
            },
            Arc::new(suite),
            Arc::new(sandbox),
            key,
            Duration::from_secs(u64::from(config.run_lease_seconds)),
            config.max_run_attempts,
            Duration::from_secs(u64::from(config.run_budget_seconds)),
        )
        .with_report_budget(config.limits.max_report_bytes);
        let upload_compiles = Arc::new(tokio::sync::Semaphore::new(
            config.limits.upload_compile_concurrency,
        ));
        Ok(Market {
            stores: stores.clone(),
            accounts,
            audit,
            clock,
            runner: Arc::new(runner),
            upload_compiles,
            reviewers_per_case: config.reviewers_per_case,
            workers: config.workers,
            nightly: config.nightly.clone(),
            declarations: config.declarations.clone(),
            outbox: Arc::default(),
            workbench: Arc::new(crate::workbench::Workbench::new(
                &config.workbench,
                config.listen,
                stores.workbench.clone(),
            )),
        })
    }
}

impl Market {
    /// Opens the database `config` names (creating `data_dir`, running the migrations) and builds
    /// the core on the system clock.
    pub async fn open(config: &Config) -> Result<Market, StartError> {
        let stores = Stores::open(config).await?;
        Market::new(config, stores, Clock::system())
    }
}

/// The key that signs reports: `signing_key_path`, else the file named by `SANDKASSE_SIGNING_KEY`,
/// else `data_dir/signing-key.pem` (created on first use, mode 0600) — but not when other
/// processes share the database (`shared`): a key of each node's own would sign reports that the
/// published key does not verify, so every node must be given the same key.
fn signing_key(config: &Config, shared: bool) -> Result<ed25519_dalek::SigningKey, StartError> {
    use sandkasse_suite::sign::{KEY_ENV, KeySource};
    let source = match (&config.signing_key_path, std::env::var_os(KEY_ENV)) {
        (Some(path), _) => KeySource::Operator(path.clone()),
        (None, Some(path)) => KeySource::Operator(path.into()),
        (None, None) if shared => {
            return Err(StartError::Key(format!(
                "several processes share this database, so every one must sign with the same key: \
                 set signing_key_path (or {KEY_ENV}) to the same PKCS#8 key file on every node \
                 (docs/deploy.md)"
            )));
        }
        (None, None) => KeySource::Local(config.data_dir.join("signing-key.pem")),
    };
    let loaded = source
        .load()
        .map_err(|e| StartError::Key(format!("{source}: {e}")))?;
    Ok(loaded.key)
}

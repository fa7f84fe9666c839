//! `sandkasse serve` and `sandkasse admin …`: glue over `sandkasse-markedsplass`.
//!
//! Both read the same configuration (defaults → `--config FILE` → `SANDKASSE__*` → flags), so
//! `admin` works on the database `serve` uses. Every admin change is written to the audit trail
//! with the actor `cli`; `verify-audit` only reads.

use std::io::BufRead as _;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use sandkasse_markedsplass::Server;
use sandkasse_markedsplass::accounts::{Accounts, NewAccount};
use sandkasse_markedsplass::audit::{Audit, Verification};
use sandkasse_markedsplass::config::{Config, Overrides};
use sandkasse_markedsplass::store::{Role, Stores};

/// The actor recorded in the audit trail for changes made with `sandkasse admin`.
const ACTOR: &str = "cli";
/// Environment variable holding the new user's password (else: one line on stdin).
const PASSWORD_ENV: &str = "SANDKASSE_PASSWORD";

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
    fn load(&self, listen: Option<SocketAddr>) -> anyhow::Result<Config> {
        let overrides = Overrides {
            listen,
            data_dir: self.data_dir.clone(),
        };
        let config = Config::load(self.config.as_deref(), &overrides)
            .context("loading the configuration")?;
        with_compile_worker(config)
    }
}

/// `sandkasse admin` actions.
#[derive(Debug, clap::Subcommand)]
pub enum AdminAction {
    /// Create a vendor organisation.
    CreateOrg {
        /// The organisation's name, e.g. "Acme Helse AS".
        name: String,
    },
    /// Create a user. The password comes from SANDKASSE_PASSWORD or one line on stdin.
    CreateUser {
        /// Email-like username.
        #[arg(long)]
        username: String,
        /// vendor, reviewer, beslutningsgruppe or admin.
        #[arg(long)]
        role: String,
        /// The vendor's organisation (vendors only).
        #[arg(long)]
        org: Option<String>,
    },
    /// Issue an API token for a user and print it — once; only its hash is kept.
    CreateToken {
        #[arg(long)]
        username: String,
        /// A name to recognise the token by.
        #[arg(long, default_value = "cli")]
        name: String,
    },
    /// Check the audit trail's hash chain; exits 1 and names the first broken event.
    VerifyAudit,
}

/// Uploads compile in a child process of this program, within the `[limits]` compile limits.
fn with_compile_worker(mut config: Config) -> anyhow::Result<Config> {
    config.compile_worker =
        Some(sandkasse_sandbox::CompileWorker::current_exe().context("locating this program")?);
    Ok(config)
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting tokio")
}

/// `sandkasse serve`: until Ctrl-C (or SIGTERM), then a graceful shutdown.
pub fn serve(args: &ConfigArgs, listen: Option<SocketAddr>) -> anyhow::Result<()> {
    let config = args.load(listen)?;
    let data_dir = config.data_dir.clone();
    let runtime = runtime()?;
    let served = runtime.block_on(async move {
        let server = Server::bind(config).await.context("starting the markedsplass")?;
        // One line, printed once: scripts and tests read the address from it.
        println!(
            "Markedsplassen er klar / the markedsplass is ready: http://{} (data: {}); Ctrl-C stopper / stops.",
            server.local_addr(),
            data_dir.display()
        );
        server.run(shutdown_signal()).await.context("serving")
    });
    // A run still executing is left `running` in the database and run again at the next start;
    // its thread is not waited for beyond this.
    runtime.shutdown_timeout(std::time::Duration::from_secs(5));
    served
}

/// `sandkasse nightly`: one night's batch with this process's own workers. Exit code 0 when the
/// night completed (whatever its results), 1 when it could not.
pub fn nightly(
    args: &ConfigArgs,
    date: Option<&str>,
    junit: Option<&std::path::Path>,
) -> anyhow::Result<i32> {
    use sandkasse_markedsplass::nightly;
    let config = args.load(None)?;
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

/// `sandkasse demo`: the markedsplass with demo content, until Ctrl-C.
pub fn demo(port: u16, data_dir: Option<PathBuf>, plugins: Option<PathBuf>) -> anyhow::Result<()> {
    use sandkasse_markedsplass::demo;
    let plugins = plugins.unwrap_or_else(|| {
        PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../plugins/target/wasm32-wasip2/release"
        ))
    });
    if !plugins.join("reference.wasm").is_file() {
        anyhow::bail!(
            "{} has no reference.wasm: the demo uploads the sample adapters; run: cargo xtask plugins",
            plugins.display()
        );
    }
    let (_temporary, data_dir) = match data_dir {
        Some(dir) => {
            if dir
                .read_dir()
                .is_ok_and(|mut entries| entries.next().is_some())
            {
                anyhow::bail!(
                    "{} is not empty: the demo starts from an empty data directory",
                    dir.display()
                );
            }
            (None, dir)
        }
        None => {
            let temporary = tempfile::Builder::new()
                .prefix("sandkasse-demo-")
                .tempdir()
                .context("making a data directory")?;
            let path = temporary.path().to_owned();
            (Some(temporary), path)
        }
    };
    let overrides = Overrides {
        listen: Some(SocketAddr::from(([127, 0, 0, 1], port))),
        data_dir: Some(data_dir.clone()),
    };
    let config =
        with_compile_worker(Config::load(None, &overrides).context("loading the configuration")?)?;
    let runtime = runtime()?;
    let served = runtime.block_on(async move {
        let server = Server::bind(config).await.context("starting the markedsplass")?;
        let addr = server.local_addr();
        println!("Markedsplassen er klar / the markedsplass is ready: http://{addr} (data: {})", data_dir.display());
        println!();
        println!("Demo-kontoer / demo accounts (passord / password: {}):", demo::PASSWORD);
        for a in demo::ACCOUNTS {
            let org = a.organisation.map(|o| format!(", {o}")).unwrap_or_default();
            println!("  {:<28} {}{org}", a.username, a.role);
        }
        println!();
        println!("Demo-innholdet lastes opp og testes nå / the demo content is being uploaded and tested now …");
        let state = server.state().clone();
        tokio::spawn(async move {
            match demo::seed(&state, &plugins).await {
                Ok(()) => println!(
                    "Klart / ready: http://{addr}/ (løpende oversikt / catalogue), http://{addr}/logg-inn. Ctrl-C stopper / stops."
                ),
                Err(e) => eprintln!("Demo-innholdet kunne ikke lages / the demo content could not be set up: {e}"),
            }
        });
        server.run(shutdown_signal()).await.context("serving")
    });
    runtime.shutdown_timeout(std::time::Duration::from_secs(5));
    served
}

async fn shutdown_signal() {
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

/// `sandkasse admin ACTION`. Returns the process exit code.
pub fn admin(args: &ConfigArgs, action: AdminAction) -> anyhow::Result<i32> {
    let config = args.load(None)?;
    runtime()?.block_on(async move {
        let stores = Stores::open(&config)
            .await
            .context("opening the database")?;
        let audit = Audit::new(stores.audit.clone());
        let accounts = Accounts::new(stores.accounts.clone(), audit.clone());
        let code = run(&accounts, &audit, action).await;
        stores.health.close().await;
        code
    })
}

async fn run(accounts: &Accounts, audit: &Audit, action: AdminAction) -> anyhow::Result<i32> {
    match action {
        AdminAction::CreateOrg { name } => {
            let org = accounts.create_organisation(ACTOR, &name).await?;
            println!(
                "Opprettet organisasjon / created organisation {:?} (id {})",
                org.name, org.id
            );
        }
        AdminAction::CreateUser {
            username,
            role,
            org,
        } => {
            let role = Role::parse(&role).with_context(|| {
                let all: Vec<_> = Role::ALL.iter().map(|r| r.as_str()).collect();
                format!("unknown role {role:?}: use one of {}", all.join(", "))
            })?;
            let password = read_password()?;
            let user = accounts
                .create_user(
                    ACTOR,
                    NewAccount {
                        username,
                        role,
                        organisation: org,
                        password,
                    },
                )
                .await?;
            println!(
                "Opprettet bruker / created user {} ({})",
                user.username, user.role
            );
        }
        AdminAction::CreateToken { username, name } => {
            let (record, token) = accounts.create_token(ACTOR, &username, &name).await?;
            eprintln!(
                "API-token {} for {username} — vises bare nå / shown only now; only its hash is stored:",
                record.prefix
            );
            println!("{token}");
        }
        AdminAction::VerifyAudit => match audit.verify_chain().await? {
            Verification::Intact { events, head } => {
                println!("Revisjonsloggen er intakt / the audit trail is intact: {events} events");
                if let Some(head) = head {
                    println!("head {head}");
                }
            }
            Verification::Broken { seq, problem } => {
                eprintln!(
                    "Revisjonsloggen er brutt / the audit trail is broken at event {seq}: {problem}"
                );
                return Ok(1);
            }
        },
    }
    Ok(0)
}

fn read_password() -> anyhow::Result<String> {
    if let Ok(password) = std::env::var(PASSWORD_ENV) {
        return Ok(password);
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from stdin")?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    anyhow::ensure!(
        !password.is_empty(),
        "no password: set {PASSWORD_ENV} or give it as one line on stdin"
    );
    Ok(password)
}

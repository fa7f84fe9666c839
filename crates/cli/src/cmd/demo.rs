//! `sandkasse demo`: the markedsplass with demo content, until Ctrl-C.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use sandkasse_markedsplass::Server;
use sandkasse_markedsplass::config::{Config, Overrides};

use super::{runtime, shutdown_signal, with_compile_worker};

// The arguments of `sandkasse demo` (the subcommand's own help is on `Command`).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Port on 127.0.0.1.
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Data directory; must be empty or missing. Default: a new temporary directory, removed
    /// when the demo stops.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Folder with the built sample adapters. Default: plugins/target/wasm32-wasip2/release
    /// of this repository (`cargo xtask plugins` builds them).
    #[arg(long)]
    pub plugins: Option<PathBuf>,
}

/// `sandkasse demo`: the markedsplass with demo content, until Ctrl-C.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let (port, data_dir, plugins) = (args.port, args.data_dir.clone(), args.plugins.clone());
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
        role: None,
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

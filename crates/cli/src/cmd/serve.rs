//! `sandkasse serve`: the markedsplass, over `sandkasse-markedsplass`.

use std::net::SocketAddr;

use anyhow::Context as _;
use sandkasse_markedsplass::Server;
use sandkasse_markedsplass::config::NodeRole;

use super::{ConfigArgs, runtime, shutdown_signal};

// The arguments of `sandkasse serve` (the subcommand's own help is on `Command`).
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Address to listen on. Default: 127.0.0.1:8080.
    #[arg(long)]
    pub listen: Option<SocketAddr>,
    /// What this process does when several share one PostgreSQL database: `web` (pages and API,
    /// no worker), `worker` (runs queued tests; only /health and /ready on --listen) or `all`.
    /// Default: `all` (configuration key `role`).
    #[arg(long)]
    pub role: Option<NodeRole>,
}

/// `sandkasse serve`: until Ctrl-C (or SIGTERM), then a graceful shutdown.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let config = args.config.load_as(args.listen, args.role)?;
    let role = config.role;
    let data_dir = config.data_dir.clone();
    let runtime = runtime()?;
    let served = runtime.block_on(async move {
        let server = Server::bind(config).await.context("starting the markedsplass")?;
        // One line, printed once: scripts and tests read the address from it.
        println!(
            "Markedsplassen er klar / the markedsplass is ready: http://{} (data: {}, rolle / role: {}); Ctrl-C stopper / stops.",
            server.local_addr(),
            data_dir.display(),
            role.as_str()
        );
        server.run(shutdown_signal()).await.context("serving")
    });
    // A run still executing is left `running` in the database and run again at the next start;
    // its thread is not waited for beyond this.
    runtime.shutdown_timeout(std::time::Duration::from_secs(5));
    served
}

//! A throw-away PostgreSQL server for tests, as the `pgtemp` crate makes one — written here because
//! it must also work as root, where `initdb` and `postgres` refuse to run: then both run as the
//! `postgres` user (`runuser -u postgres --`) in a temp dir handed to that user.
//!
//! [`PgTemp::start`] finds the server's binaries ([`bin_dir`]: `SANDKASSE_PG_BIN`, else the newest
//! `/usr/lib/postgresql/*/bin`), runs `initdb` into a fresh temp dir (trust authentication, superuser
//! `postgres`), and starts `postgres` listening on 127.0.0.1 on a free port, its socket in the temp
//! dir, with durability off (`fsync`, `synchronous_commit`, `full_page_writes`: a test database
//! need not survive a power cut). It returns once the server accepts connections. Dropping the
//! value stops the server (fast shutdown) and removes the directory. A watchdog process does the
//! same if the test process ends without dropping it (a server in a `static`, a killed run).
//!
//! ```no_run
//! let server = sandkasse_pgtemp::PgTemp::start()?;
//! let url = server.create_database("market_test")?; // postgres://postgres@127.0.0.1:…/market_test
//! server.restart()?; // same data, same port
//! # Ok::<(), sandkasse_pgtemp::Error>(())
//! ```

#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};

/// What the Debian/Ubuntu package that provides `initdb` and `postgres` is called.
pub const INSTALL_COMMAND: &str = "apt-get install -y postgresql";

/// The environment variable naming the directory of `initdb`, `pg_ctl`, `postgres`, `createdb`.
pub const BIN_ENV: &str = "SANDKASSE_PG_BIN";

/// Why a throw-away server could not be had.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "no PostgreSQL server binaries (initdb, pg_ctl, postgres) in {searched}: install them \
         (`{INSTALL_COMMAND}`, or `sudo {INSTALL_COMMAND}`) or set {BIN_ENV} to their directory"
    )]
    NoBinaries { searched: String },
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    #[error("{what} failed ({status}): {output}")]
    Command {
        what: String,
        status: std::process::ExitStatus,
        output: String,
    },
}

/// The directory holding the server binaries: `$SANDKASSE_PG_BIN`, else the newest version's
/// `/usr/lib/postgresql/<version>/bin` that has `initdb`.
pub fn bin_dir() -> Result<PathBuf, Error> {
    let has_server = |dir: &Path| {
        ["initdb", "pg_ctl", "postgres"]
            .iter()
            .all(|b| dir.join(b).is_file())
    };
    if let Some(dir) = std::env::var_os(BIN_ENV) {
        let dir = PathBuf::from(dir);
        return if has_server(&dir) {
            Ok(dir)
        } else {
            Err(Error::NoBinaries {
                searched: format!("{BIN_ENV}={}", dir.display()),
            })
        };
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            has_server(&bin).then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions
        .pop()
        .map(|(_, bin)| bin)
        .ok_or_else(|| Error::NoBinaries {
            searched: "/usr/lib/postgresql/*/bin".into(),
        })
}

/// A running throw-away server; stopped and removed on drop.
#[derive(Debug)]
pub struct PgTemp {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    /// Run the server's tools as the `postgres` user (this process is root).
    as_postgres: bool,
}

/// The superuser `initdb` makes; trust authentication, no password.
const SUPERUSER: &str = "postgres";

impl PgTemp {
    /// Creates a cluster in a fresh temp dir and starts it on a free port.
    pub fn start() -> Result<PgTemp, Error> {
        let bin = bin_dir()?;
        let dir = tempfile::Builder::new()
            .prefix("sandkasse-pg-")
            .tempdir()
            .map_err(io("creating the server's temp dir"))?;
        let as_postgres = is_root();
        let server = PgTemp {
            port: free_port()?,
            dir,
            bin,
            as_postgres,
        };
        std::fs::create_dir(server.socket_dir()).map_err(io("creating the socket dir"))?;
        if as_postgres {
            run(
                Command::new("chown")
                    .arg("-R")
                    .arg("postgres:postgres")
                    .arg(server.dir.path()),
                "chown of the server's temp dir to postgres",
            )?;
        }
        run(
            server
                .tool("initdb")
                .arg("-D")
                .arg(server.data_dir())
                .args(["--auth=trust", "--username", SUPERUSER, "--encoding=UTF8"])
                .args(["--locale=C", "--no-sync"]),
            "initdb",
        )?;
        server.watchdog()?;
        server.start_server()?;
        Ok(server)
    }

    /// The port the server listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The URL of database `name` on this server.
    pub fn url_for(&self, name: &str) -> String {
        format!("postgres://{SUPERUSER}@127.0.0.1:{}/{name}", self.port)
    }

    /// The URL of the `postgres` database every cluster has.
    pub fn url(&self) -> String {
        self.url_for("postgres")
    }

    /// Creates an empty database `name` and returns its URL.
    pub fn create_database(&self, name: &str) -> Result<String, Error> {
        run(
            Command::new(self.bin.join("createdb"))
                .args(["-h", "127.0.0.1", "-U", SUPERUSER, "-p"])
                .arg(self.port.to_string())
                .arg(name),
            &format!("createdb {name}"),
        )?;
        Ok(self.url_for(name))
    }

    /// Creates a database with a name not used before in this process and returns its URL.
    pub fn fresh_database(&self) -> Result<String, Error> {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        self.create_database(&format!("test_{}_{n}", std::process::id()))
    }

    /// Stops the server (fast shutdown: open sessions are ended) and starts it again on the same
    /// data directory and port, as a database restarted under its clients.
    pub fn restart(&self) -> Result<(), Error> {
        self.stop()?;
        self.start_server()
    }

    /// Stops the server (fast shutdown). [`PgTemp::restart`] starts it again.
    pub fn stop(&self) -> Result<(), Error> {
        run(
            self.tool("pg_ctl")
                .arg("-D")
                .arg(self.data_dir())
                .args(["-m", "fast", "-w", "stop"]),
            "pg_ctl stop",
        )
    }

    /// Starts the server on the existing data directory and waits until it accepts connections.
    fn start_server(&self) -> Result<(), Error> {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
             -c full_page_writes=off -c max_connections=400",
            self.port,
            self.socket_dir().display()
        );
        run(
            self.tool("pg_ctl")
                .arg("-D")
                .arg(self.data_dir())
                .arg("-l")
                .arg(self.dir.path().join("server.log"))
                .args(["-o", &options, "-w", "-t", "60", "start"]),
            "pg_ctl start",
        )
        .map_err(|e| match e {
            Error::Command {
                what,
                status,
                output,
            } => Error::Command {
                what,
                status,
                output: format!("{output}\nserver log:\n{}", self.log()),
            },
            e => e,
        })
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn socket_dir(&self) -> PathBuf {
        self.dir.path().join("socket")
    }

    /// A server tool, run as `postgres` when this process is root.
    fn tool(&self, name: &str) -> Command {
        let program = self.bin.join(name);
        if self.as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            Command::new(program)
        }
    }

    /// A detached process that stops the server and removes its directory once this process is
    /// gone, whether or not this value was dropped (a `static` never is).
    fn watchdog(&self) -> Result<(), Error> {
        let stop = self.tool("pg_ctl");
        let mut stop_line: Vec<String> = std::iter::once(stop.get_program())
            .chain(stop.get_args())
            .map(|a| shell_quote(&a.to_string_lossy()))
            .collect();
        stop_line.extend(
            [
                "-D",
                &self.data_dir().to_string_lossy(),
                "-m",
                "immediate",
                "stop",
            ]
            .map(shell_quote),
        );
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {stop} >/dev/null 2>&1; rm -rf {dir}",
            pid = std::process::id(),
            stop = stop_line.join(" "),
            dir = shell_quote(&self.dir.path().to_string_lossy()),
        );
        Command::new("setsid")
            .args(["sh", "-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(io("starting the server's watchdog (setsid sh)"))?;
        Ok(())
    }
}

impl Drop for PgTemp {
    fn drop(&mut self) {
        // Best effort: the watchdog stops a server this misses.
        let _ = self.stop();
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

fn free_port() -> Result<u16, Error> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(io("finding a free port"))?;
    Ok(listener
        .local_addr()
        .map_err(io("finding a free port"))?
        .port())
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

fn io(what: &str) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        what: what.to_owned(),
        source,
    }
}

/// Runs `command` to the end; its output is the error when it fails.
fn run(command: &mut Command, what: &str) -> Result<(), Error> {
    let out = command.stdin(Stdio::null()).output().map_err(io(what))?;
    if out.status.success() {
        return Ok(());
    }
    Err(Error::Command {
        what: what.to_owned(),
        status: out.status,
        output: format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_starts_takes_databases_and_restarts_on_its_port() {
        let server = PgTemp::start().unwrap();
        let port = server.port();
        let url = server.create_database("eins").unwrap();
        assert_eq!(url, format!("postgres://postgres@127.0.0.1:{port}/eins"));
        assert!(matches!(
            server.create_database("eins"),
            Err(Error::Command { .. })
        ));
        server.restart().unwrap();
        assert_eq!(server.port(), port);
        // The data survived: the database is still there.
        assert!(matches!(
            server.create_database("eins"),
            Err(Error::Command { .. })
        ));
        server.fresh_database().unwrap();
        let dir = server.dir.path().to_owned();
        drop(server);
        assert!(!dir.exists());
        assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
    }
}

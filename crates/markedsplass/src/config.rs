//! The service's configuration: one typed [`Config`], loaded in layers.
//!
//! Each layer overrides the one before it:
//!
//! 1. the defaults documented on each field ([`Config::default`]);
//! 2. an optional TOML file (`sandkasse serve --config FILE`);
//! 3. the environment, `SANDKASSE__` + the field name in upper case, nested with `__`
//!    (`SANDKASSE__LISTEN=0.0.0.0:8080`, `SANDKASSE__NIGHTLY__TIME=03:30`);
//! 4. explicit overrides from the command line ([`Overrides`]).
//!
//! ```
//! use sandkasse_markedsplass::config::{Config, Overrides};
//! let overrides = Overrides { data_dir: Some("/tmp/sandkasse-doc".into()), ..Overrides::default() };
//! let config = Config::load(None, &overrides).unwrap();
//! assert_eq!(config.data_dir, std::path::Path::new("/tmp/sandkasse-doc"));
//! assert_eq!(config.database_url(), "sqlite:///tmp/sandkasse-doc/sandkasse.db?mode=rwc");
//! ```
//!
//! A file that is named but missing is an error; unknown keys in the file are errors too, so a typo
//! fails loudly instead of being ignored. Secret-bearing fields (`database_url`, which may carry a
//! PostgreSQL password) are redacted from `Debug`.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format as _, Serialized, Toml};
use serde::{Deserialize, Serialize};

use crate::limits::ServiceLimits;

/// Prefix of the environment variables read by [`Config::load`]; nesting uses `__`.
pub const ENV_PREFIX: &str = "SANDKASSE__";

/// Fields whose type parses the value (its refusal names the field, as [`Config::validate`] does).
const PARSED_FIELDS: [&str; 2] = ["nightly.time", "nightly.time_zone"];

/// A time of day, `HH:MM` in the configuration, parsed when the configuration is read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TimeOfDay {
    text: String,
    time: jiff::civil::Time,
}

impl TimeOfDay {
    /// As written in the configuration (`HH:MM`).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The time of day.
    pub fn time(&self) -> jiff::civil::Time {
        self.time
    }
}

impl TryFrom<String> for TimeOfDay {
    type Error = String;

    fn try_from(text: String) -> Result<TimeOfDay, String> {
        match jiff::civil::Time::strptime("%H:%M", &text) {
            Ok(time) => Ok(TimeOfDay { text, time }),
            Err(_) => Err(format!("{text:?} is not a time of day as HH:MM")),
        }
    }
}

impl From<TimeOfDay> for String {
    fn from(t: TimeOfDay) -> String {
        t.text
    }
}

/// An IANA time zone, by name in the configuration, looked up (in the bundled tz database) when
/// the configuration is read.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Zone {
    name: String,
    tz: jiff::tz::TimeZone,
}

impl Zone {
    /// The IANA name, as written in the configuration.
    pub fn as_str(&self) -> &str {
        &self.name
    }

    /// The time zone.
    pub fn tz(&self) -> &jiff::tz::TimeZone {
        &self.tz
    }
}

impl TryFrom<String> for Zone {
    type Error = String;

    fn try_from(name: String) -> Result<Zone, String> {
        match jiff::tz::TimeZone::get(&name) {
            Ok(tz) => Ok(Zone { name, tz }),
            Err(_) => Err(format!("{name:?} is not an IANA time zone")),
        }
    }
}

impl From<Zone> for String {
    fn from(z: Zone) -> String {
        z.name
    }
}

/// Zones are the same when named the same.
impl PartialEq for Zone {
    fn eq(&self, other: &Zone) -> bool {
        self.name == other.name
    }
}

impl Eq for Zone {}

impl PartialEq<&str> for Zone {
    fn eq(&self, other: &&str) -> bool {
        self.name == *other
    }
}

/// The whole service configuration.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address the HTTP server listens on. Default: `127.0.0.1:8080`.
    pub listen: SocketAddr,
    /// Directory of the embedded database, stored components and reports (created if missing).
    /// Default: `./sandkasse-data`.
    pub data_dir: PathBuf,
    /// Database URL: `sqlite:…` (embedded) or `postgres://…` / `postgresql://…` (several
    /// processes on one database). Default (`None`): `sqlite://{data_dir}/sandkasse.db?mode=rwc`,
    /// see [`Config::database_url`]. Secret: never shown by `Debug`.
    pub database_url: Option<String>,
    /// Largest accepted request body (component upload), in bytes. Default: 64 MiB.
    pub max_upload_bytes: u64,
    /// Runs executed at the same time by the worker pool. Default: 2.
    pub workers: usize,
    /// Connections this process keeps to the database at most (a PostgreSQL node also holds one
    /// for its listener and one per duty it holds). Default: 8.
    pub database_pool_size: u32,
    /// What this process does when several share one PostgreSQL database ([`NodeRole`],
    /// `docs/deploy.md`). Default: `all`.
    pub role: NodeRole,
    /// When the nightly regression run starts. Default: 02:00 Europe/Oslo.
    pub nightly: Nightly,
    /// Ed25519 key that signs reports (PKCS#8 PEM). Default: none — the file named by
    /// `SANDKASSE_SIGNING_KEY`, else a key generated in `data_dir/signing-key.pem` on first use.
    pub signing_key_path: Option<PathBuf>,
    /// The conformance suite to run. Default: none — the `conformance/` directory of this build.
    pub suite_dir: Option<PathBuf>,
    /// Mark the session cookie `Secure` (serve behind HTTPS). Default: false, so the service works
    /// on `http://127.0.0.1`; set true in every deployment that is reached over a network.
    pub secure_cookies: bool,
    /// Hours a login session lasts. Default: 8.
    pub session_hours: u32,
    /// Reviewers assigned to each listing case; all must agree. Default: 2.
    pub reviewers_per_case: usize,
    /// Seconds a worker's claim on a run lasts without renewal (it renews while it works); a run
    /// whose claim lapses is run again. Default: 120.
    pub run_lease_seconds: u32,
    /// Times a run is started before it is given up as an error (a component that crashes the
    /// service must not loop forever). Default: 3.
    pub max_run_attempts: u32,
    /// Seconds a run may take before it is recorded as an error and its worker moves on (so no
    /// component — hostile, slow or huge — can stall the queue or a night). Default: 600.
    pub run_budget_seconds: u32,
    /// What one component or client can make the service store, render or hold
    /// ([`ServiceLimits`], each field with its default).
    pub limits: ServiceLimits,
    /// The vendors' hosted development sandboxes ([`Workbench`], `docs/workbench.md`).
    pub workbench: Workbench,
    /// The answers to the declarations (egenerklæringer) of a listing request and their
    /// attachments ([`Declarations`], each field with its default).
    pub declarations: Declarations,
    /// The program that compiles uploaded components in a child process, within the compile
    /// limits of [`ServiceLimits`] (`sandkasse_sandbox::compile`). Not read from files or the
    /// environment: the binary sets it (`sandkasse serve` names itself). Default: none — compile
    /// in this process, bounded only in the compiled code's size.
    #[serde(skip)]
    pub compile_worker: Option<sandkasse_sandbox::CompileWorker>,
}

/// What one process of the service does (`sandkasse serve --role`). Several processes on several
/// hosts share one PostgreSQL database: web nodes behind a load balancer answer people and
/// scripts, worker nodes run the queued tests (`docs/deploy.md`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NodeRole {
    /// The pages and the API, no worker: uploads are queued for the worker nodes.
    Web,
    /// The worker pool only, with `/health` and `/ready` on `listen` for the load balancer or
    /// orchestrator.
    Worker,
    /// Both, as one process on SQLite runs.
    #[default]
    All,
}

impl NodeRole {
    /// As written in the configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            NodeRole::Web => "web",
            NodeRole::Worker => "worker",
            NodeRole::All => "all",
        }
    }

    /// Whether this process serves the pages and the API.
    pub fn serves_web(self) -> bool {
        matches!(self, NodeRole::Web | NodeRole::All)
    }

    /// Whether this process runs queued tests.
    pub fn runs_tests(self) -> bool {
        matches!(self, NodeRole::Worker | NodeRole::All)
    }
}

impl std::str::FromStr for NodeRole {
    type Err = String;

    fn from_str(s: &str) -> Result<NodeRole, String> {
        match s {
            "web" => Ok(NodeRole::Web),
            "worker" => Ok(NodeRole::Worker),
            "all" => Ok(NodeRole::All),
            other => Err(format!("{other:?} is not a role: web, worker or all")),
        }
    }
}

/// The vendors' hosted development sandboxes (`crate::workbench`, `docs/workbench.md`): one
/// synthetic platform per organisation under `/sandkasse/{org}/{kommunenummer}/fhir`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Workbench {
    /// Innbyggere of each organisation's synthetic dataset, split over the eight
    /// samarbeidskommuner (the seed is the organisation's id). Default: 800.
    pub innbyggere: u32,
    /// Requests per second one organisation's sandbox answers, sustained (a token bucket per
    /// organisation); beyond it the answer is `429` with `Retry-After`. Default: 20.
    pub requests_per_second: u32,
    /// Requests one organisation may send at once above the sustained rate (the bucket's size).
    /// Default: 40.
    pub burst: u32,
    /// Requests of one organisation handled at the same time (on blocking threads, so a busy
    /// sandbox does not hold the service's own threads); one more is answered `429` with
    /// `Retry-After: 1`. Default: 4.
    pub concurrency_per_organisation: usize,
    /// Sandboxes kept in memory (least recently used goes first; an evicted one is rebuilt from
    /// its seed and journal on its next request). About 10 MB each at the default size.
    /// Default: 8.
    pub loaded_sandboxes: usize,
    /// Request/response pairs kept per sandbox for the exchanges page (in memory, newest first).
    /// Default: 50.
    pub exchanges_kept: usize,
    /// Bytes of each request and response body kept in an exchange; the rest is cut and said to
    /// be. Default: 16 384.
    pub exchange_body_bytes: usize,
    /// Launches and writes a sandbox's journal may hold; further ones are refused until the
    /// vendor resets the sandbox. Default: 10 000.
    pub max_journal_entries: u32,
    /// The service's public URL (`https://sandkasse.example.no`), the start of every FHIR base URL
    /// the workbench hands out. Default: none — `http://` and the address the server listens on.
    pub public_url: Option<String>,
}

impl Default for Workbench {
    fn default() -> Self {
        Workbench {
            innbyggere: 800,
            requests_per_second: 20,
            burst: 40,
            concurrency_per_organisation: 4,
            loaded_sandboxes: 8,
            exchanges_kept: 50,
            exchange_body_bytes: 16 * 1024,
            max_journal_entries: 10_000,
            public_url: None,
        }
    }
}

/// What a listing request's answers to the declarations may hold (`docs/markedsplass.md`,
/// Declarations). An answer or attachment over a limit is refused with the limit named.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Declarations {
    /// Longest answer to one declaration, in characters. Default: 5000.
    pub max_answer_chars: usize,
    /// Most attachments to one answer. Default: 3.
    pub max_attachments: usize,
    /// Largest attachment, in bytes. Default: 5 MiB (5242880).
    pub max_attachment_bytes: u64,
    /// The media types an attachment may have; each is checked against the file's content (a PDF
    /// starts `%PDF-`, a PNG and a JPEG with their signatures, text is UTF-8 without control
    /// characters). Default: `application/pdf`, `image/png`, `image/jpeg`, `text/plain`.
    pub attachment_types: Vec<String>,
}

impl Default for Declarations {
    fn default() -> Self {
        Declarations {
            max_answer_chars: 5000,
            max_attachments: 3,
            max_attachment_bytes: 5 * 1024 * 1024,
            attachment_types: crate::declarations::KNOWN_TYPES
                .iter()
                .map(|t| (*t).to_owned())
                .collect(),
        }
    }
}

/// The nightly regression runs ([`crate::nightly`], `docs/nightly.md`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Nightly {
    /// Whether `sandkasse serve` starts a batch every night. Default: true.
    pub enabled: bool,
    /// Local start time, `HH:MM`. Default: `02:00`.
    pub time: TimeOfDay,
    /// IANA time zone of `time`. Default: `Europe/Oslo`.
    pub time_zone: Zone,
    /// Days a listing may stay at risk (failing a skal-vilkår every night) before it is suspended.
    /// Default: 3.
    pub grace_days: u32,
    /// Also re-test every product's latest godkjent submission that is not listed. Default: false.
    pub include_latest_godkjent: bool,
    /// URL notifications are POSTed to (`http://` only: put a TLS-terminating relay in front for
    /// HTTPS). Default: none.
    pub webhook_url: Option<String>,
    /// Secret of the webhook's HMAC-SHA256 signature. Secret: never shown by `Debug`.
    pub webhook_secret: Option<String>,
}

impl Default for Nightly {
    fn default() -> Self {
        Nightly {
            enabled: true,
            time: TimeOfDay::try_from("02:00".to_owned()).expect("a time of day"),
            time_zone: Zone::try_from("Europe/Oslo".to_owned())
                .expect("in the bundled tz database"),
            grace_days: 3,
            include_latest_godkjent: false,
            webhook_url: None,
            webhook_secret: None,
        }
    }
}

impl fmt::Debug for Nightly {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Nightly")
            .field("enabled", &self.enabled)
            .field("time", &self.time)
            .field("time_zone", &self.time_zone)
            .field("grace_days", &self.grace_days)
            .field("include_latest_godkjent", &self.include_latest_godkjent)
            .field("webhook_url", &self.webhook_url)
            .field(
                "webhook_secret",
                &self.webhook_secret.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("./sandkasse-data"),
            database_url: None,
            max_upload_bytes: 64 * 1024 * 1024,
            workers: 2,
            role: NodeRole::All,
            database_pool_size: crate::store::DEFAULT_POOL_SIZE,
            nightly: Nightly::default(),
            signing_key_path: None,
            suite_dir: None,
            secure_cookies: false,
            session_hours: 8,
            reviewers_per_case: 2,
            run_lease_seconds: 120,
            max_run_attempts: 3,
            run_budget_seconds: 600,
            limits: ServiceLimits::default(),
            workbench: Workbench::default(),
            declarations: Declarations::default(),
            compile_worker: None,
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir)
            .field(
                "database_url",
                &self.database_url.as_ref().map(|_| "<redacted>"),
            )
            .field("max_upload_bytes", &self.max_upload_bytes)
            .field("workers", &self.workers)
            .field("role", &self.role)
            .field("database_pool_size", &self.database_pool_size)
            .field("nightly", &self.nightly)
            .field("signing_key_path", &self.signing_key_path)
            .field("suite_dir", &self.suite_dir)
            .field("secure_cookies", &self.secure_cookies)
            .field("session_hours", &self.session_hours)
            .field("reviewers_per_case", &self.reviewers_per_case)
            .field("run_lease_seconds", &self.run_lease_seconds)
            .field("max_run_attempts", &self.max_run_attempts)
            .field("run_budget_seconds", &self.run_budget_seconds)
            .field("limits", &self.limits)
            .field("workbench", &self.workbench)
            .field("declarations", &self.declarations)
            .field("compile_worker", &self.compile_worker)
            .finish()
    }
}

/// Explicit values from the command line; `None` leaves the lower layers' value.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Overrides {
    /// `--listen ADDR`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<SocketAddr>,
    /// `--data-dir DIR`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    /// `--role web|worker|all`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<NodeRole>,
}

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("the configuration file {0} does not exist")]
    MissingFile(PathBuf),
    #[error("invalid configuration: {0}")]
    Invalid(#[from] Box<figment::Error>),
    #[error("invalid configuration: {field}: {problem}")]
    Value {
        field: &'static str,
        problem: String,
    },
}

impl Config {
    /// Loads defaults → `file` → `SANDKASSE__*` environment → `overrides`, then validates.
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> Result<Config, ConfigError> {
        Self::from_figment(Self::figment(file, overrides)?)
    }

    /// The layered sources of [`Config::load`], for callers that add their own layers.
    pub fn figment(file: Option<&Path>, overrides: &Overrides) -> Result<Figment, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(file) = file {
            if !file.is_file() {
                return Err(ConfigError::MissingFile(file.to_path_buf()));
            }
            figment = figment.merge(Toml::file_exact(file));
        }
        Ok(figment
            .merge(Env::prefixed(ENV_PREFIX).split("__"))
            .merge(Serialized::defaults(overrides)))
    }

    /// Extracts and validates a configuration from any figment.
    pub fn from_figment(figment: Figment) -> Result<Config, ConfigError> {
        let config: Config = figment.extract().map_err(|e| {
            // A value its type refuses (a time of day, a time zone) is named by its field.
            let path = e.path.join(".");
            match (PARSED_FIELDS.iter().find(|f| **f == path), &e.kind) {
                (Some(field), figment::error::Kind::Message(problem)) => ConfigError::Value {
                    field,
                    problem: problem.clone(),
                },
                _ => ConfigError::Invalid(Box::new(e)),
            }
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Checks values the types alone do not.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.workers == 0 {
            return Err(ConfigError::Value {
                field: "workers",
                problem: "must be at least 1".into(),
            });
        }
        for (field, value) in [
            ("session_hours", u64::from(self.session_hours)),
            ("reviewers_per_case", self.reviewers_per_case as u64),
            ("run_lease_seconds", u64::from(self.run_lease_seconds)),
            ("max_run_attempts", u64::from(self.max_run_attempts)),
            ("run_budget_seconds", u64::from(self.run_budget_seconds)),
            ("database_pool_size", u64::from(self.database_pool_size)),
            ("nightly.grace_days", u64::from(self.nightly.grace_days)),
            ("workbench.innbyggere", u64::from(self.workbench.innbyggere)),
            (
                "workbench.requests_per_second",
                u64::from(self.workbench.requests_per_second),
            ),
            ("workbench.burst", u64::from(self.workbench.burst)),
            (
                "workbench.concurrency_per_organisation",
                self.workbench.concurrency_per_organisation as u64,
            ),
            (
                "workbench.loaded_sandboxes",
                self.workbench.loaded_sandboxes as u64,
            ),
            (
                "workbench.max_journal_entries",
                u64::from(self.workbench.max_journal_entries),
            ),
        ] {
            if value == 0 {
                return Err(ConfigError::Value {
                    field,
                    problem: "must be at least 1".into(),
                });
            }
        }
        if self.max_upload_bytes == 0 {
            return Err(ConfigError::Value {
                field: "max_upload_bytes",
                problem: "must be at least 1".into(),
            });
        }
        for (field, value) in [
            (
                "declarations.max_answer_chars",
                self.declarations.max_answer_chars as u64,
            ),
            (
                "declarations.max_attachment_bytes",
                self.declarations.max_attachment_bytes,
            ),
        ] {
            if value == 0 {
                return Err(ConfigError::Value {
                    field,
                    problem: "must be at least 1".into(),
                });
            }
        }
        if let Some(t) = self
            .declarations
            .attachment_types
            .iter()
            .find(|t| !crate::declarations::KNOWN_TYPES.contains(&t.as_str()))
        {
            return Err(ConfigError::Value {
                field: "declarations.attachment_types",
                problem: format!(
                    "{t:?} is not one of the types whose content is checked: {}",
                    crate::declarations::KNOWN_TYPES.join(", ")
                ),
            });
        }
        self.limits
            .validate()
            .map_err(|(field, problem)| ConfigError::Value { field, problem })?;
        if let Some(url) = &self.nightly.webhook_url {
            if !url.starts_with("http://") {
                return Err(ConfigError::Value {
                    field: "nightly.webhook_url",
                    problem:
                        "only http:// is supported; put a TLS-terminating relay in front for https"
                            .into(),
                });
            }
            if self
                .nightly
                .webhook_secret
                .as_deref()
                .is_none_or(|s| s.len() < 16)
            {
                return Err(ConfigError::Value {
                    field: "nightly.webhook_secret",
                    problem: "a webhook needs a secret of at least 16 characters to sign with"
                        .into(),
                });
            }
        }
        Ok(())
    }

    /// The database URL: `database_url` if set, else SQLite in `data_dir`.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}/sandkasse.db?mode=rwc", self.data_dir.display()),
        }
    }
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment's `Jail` closures return its large `figment::Error`
mod tests {
    use super::*;
    use figment::Jail;

    #[test]
    fn defaults_are_documented_values() {
        Jail::expect_with(|_| {
            let c = Config::load(None, &Overrides::default()).unwrap();
            assert_eq!(c, Config::default());
            assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
            assert_eq!(
                c.database_url(),
                "sqlite://./sandkasse-data/sandkasse.db?mode=rwc"
            );
            assert_eq!(c.max_upload_bytes, 67_108_864);
            assert_eq!(
                (c.nightly.time.as_str(), c.nightly.time_zone.as_str()),
                ("02:00", "Europe/Oslo")
            );
            Ok(())
        });
    }

    #[test]
    fn file_beats_default_env_beats_file_flag_beats_env() {
        Jail::expect_with(|jail| {
            jail.create_file(
                "s.toml",
                "listen = \"127.0.0.1:9000\"\nworkers = 5\ndata_dir = \"/file\"\n[nightly]\ntime = \"03:00\"\n",
            )?;
            let file = Some(Path::new("s.toml"));
            let c = Config::load(file, &Overrides::default()).unwrap();
            assert_eq!(
                (c.listen.port(), c.workers, c.nightly.time.as_str()),
                (9000, 5, "03:00")
            );
            assert_eq!(
                c.nightly.time_zone, "Europe/Oslo",
                "unset nested keys keep their default"
            );

            jail.set_env("SANDKASSE__LISTEN", "127.0.0.1:9001");
            jail.set_env("SANDKASSE__NIGHTLY__TIME", "04:15");
            let c = Config::load(file, &Overrides::default()).unwrap();
            assert_eq!(
                (c.listen.port(), c.workers, c.nightly.time.as_str()),
                (9001, 5, "04:15")
            );

            let flags = Overrides {
                listen: Some("127.0.0.1:9002".parse().unwrap()),
                data_dir: Some("/flag".into()),
                role: Some(NodeRole::Worker),
            };
            let c = Config::load(file, &flags).unwrap();
            assert_eq!(
                (c.listen.port(), c.data_dir.as_path()),
                (9002, Path::new("/flag"))
            );
            assert_eq!(c.role, NodeRole::Worker);
            assert_eq!(c.database_url(), "sqlite:///flag/sandkasse.db?mode=rwc");
            Ok(())
        });
    }

    #[test]
    fn mistakes_fail_loudly() {
        Jail::expect_with(|jail| {
            let missing = Config::load(Some(Path::new("nope.toml")), &Overrides::default());
            assert!(matches!(missing, Err(ConfigError::MissingFile(_))));
            jail.create_file("typo.toml", "lisen = \"127.0.0.1:1\"\n")?;
            let typo = Config::load(Some(Path::new("typo.toml")), &Overrides::default());
            assert!(matches!(typo, Err(ConfigError::Invalid(_))), "{typo:?}");
            jail.set_env("SANDKASSE__NIGHTLY__TIME", "25:99");
            let bad = Config::load(None, &Overrides::default());
            assert!(
                matches!(
                    bad,
                    Err(ConfigError::Value {
                        field: "nightly.time",
                        ..
                    })
                ),
                "{bad:?}"
            );
            jail.set_env("SANDKASSE__NIGHTLY__TIME", "03:30");
            jail.set_env("SANDKASSE__NIGHTLY__TIME_ZONE", "Mars/Olympus");
            let bad = Config::load(None, &Overrides::default()).unwrap_err();
            assert_eq!(
                bad.to_string(),
                "invalid configuration: nightly.time_zone: \"Mars/Olympus\" is not an IANA time zone"
            );
            Ok(())
        });
    }

    #[test]
    fn debug_hides_the_database_url() {
        let c = Config {
            database_url: Some("postgres://u:hemmelig@db/x".into()),
            ..Config::default()
        };
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("hemmelig") && shown.contains("<redacted>"),
            "{shown}"
        );
    }
}

//! Integration tests of the markedsplass library: each test gets a fresh database — a SQLite file in
//! a temp dir, or with `SANDKASSE_TEST_DATABASE=postgres` a new database on a throw-away
//! PostgreSQL server (one per test process) — so the same tests prove both backends.

mod accounts;
mod audit;
mod authz;
mod csrf;
mod declarations;
mod flow;
mod hostile;
mod market;
mod migrations;
mod nightly;
mod notices;
mod openapi;
mod product_page;
mod refusals;
mod rerun;
mod run_page;
mod self_service;
mod server;
mod shared_database;
mod standing;
mod trail;
mod workbench;

use std::sync::OnceLock;

use sandkasse_markedsplass::Config;
use sandkasse_markedsplass::accounts::Accounts;
use sandkasse_markedsplass::audit::Audit;
use sandkasse_markedsplass::store::Stores;
use sqlx::Row as _;

/// The environment variable choosing the database the tests run on: `sqlite` (the default) or
/// `postgres` (a throw-away server for the test process, a fresh database per test).
pub const DATABASE_ENV: &str = "SANDKASSE_TEST_DATABASE";

/// The database backend these tests run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The backend [`DATABASE_ENV`] names; an unknown name stops the tests.
pub fn backend() -> Backend {
    match std::env::var(DATABASE_ENV).as_deref() {
        Err(_) | Ok("" | "sqlite") => Backend::Sqlite,
        Ok("postgres") => Backend::Postgres,
        Ok(other) => panic!("{DATABASE_ENV}={other:?}: use sqlite or postgres"),
    }
}

/// The test process's PostgreSQL server, started at the first use.
fn postgres_server() -> &'static sandkasse_pgtemp::PgTemp {
    static SERVER: OnceLock<sandkasse_pgtemp::PgTemp> = OnceLock::new();
    SERVER.get_or_init(|| {
        sandkasse_pgtemp::PgTemp::start()
            .unwrap_or_else(|e| panic!("{DATABASE_ENV}=postgres needs a server: {e}"))
    })
}

/// The `database_url` of a fresh database for one test: `None` on SQLite (the file in the data
/// directory), a new database on the test server on PostgreSQL.
pub fn fresh_database_url() -> Option<String> {
    match backend() {
        Backend::Sqlite => None,
        Backend::Postgres => Some(
            postgres_server()
                .fresh_database()
                .unwrap_or_else(|e| panic!("creating a test database: {e}")),
        ),
    }
}

/// The configuration's defaults on the test backend: a fresh database (see
/// [`fresh_database_url`]) and, on PostgreSQL — which other processes could share, so a node must
/// be given the operator's signing key — a key file made once for the test process.
pub fn backend_config() -> Config {
    let database_url = fresh_database_url();
    let signing_key_path = database_url.as_ref().map(|_| {
        static KEY: OnceLock<(tempfile::TempDir, std::path::PathBuf)> = OnceLock::new();
        KEY.get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("signing-key.pem");
            let key = sandkasse_suite::sign::generate_key();
            std::fs::write(&path, sandkasse_suite::sign::key_to_pem(&key).as_bytes()).unwrap();
            (dir, path)
        })
        .1
        .clone()
    });
    Config {
        database_url,
        signing_key_path,
        ..Config::default()
    }
}

/// A value bound to raw SQL.
#[derive(Debug, Clone)]
pub enum Val {
    Int(i64),
    Text(Option<String>),
}

impl From<i64> for Val {
    fn from(v: i64) -> Val {
        Val::Int(v)
    }
}

impl From<&str> for Val {
    fn from(v: &str) -> Val {
        Val::Text(Some(v.into()))
    }
}

impl From<Option<&str>> for Val {
    fn from(v: Option<&str>) -> Val {
        Val::Text(v.map(Into::into))
    }
}

/// A second connection to a test's database, for raw SQL (tampering, rows the service would never
/// write). SQL is written with `?` placeholders; on PostgreSQL they become `$1`, `$2`, ...
#[derive(Debug)]
pub enum Raw {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

impl Raw {
    /// Connects to the database `config` names, as `Stores::open` does.
    pub async fn open(config: &Config) -> Raw {
        match &config.database_url {
            None => Raw::Sqlite(
                sandkasse_markedsplass::store::sqlite::SqliteStore::open_file(
                    &config.data_dir.join("sandkasse.db"),
                )
                .await
                .unwrap()
                .pool()
                .clone(),
            ),
            Some(url) => Raw::Postgres(sqlx::PgPool::connect(url).await.unwrap()),
        }
    }

    /// `sqlite` or `postgres`, whichever this database is.
    pub fn sql<'s>(&self, sqlite: &'s str, postgres: &'s str) -> &'s str {
        match self {
            Raw::Sqlite(_) => sqlite,
            Raw::Postgres(_) => postgres,
        }
    }

    /// Runs one statement; the number of rows it changed.
    pub async fn execute(&self, sql: &str, binds: &[Val]) -> Result<u64, sqlx::Error> {
        match self {
            Raw::Sqlite(pool) => Ok(bound(sqlx::query(sql), binds)
                .execute(pool)
                .await?
                .rows_affected()),
            Raw::Postgres(pool) => {
                let sql = numbered(sql);
                Ok(bound(sqlx::query(&sql), binds)
                    .execute(pool)
                    .await?
                    .rows_affected())
            }
        }
    }

    /// The first row's integer columns.
    pub async fn fetch_ints(&self, sql: &str, binds: &[Val]) -> Vec<Option<i64>> {
        match self {
            Raw::Sqlite(pool) => {
                let row = bound(sqlx::query(sql), binds)
                    .fetch_one(pool)
                    .await
                    .unwrap();
                (0..row.len()).map(|i| row.get(i)).collect()
            }
            Raw::Postgres(pool) => {
                let sql = numbered(sql);
                let row = bound(sqlx::query(&sql), binds)
                    .fetch_one(pool)
                    .await
                    .unwrap();
                (0..row.len()).map(|i| row.get(i)).collect()
            }
        }
    }
}

/// `?` placeholders as PostgreSQL's `$1`, `$2`, ...
fn numbered(sql: &str) -> String {
    let mut n = 0;
    sql.chars()
        .map(|c| {
            if c == '?' {
                n += 1;
                format!("${n}")
            } else {
                c.to_string()
            }
        })
        .collect()
}

fn bound<'q, DB>(
    mut query: sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>,
    binds: &[Val],
) -> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>
where
    DB: sqlx::Database,
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<String>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    for bind in binds {
        query = match bind.clone() {
            Val::Int(i) => query.bind(i),
            Val::Text(t) => query.bind(t),
        };
    }
    query
}

/// A fresh database of the backend under test, its stores and services; the temp dir lives as
/// long as the value.
#[derive(Debug)]
pub struct TestDb {
    pub dir: tempfile::TempDir,
    pub stores: Stores,
    pub audit: Audit,
    pub accounts: Accounts,
    /// A second connection to the same database, for raw SQL (tampering).
    pub raw: Raw,
    /// What the stores were opened with.
    pub config: Config,
}

impl TestDb {
    pub async fn new() -> TestDb {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            data_dir: dir.path().join("data"),
            ..backend_config()
        };
        let stores = Stores::open(&config).await.unwrap();
        let audit = Audit::new(stores.audit.clone());
        let accounts = Accounts::new(stores.accounts.clone(), audit.clone());
        let raw = Raw::open(&config).await;
        TestDb {
            dir,
            stores,
            audit,
            accounts,
            raw,
            config,
        }
    }

    /// The same database opened again, as another process would.
    pub async fn reopen(&self) -> Stores {
        Stores::open(&self.config).await.unwrap()
    }
}

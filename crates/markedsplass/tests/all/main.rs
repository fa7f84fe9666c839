//! Integration tests of the markedsplass library: each test gets a fresh database in a temp dir.

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
mod standing;
mod trail;

use sandkasse_markedsplass::accounts::Accounts;
use sandkasse_markedsplass::audit::Audit;
use sandkasse_markedsplass::store::Stores;
use sandkasse_markedsplass::store::sqlite::SqliteStore;

/// A fresh SQLite database, its stores and services; the temp dir lives as long as the value.
#[derive(Debug)]
pub struct TestDb {
    pub dir: tempfile::TempDir,
    pub stores: Stores,
    pub audit: Audit,
    pub accounts: Accounts,
    /// A second handle on the same file, for raw SQL (tampering).
    pub raw: SqliteStore,
}

impl TestDb {
    pub async fn new() -> TestDb {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("test.db");
        let stores = Stores::from_sqlite(SqliteStore::open_file(&path).await.unwrap());
        let audit = Audit::new(stores.audit.clone());
        let accounts = Accounts::new(stores.accounts.clone(), audit.clone());
        let raw = SqliteStore::open_file(&path).await.unwrap();
        TestDb {
            dir,
            stores,
            audit,
            accounts,
            raw,
        }
    }
}

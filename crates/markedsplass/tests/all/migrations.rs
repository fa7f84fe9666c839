//! Migrations that rebuild tables, on a database written before them: 0005 (typed columns) — every
//! row comes through unchanged, and the new checks refuse what the Rust types rule out — and 0008
//! (notifications of decisions) — every notification comes through, with its version.

use std::borrow::Cow;
use std::str::FromStr as _;

use sandkasse_markedsplass::store::sqlite::MIGRATOR;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sqlx::{Row as _, SqlitePool};

/// The tables the migration rebuilds.
const TABLES: [&str; 6] = [
    "runs",
    "nights",
    "review_cases",
    "reviews",
    "listings",
    "notifications",
];

/// Rows of every rebuilt table as the code wrote them before the migration.
const ROWS: &str = r#"
INSERT INTO organisations VALUES (1, 'Acme AS', '2026-11-01T00:00:00Z');
INSERT INTO users (id, username, role, organisation_id, password_hash, created_at)
    VALUES (1, 'kari@acme.no', 'vendor', 1, 'x', '2026-11-01T00:00:00Z');
INSERT INTO products VALUES (1, 1, 'Journal', '2026-11-01T00:00:00Z');
INSERT INTO submissions (id, product_id, version, changelog, component_sha256, component_size,
                         file_name, inspection, submitted_by, created_at)
    VALUES (1, 1, '1.0.0', '', 'ab', 1, 'a.wasm', '{}', 1, '2026-11-01T00:00:00Z');
INSERT INTO nights (id, night, seed, suite_version, state, started_at, finished_at, summary)
    VALUES (1, '2026-11-20', 7, '2.1.0', 'done', '2026-11-20T01:00:00Z', '2026-11-20T01:10:00Z', '{"tested":1}'),
           (2, '2026-11-21', 8, '2.1.0', 'running', '2026-11-21T01:00:00Z', NULL, NULL);
INSERT INTO runs (id, submission_id, purpose, state, attempts, claim, lease_until, queued_at,
                  started_at, finished_at, verdict, score, error, capabilities, report, night_id,
                  seed, figures, badge)
    VALUES (1, 1, 'submission', 'done', 1, NULL, NULL, 'q', 's', 'f', 'godkjent', 1.0, NULL, '["read"]', '{}', NULL, NULL, '{"fuel":1}', '<svg/>'),
           (2, 1, 'nightly', 'done', 1, NULL, NULL, 'q', 's', 'f', 'ikke-godkjent', 0.5, NULL, '[]', '{}', 1, 7, '{"fuel":2}', '<svg/>'),
           (3, 1, 'submission', 'error', 1, NULL, NULL, 'q', 's', 'f', NULL, NULL, 'boom', '[]', NULL, NULL, NULL, NULL, NULL),
           (4, 1, 'nightly', 'running', 1, 'claim', 'l', 'q', 's', NULL, NULL, NULL, NULL, '[]', NULL, 2, 8, NULL, NULL);
INSERT INTO review_cases (id, product_id, submission_id, run_id, state, requested_by, requested_at)
    VALUES (1, 1, 1, 1, 'approved', 1, '2026-11-02T00:00:00Z');
INSERT INTO reviews (case_id, reviewer_id, level, decision, note, decided_at)
    VALUES (1, 1, 'reviewer', 'approve', 'ok', '2026-11-03T00:00:00Z');
INSERT INTO listings (product_id, submission_id, case_id, state, listed_at, updated_at, reason,
                      at_risk_since, at_risk_run_id)
    VALUES (1, 1, 1, 'listed', 't', 't', NULL, '2026-11-20T01:10:00Z', 2);
INSERT INTO notifications (id, at, organisation_id, product_id, kind, night_id, run_id, message,
                           payload, attempts, delivered_at, delivery_error)
    VALUES (1, 't', 1, 1, 'at_risk', 1, 2, 'i faresonen', '{"kind":"at_risk"}', 1, NULL, 'refused');
"#;

async fn pool(dir: &tempfile::TempDir) -> SqlitePool {
    let options = SqliteConnectOptions::from_str("sqlite:")
        .unwrap()
        .filename(dir.path().join("old.db"))
        .create_if_missing(true)
        .foreign_keys(true);
    SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .unwrap()
}

/// A database migrated up to 0004 holding [`ROWS`].
async fn written_before_0005(dir: &tempfile::TempDir) -> SqlitePool {
    let pool = pool(dir).await;
    migrated_up_to(4).run(&pool).await.unwrap();
    sqlx::raw_sql(ROWS).execute(&pool).await.unwrap();
    pool
}

/// The migrations up to `version`.
fn migrated_up_to(version: i64) -> Migrator {
    Migrator {
        migrations: Cow::Owned(
            MIGRATOR
                .iter()
                .filter(|m| m.version <= version)
                .cloned()
                .collect(),
        ),
        ..Migrator::DEFAULT
    }
}

/// A table's columns and rows, as text.
async fn dump(pool: &SqlitePool, table: &str) -> String {
    let columns: Vec<String> = sqlx::query("SELECT name FROM pragma_table_info(?) ORDER BY cid")
        .bind(table)
        .fetch_all(pool)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get("name"))
        .collect();
    dump_columns(pool, table, &columns).await
}

/// The rows of `table` in `columns` (those of an earlier dump: columns later migrations added are
/// checked apart), as text.
async fn dump_columns(pool: &SqlitePool, table: &str, columns: &[String]) -> String {
    let quoted: Vec<String> = columns.iter().map(|c| format!("quote({c})")).collect();
    let rows: Option<String> = sqlx::query(&format!(
        "SELECT group_concat({}, char(10)) AS rows FROM (SELECT * FROM {table} ORDER BY rowid)",
        quoted.join(" || ',' || ")
    ))
    .fetch_one(pool)
    .await
    .unwrap()
    .get("rows");
    format!("{}\n{}", columns.join(","), rows.unwrap_or_default())
}

#[tokio::test]
async fn a_database_from_before_keeps_its_rows_and_gains_the_checks() {
    let dir = tempfile::tempdir().unwrap();
    let pool = written_before_0005(&dir).await;
    let mut dumps = Vec::new();
    for table in TABLES {
        dumps.push(dump(&pool, table).await);
    }

    MIGRATOR.run(&pool).await.unwrap();
    for (table, before) in TABLES.iter().zip(&dumps) {
        let columns: Vec<String> = before
            .lines()
            .next()
            .unwrap_or_default()
            .split(',')
            .map(str::to_owned)
            .collect();
        assert_eq!(
            &dump_columns(&pool, table, &columns).await,
            before,
            "{table}"
        );
    }
    // Columns added later start empty on every old row.
    let partial: i64 = sqlx::query("SELECT COUNT(*) AS n FROM runs WHERE scenario IS NOT NULL")
        .fetch_one(&pool)
        .await
        .unwrap()
        .get("n");
    assert_eq!(partial, 0, "old runs ran every scenario");
    let leftover: Vec<String> =
        sqlx::query("SELECT sql FROM sqlite_master WHERE sql LIKE '%_typed%'")
            .fetch_all(&pool)
            .await
            .unwrap()
            .iter()
            .map(|r| r.get("sql"))
            .collect();
    assert!(
        leftover.is_empty(),
        "references follow the renames: {leftover:?}"
    );
    let dangling = sqlx::query("PRAGMA foreign_key_check")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert!(dangling.is_empty(), "foreign keys hold");
    let indexes: Vec<String> = sqlx::query(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name",
    )
    .fetch_all(&pool)
    .await
    .unwrap()
    .iter()
    .map(|r| r.get("name"))
    .collect();
    for index in [
        "notifications_org",
        "review_cases_one_open",
        "runs_one_per_night",
        "runs_queue",
        "runs_submission",
    ] {
        assert!(indexes.iter().any(|i| i == index), "{index}: {indexes:?}");
    }

    // What the types rule out, the database refuses.
    for refused in [
        "UPDATE runs SET verdict = NULL WHERE id = 1",
        "UPDATE runs SET verdict = 'godkjent' WHERE id = 3",
        "UPDATE runs SET verdict = 'bestått' WHERE id = 1",
        "UPDATE runs SET figures = 'ikke json' WHERE id = 1",
        "UPDATE runs SET capabilities = '[' WHERE id = 1",
        "UPDATE nights SET summary = NULL WHERE id = 1",
        "UPDATE nights SET state = 'done' WHERE id = 2",
        "UPDATE nights SET state = 'ferdig' WHERE id = 1",
        "UPDATE listings SET at_risk_run_id = NULL",
        "UPDATE listings SET at_risk_since = NULL",
        "UPDATE notifications SET kind = 'suspend'",
        "UPDATE notifications SET payload = '{'",
    ] {
        assert!(
            sqlx::query(refused).execute(&pool).await.is_err(),
            "{refused}"
        );
    }
    // And takes what they allow.
    for allowed in [
        "UPDATE listings SET at_risk_since = NULL, at_risk_run_id = NULL",
        "UPDATE nights SET state = 'done', finished_at = 't', summary = '{}' WHERE id = 2",
        "UPDATE runs SET state = 'done', claim = NULL, verdict = 'ikke-godkjent' WHERE id = 4",
    ] {
        sqlx::query(allowed).execute(&pool).await.unwrap();
    }
}

#[tokio::test]
async fn notifications_from_before_0008_keep_their_rows_and_take_the_new_kinds() {
    let dir = tempfile::tempdir().unwrap();
    let pool = written_before_0005(&dir).await;
    sqlx::query(
        "UPDATE notifications SET payload = '{\"kind\":\"at_risk\",\"version\":\"1.0.0\"}'",
    )
    .execute(&pool)
    .await
    .unwrap();
    MIGRATOR.run(&pool).await.unwrap();
    let row = sqlx::query(
        "SELECT id, kind, night_id, run_id, case_id, version, note, message, attempts, delivery_error FROM notifications",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        (
            row.get::<i64, _>("id"),
            row.get::<String, _>("kind"),
            row.get::<Option<i64>, _>("run_id"),
            row.get::<Option<i64>, _>("case_id"),
            row.get::<Option<String>, _>("version"),
            row.get::<Option<String>, _>("note"),
            row.get::<String, _>("message"),
            row.get::<Option<String>, _>("delivery_error"),
        ),
        (
            1,
            "at_risk".into(),
            Some(2),
            None,
            Some("1.0.0".into()),
            None,
            "i faresonen".into(),
            Some("refused".into())
        )
    );
    for kind in ["approved", "rejected", "reinstated", "delisted"] {
        sqlx::query("UPDATE notifications SET kind = ?, case_id = 1, note = 'ok'")
            .bind(kind)
            .execute(&pool)
            .await
            .unwrap();
    }
    assert!(
        sqlx::query("UPDATE notifications SET kind = 'decided'")
            .execute(&pool)
            .await
            .is_err()
    );
    assert!(
        sqlx::query("PRAGMA foreign_key_check")
            .fetch_all(&pool)
            .await
            .unwrap()
            .is_empty()
    );
}

/// A version number means the same schema on both backends: the next change of the schema is one
/// migration with the same number in `migrations/sqlite/` and `migrations/postgres/`.
#[test]
fn both_backends_end_at_the_same_migration() {
    let last = |m: &Migrator| m.iter().map(|m| m.version).max();
    let sqlite = last(&MIGRATOR);
    assert_eq!(
        sqlite,
        last(&sandkasse_markedsplass::store::postgres::MIGRATOR)
    );
    assert!(sqlite.is_some());
}

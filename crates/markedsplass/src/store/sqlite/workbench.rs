//! [`WorkbenchStore`] over SQLite: a row per sandbox, its journal as numbered JSON entries.

use jiff::Timestamp;
use sqlx::Row as _;

use super::SqliteStore;
use crate::i18n::Msg;
use crate::store::rows::{SANDBOX, sandbox_record as record};
use crate::store::{
    Audited, BoxFuture, FaultPreset, JournalEntry, SandboxRecord, StoreError, WorkbenchStore,
};

async fn load(
    conn: &mut sqlx::SqliteConnection,
    org: i64,
) -> Result<Option<SandboxRecord>, StoreError> {
    sqlx::query(&format!("{SANDBOX} WHERE s.organisation_id = ?"))
        .bind(org)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(record)
        .transpose()
}

fn missing(org: i64) -> StoreError {
    StoreError::Corrupt(format!("no sandbox of organisation {org}"))
}

impl WorkbenchStore for SqliteStore {
    fn sandbox(&self, org: i64) -> BoxFuture<'_, Result<Option<SandboxRecord>, StoreError>> {
        Box::pin(async move {
            let mut conn = self.pool.acquire().await?;
            load(&mut conn, org).await
        })
    }

    fn open_sandbox(
        &self,
        org: i64,
        secret: [u8; 32],
        at: Timestamp,
    ) -> BoxFuture<'_, Result<SandboxRecord, StoreError>> {
        Box::pin(self.write(Box::new(|_| Vec::new()), move |conn| {
            Box::pin(async move {
                sqlx::query(
                    "INSERT INTO workbench_sandboxes (organisation_id, secret, created_at) VALUES (?, ?, ?) \
                     ON CONFLICT (organisation_id) DO NOTHING",
                )
                .bind(org)
                .bind(hex::encode(secret))
                .bind(at.to_string())
                .execute(&mut *conn)
                .await?;
                load(conn, org).await?.ok_or_else(|| missing(org))
            })
        }))
    }

    fn journal(&self, org: i64) -> BoxFuture<'_, Result<Vec<JournalEntry>, StoreError>> {
        Box::pin(async move {
            let rows = sqlx::query(
                "SELECT entry FROM workbench_journal WHERE organisation_id = ? ORDER BY seq",
            )
            .bind(org)
            .fetch_all(&self.pool)
            .await?;
            rows.iter()
                .map(|r| {
                    let text: String = r.try_get("entry")?;
                    serde_json::from_str(&text)
                        .map_err(|e| StoreError::Corrupt(format!("journal entry: {e}")))
                })
                .collect()
        })
    }

    fn append_journal<'a>(
        &'a self,
        org: i64,
        entry: &'a JournalEntry,
        after: u32,
        max: u32,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        let text = serde_json::to_string(entry)
            .map_err(|e| StoreError::Corrupt(format!("journal entry: {e}")));
        Box::pin(self.write(Box::new(|_| Vec::new()), move |conn| {
            Box::pin(async move {
                let text = text?;
                let (count, last): (i64, i64) = sqlx::query_as(
                    "SELECT COUNT(*), COALESCE(MAX(seq), 0) FROM workbench_journal WHERE organisation_id = ?",
                )
                .bind(org)
                .fetch_one(&mut *conn)
                .await?;
                if count != i64::from(after) {
                    return Ok(false);
                }
                if count >= i64::from(max) {
                    return Err(StoreError::Refused(
                        Msg::new("msg_workbench_full").arg("max", max),
                    ));
                }
                sqlx::query(
                    "INSERT INTO workbench_journal (organisation_id, seq, entry) VALUES (?, ?, ?)",
                )
                .bind(org)
                .bind(last + 1)
                .bind(text)
                .execute(&mut *conn)
                .await?;
                Ok(true)
            })
        }))
    }

    fn set_faults<'a>(
        &'a self,
        org: i64,
        preset: FaultPreset,
        audit: Audited<'a, FaultPreset>,
    ) -> BoxFuture<'a, Result<FaultPreset, StoreError>> {
        Box::pin(self.write(audit, move |conn| {
            Box::pin(async move {
                let changed = sqlx::query(
                    "UPDATE workbench_sandboxes SET faults = ? WHERE organisation_id = ?",
                )
                .bind(preset.as_str())
                .bind(org)
                .execute(&mut *conn)
                .await?
                .rows_affected();
                if changed == 0 {
                    return Err(missing(org));
                }
                Ok(preset)
            })
        }))
    }

    fn reset_sandbox<'a>(
        &'a self,
        org: i64,
        secret: [u8; 32],
        at: Timestamp,
        audit: Audited<'a, u32>,
    ) -> BoxFuture<'a, Result<u32, StoreError>> {
        Box::pin(self.write(audit, move |conn| {
            Box::pin(async move {
                let removed = sqlx::query("DELETE FROM workbench_journal WHERE organisation_id = ?")
                    .bind(org)
                    .execute(&mut *conn)
                    .await?
                    .rows_affected();
                let changed = sqlx::query(
                    "UPDATE workbench_sandboxes SET secret = ?, reset_at = ? WHERE organisation_id = ?",
                )
                .bind(hex::encode(secret))
                .bind(at.to_string())
                .bind(org)
                .execute(&mut *conn)
                .await?
                .rows_affected();
                if changed == 0 {
                    return Err(missing(org));
                }
                Ok(u32::try_from(removed).unwrap_or(u32::MAX))
            })
        }))
    }
}

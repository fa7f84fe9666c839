//! [`ComponentBlobs`] over PostgreSQL: uploaded components in the `components` table (BYTEA), so
//! every node reads what any node stored. [`crate::components::ComponentStore`] checks the digest
//! on every read.

use super::PostgresStore;
use crate::components::ComponentBlobs;
use crate::store::{BoxFuture, StoreError};

impl ComponentBlobs for PostgresStore {
    fn put_component<'a>(
        &'a self,
        sha256: &'a str,
        bytes: &'a [u8],
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            // Only a damaged component is ever put again under its digest: it is replaced.
            sqlx::query(
                "INSERT INTO components (sha256, bytes) VALUES ($1, $2) \
                 ON CONFLICT (sha256) DO UPDATE SET bytes = excluded.bytes",
            )
            .bind(sha256)
            .bind(bytes)
            .execute(&self.pool)
            .await?;
            Ok(())
        })
    }

    fn component<'a>(
        &'a self,
        sha256: &'a str,
    ) -> BoxFuture<'a, Result<Option<Vec<u8>>, StoreError>> {
        Box::pin(async move {
            Ok(
                sqlx::query_scalar("SELECT bytes FROM components WHERE sha256 = $1")
                    .bind(sha256)
                    .fetch_optional(&self.pool)
                    .await?,
            )
        })
    }
}

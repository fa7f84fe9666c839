//! [`RunQueue`] over PostgreSQL: a worker's claim and lease are two columns of the run's row, so a
//! claim, its renewal and the finish are each one guarded `UPDATE`. Workers of several processes
//! claim from the same table: the next run is taken with `FOR UPDATE SKIP LOCKED`.

use jiff::Timestamp;
use sqlx::Row as _;

use super::PostgresStore;
use super::market::{load_run, load_submission};
use crate::store::rows::{missing, parse};
use crate::store::{
    Audited, BoxFuture, ClaimedRun, Run, RunOutcome, RunQueue, RunState, StoreError,
};

impl RunQueue for PostgresStore {
    fn queue_counts(&self) -> BoxFuture<'_, Result<Vec<(RunState, i64)>, StoreError>> {
        Box::pin(async move {
            let rows =
                sqlx::query("SELECT state, COUNT(*) AS n FROM runs GROUP BY state ORDER BY state")
                    .fetch_all(&self.pool)
                    .await?;
            rows.iter()
                .map(|r| {
                    Ok((
                        parse(r.try_get("state")?, "run state", RunState::parse)?,
                        r.try_get("n")?,
                    ))
                })
                .collect()
        })
    }

    fn requeue_running<'a>(
        &'a self,
        at: Timestamp,
        audit: Audited<'a, Vec<Run>>,
    ) -> BoxFuture<'a, Result<Vec<Run>, StoreError>> {
        Box::pin(self.write(audit, move |conn| {
            Box::pin(async move {
                // Other processes' workers may be running runs of this database right now: only
                // the runs whose lease ran out are put back.
                let ids: Vec<i64> = sqlx::query(
                    "UPDATE runs SET state = 'queued', claim = NULL, lease_until = NULL \
                     WHERE state = 'running' AND lease_until < $1 RETURNING id",
                )
                .bind(at.to_string())
                .fetch_all(&mut *conn)
                .await?
                .iter()
                .map(|r| r.try_get("id"))
                .collect::<Result<_, _>>()?;
                let mut runs = Vec::with_capacity(ids.len());
                for id in ids {
                    runs.push(
                        load_run(conn, id)
                            .await?
                            .ok_or_else(|| missing("run", id))?,
                    );
                }
                Ok(runs)
            })
        }))
    }

    fn claim_run<'a>(
        &'a self,
        claim: &'a str,
        at: Timestamp,
        lease_until: Timestamp,
        only_night: Option<i64>,
        audit: Audited<'a, ClaimedRun>,
    ) -> BoxFuture<'a, Result<Option<ClaimedRun>, StoreError>> {
        let audit = crate::store::when_some(audit);
        let claim = claim.to_owned();
        Box::pin(self.write(audit, move |conn| {
            Box::pin(async move {
                // A run another worker is claiming right now is locked: skipped, not waited for.
                let next = sqlx::query(
                    "SELECT r.id FROM runs r WHERE (r.state = 'queued' OR (r.state = 'running' AND r.lease_until < $1)) \
                     AND ($2::BIGINT IS NULL OR r.night_id = $2) ORDER BY r.purpose = 'nightly', r.id LIMIT 1 \
                     FOR UPDATE SKIP LOCKED",
                )
                .bind(at.to_string())
                .bind(only_night)
                .fetch_optional(&mut *conn)
                .await?;
                let Some(next) = next else { return Ok(None) };
                let id: i64 = next.try_get("id")?;
                sqlx::query(
                    "UPDATE runs SET state = 'running', claim = $1, lease_until = $2, attempts = attempts + 1, started_at = $3 \
                     WHERE id = $4",
                )
                .bind(&claim)
                .bind(lease_until.to_string())
                .bind(at.to_string())
                .bind(id)
                .execute(&mut *conn)
                .await?;
                let run = load_run(conn, id).await?.ok_or_else(|| missing("run", id))?;
                let component = load_submission(conn, run.submission_id).await?.ok_or_else(|| missing("submission", run.submission_id))?;
                Ok(Some(ClaimedRun { run, claim, budget: None, component_sha256: component.component_sha256, file_name: component.file_name }))
            })
        }))
    }

    fn renew_lease<'a>(
        &'a self,
        run_id: i64,
        claim: &'a str,
        until: Timestamp,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let done = sqlx::query(
                "UPDATE runs SET lease_until = $1 WHERE id = $2 AND claim = $3 AND state = 'running'",
            )
            .bind(until.to_string())
            .bind(run_id)
            .bind(claim)
            .execute(&self.pool)
            .await?;
            Ok(done.rows_affected() == 1)
        })
    }

    fn finish_run<'a>(
        &'a self,
        run_id: i64,
        claim: &'a str,
        outcome: RunOutcome,
        at: Timestamp,
        audit: Audited<'a, Run>,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        let audit = crate::store::when_some(audit);
        let claim = claim.to_owned();
        Box::pin(async move {
            let finished = self
                .write(audit, move |conn| {
                    Box::pin(async move {
                        let capabilities = serde_json::to_string(&outcome.capabilities).unwrap_or_else(|_| "[]".into());
                        let done = sqlx::query(
                            "UPDATE runs SET state = $1, claim = NULL, lease_until = NULL, finished_at = $2, verdict = $3, \
                             score = $4, error = $5, capabilities = $6, report = $7, figures = $8, badge = $9 WHERE id = $10 AND claim = $11 AND state = 'running'",
                        )
                        .bind(outcome.state.as_str())
                        .bind(at.to_string())
                        .bind(outcome.verdict.map(|v| v.as_str()))
                        .bind(outcome.score)
                        .bind(&outcome.error)
                        .bind(capabilities)
                        .bind(&outcome.report)
                        .bind(outcome.figures.as_ref().map(|f| serde_json::to_string(f).expect("figures serialise")))
                        .bind(&outcome.badge)
                        .bind(run_id)
                        .bind(&claim)
                        .execute(&mut *conn)
                        .await?;
                        if done.rows_affected() == 1 { load_run(conn, run_id).await } else { Ok(None) }
                    })
                })
                .await?;
            Ok(finished.is_some())
        })
    }
}

//! [`NightlyStore`] over PostgreSQL.

use jiff::Timestamp;
use sqlx::Row as _;

use super::PostgresStore;
use super::market::{load_listing, load_run};
use crate::i18n::Msg;
use crate::nightly::NightSummary;
use crate::store::rows::{RUN, missing, night, notification, run};
use crate::store::{
    Audited, BoxFuture, Listing, NewNight, NewNotification, Night, NightState, NightlyStore,
    Notification, OpenedNight, RiskChange, Run, StoreError,
};

/// Writes `notification` about `product_id` inside the caller's transaction.
pub(super) async fn insert_notification(
    conn: &mut sqlx::PgConnection,
    product_id: i64,
    at: &str,
    notification: NewNotification,
) -> Result<(), StoreError> {
    let NewNotification {
        kind,
        message,
        night_id,
        run_id,
        case_id,
        version,
        note,
        payload,
    } = notification;
    sqlx::query(
        "INSERT INTO notifications (at, organisation_id, product_id, kind, night_id, run_id, case_id, version, note, message, payload) \
         SELECT $1, p.organisation_id, p.id, $2, $3, $4, $5, $6, $7, $8, $9 FROM products p WHERE p.id = $10",
    )
    .bind(at)
    .bind(kind.as_str())
    .bind(night_id)
    .bind(run_id)
    .bind(case_id)
    .bind(version)
    .bind(note)
    .bind(message)
    .bind(payload.to_string())
    .bind(product_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

const NOTIFICATION: &str =
    "SELECT n.*, p.name AS product FROM notifications n JOIN products p ON p.id = n.product_id";

impl NightlyStore for PostgresStore {
    fn open_night<'a>(
        &'a self,
        new: NewNight,
        audit: Audited<'a, OpenedNight>,
    ) -> BoxFuture<'a, Result<OpenedNight, StoreError>> {
        Box::pin(self.write(audit, move |conn| {
            Box::pin(async move {
                let at = new.at.to_string();
                let created = sqlx::query(
                    "INSERT INTO nights (night, seed, suite_version, state, started_at) VALUES ($1, $2, $3, 'running', $4) \
                     ON CONFLICT (night) DO NOTHING",
                )
                .bind(&new.night)
                .bind(new.seed)
                .bind(&new.suite_version)
                .bind(&at)
                .execute(&mut *conn)
                .await?
                .rows_affected()
                    == 1;
                let row = sqlx::query("SELECT * FROM nights WHERE night = $1").bind(&new.night).fetch_one(&mut *conn).await?;
                let night = night(&row)?;
                // What this night tests: listed (and suspended) versions, and optionally every
                // product's latest godkjent submission.
                let mut submissions: Vec<i64> = sqlx::query("SELECT submission_id FROM listings WHERE state IN ('listed', 'suspended') ORDER BY product_id")
                    .fetch_all(&mut *conn)
                    .await?
                    .iter()
                    .map(|r| r.try_get("submission_id"))
                    .collect::<Result<_, _>>()?;
                if new.include_latest_godkjent {
                    let latest: Vec<i64> = sqlx::query(
                        "SELECT MAX(s.id) AS id FROM submissions s JOIN runs r ON r.submission_id = s.id \
                         WHERE r.purpose = 'submission' AND r.scenario IS NULL AND r.verdict = 'godkjent' GROUP BY s.product_id ORDER BY s.product_id",
                    )
                    .fetch_all(&mut *conn)
                    .await?
                    .iter()
                    .map(|r| r.try_get("id"))
                    .collect::<Result<_, _>>()?;
                    for id in latest {
                        if !submissions.contains(&id) {
                            submissions.push(id);
                        }
                    }
                }
                let mut queued = Vec::new();
                if night.state == NightState::Running {
                    for submission in submissions {
                        let inserted = sqlx::query(
                            "INSERT INTO runs (submission_id, purpose, state, queued_at, night_id, seed) \
                             VALUES ($1, 'nightly', 'queued', $2, $3, $4) ON CONFLICT DO NOTHING RETURNING id",
                        )
                        .bind(submission)
                        .bind(&at)
                        .bind(night.id)
                        .bind(night.seed)
                        .fetch_optional(&mut *conn)
                        .await?;
                        if let Some(row) = inserted {
                            let id: i64 = row.try_get("id")?;
                            queued.push(load_run(conn, id).await?.ok_or_else(|| missing("run", id))?);
                        }
                    }
                }
                Ok(OpenedNight { night, created, queued })
            })
        }))
    }

    fn night(&self, id: i64) -> BoxFuture<'_, Result<Option<Night>, StoreError>> {
        Box::pin(async move {
            let row = sqlx::query("SELECT * FROM nights WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
            row.as_ref().map(night).transpose()
        })
    }

    fn night_by_date<'a>(
        &'a self,
        date: &'a str,
    ) -> BoxFuture<'a, Result<Option<Night>, StoreError>> {
        Box::pin(async move {
            let row = sqlx::query("SELECT * FROM nights WHERE night = $1")
                .bind(date)
                .fetch_optional(&self.pool)
                .await?;
            row.as_ref().map(night).transpose()
        })
    }

    fn nights(&self, limit: u32) -> BoxFuture<'_, Result<Vec<Night>, StoreError>> {
        Box::pin(async move {
            let rows = sqlx::query("SELECT * FROM nights ORDER BY night DESC LIMIT $1")
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
            rows.iter().map(night).collect()
        })
    }

    fn night_runs(&self, night_id: i64) -> BoxFuture<'_, Result<Vec<Run>, StoreError>> {
        Box::pin(async move {
            let rows = sqlx::query(&format!("{RUN} WHERE r.night_id = $1 ORDER BY r.id"))
                .bind(night_id)
                .fetch_all(&self.pool)
                .await?;
            rows.iter().map(run).collect()
        })
    }

    fn night_pending(&self, night_id: i64) -> BoxFuture<'_, Result<u64, StoreError>> {
        Box::pin(async move {
            let pending: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM runs WHERE night_id = $1 AND state IN ('queued', 'running')",
            )
            .bind(night_id)
            .fetch_one(&self.pool)
            .await?;
            Ok(u64::try_from(pending).unwrap_or(0))
        })
    }

    fn product_history(&self, product_id: i64) -> BoxFuture<'_, Result<Vec<Run>, StoreError>> {
        Box::pin(async move {
            let rows = sqlx::query(&format!(
                "{RUN} JOIN nights n ON n.id = r.night_id WHERE s.product_id = $1 AND r.state IN ('done', 'error') ORDER BY n.night, r.id"
            ))
            .bind(product_id)
            .fetch_all(&self.pool)
            .await?;
            rows.iter().map(run).collect()
        })
    }

    fn change_risk<'a>(
        &'a self,
        product_id: i64,
        change: RiskChange,
        notification: Option<NewNotification>,
        at: Timestamp,
        audit: Audited<'a, Listing>,
    ) -> BoxFuture<'a, Result<Listing, StoreError>> {
        Box::pin(self.write(audit, move |conn| {
            Box::pin(async move {
                let now = at.to_string();
                // Each change applies only from the state it is for; see the trait.
                let query = match &change {
                    RiskChange::AtRisk { run_id } => sqlx::query(
                            "UPDATE listings SET at_risk_since = $1, at_risk_run_id = $2, updated_at = $1 \
                             WHERE product_id = $3 AND state = 'listed' AND at_risk_since IS NULL",
                        )
                        .bind(&now)
                        .bind(*run_id),
                    RiskChange::Cleared { .. } => sqlx::query(
                            "UPDATE listings SET at_risk_since = NULL, at_risk_run_id = NULL, updated_at = $1 \
                             WHERE product_id = $2 AND at_risk_since IS NOT NULL",
                        )
                        .bind(&now),
                    RiskChange::Suspend { reason, .. } => sqlx::query("UPDATE listings SET state = 'suspended', updated_at = $1, reason = $2 WHERE product_id = $3 AND state = 'listed'")
                            .bind(&now)
                            .bind(reason.as_str()),
                };
                let done = query.bind(product_id).execute(&mut *conn).await?;
                if done.rows_affected() != 1 {
                    return Err(StoreError::Refused(Msg::new("msg_no_listing_for_change").arg("product", product_id)));
                }
                if let Some(notification) = notification {
                    insert_notification(conn, product_id, &now, notification).await?;
                }
                load_listing(conn, product_id).await?.ok_or_else(|| missing("listing", product_id))
            })
        }))
    }

    fn finish_night<'a>(
        &'a self,
        night_id: i64,
        summary: NightSummary,
        at: Timestamp,
        audit: Audited<'a, i64>,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        let audit: Audited<'a, bool> =
            Box::new(move |done| if *done { audit(&night_id) } else { Vec::new() });
        Box::pin(self.write(audit, move |conn| {
            Box::pin(async move {
                let done = sqlx::query("UPDATE nights SET state = 'done', finished_at = $1, summary = $2 WHERE id = $3 AND state = 'running'")
                    .bind(at.to_string())
                    .bind(serde_json::to_string(&summary).expect("summaries serialise"))
                    .bind(night_id)
                    .execute(&mut *conn)
                    .await?;
                Ok(done.rows_affected() == 1)
            })
        }))
    }

    fn notifications(
        &self,
        organisation: Option<i64>,
        limit: u32,
    ) -> BoxFuture<'_, Result<Vec<Notification>, StoreError>> {
        Box::pin(async move {
            let rows = sqlx::query(&format!("{NOTIFICATION} WHERE $1::BIGINT IS NULL OR n.organisation_id = $1 ORDER BY n.id DESC LIMIT $2"))
                .bind(organisation)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
            rows.iter().map(notification).collect()
        })
    }

    fn undelivered(&self, limit: u32) -> BoxFuture<'_, Result<Vec<Notification>, StoreError>> {
        Box::pin(async move {
            let rows = sqlx::query(&format!("{NOTIFICATION} WHERE n.delivered_at IS NULL AND n.attempts < $1 ORDER BY n.id LIMIT $2"))
                .bind(crate::store::MAX_DELIVERY_ATTEMPTS)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
            rows.iter().map(notification).collect()
        })
    }

    fn delivery<'a>(
        &'a self,
        id: i64,
        at: Timestamp,
        error: Option<&'a str>,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            sqlx::query(
                "UPDATE notifications SET attempts = attempts + 1, delivered_at = CASE WHEN $2 IS NULL THEN $1 END, delivery_error = $2 WHERE id = $3",
            )
            .bind(at.to_string())
            .bind(error)
            .bind(id)
            .execute(&self.pool)
            .await?;
            Ok(())
        })
    }
}

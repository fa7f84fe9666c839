//! [`MarketStore`] over SQLite.
//!
//! Row loaders take a `&mut SqliteConnection` so the same code reads inside a write transaction
//! and from the pool.

use jiff::Timestamp;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row as _, SqliteConnection};

use super::SqliteStore;
use super::nightly::insert_notification;
use crate::i18n::Msg;
use crate::listing::ListingStatus;
use crate::store::rows;
use crate::store::rows::{
    CASE, PRODUCT, RUN, SUBMISSION, case_brief, catalogue_entry, conflict, listing, missing,
    product, review, run, submission,
};
use crate::store::{
    AttachmentFile, Audited, BoxFuture, Case, CaseDeclaration, CaseState, CatalogueEntry, Decided,
    Listing, ListingState, MarketStore, NewCase, NewDecision, NewRun, NewSubmission, Notify,
    Product, ProductSummary, Run, StoreError, Submission, Submitted,
};

impl SqliteStore {
    /// One text column of a run (`report` or `badge`), read without the rest of the row.
    async fn run_text(&self, id: i64, column: &'static str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query(&format!("SELECT {column} FROM runs WHERE id = ?"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row
            .map(|r| r.try_get::<Option<String>, _>(column))
            .transpose()?
            .flatten())
    }
}

async fn load_product(conn: &mut SqliteConnection, id: i64) -> Result<Option<Product>, StoreError> {
    let row = sqlx::query(&format!("{PRODUCT} WHERE p.id = ?"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(product).transpose()
}

pub(super) async fn load_submission(
    conn: &mut SqliteConnection,
    id: i64,
) -> Result<Option<Submission>, StoreError> {
    let row = sqlx::query(&format!("{SUBMISSION} WHERE s.id = ?"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(submission).transpose()
}

pub(super) async fn load_run(
    conn: &mut SqliteConnection,
    id: i64,
) -> Result<Option<Run>, StoreError> {
    let row = sqlx::query(&format!("{RUN} WHERE r.id = ?"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(run).transpose()
}

pub(super) async fn load_listing(
    conn: &mut SqliteConnection,
    product_id: i64,
) -> Result<Option<Listing>, StoreError> {
    let row = sqlx::query("SELECT * FROM listings WHERE product_id = ?")
        .bind(product_id)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(listing).transpose()
}

async fn case_from_row(conn: &mut SqliteConnection, row: &SqliteRow) -> Result<Case, StoreError> {
    let id: i64 = row.try_get("id")?;
    let reviews = sqlx::query(
        "SELECT r.*, u.username FROM reviews r JOIN users u ON u.id = r.reviewer_id WHERE r.case_id = ? \
         ORDER BY r.level DESC, r.reviewer_id",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(review)
    .collect::<Result<Vec<_>, StoreError>>()?;
    let declarations = load_declarations(conn, id).await?;
    crate::store::rows::case(row, reviews, declarations)
}

/// A case's declarations with their attachments (without bytes) and verdicts, in id order.
async fn load_declarations(
    conn: &mut SqliteConnection,
    case_id: i64,
) -> Result<Vec<CaseDeclaration>, StoreError> {
    let mut out = sqlx::query(
        "SELECT declaration_id, suite_version, answer FROM case_declarations WHERE case_id = ? ORDER BY declaration_id",
    )
    .bind(case_id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(rows::declaration)
    .collect::<Result<Vec<_>, StoreError>>()?;
    let files = sqlx::query(
        "SELECT id, declaration_id, file_name, content_type, size, sha256 FROM declaration_attachments \
         WHERE case_id = ? ORDER BY id",
    )
    .bind(case_id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| Ok((r.try_get("declaration_id")?, rows::attachment(r)?)))
    .collect::<Result<Vec<_>, StoreError>>()?;
    rows::file_under(case_id, &mut out, files, |d, a| d.attachments.push(a))?;
    let verdicts = sqlx::query(
        "SELECT v.*, u.username FROM declaration_verdicts v JOIN users u ON u.id = v.reviewer_id \
         WHERE v.case_id = ? ORDER BY v.decided_at, v.reviewer_id",
    )
    .bind(case_id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| Ok((r.try_get("declaration_id")?, rows::declaration_review(r)?)))
    .collect::<Result<Vec<_>, StoreError>>()?;
    rows::file_under(case_id, &mut out, verdicts, |d, v| d.verdicts.push(v))?;
    Ok(out)
}

async fn load_case(conn: &mut SqliteConnection, id: i64) -> Result<Option<Case>, StoreError> {
    let row = sqlx::query(&format!("{CASE} WHERE c.id = ?"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    match row {
        Some(row) => Ok(Some(case_from_row(conn, &row).await?)),
        None => Ok(None),
    }
}

impl MarketStore for SqliteStore {
    fn submit<'a>(
        &'a self,
        new: NewSubmission,
        audit: Audited<'a, Submitted>,
    ) -> BoxFuture<'a, Result<Submitted, StoreError>> {
        Box::pin(self.write(audit, move |conn| {
            Box::pin(async move {
                let at = new.at.to_string();
                let created = sqlx::query(
                    "INSERT INTO products (organisation_id, name, created_at) VALUES (?, ?, ?) \
                     ON CONFLICT (organisation_id, name) DO NOTHING",
                )
                .bind(new.organisation_id)
                .bind(&new.product_name)
                .bind(&at)
                .execute(&mut *conn)
                .await?;
                let row = sqlx::query(&format!("{PRODUCT} WHERE p.organisation_id = ? AND p.name = ?"))
                    .bind(new.organisation_id)
                    .bind(&new.product_name)
                    .fetch_one(&mut *conn)
                    .await?;
                let product = product(&row)?;
                let submission_id: i64 = sqlx::query(
                    "INSERT INTO submissions (product_id, version, changelog, component_sha256, component_size, \
                     file_name, inspection, submitted_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                )
                .bind(product.id)
                .bind(&new.version)
                .bind(&new.changelog)
                .bind(&new.component_sha256)
                .bind(new.component_size)
                .bind(&new.file_name)
                .bind(new.inspection.to_string())
                .bind(new.submitted_by)
                .bind(&at)
                .fetch_one(&mut *conn)
                .await
                .map_err(conflict(Msg::new("what_version").arg("version", &new.version).arg("product", &product.name)))?
                .try_get("id")?;
                let run_id: i64 = sqlx::query(
                    "INSERT INTO runs (submission_id, purpose, state, queued_at) VALUES (?, 'submission', 'queued', ?) RETURNING id",
                )
                .bind(submission_id)
                .bind(&at)
                .fetch_one(&mut *conn)
                .await?
                .try_get("id")?;
                let submission = load_submission(conn, submission_id).await?.ok_or_else(|| missing("submission", submission_id))?;
                let run = load_run(conn, run_id).await?.ok_or_else(|| missing("run", run_id))?;
                Ok(Submitted { product, new_product: created.rows_affected() == 1, submission, run })
            })
        }))
    }

    fn queue_run<'a>(
        &'a self,
        new: NewRun,
        audit: Audited<'a, Run>,
    ) -> BoxFuture<'a, Result<Run, StoreError>> {
        Box::pin(self.write(audit, move |conn| {
            Box::pin(async move {
                let pending: i64 = sqlx::query(
                    "SELECT COUNT(*) AS n FROM runs WHERE submission_id = ? AND state IN ('queued', 'running')",
                )
                .bind(new.submission_id)
                .fetch_one(&mut *conn)
                .await?
                .try_get("n")?;
                if pending > 0 {
                    return Err(StoreError::Conflict(Msg::new("msg_run_pending")));
                }
                let run_id: i64 = sqlx::query(
                    "INSERT INTO runs (submission_id, purpose, state, queued_at, scenario) VALUES (?, 'submission', 'queued', ?, ?) RETURNING id",
                )
                .bind(new.submission_id)
                .bind(new.at.to_string())
                .bind(&new.scenario)
                .fetch_one(&mut *conn)
                .await?
                .try_get("id")?;
                load_run(conn, run_id).await?.ok_or_else(|| missing("run", run_id))
            })
        }))
    }

    fn products(
        &self,
        organisation: Option<i64>,
    ) -> BoxFuture<'_, Result<Vec<ProductSummary>, StoreError>> {
        Box::pin(async move {
            let mut conn = self.pool.acquire().await?;
            let rows = sqlx::query(&format!(
                "{PRODUCT} WHERE ?1 IS NULL OR p.organisation_id = ?1 ORDER BY o.name, p.name"
            ))
            .bind(organisation)
            .fetch_all(&mut *conn)
            .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in &rows {
                let product = product(row)?;
                let latest_submission = sqlx::query(&format!(
                    "{SUBMISSION} WHERE s.product_id = ? ORDER BY s.id DESC LIMIT 1"
                ))
                .bind(product.id)
                .fetch_optional(&mut *conn)
                .await?
                .as_ref()
                .map(submission)
                .transpose()?;
                let latest_run = match &latest_submission {
                    Some(s) => sqlx::query(&format!(
                        "{RUN} WHERE r.submission_id = ? AND r.scenario IS NULL ORDER BY r.id DESC LIMIT 1"
                    ))
                    .bind(s.id)
                    .fetch_optional(&mut *conn)
                    .await?
                    .as_ref()
                    .map(run)
                    .transpose()?,
                    None => None,
                };
                let listing = load_listing(&mut conn, product.id).await?;
                let listed_version = match &listing {
                    Some(l) => {
                        sqlx::query_scalar("SELECT version FROM submissions WHERE id = ?")
                            .bind(l.submission_id)
                            .fetch_optional(&mut *conn)
                            .await?
                    }
                    None => None,
                };
                let open_case = sqlx::query("SELECT id FROM review_cases WHERE product_id = ? AND state IN ('in_review', 'escalated')")
                    .bind(product.id)
                    .fetch_optional(&mut *conn)
                    .await?
                    .map(|r| r.try_get::<i64, _>("id"))
                    .transpose()?;
                let latest_case = sqlx::query(
                    "SELECT c.id, c.state, c.decided_at, c.note, s.version FROM review_cases c \
                     JOIN submissions s ON s.id = c.submission_id WHERE c.product_id = ? ORDER BY c.id DESC LIMIT 1",
                )
                .bind(product.id)
                .fetch_optional(&mut *conn)
                .await?
                .as_ref()
                .map(case_brief)
                .transpose()?;
                out.push(ProductSummary {
                    product,
                    latest_submission,
                    latest_run,
                    status: ListingStatus::of(listing.as_ref()),
                    listing,
                    listed_version,
                    open_case,
                    latest_case,
                });
            }
            Ok(out)
        })
    }

    fn product_names(
        &self,
        organisation_id: i64,
    ) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
        Box::pin(async move {
            Ok(sqlx::query_scalar(
                "SELECT name FROM products WHERE organisation_id = ? ORDER BY name",
            )
            .bind(organisation_id)
            .fetch_all(&self.pool)
            .await?)
        })
    }

    fn product(&self, id: i64) -> BoxFuture<'_, Result<Option<Product>, StoreError>> {
        Box::pin(async move { load_product(&mut *self.pool.acquire().await?, id).await })
    }

    fn submissions(&self, product_id: i64) -> BoxFuture<'_, Result<Vec<Submission>, StoreError>> {
        Box::pin(async move {
            let rows = sqlx::query(&format!(
                "{SUBMISSION} WHERE s.product_id = ? ORDER BY s.id DESC"
            ))
            .bind(product_id)
            .fetch_all(&self.pool)
            .await?;
            rows.iter().map(submission).collect()
        })
    }

    fn submission(&self, id: i64) -> BoxFuture<'_, Result<Option<Submission>, StoreError>> {
        Box::pin(async move { load_submission(&mut *self.pool.acquire().await?, id).await })
    }

    fn component_digests(&self) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
        Box::pin(async move {
            let rows = sqlx::query("SELECT DISTINCT component_sha256 FROM submissions ORDER BY 1")
                .fetch_all(&self.pool)
                .await?;
            rows.iter()
                .map(|r| r.try_get("component_sha256").map_err(StoreError::from))
                .collect()
        })
    }

    fn runs(&self, submission_id: i64) -> BoxFuture<'_, Result<Vec<Run>, StoreError>> {
        Box::pin(async move {
            let rows = sqlx::query(&format!(
                "{RUN} WHERE r.submission_id = ? ORDER BY r.id DESC"
            ))
            .bind(submission_id)
            .fetch_all(&self.pool)
            .await?;
            rows.iter().map(run).collect()
        })
    }

    fn run(&self, id: i64) -> BoxFuture<'_, Result<Option<Run>, StoreError>> {
        Box::pin(async move { load_run(&mut *self.pool.acquire().await?, id).await })
    }

    fn run_report(&self, id: i64) -> BoxFuture<'_, Result<Option<String>, StoreError>> {
        Box::pin(self.run_text(id, "report"))
    }

    fn run_badge(&self, id: i64) -> BoxFuture<'_, Result<Option<String>, StoreError>> {
        Box::pin(self.run_text(id, "badge"))
    }

    fn open_case<'a>(
        &'a self,
        new: NewCase,
        audit: Audited<'a, Case>,
    ) -> BoxFuture<'a, Result<Case, StoreError>> {
        Box::pin(self.write(audit, move |conn| {
            Box::pin(async move {
                let reviewers: Vec<i64> = sqlx::query(
                    "SELECT u.id FROM users u WHERE u.role = 'reviewer' AND u.disabled_at IS NULL ORDER BY \
                     (SELECT COUNT(*) FROM reviews r JOIN review_cases c ON c.id = r.case_id \
                      WHERE r.reviewer_id = u.id AND r.decision IS NULL AND c.state = 'in_review'), u.id LIMIT ?",
                )
                .bind(i64::try_from(new.reviewers).unwrap_or(i64::MAX))
                .fetch_all(&mut *conn)
                .await?
                .iter()
                .map(|r| r.try_get("id"))
                .collect::<Result<_, _>>()?;
                if reviewers.len() < new.reviewers {
                    return Err(StoreError::Refused(
                        Msg::new("msg_too_few_enabled_reviewers").arg("needed", new.reviewers).arg("have", reviewers.len()),
                    ));
                }
                let id: i64 = sqlx::query(
                    "INSERT INTO review_cases (product_id, submission_id, run_id, state, requested_by, requested_at) \
                     VALUES (?, ?, ?, 'in_review', ?, ?) RETURNING id",
                )
                .bind(new.product_id)
                .bind(new.submission_id)
                .bind(new.run_id)
                .bind(new.requested_by)
                .bind(new.at.to_string())
                .fetch_one(&mut *conn)
                .await
                .map_err(conflict(Msg::new("what_open_review")))?
                .try_get("id")?;
                for reviewer in reviewers {
                    sqlx::query("INSERT INTO reviews (case_id, reviewer_id, level) VALUES (?, ?, 'reviewer')")
                        .bind(id)
                        .bind(reviewer)
                        .execute(&mut *conn)
                        .await?;
                }
                for d in &new.declarations {
                    sqlx::query("INSERT INTO case_declarations (case_id, declaration_id, suite_version, answer) VALUES (?, ?, ?, ?)")
                        .bind(id)
                        .bind(&d.declaration_id)
                        .bind(&new.suite_version)
                        .bind(&d.answer)
                        .execute(&mut *conn)
                        .await?;
                    for a in &d.attachments {
                        use sha2::Digest as _;
                        sqlx::query(
                            "INSERT INTO declaration_attachments (case_id, declaration_id, file_name, content_type, size, sha256, content) \
                             VALUES (?, ?, ?, ?, ?, ?, ?)",
                        )
                        .bind(id)
                        .bind(&d.declaration_id)
                        .bind(&a.file_name)
                        .bind(&a.content_type)
                        .bind(i64::try_from(a.bytes.len()).unwrap_or(i64::MAX))
                        .bind(hex::encode(sha2::Sha256::digest(&a.bytes)))
                        .bind(&a.bytes)
                        .execute(&mut *conn)
                        .await?;
                    }
                }
                load_case(conn, id).await?.ok_or_else(|| missing("case", id))
            })
        }))
    }

    fn decide<'a>(
        &'a self,
        d: NewDecision,
        audit: Audited<'a, Decided>,
        notify: Notify<Decided>,
    ) -> BoxFuture<'a, Result<Decided, StoreError>> {
        Box::pin(self.write(audit, move |conn| {
            Box::pin(async move {
                let case = load_case(conn, d.case_id).await?.ok_or_else(|| StoreError::Refused(Msg::new("msg_unknown_case")))?;
                crate::governance::may_decide(&case, d.reviewer_id, d.level).map_err(|e| StoreError::Refused(Msg::from(&e)))?;
                let at = d.at.to_string();
                sqlx::query(
                    "INSERT INTO reviews (case_id, reviewer_id, level, decision, note, decided_at) VALUES (?, ?, ?, ?, ?, ?) \
                     ON CONFLICT (case_id, reviewer_id) DO UPDATE SET decision = excluded.decision, note = excluded.note, \
                     decided_at = excluded.decided_at",
                )
                .bind(d.case_id)
                .bind(d.reviewer_id)
                .bind(d.level.as_str())
                .bind(d.decision.as_str())
                .bind(&d.note)
                .bind(&at)
                .execute(&mut *conn)
                .await?;
                for v in &d.verdicts {
                    sqlx::query(
                        "INSERT INTO declaration_verdicts (case_id, declaration_id, reviewer_id, verdict, comment, decided_at) \
                         VALUES (?, ?, ?, ?, ?, ?)",
                    )
                    .bind(d.case_id)
                    .bind(&v.declaration_id)
                    .bind(d.reviewer_id)
                    .bind(v.verdict.as_str())
                    .bind(&v.comment)
                    .bind(&at)
                    .execute(&mut *conn)
                    .await?;
                }
                let case = load_case(conn, d.case_id).await?.ok_or_else(|| missing("case", d.case_id))?;
                let next = crate::governance::next_state(&case, d.level, d.decision);
                if next != case.state {
                    let final_ = matches!(next, CaseState::Approved | CaseState::Rejected);
                    sqlx::query("UPDATE review_cases SET state = ?, decided_at = ?, note = ? WHERE id = ?")
                        .bind(next.as_str())
                        .bind(final_.then_some(&at))
                        .bind(final_.then_some(&d.note))
                        .bind(d.case_id)
                        .execute(&mut *conn)
                        .await?;
                }
                let listing = if next == CaseState::Approved {
                    sqlx::query(
                        "INSERT INTO listings (product_id, submission_id, case_id, state, listed_at, updated_at) \
                         VALUES (?, ?, ?, 'listed', ?, ?) ON CONFLICT (product_id) DO UPDATE SET \
                         submission_id = excluded.submission_id, case_id = excluded.case_id, state = 'listed', \
                         listed_at = excluded.listed_at, updated_at = excluded.updated_at, reason = NULL, \
                         at_risk_since = NULL, at_risk_run_id = NULL",
                    )
                    .bind(case.product_id)
                    .bind(case.submission_id)
                    .bind(case.id)
                    .bind(&at)
                    .bind(&at)
                    .execute(&mut *conn)
                    .await?;
                    load_listing(conn, case.product_id).await?
                } else {
                    None
                };
                let case = load_case(conn, d.case_id).await?.ok_or_else(|| missing("case", d.case_id))?;
                let decided = Decided { case, listing };
                if let Some(notification) = notify(&decided) {
                    insert_notification(conn, decided.case.product_id, &at, notification).await?;
                }
                Ok(decided)
            })
        }))
    }

    fn case(&self, id: i64) -> BoxFuture<'_, Result<Option<Case>, StoreError>> {
        Box::pin(async move { load_case(&mut *self.pool.acquire().await?, id).await })
    }

    fn attachment(&self, id: i64) -> BoxFuture<'_, Result<Option<AttachmentFile>, StoreError>> {
        Box::pin(async move {
            let row = sqlx::query(
                "SELECT a.*, p.organisation_id FROM declaration_attachments a JOIN review_cases c ON c.id = a.case_id \
                 JOIN products p ON p.id = c.product_id WHERE a.id = ?",
            )
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
            row.as_ref().map(rows::attachment_file).transpose()
        })
    }

    fn cases<'a>(
        &'a self,
        states: &'a [CaseState],
        product: Option<i64>,
    ) -> BoxFuture<'a, Result<Vec<Case>, StoreError>> {
        Box::pin(async move {
            let mut conn = self.pool.acquire().await?;
            let rows = sqlx::query(&format!(
                "{CASE} WHERE ?1 IS NULL OR c.product_id = ?1 ORDER BY c.id DESC"
            ))
            .bind(product)
            .fetch_all(&mut *conn)
            .await?;
            let mut out = Vec::new();
            for row in &rows {
                let state: String = row.try_get("state")?;
                if states.is_empty() || states.iter().any(|s| s.as_str() == state) {
                    out.push(case_from_row(&mut conn, row).await?);
                }
            }
            Ok(out)
        })
    }

    fn listing(&self, product_id: i64) -> BoxFuture<'_, Result<Option<Listing>, StoreError>> {
        Box::pin(async move { load_listing(&mut *self.pool.acquire().await?, product_id).await })
    }

    fn set_listing_state<'a>(
        &'a self,
        product_id: i64,
        from: &'a [ListingState],
        to: ListingState,
        reason: &'a str,
        at: Timestamp,
        audit: Audited<'a, Listing>,
        notify: Notify<Listing>,
    ) -> BoxFuture<'a, Result<Option<Listing>, StoreError>> {
        let audit = crate::store::when_some(audit);
        let (from, reason) = (from.to_vec(), reason.to_owned());
        Box::pin(self.write(audit, move |conn| {
            Box::pin(async move {
                let Some(current) = load_listing(conn, product_id).await? else { return Ok(None) };
                if !from.contains(&current.state) {
                    return Err(StoreError::Refused(
                        Msg::new("msg_listing_cannot_become")
                            .msg("from", Msg::new(format!("state_{}", current.state.as_str())))
                            .msg("to", Msg::new(format!("state_{}", to.as_str()))),
                    ));
                }
                // Reinstated: a fresh start, with a full grace period if it regresses again.
                sqlx::query(
                    "UPDATE listings SET state = ?1, reason = ?2, updated_at = ?3, \
                     at_risk_since = CASE WHEN ?1 = 'listed' THEN NULL ELSE at_risk_since END, \
                     at_risk_run_id = CASE WHEN ?1 = 'listed' THEN NULL ELSE at_risk_run_id END WHERE product_id = ?4",
                )
                    .bind(to.as_str())
                    .bind(&reason)
                    .bind(at.to_string())
                    .bind(product_id)
                    .execute(&mut *conn)
                    .await?;
                let listing = load_listing(conn, product_id).await?.ok_or_else(|| missing("listing", product_id))?;
                if let Some(notification) = notify(&listing) {
                    insert_notification(conn, product_id, &at.to_string(), notification).await?;
                }
                Ok(Some(listing))
            })
        }))
    }

    fn catalogue(&self) -> BoxFuture<'_, Result<Vec<CatalogueEntry>, StoreError>> {
        Box::pin(async move {
            let rows = sqlx::query(
                "SELECT l.*, p.name AS product, o.name AS vendor, s.version, r.id AS run_id, r.finished_at, r.verdict, \
                 r.score, r.capabilities, (SELECT group_concat(d.declaration_id, ' ') FROM \
                   (SELECT declaration_id FROM case_declarations WHERE case_id = l.case_id ORDER BY declaration_id) d) AS declarations \
                 FROM listings l JOIN products p ON p.id = l.product_id \
                 JOIN organisations o ON o.id = p.organisation_id JOIN submissions s ON s.id = l.submission_id \
                 LEFT JOIN runs r ON r.id = (SELECT r2.id FROM runs r2 WHERE r2.submission_id = l.submission_id AND r2.scenario IS NULL \
                   AND r2.state = 'done' ORDER BY r2.finished_at DESC, r2.id DESC LIMIT 1) \
                 WHERE l.state IN ('listed', 'suspended') ORDER BY p.name, o.name",
            )
            .fetch_all(&self.pool)
            .await?;
            rows.iter().map(catalogue_entry).collect()
        })
    }
}

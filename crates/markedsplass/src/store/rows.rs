//! Rows to records, shared by the backends: each backend's SQL returns the same columns under the
//! same names, and [`Fields`] reads a column from either database's row, so a record is made from
//! a row by one function whichever database the row came from.

use jiff::Timestamp;
use sqlx::{Decode, Postgres, Row as _, Sqlite, Type};

use super::{
    ApiTokenRecord, AuditEvent, Listing, ListingState, Night, NightState, Notification,
    NotificationKind, Organisation, Product, Role, Run, RunPurpose, RunState, StoreError,
    Submission, User, Verdict,
};

// The joins every backend reads records with (no placeholders: each backend adds its own WHERE).

/// A product with its vendor.
pub(crate) const PRODUCT: &str =
    "SELECT p.*, o.name AS vendor FROM products p JOIN organisations o ON o.id = p.organisation_id";
/// A submission with its organisation and submitter.
pub(crate) const SUBMISSION: &str = "SELECT s.*, p.organisation_id, u.username AS submitted_by_name FROM submissions s \
     JOIN products p ON p.id = s.product_id JOIN users u ON u.id = s.submitted_by";
/// A run with its product and organisation (not its report or badge).
pub(crate) const RUN: &str = "SELECT r.id, r.submission_id, s.product_id, p.organisation_id, r.purpose, r.state, r.attempts, \
     r.queued_at, r.started_at, r.finished_at, r.verdict, r.score, r.error, r.capabilities, r.night_id, r.seed, r.figures, r.scenario \
     FROM runs r JOIN submissions s ON s.id = r.submission_id JOIN products p ON p.id = s.product_id";
/// A review case with its product, vendor, version and requester.
pub(crate) const CASE: &str = "SELECT c.*, p.name AS product, p.organisation_id, o.name AS vendor, s.version, \
     u.username AS requested_by_name FROM review_cases c JOIN products p ON p.id = c.product_id \
     JOIN organisations o ON o.id = p.organisation_id JOIN submissions s ON s.id = c.submission_id \
     JOIN users u ON u.id = c.requested_by";

/// A column type both backends decode.
pub(crate) trait Column:
    for<'r> Decode<'r, Sqlite> + Type<Sqlite> + for<'r> Decode<'r, Postgres> + Type<Postgres>
{
}

impl<T> Column for T where
    T: for<'r> Decode<'r, Sqlite> + Type<Sqlite> + for<'r> Decode<'r, Postgres> + Type<Postgres>
{
}

/// A row of either backend, read by column name.
pub(crate) trait Fields {
    fn get<T: Column>(&self, name: &str) -> Result<T, sqlx::Error>;

    /// An RFC 3339 text column as a timestamp.
    fn ts(&self, name: &str) -> Result<Timestamp, StoreError> {
        ts(&self.get::<String>(name)?)
    }

    /// A nullable RFC 3339 text column.
    fn opt_ts(&self, name: &str) -> Result<Option<Timestamp>, StoreError> {
        self.get::<Option<String>>(name)?
            .as_deref()
            .map(ts)
            .transpose()
    }

    /// A text column parsed by `f` (an enum's name).
    fn parsed<T>(&self, name: &str, what: &str, f: fn(&str) -> Option<T>) -> Result<T, StoreError> {
        parse(&self.get::<String>(name)?, what, f)
    }

    /// A JSON text column read as its type.
    fn json<T: serde::de::DeserializeOwned>(&self, name: &str) -> Result<T, StoreError> {
        typed(&self.get::<String>(name)?, name)
    }

    /// A nullable JSON text column read as its type.
    fn opt_json<T: serde::de::DeserializeOwned>(
        &self,
        name: &str,
    ) -> Result<Option<T>, StoreError> {
        self.get::<Option<String>>(name)?
            .map(|text| typed(&text, name))
            .transpose()
    }
}

impl Fields for sqlx::sqlite::SqliteRow {
    fn get<T: Column>(&self, name: &str) -> Result<T, sqlx::Error> {
        self.try_get(name)
    }
}

impl Fields for sqlx::postgres::PgRow {
    fn get<T: Column>(&self, name: &str) -> Result<T, sqlx::Error> {
        self.try_get(name)
    }
}

pub(crate) fn ts(text: &str) -> Result<Timestamp, StoreError> {
    text.parse()
        .map_err(|e| StoreError::Corrupt(format!("timestamp {text:?}: {e}")))
}

pub(crate) fn parse<T>(text: &str, what: &str, f: fn(&str) -> Option<T>) -> Result<T, StoreError> {
    f(text).ok_or_else(|| StoreError::Corrupt(format!("{what} {text:?}")))
}

/// A JSON text read as its type.
pub(crate) fn typed<T: serde::de::DeserializeOwned>(
    text: &str,
    what: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

pub(crate) fn missing(what: &str, id: i64) -> StoreError {
    StoreError::Corrupt(format!("{what} {id} vanished inside its transaction"))
}

pub(crate) fn organisation(row: &impl Fields) -> Result<Organisation, StoreError> {
    Ok(Organisation {
        id: row.get("id")?,
        name: row.get("name")?,
        created_at: row.ts("created_at")?,
    })
}

pub(crate) fn user(row: &impl Fields) -> Result<User, StoreError> {
    Ok(User {
        id: row.get("id")?,
        username: row.get("username")?,
        role: row.parsed("role", "role", Role::parse)?,
        organisation_id: row.get("organisation_id")?,
        password_hash: row.get("password_hash")?,
        created_at: row.ts("created_at")?,
        disabled_at: row.opt_ts("disabled_at")?,
        must_change_password: row.get("must_change_password")?,
    })
}

pub(crate) fn token(row: &impl Fields) -> Result<ApiTokenRecord, StoreError> {
    Ok(ApiTokenRecord {
        id: row.get("id")?,
        user_id: row.get("user_id")?,
        name: row.get("name")?,
        prefix: row.get("prefix")?,
        sha256: row.get("sha256")?,
        created_at: row.ts("created_at")?,
        last_used_at: row.opt_ts("last_used_at")?,
        revoked_at: row.opt_ts("revoked_at")?,
    })
}

pub(crate) fn audit_event(row: &impl Fields) -> Result<AuditEvent, StoreError> {
    Ok(AuditEvent {
        seq: row.get("seq")?,
        at: row.ts("at")?,
        actor: row.get("actor")?,
        action: row.get("action")?,
        subject: row.get("subject")?,
        reason: row.get("reason")?,
        details: row.json("details")?,
        prev_hash: row.get("prev_hash")?,
        hash: row.get("hash")?,
    })
}

/// A verdict column (`NULL` before a run is done).
pub(crate) fn verdict(row: &impl Fields) -> Result<Option<Verdict>, StoreError> {
    row.get::<Option<String>>("verdict")?
        .map(|v| parse(&v, "verdict", Verdict::parse))
        .transpose()
}

pub(crate) fn product(row: &impl Fields) -> Result<Product, StoreError> {
    Ok(Product {
        id: row.get("id")?,
        organisation_id: row.get("organisation_id")?,
        vendor: row.get("vendor")?,
        name: row.get("name")?,
        created_at: row.ts("created_at")?,
    })
}

pub(crate) fn submission(row: &impl Fields) -> Result<Submission, StoreError> {
    Ok(Submission {
        id: row.get("id")?,
        product_id: row.get("product_id")?,
        organisation_id: row.get("organisation_id")?,
        version: row.get("version")?,
        changelog: row.get("changelog")?,
        component_sha256: row.get("component_sha256")?,
        component_size: row.get("component_size")?,
        file_name: row.get("file_name")?,
        inspection: row.json("inspection")?,
        submitted_by: row.get("submitted_by_name")?,
        created_at: row.ts("created_at")?,
    })
}

pub(crate) fn run(row: &impl Fields) -> Result<Run, StoreError> {
    Ok(Run {
        id: row.get("id")?,
        submission_id: row.get("submission_id")?,
        product_id: row.get("product_id")?,
        organisation_id: row.get("organisation_id")?,
        purpose: row.parsed("purpose", "run purpose", RunPurpose::parse)?,
        state: row.parsed("state", "run state", RunState::parse)?,
        attempts: row.get("attempts")?,
        queued_at: row.ts("queued_at")?,
        started_at: row.opt_ts("started_at")?,
        finished_at: row.opt_ts("finished_at")?,
        verdict: verdict(row)?,
        score: row.get("score")?,
        error: row.get("error")?,
        capabilities: row.json("capabilities")?,
        night_id: row.get("night_id")?,
        seed: row.get("seed")?,
        figures: row.opt_json("figures")?,
        scenario: row.get("scenario")?,
    })
}

pub(crate) fn listing(row: &impl Fields) -> Result<Listing, StoreError> {
    Ok(Listing {
        product_id: row.get("product_id")?,
        submission_id: row.get("submission_id")?,
        case_id: row.get("case_id")?,
        state: row.parsed("state", "listing state", ListingState::parse)?,
        listed_at: row.ts("listed_at")?,
        updated_at: row.ts("updated_at")?,
        reason: row.get("reason")?,
        at_risk_since: row.opt_ts("at_risk_since")?,
        at_risk_run_id: row.get("at_risk_run_id")?,
    })
}

pub(crate) fn night(row: &impl Fields) -> Result<Night, StoreError> {
    Ok(Night {
        id: row.get("id")?,
        night: row.get("night")?,
        seed: row.get("seed")?,
        suite_version: row.get("suite_version")?,
        state: row.parsed("state", "night state", NightState::parse)?,
        started_at: row.ts("started_at")?,
        finished_at: row.opt_ts("finished_at")?,
        summary: row.opt_json("summary")?,
    })
}

pub(crate) fn notification(row: &impl Fields) -> Result<Notification, StoreError> {
    Ok(Notification {
        id: row.get("id")?,
        at: row.ts("at")?,
        organisation_id: row.get("organisation_id")?,
        product_id: row.get("product_id")?,
        product: row.get("product")?,
        kind: row.parsed("kind", "notification kind", NotificationKind::parse)?,
        night_id: row.get("night_id")?,
        run_id: row.get("run_id")?,
        case_id: row.get("case_id")?,
        version: row.get("version")?,
        note: row.get("note")?,
        message: row.get("message")?,
        payload: row.json("payload")?,
        attempts: row.get("attempts")?,
        delivered_at: row.opt_ts("delivered_at")?,
        delivery_error: row.get("delivery_error")?,
    })
}

pub(crate) fn review(row: &impl Fields) -> Result<super::Review, StoreError> {
    Ok(super::Review {
        reviewer_id: row.get("reviewer_id")?,
        reviewer: row.get("username")?,
        level: row.parsed("level", "review level", Role::parse)?,
        decision: row
            .get::<Option<String>>("decision")?
            .map(|d| parse(&d, "decision", super::Decision::parse))
            .transpose()?,
        note: row.get("note")?,
        decided_at: row.opt_ts("decided_at")?,
    })
}

/// A review case from its row, its reviews and its declarations.
pub(crate) fn case(
    row: &impl Fields,
    reviews: Vec<super::Review>,
    declarations: Vec<super::CaseDeclaration>,
) -> Result<super::Case, StoreError> {
    Ok(super::Case {
        id: row.get("id")?,
        product_id: row.get("product_id")?,
        product: row.get("product")?,
        organisation_id: row.get("organisation_id")?,
        vendor: row.get("vendor")?,
        submission_id: row.get("submission_id")?,
        version: row.get("version")?,
        run_id: row.get("run_id")?,
        state: row.parsed("state", "case state", super::CaseState::parse)?,
        requested_by: row.get("requested_by_name")?,
        requested_at: row.ts("requested_at")?,
        decided_at: row.opt_ts("decided_at")?,
        note: row.get("note")?,
        reviews,
        declarations,
    })
}

pub(crate) fn case_brief(row: &impl Fields) -> Result<super::CaseBrief, StoreError> {
    Ok(super::CaseBrief {
        id: row.get("id")?,
        version: row.get("version")?,
        state: row.parsed("state", "case state", super::CaseState::parse)?,
        decided_at: row.opt_ts("decided_at")?,
        note: row.get("note")?,
    })
}

/// A catalogue entry: a listing's row with its product, vendor, version and latest done run.
pub(crate) fn catalogue_entry(row: &impl Fields) -> Result<super::CatalogueEntry, StoreError> {
    let listing = listing(row)?;
    Ok(super::CatalogueEntry {
        product_id: listing.product_id,
        product: row.get("product")?,
        vendor: row.get("vendor")?,
        version: row.get("version")?,
        state: listing.state,
        status: crate::listing::ListingStatus::of(Some(&listing)),
        capabilities: row.opt_json("capabilities")?.unwrap_or_default(),
        verdict: verdict(row)?,
        score: row.get("score")?,
        last_run_id: row.get("run_id")?,
        last_run_at: row.opt_ts("finished_at")?,
        listed_at: listing.listed_at,
        at_risk_since: listing.at_risk_since,
        declarations: row
            .get::<Option<String>>("declarations")?
            .map(|d| d.split(' ').map(str::to_owned).collect())
            .unwrap_or_default(),
    })
}

/// A declaration's answer, before its attachments and verdicts are added.
pub(crate) fn declaration(row: &impl Fields) -> Result<super::CaseDeclaration, StoreError> {
    Ok(super::CaseDeclaration {
        declaration_id: row.get("declaration_id")?,
        suite_version: row.get("suite_version")?,
        answer: row.get("answer")?,
        attachments: Vec::new(),
        verdicts: Vec::new(),
    })
}

/// An attachment's description (not its bytes).
pub(crate) fn attachment(row: &impl Fields) -> Result<super::Attachment, StoreError> {
    Ok(super::Attachment {
        id: row.get("id")?,
        file_name: row.get("file_name")?,
        content_type: row.get("content_type")?,
        size: row.get("size")?,
        sha256: row.get("sha256")?,
    })
}

/// An attachment with its bytes and whose it is.
pub(crate) fn attachment_file(row: &impl Fields) -> Result<super::AttachmentFile, StoreError> {
    Ok(super::AttachmentFile {
        case_id: row.get("case_id")?,
        organisation_id: row.get("organisation_id")?,
        attachment: attachment(row)?,
        bytes: row.get("content")?,
    })
}

/// A reviewer's verdict on a declaration.
pub(crate) fn declaration_review(
    row: &impl Fields,
) -> Result<super::DeclarationReview, StoreError> {
    Ok(super::DeclarationReview {
        reviewer_id: row.get("reviewer_id")?,
        reviewer: row.get("username")?,
        verdict: row.parsed(
            "verdict",
            "declaration verdict",
            super::DeclarationVerdict::parse,
        )?,
        comment: row.get("comment")?,
        decided_at: row.ts("decided_at")?,
    })
}

/// Puts each attachment and verdict (`declaration_id`, item) under its declaration.
pub(crate) fn file_under<T>(
    case_id: i64,
    declarations: &mut [super::CaseDeclaration],
    items: Vec<(String, T)>,
    place: fn(&mut super::CaseDeclaration, T),
) -> Result<(), StoreError> {
    for (id, item) in items {
        let d = declarations
            .iter_mut()
            .find(|d| d.declaration_id == id)
            .ok_or_else(|| StoreError::Corrupt(format!("case {case_id}: no declaration {id}")))?;
        place(d, item);
    }
    Ok(())
}

/// A unique constraint's refusal as [`StoreError::Conflict`] naming `what`; any other error as is.
pub(crate) fn conflict(what: crate::i18n::Msg) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |e| match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(what),
        _ => StoreError::Database(e),
    }
}

/// A workbench sandbox with the number of its journal's entries (each backend adds its WHERE).
pub(crate) const SANDBOX: &str = "SELECT s.*, (SELECT COUNT(*) FROM workbench_journal j \
     WHERE j.organisation_id = s.organisation_id) AS entries FROM workbench_sandboxes s";

pub(crate) fn sandbox_record(row: &impl Fields) -> Result<super::SandboxRecord, StoreError> {
    let secret: String = row.get("secret")?;
    let secret = hex::decode(&secret)
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .ok_or_else(|| StoreError::Corrupt("a sandbox secret is not 32 bytes of hex".into()))?;
    Ok(super::SandboxRecord {
        organisation_id: row.get("organisation_id")?,
        secret,
        faults: row.parsed("faults", "fault preset", super::FaultPreset::parse)?,
        created_at: row.ts("created_at")?,
        reset_at: row.opt_ts("reset_at")?,
        journal_entries: u32::try_from(row.get::<i64>("entries")?).unwrap_or(u32::MAX),
    })
}

/// The SQL dialect a query built from parts is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

/// A value bound to a query built from parts.
pub(crate) enum Bind {
    Text(String),
    Int(i64),
}

/// The audit events `query` selects, as SQL in `dialect` and its binds in order.
///
/// Timestamps are RFC 3339 text in UTC compared in byte order (PostgreSQL's columns are
/// `COLLATE "C"`): with a bound cut to the second and without its `Z`, text order is time order.
pub(crate) fn audit_search(query: &super::AuditQuery, dialect: Dialect) -> (String, Vec<Bind>) {
    let second = |t: &Timestamp| t.strftime("%Y-%m-%dT%H:%M:%S").to_string();
    let mut sql = String::from("SELECT * FROM audit_events WHERE 1 = 1");
    let mut binds: Vec<Bind> = Vec::new();
    let mut condition = |text: &str, bind: Bind| {
        binds.push(bind);
        let placeholder = match dialect {
            Dialect::Sqlite => "?".to_owned(),
            Dialect::Postgres => format!("${}", binds.len()),
        };
        sql.push_str(&text.replace('?', &placeholder));
    };
    if let Some(kind) = &query.kind {
        if kind.contains('.') {
            condition(" AND action = ?", Bind::Text(kind.clone()));
        } else {
            // `area.` ≤ action < `area/` (the character after the dot): the area's actions.
            condition(" AND action >= ?", Bind::Text(format!("{kind}.")));
            condition(" AND action < ?", Bind::Text(format!("{kind}/")));
        }
    }
    if let Some(actor) = &query.actor {
        // ASCII case-insensitively in both: PostgreSQL's `lower` in the C collation folds ASCII
        // only, as SQLite's does.
        let contains = match dialect {
            Dialect::Sqlite => " AND instr(lower(actor), lower(?)) > 0",
            Dialect::Postgres => " AND strpos(lower(actor), lower(? COLLATE \"C\")) > 0",
        };
        condition(contains, Bind::Text(actor.clone()));
    }
    if let Some(subject) = &query.subject {
        condition(" AND subject = ?", Bind::Text(subject.clone()));
    }
    if let Some(since) = &query.since {
        condition(" AND at >= ?", Bind::Text(second(since)));
    }
    if let Some(until) = &query.until {
        condition(" AND at < ?", Bind::Text(second(until)));
    }
    if let Some(after) = query.after {
        condition(" AND seq > ?", Bind::Int(after));
    }
    if let Some(before) = query.before {
        condition(" AND seq < ?", Bind::Int(before));
    }
    let order = if query.after.is_some() {
        " ORDER BY seq ASC LIMIT ?"
    } else {
        " ORDER BY seq DESC LIMIT ?"
    };
    condition(order, Bind::Int(i64::from(query.limit)));
    (sql, binds)
}

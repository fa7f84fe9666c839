//! What the markedsplass does, once: the JSON API and the web pages (`http/api.rs`,
//! `http/web.rs`) are two thin faces over these operations, which take the core ([`Market`]) and
//! plain values — never a request. Each checks [`crate::policy`],
//! validates its input with errors a person can act on, and writes the change with its audit
//! events in one transaction. That a state-changing request came from our own pages (CSRF) is the
//! HTTP layer's to prove before it calls in.

use sandkasse_sandbox::Rejection;
use sandkasse_suite::text::{Lines, check_plain};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::error::{AppError, unplain};
use crate::i18n::Msg;
use crate::listing::ListingStatus;
use crate::market::Market;
use crate::policy::{self, Actor};
use crate::store::{
    Case, CaseState, CatalogueEntry, Decided, Decision, Listing, ListingState, NewCase,
    NewDecision, NewSubmission, NotificationKind, Product, ProductSummary, Role, Run, Submission,
    Submitted,
};

/// Longest product name, version and changelog accepted, in characters.
pub const MAX_PRODUCT_CHARS: usize = 120;
pub const MAX_VERSION_CHARS: usize = 64;
pub const MAX_CHANGELOG_CHARS: usize = 20_000;
pub const MAX_NOTE_CHARS: usize = 5_000;

/// An upload: the form's fields and the component file (the HTTP layer reads them from a
/// multipart body).
#[derive(Default)]
pub struct Upload {
    pub product: String,
    /// Whether `product` is an existing product or a new one ([`crate::picker`]).
    pub product_choice: crate::picker::ProductChoice,
    pub version: String,
    pub changelog: String,
    pub file_name: String,
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for Upload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upload")
            .field("product", &self.product)
            .field("product_choice", &self.product_choice)
            .field("version", &self.version)
            .field("file_name", &self.file_name)
            .field("bytes", &self.bytes.len())
            .finish()
    }
}

/// A text field as stored: trimmed, present if `required`, at most `max` characters, and plain
/// ([`sandkasse_suite::text`]): no control characters (line breaks and tabs are allowed in
/// [`Lines::Many`] text) and no bidirectional or invisible characters.
fn check_text(
    value: &str,
    field: &'static str,
    max: usize,
    required: bool,
    lines: Lines,
) -> Result<String, AppError> {
    let value = value.trim();
    if required && value.is_empty() {
        return Err(AppError::invalid(
            Msg::new("msg_missing").msg("field", Msg::new(field)),
        ));
    }
    if value.chars().count() > max {
        return Err(AppError::invalid(
            Msg::new("msg_too_long")
                .msg("field", Msg::new(field))
                .arg("max", max),
        ));
    }
    check_plain(value, lines).map_err(|why| AppError::invalid(unplain(Msg::new(field), &why)))?;
    Ok(value.to_owned())
}

/// Checks an upload, inspects the component in the sandbox, stores it and queues its run.
pub async fn submit(market: &Market, actor: &Actor, upload: Upload) -> Result<Submitted, AppError> {
    let organisation_id = policy::vendor_organisation(actor)?;
    let product = check_text(
        &upload.product,
        "field_product",
        MAX_PRODUCT_CHARS,
        true,
        Lines::One,
    )?;
    let existing = market.stores.market.product_names(organisation_id).await?;
    let names: Vec<&str> = existing.iter().map(String::as_str).collect();
    crate::picker::check(&product, upload.product_choice, &names)?;
    let version = check_text(
        &upload.version,
        "field_version",
        MAX_VERSION_CHARS,
        true,
        Lines::One,
    )?;
    if version.contains(char::is_whitespace) {
        return Err(AppError::invalid(Msg::new("msg_version_spaces")));
    }
    let changelog = check_text(
        &upload.changelog,
        "field_changelog",
        MAX_CHANGELOG_CHARS,
        false,
        Lines::Many,
    )?;
    if upload.bytes.is_empty() && upload.file_name.is_empty() {
        return Err(AppError::invalid(Msg::new("msg_choose_file")));
    }
    let Upload {
        bytes, file_name, ..
    } = upload;
    let sandbox = market.runner.sandbox.clone();
    let components = market.runner.components.clone();
    // Inspection compiles the component (cached on disk for the run); both block. A few at once:
    // each compile may take `compile_memory_bytes`.
    let permit = market
        .upload_compiles
        .clone()
        .acquire_owned()
        .await
        .map_err(|_| AppError::NotReady)?;
    let (inspection, bytes) = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        let (inspection, verdict) = sandbox.inspect(&bytes);
        match (inspection, verdict) {
            (Some(inspection), Ok(())) => Ok(Ok((inspection, bytes))),
            (_, Err(rejection)) => Ok(Err(rejection)),
            (None, Ok(())) => Err(AppError::Internal("inspection without a result".into())),
        }
    })
    .await
    .map_err(|e| AppError::Internal(Box::new(e)))??
    .map_err(|rejection| match rejection {
        // The service is stopping: nothing was stored; the client may try again.
        Rejection::Interrupted => AppError::NotReady,
        rejection => AppError::Rejected(Msg::from(&rejection)),
    })?;
    let sha = components
        .put(bytes)
        .await
        .map_err(|e| AppError::Internal(Box::new(e)))?;
    let user = actor.user()?;
    let new = NewSubmission {
        organisation_id,
        product_name: product,
        version,
        changelog,
        component_sha256: sha,
        component_size: i64::try_from(inspection.size).unwrap_or(i64::MAX),
        file_name,
        inspection: serde_json::to_value(&inspection).unwrap_or_default(),
        submitted_by: user.id,
        at: market.clock.now(),
    };
    let (audit, who) = (market.audit.clone(), actor.audit_name());
    let submitted = market
        .stores
        .market
        .submit(
            new,
            Box::new(move |s| {
                let mut events = Vec::new();
                if s.new_product {
                    events.push(audit.event(&who, "product.create", &format!("product:{}", s.product.id), None, json!({ "name": s.product.name })));
                }
                events.push(audit.event(
                    &who,
                    "submission.create",
                    &format!("submission:{}", s.submission.id),
                    None,
                    json!({ "product_id": s.product.id, "version": s.submission.version, "sha256": s.submission.component_sha256, "size": s.submission.component_size }),
                ));
                events.push(audit.event(&who, "run.queue", &format!("run:{}", s.run.id), None, json!({ "submission_id": s.submission.id })));
                events
            }),
        )
        .await
        .map_err(|e| match e {
            crate::store::StoreError::Conflict(what) => {
                AppError::Conflict(Msg::new("msg_version_exists").msg("what", what))
            }
            e => e.into(),
        })?;
    market.runner.notify();
    Ok(submitted)
}

/// A product as its page shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ProductView {
    pub product: Product,
    pub listing: Option<Listing>,
    /// [`ListingStatus::of`] the listing: what the page shows first.
    pub status: ListingStatus,
    /// Whether the caller sees the organisation's work (submissions, runs, cases).
    pub full: bool,
    pub submissions: Vec<SubmissionView>,
    pub cases: Vec<Case>,
    pub catalogue: Option<CatalogueEntry>,
    /// Nightly runs, oldest first.
    pub history: Vec<Run>,
    /// The trend of the nightly runs as SVG (when there are any).
    pub trend_svg: Option<String>,
}

/// A submission with its runs, newest first.
#[derive(Debug, Clone, Serialize)]
pub struct SubmissionView {
    pub submission: Submission,
    pub runs: Vec<Run>,
}

/// A product page: public when listed (catalogue facts only), complete for its organisation and
/// the project, 404 for everyone else.
/// A product as its page shows it; the trend's texts are in `lang`.
pub async fn product(
    market: &Market,
    actor: &Actor,
    id: i64,
    lang: crate::i18n::Lang,
) -> Result<ProductView, AppError> {
    let product = market
        .stores
        .market
        .product(id)
        .await?
        .ok_or(AppError::NotFound)?;
    let listing = market.stores.market.listing(id).await?;
    let full = policy::sees_organisation(actor, product.organisation_id);
    if !full && !policy::is_public(listing.as_ref().map(|l| l.state)) {
        return Err(AppError::NotFound);
    }
    let catalogue = market
        .stores
        .market
        .catalogue()
        .await?
        .into_iter()
        .find(|e| e.product_id == id);
    let (mut submissions, mut cases) = (Vec::new(), Vec::new());
    if full {
        for submission in market.stores.market.submissions(id).await? {
            let runs = market.stores.market.runs(submission.id).await?;
            submissions.push(SubmissionView { submission, runs });
        }
        cases = market.stores.market.cases(&[], Some(id)).await?;
    }
    // The nightly history of the listed version (one line per night, not mixed with other
    // versions); the public sees its results, not run errors.
    let listed_submission = listing.as_ref().map(|l| l.submission_id);
    let history: Vec<Run> = market
        .stores
        .nightly
        .product_history(id)
        .await?
        .into_iter()
        .filter(|r| listed_submission.is_none_or(|s| r.submission_id == s))
        .map(|mut r| {
            if !full {
                r.error = None;
            }
            r
        })
        .collect();
    let trend_svg =
        (!history.is_empty()).then(|| crate::nightly::trend_svg(&history, &product.name, lang));
    Ok(ProductView {
        product,
        status: ListingStatus::of(listing.as_ref()),
        listing,
        full,
        submissions,
        cases,
        catalogue,
        history,
        trend_svg,
    })
}

/// The products the caller may see: a vendor's own, everything for the project.
pub async fn products(market: &Market, actor: &Actor) -> Result<Vec<ProductSummary>, AppError> {
    let user = actor.user()?;
    let scope = if policy::PROJECT.contains(&user.role) {
        None
    } else {
        Some(user.organisation_id.ok_or(AppError::Forbidden)?)
    };
    Ok(market.stores.market.products(scope).await?)
}

/// A submission the caller may see, with its runs.
pub async fn submission(
    market: &Market,
    actor: &Actor,
    id: i64,
) -> Result<SubmissionView, AppError> {
    let submission = market
        .stores
        .market
        .submission(id)
        .await?
        .ok_or(AppError::NotFound)?;
    policy::require_organisation(actor, submission.organisation_id)?;
    let runs = market.stores.market.runs(id).await?;
    Ok(SubmissionView { submission, runs })
}

/// A run the caller may see, with its submission and product.
pub async fn run(
    market: &Market,
    actor: &Actor,
    id: i64,
) -> Result<(Run, Submission, Product), AppError> {
    let run = market
        .stores
        .market
        .run(id)
        .await?
        .ok_or(AppError::NotFound)?;
    policy::require_organisation(actor, run.organisation_id)?;
    let submission = market
        .stores
        .market
        .submission(run.submission_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let product = market
        .stores
        .market
        .product(run.product_id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((run, submission, product))
}

/// The parsed, signed report of a finished run the caller may see (404 before it exists).
pub async fn report(
    market: &Market,
    actor: &Actor,
    run_id: i64,
) -> Result<sandkasse_suite::report::Report, AppError> {
    with_report(market, actor, run_id, |report| report).await
}

/// The stored report of a run whose access the caller has already checked (404 before it exists).
pub async fn stored_report(
    market: &Market,
    run_id: i64,
) -> Result<sandkasse_suite::report::Report, AppError> {
    with_stored_report(market, run_id, |report| report).await
}

/// `render` applied to the report of a finished run the caller may see (404 before it exists).
pub async fn with_report<T: Send + 'static>(
    market: &Market,
    actor: &Actor,
    run_id: i64,
    render: impl FnOnce(sandkasse_suite::report::Report) -> T + Send + 'static,
) -> Result<T, AppError> {
    let (run, _, _) = run(market, actor, run_id).await?;
    with_stored_report(market, run.id, render).await
}

/// The stored report parsed and passed to `render` on a blocking thread: a report may be
/// `limits.max_report_bytes` and its renderings several times that, so neither is built on the
/// async runtime, where it would stall every other request.
pub async fn with_stored_report<T: Send + 'static>(
    market: &Market,
    run_id: i64,
    render: impl FnOnce(sandkasse_suite::report::Report) -> T + Send + 'static,
) -> Result<T, AppError> {
    let text = market
        .stores
        .market
        .run_report(run_id)
        .await?
        .ok_or(AppError::NotFound)?;
    tokio::task::spawn_blocking(move || serde_json::from_str(&text).map(render))
        .await
        .map_err(|e| AppError::Internal(Box::new(e)))?
        .map_err(|e| AppError::Internal(Box::new(e)))
}

/// The badge of a run the caller may see (404 before it has a report).
pub async fn badge(market: &Market, actor: &Actor, run_id: i64) -> Result<String, AppError> {
    let (run, _, _) = run(market, actor, run_id).await?;
    stored_badge(market, run.id).await
}

/// The public badge of a product that is or was in the catalogue: its listing status
/// ([`ListingStatus`]) and, while it is listed, the verdict and score of its listed version's last
/// run — `oppført · godkjent 100 %`, `i faresonen · ikke godkjent 54 %`, `suspendert`, `fjernet`.
/// A product never listed is a 404.
pub async fn catalogue_badge(market: &Market, product_id: i64) -> Result<String, AppError> {
    let store = &market.stores.market;
    let listing = store.listing(product_id).await?.ok_or(AppError::NotFound)?;
    let product = store.product(product_id).await?.ok_or(AppError::NotFound)?;
    let status = ListingStatus::of(Some(&listing));
    let (verdict, score) = match status {
        ListingStatus::Listed | ListingStatus::AtRisk => store
            .catalogue()
            .await?
            .into_iter()
            .find(|e| e.product_id == product_id)
            .map_or((None, None), |e| (e.verdict, e.score)),
        _ => (None, None),
    };
    Ok(status.badge_svg(verdict, score, &product.name, &product.vendor))
}

/// The badge stored when the run finished; a run finished before badges were stored has it
/// rendered from its report (off the async runtime).
async fn stored_badge(market: &Market, run_id: i64) -> Result<String, AppError> {
    match market.stores.market.run_badge(run_id).await? {
        Some(svg) => Ok(svg),
        None => {
            with_stored_report(market, run_id, |r| {
                sandkasse_suite::render::badge::to_badge_svg(&r)
            })
            .await
        }
    }
}

/// The progress of a run as stored (for watchers that arrive late or after the end).
pub fn stored_progress(market: &Market, run: &Run) -> crate::runner::Progress {
    crate::runner::Progress::stored(run, market.runner.total())
}

/// A listing request: the version and the answers to the declarations (attachments in base64,
/// as the JSON API takes them; the page's form gives the bytes, [`crate::declarations::Answer`]).
#[derive(Debug, Clone, Deserialize)]
pub struct ListingRequest {
    #[serde(deserialize_with = "integer")]
    pub submission_id: i64,
    #[serde(default)]
    pub declarations: Vec<DeclarationAnswer>,
}

/// An answer to one declaration in the JSON API.
#[derive(Debug, Clone, Deserialize)]
pub struct DeclarationAnswer {
    pub id: String,
    #[serde(default)]
    pub answer: String,
    #[serde(default)]
    pub attachments: Vec<AttachmentBody>,
}

/// An attachment in the JSON API: its name, media type and content in base64.
#[derive(Clone, Deserialize)]
pub struct AttachmentBody {
    pub file_name: String,
    pub content_type: String,
    pub content_base64: String,
}

impl std::fmt::Debug for AttachmentBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AttachmentBody")
            .field("file_name", &self.file_name)
            .field("content_type", &self.content_type)
            .field("content_base64", &self.content_base64.len())
            .finish()
    }
}

impl ListingRequest {
    /// The answers with their attachments decoded; content that is not base64 is refused.
    pub fn answers(&self) -> Result<Vec<crate::declarations::Answer>, AppError> {
        use base64::Engine as _;
        self.declarations
            .iter()
            .map(|d| {
                let attachments = d
                    .attachments
                    .iter()
                    .map(|a| {
                        let bytes = base64::engine::general_purpose::STANDARD
                            .decode(a.content_base64.trim())
                            .map_err(|_| {
                                AppError::invalid(
                                    Msg::new("msg_attachment_not_base64").arg("id", &d.id),
                                )
                            })?;
                        Ok(crate::store::NewAttachment {
                            file_name: a.file_name.clone(),
                            content_type: a.content_type.clone(),
                            bytes,
                        })
                    })
                    .collect::<Result<_, AppError>>()?;
                Ok(crate::declarations::Answer {
                    id: d.id.clone(),
                    answer: d.answer.clone(),
                    attachments,
                })
            })
            .collect()
    }
}

/// An `i64` that also takes a JSON number written with a zero fraction (`7.0`), as JSON Schema's
/// `integer` — and so the OpenAPI document — allows; a form field is parsed as usual, a JSON string
/// is refused.
fn integer<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    use serde::de::{Error, Unexpected, Visitor};
    struct Integer;
    impl Visitor<'_> for Integer {
        type Value = i64;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an integer")
        }
        fn visit_i64<E: Error>(self, v: i64) -> Result<i64, E> {
            Ok(v)
        }
        fn visit_u64<E: Error>(self, v: u64) -> Result<i64, E> {
            i64::try_from(v).map_err(|_| E::invalid_value(Unexpected::Unsigned(v), &self))
        }
        fn visit_f64<E: Error>(self, v: f64) -> Result<i64, E> {
            // -2^63 is exact as f64; 2^63 is the first value past i64::MAX.
            const LIMIT: f64 = 9_223_372_036_854_775_808.0;
            if v.fract() == 0.0 && (-LIMIT..LIMIT).contains(&v) {
                #[allow(clippy::cast_possible_truncation)]
                Ok(v as i64)
            } else {
                Err(E::invalid_value(Unexpected::Float(v), &self))
            }
        }
    }
    deserializer.deserialize_i64(Integer)
}

/// Asks for a product version to be listed: its latest run must be godkjent, and the answers
/// must answer every required declaration ([`crate::declarations::check`]); a refusal of an
/// answer names its declaration and field, for the form ([`crate::declarations::Refusal`]).
///
/// `answers` are as the request could be read: answers that could not (an attachment that is not
/// base64) are refused where answers are checked — after the product and the version — so a
/// request is refused in the same order whatever its body holds.
pub async fn request_listing(
    market: &Market,
    actor: &Actor,
    product_id: i64,
    submission_id: i64,
    answers: Result<Vec<crate::declarations::Answer>, AppError>,
) -> Result<Case, crate::declarations::Refusal> {
    let run = listing_run(market, actor, product_id, submission_id).await?;
    let suite = &market.runner.suite;
    let declarations = crate::declarations::check(suite, &market.declarations, answers?)?;
    let user = actor.user()?;
    let new = NewCase {
        product_id,
        submission_id,
        run_id: run.id,
        requested_by: user.id,
        reviewers: market.reviewers_per_case,
        suite_version: suite.manifest.version.clone(),
        declarations,
        at: market.clock.now(),
    };
    let (audit, who) = (market.audit.clone(), actor.audit_name());
    let case = market
        .stores
        .market
        .open_case(
            new,
            Box::new(move |c| {
                let reviewers: Vec<_> = c.reviews.iter().map(|r| r.reviewer.clone()).collect();
                // Which declarations were answered, and the attachments by digest (not content).
                let declarations: Vec<_> = c
                    .declarations
                    .iter()
                    .map(|d| json!({ "id": d.declaration_id, "suite_version": d.suite_version, "attachments": d.attachments.iter().map(|a| &a.sha256).collect::<Vec<_>>() }))
                    .collect();
                vec![audit.event(
                    &who,
                    "listing.request",
                    &format!("case:{}", c.id),
                    None,
                    json!({ "product_id": c.product_id, "submission_id": c.submission_id, "run_id": c.run_id, "assigned": reviewers, "declarations": declarations }),
                )]
            }),
        )
        .await
        .map_err(AppError::from)?;
    Ok(case)
}

/// The run a listing request of `submission_id` of `product_id` is judged by: the product and the
/// version are the caller's organisation's (else 404), and the version's deciding run is finished
/// and godkjent (else 409).
async fn listing_run(
    market: &Market,
    actor: &Actor,
    product_id: i64,
    submission_id: i64,
) -> Result<Run, AppError> {
    let org = policy::vendor_organisation(actor)?;
    let product = market
        .stores
        .market
        .product(product_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if product.organisation_id != org {
        return Err(AppError::NotFound);
    }
    let submission = market
        .stores
        .market
        .submission(submission_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if submission.organisation_id != org {
        return Err(AppError::NotFound);
    }
    if submission.product_id != product_id {
        return Err(AppError::invalid(Msg::new("msg_submission_not_of_product")));
    }
    let runs = market.stores.market.runs(submission.id).await?;
    let Some(run) = Run::deciding(&runs) else {
        return Err(AppError::Refused(Msg::new("msg_run_not_finished")));
    };
    if !run.godkjent() {
        return Err(AppError::Refused(Msg::new("msg_only_godkjent")));
    }
    Ok(run.clone())
}

/// The open review cases (in review or escalated), newest first.
pub async fn queue(market: &Market, actor: &Actor) -> Result<Vec<Case>, AppError> {
    actor.require(policy::REVIEWERS)?;
    Ok(market
        .stores
        .market
        .cases(&[CaseState::InReview, CaseState::Escalated], None)
        .await?)
}

/// Every case, newest first (for the project).
pub async fn all_cases(market: &Market, actor: &Actor) -> Result<Vec<Case>, AppError> {
    actor.require(policy::REVIEWERS)?;
    Ok(market.stores.market.cases(&[], None).await?)
}

/// A case with its run, for the decision page.
pub async fn case(market: &Market, actor: &Actor, id: i64) -> Result<(Case, Run), AppError> {
    actor.require(policy::REVIEWERS)?;
    let case = market
        .stores
        .market
        .case(id)
        .await?
        .ok_or(AppError::NotFound)?;
    let run = market
        .stores
        .market
        .run(case.run_id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((case, run))
}

/// A decision as submitted, with a verdict on each of the case's declarations.
#[derive(Debug, Clone, Deserialize)]
pub struct DecisionInput {
    pub decision: String,
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub declarations: Vec<VerdictInput>,
}

/// A verdict on one declaration: `accept` or `reject` (with a comment).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct VerdictInput {
    pub id: String,
    #[serde(default)]
    pub verdict: String,
    #[serde(default)]
    pub comment: String,
}

/// An attachment of a declaration with its bytes, for the vendor who gave it and the project.
pub async fn attachment(
    market: &Market,
    actor: &Actor,
    id: i64,
) -> Result<crate::store::AttachmentFile, AppError> {
    actor.user()?;
    let file = market
        .stores
        .market
        .attachment(id)
        .await?
        .ok_or(AppError::NotFound)?;
    policy::require_organisation(actor, file.organisation_id)?;
    Ok(file)
}

/// Records a reviewer's (or the beslutningsgruppe's) decision; see [`crate::governance`].
pub async fn decide(
    market: &Market,
    actor: &Actor,
    case_id: i64,
    input: &DecisionInput,
) -> Result<Decided, AppError> {
    let user = actor.require(policy::DECIDERS)?.clone();
    let decision = Decision::parse(&input.decision)
        .ok_or_else(|| AppError::invalid(Msg::new("msg_choose_decision")))?;
    let note = check_text(&input.note, "field_note", MAX_NOTE_CHARS, true, Lines::Many)?;
    let case = market
        .stores
        .market
        .case(case_id)
        .await?
        .ok_or(AppError::NotFound)?;
    // Who may not decide learns that before anything about the verdicts.
    crate::governance::may_decide(&case, user.id, user.role)
        .map_err(|e| AppError::Refused(Msg::from(&e)))?;
    let verdicts = input
        .declarations
        .iter()
        .map(|v| {
            let verdict = crate::store::DeclarationVerdict::parse(&v.verdict).ok_or_else(|| {
                AppError::invalid(Msg::new("msg_choose_verdict").arg("id", &v.id))
            })?;
            let comment = check_text(
                &v.comment,
                "field_verdict_comment",
                MAX_NOTE_CHARS,
                false,
                Lines::Many,
            )?;
            Ok(crate::store::NewVerdict {
                declaration_id: v.id.trim().to_owned(),
                verdict,
                comment,
            })
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    let ids: Vec<&str> = case
        .declarations
        .iter()
        .map(|d| d.declaration_id.as_str())
        .collect();
    crate::governance::check_verdicts(&ids, decision, &verdicts)
        .map_err(|e| AppError::invalid(Msg::from(&e)))?;
    let verdicts_for_audit: Vec<_> = verdicts
        .iter()
        .map(|v| json!({ "id": v.declaration_id, "verdict": v.verdict, "comment": v.comment }))
        .collect();
    let (audit, who) = (market.audit.clone(), actor.audit_name());
    let level = user.role;
    let note_for_audit = note.clone();
    let at = market.clock.now();
    let decided = market
        .stores
        .market
        .decide(
            NewDecision { case_id, reviewer_id: user.id, level, decision, note, verdicts, at },
            Box::new(move |d| {
                let subject = format!("case:{}", d.case.id);
                let mut events = vec![audit.event(
                    &who,
                    "review.decide",
                    &subject,
                    Some(&note_for_audit),
                    json!({ "decision": decision, "level": level, "case_state": d.case.state, "declarations": verdicts_for_audit }),
                )];
                match d.case.state {
                    CaseState::Escalated => events.push(audit.event(
                        "system:governance",
                        "review.escalate",
                        &subject,
                        Some(&Msg::new("audit_reviewers_disagree").both()),
                        json!({ "to": Role::Beslutningsgruppe }),
                    )),
                    CaseState::Approved => events.push(audit.event(
                        &who,
                        "listing.list",
                        &format!("product:{}", d.case.product_id),
                        Some(&note_for_audit),
                        json!({ "case_id": d.case.id, "submission_id": d.case.submission_id, "version": d.case.version }),
                    )),
                    CaseState::Rejected => events.push(audit.event(
                        &who,
                        "listing.reject",
                        &format!("product:{}", d.case.product_id),
                        Some(&note_for_audit),
                        json!({ "case_id": d.case.id }),
                    )),
                    CaseState::InReview => {}
                }
                events
            }),
            Box::new(move |d| crate::notices::decided(&d.case, at)),
        )
        .await?;
    market.outbox.wake();
    Ok(decided)
}

/// A change of a listing's state, with its reason.
#[derive(Debug, Clone, Deserialize)]
pub struct ListingChange {
    #[serde(default)]
    pub reason: String,
}

/// What can happen to a listing by hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListingAction {
    Suspend,
    Reinstate,
    Delist,
}

impl ListingAction {
    /// The action as its URL names it.
    pub fn as_str(self) -> &'static str {
        match self {
            ListingAction::Suspend => "suspend",
            ListingAction::Reinstate => "reinstate",
            ListingAction::Delist => "delist",
        }
    }

    pub fn parse(s: &str) -> Option<ListingAction> {
        match s {
            "suspend" => Some(ListingAction::Suspend),
            "reinstate" => Some(ListingAction::Reinstate),
            "delist" => Some(ListingAction::Delist),
            _ => None,
        }
    }

    /// The states it applies from, the state it leads to, its audit action and what the vendor is
    /// told.
    fn transition(
        self,
    ) -> (
        &'static [ListingState],
        ListingState,
        &'static str,
        NotificationKind,
    ) {
        match self {
            ListingAction::Suspend => (
                &[ListingState::Listed],
                ListingState::Suspended,
                "listing.suspend",
                NotificationKind::Suspended,
            ),
            ListingAction::Reinstate => (
                &[ListingState::Suspended],
                ListingState::Listed,
                "listing.reinstate",
                NotificationKind::Reinstated,
            ),
            ListingAction::Delist => (
                &[ListingState::Listed, ListingState::Suspended],
                ListingState::Delisted,
                "listing.delist",
                NotificationKind::Delisted,
            ),
        }
    }
}

/// Suspends, reinstates or delists a listing, always with a reason.
pub async fn change_listing(
    market: &Market,
    actor: &Actor,
    product_id: i64,
    action: ListingAction,
    change: &ListingChange,
) -> Result<Listing, AppError> {
    actor.require(policy::REVIEWERS)?;
    let reason = check_text(
        &change.reason,
        "field_reason",
        MAX_NOTE_CHARS,
        true,
        Lines::Many,
    )?;
    let (from, to, action_name, told) = action.transition();
    let store = &market.stores.market;
    let (Some(product), Some(current)) = (
        store.product(product_id).await?,
        store.listing(product_id).await?,
    ) else {
        return Err(AppError::NotFound);
    };
    let version = store
        .submission(current.submission_id)
        .await?
        .map(|s| s.version)
        .unwrap_or_default();
    let (audit, who, why) = (market.audit.clone(), actor.audit_name(), reason.clone());
    let (at, told_why) = (market.clock.now(), reason.clone());
    let listing = store
        .set_listing_state(
            product_id,
            from,
            to,
            &reason,
            at,
            Box::new(move |l| {
                vec![audit.event(
                    &who,
                    action_name,
                    &format!("product:{}", l.product_id),
                    Some(&why),
                    json!({ "state": l.state }),
                )]
            }),
            Box::new(move |l| {
                Some(crate::notices::listing_changed(
                    told, &product, &version, l, &told_why, at,
                ))
            }),
        )
        .await?
        .ok_or(AppError::NotFound)?;
    market.outbox.wake();
    Ok(listing)
}

/// Catalogue filters: free text over product and vendor, a capability, a vendor, the state.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct CatalogueFilter {
    #[serde(default)]
    pub q: Option<String>,
    #[serde(default)]
    pub capability: Option<String>,
    #[serde(default)]
    pub vendor: Option<String>,
    /// `listed` (default) or `all` (also suspended).
    #[serde(default)]
    pub state: Option<String>,
}

/// The public catalogue, filtered.
pub async fn catalogue(
    market: &Market,
    filter: &CatalogueFilter,
) -> Result<Vec<CatalogueEntry>, AppError> {
    let q = filter
        .q
        .as_deref()
        .map(str::trim)
        .filter(|q| !q.is_empty())
        .map(str::to_lowercase);
    let capability = filter.capability.as_deref().filter(|c| !c.is_empty());
    let vendor = filter
        .vendor
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_lowercase);
    let all = filter.state.as_deref() == Some("all");
    Ok(market
        .stores
        .market
        .catalogue()
        .await?
        .into_iter()
        .filter(|e| all || e.state == ListingState::Listed)
        .filter(|e| {
            q.as_ref().is_none_or(|q| {
                e.product.to_lowercase().contains(q) || e.vendor.to_lowercase().contains(q)
            })
        })
        .filter(|e| capability.is_none_or(|c| e.capabilities.iter().any(|x| x == c)))
        .filter(|e| {
            vendor
                .as_ref()
                .is_none_or(|v| e.vendor.to_lowercase() == *v)
        })
        .collect())
}

/// Nights, newest first (for the project).
pub async fn nights(market: &Market, actor: &Actor) -> Result<Vec<crate::store::Night>, AppError> {
    actor.require(policy::REVIEWERS)?;
    Ok(market.stores.nightly.nights(100).await?)
}

/// One night by its date (for the project).
pub async fn night(
    market: &Market,
    actor: &Actor,
    date: &str,
) -> Result<crate::store::Night, AppError> {
    actor.require(policy::REVIEWERS)?;
    market
        .stores
        .nightly
        .night_by_date(date)
        .await?
        .ok_or(AppError::NotFound)
}

/// Notifications the caller may see: a vendor's own organisation's, everything for the project.
pub async fn notifications(
    market: &Market,
    actor: &Actor,
) -> Result<Vec<crate::store::Notification>, AppError> {
    let user = actor.user()?;
    let scope = if policy::PROJECT.contains(&user.role) {
        None
    } else {
        Some(user.organisation_id.ok_or(AppError::Forbidden)?)
    };
    Ok(market.stores.nightly.notifications(scope, 100).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_submission_id_is_an_integer_however_written() {
        let parse =
            |body: &str| serde_json::from_str::<ListingRequest>(body).map(|r| r.submission_id);
        assert_eq!(parse(r#"{"submission_id": 7}"#).unwrap(), 7);
        assert_eq!(parse(r#"{"submission_id": -558577.0}"#).unwrap(), -558577);
        assert!(parse(r#"{"submission_id": 7.5}"#).is_err());
        assert!(parse(r#"{"submission_id": "7"}"#).is_err());
        assert!(parse(r#"{"submission_id": 1e30}"#).is_err());
        assert!(parse(r#"{"submission_id": 9223372036854775808}"#).is_err());
    }
}

//! The markedsplass's own records — products, submissions, runs, review cases and listings — and
//! the [`MarketStore`] trait that keeps them.
//!
//! The lifecycle (`docs/markedsplass.md`):
//!
//! ```text
//! upload ─► submission + run (queued) ─► running ─► done (godkjent | ikke-godkjent) | error
//!                                                     │ godkjent
//!                                                     ▼
//!                        review case: in_review ─► approved ─► listing: listed ─► suspended ─► delisted
//!                                        │    └──► rejected                 ▲          │
//!                                        └─► escalated (reviewers disagree) │          └─► listed (reinstated)
//!                                              └─► approved | rejected (beslutningsgruppe)
//! ```
//!
//! A review case and a listing are separate: while a new version is in review, the listed version
//! stays in the catalogue; approval replaces it.

use jiff::Timestamp;
pub use sandkasse_suite::report::Verdict;
use serde::{Deserialize, Serialize};

use super::{Audited, BoxFuture, Notify, Role, StoreError};
use crate::figures::Figures;
use crate::listing::ListingStatus;

macro_rules! text_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name { $(#[serde(rename = $text)] $variant),+ }
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str { match self { $($name::$variant => $text),+ } }
            pub fn parse(s: &str) -> Option<$name> { Self::ALL.iter().copied().find(|v| v.as_str() == s) }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(self.as_str()) }
        }
    };
}
pub(crate) use text_enum;

text_enum!(
    /// Where a run is in the queue.
    RunState { Queued = "queued", Running = "running", Done = "done", Error = "error" }
);
text_enum!(
    /// Why a run exists.
    RunPurpose { Submission = "submission", Nightly = "nightly" }
);
text_enum!(
    /// The state of a review case.
    CaseState { InReview = "in_review", Escalated = "escalated", Approved = "approved", Rejected = "rejected" }
);
text_enum!(
    /// A reviewer's decision.
    Decision { Approve = "approve", Reject = "reject" }
);
text_enum!(
    /// A reviewer's verdict on one declaration (egenerklæring) of a case.
    DeclarationVerdict { Accept = "accept", Reject = "reject" }
);
text_enum!(
    /// The state of a product's listing in the catalogue.
    ListingState { Listed = "listed", Suspended = "suspended", Delisted = "delisted" }
);

/// A vendor's product (sluttbrukerløsning).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Product {
    pub id: i64,
    pub organisation_id: i64,
    pub vendor: String,
    pub name: String,
    pub created_at: Timestamp,
}

/// One uploaded version of a product's adapter.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Submission {
    pub id: i64,
    pub product_id: i64,
    pub organisation_id: i64,
    pub version: String,
    pub changelog: String,
    /// SHA-256 of the component: its name in the content-addressed store.
    pub component_sha256: String,
    pub component_size: i64,
    pub file_name: String,
    /// The sandbox's inspection (imports, exports, world).
    pub inspection: serde_json::Value,
    pub submitted_by: String,
    pub created_at: Timestamp,
}

/// A test run of a submission. The signed report is read separately ([`MarketStore::run_report`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Run {
    pub id: i64,
    pub submission_id: i64,
    pub product_id: i64,
    pub organisation_id: i64,
    pub purpose: RunPurpose,
    pub state: RunState,
    /// How often a worker has started it (a crash mid-run starts it again).
    pub attempts: i64,
    pub queued_at: Timestamp,
    pub started_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
    /// `godkjent` / `ikke-godkjent` exactly when done.
    pub verdict: Option<Verdict>,
    pub score: Option<f64>,
    /// Why the run could not produce a report (state `error`).
    pub error: Option<String>,
    /// The roles the adapter claims (from its report).
    pub capabilities: Vec<String>,
    /// The night this run belongs to (nightly runs).
    pub night_id: Option<i64>,
    /// The data seed, when not the suite's own.
    pub seed: Option<i64>,
    /// Per-vilkår outcomes and resource figures.
    pub figures: Option<Figures>,
    /// Only this scenario was run (a vendor's re-run of one scenario): the run never counts for a
    /// listing, the catalogue, the dashboard's latest result or a night.
    pub scenario: Option<String>,
}

impl Run {
    /// The run a listing request is judged by among `runs` (newest first): the newest finished
    /// run of the whole suite; a re-run of one scenario never counts.
    pub fn deciding(runs: &[Run]) -> Option<&Run> {
        runs.iter()
            .find(|r| r.is_whole() && matches!(r.state, RunState::Done | RunState::Error))
    }

    /// Whether the run went through every scenario (not a re-run of one).
    pub fn is_whole(&self) -> bool {
        self.scenario.is_none()
    }

    pub fn godkjent(&self) -> bool {
        self.state == RunState::Done && self.verdict == Some(Verdict::Godkjent)
    }
}

/// An upload to record.
#[derive(Debug, Clone)]
pub struct NewSubmission {
    pub organisation_id: i64,
    pub product_name: String,
    pub version: String,
    pub changelog: String,
    pub component_sha256: String,
    pub component_size: i64,
    pub file_name: String,
    pub inspection: serde_json::Value,
    pub submitted_by: i64,
    pub at: Timestamp,
}

/// Another run of a submission ([`MarketStore::queue_run`]).
#[derive(Debug, Clone)]
pub struct NewRun {
    pub submission_id: i64,
    /// Only this scenario; none: every scenario.
    pub scenario: Option<String>,
    pub at: Timestamp,
}

/// What [`MarketStore::submit`] created.
#[derive(Debug, Clone)]
pub struct Submitted {
    pub product: Product,
    /// Whether the product was created by this upload.
    pub new_product: bool,
    pub submission: Submission,
    pub run: Run,
}

/// A request to list a product version.
#[derive(Debug, Clone)]
pub struct NewCase {
    pub product_id: i64,
    pub submission_id: i64,
    pub run_id: i64,
    pub requested_by: i64,
    /// How many reviewers to assign (the least busy ones).
    pub reviewers: usize,
    /// The suite version whose declarations were answered.
    pub suite_version: String,
    /// The vendor's answers, checked ([`crate::declarations`]).
    pub declarations: Vec<NewDeclaration>,
    pub at: Timestamp,
}

/// A vendor's answer to one declaration in a listing request.
#[derive(Debug, Clone)]
pub struct NewDeclaration {
    /// The declaration's id in the suite, e.g. `ERK-01`.
    pub declaration_id: String,
    pub answer: String,
    pub attachments: Vec<NewAttachment>,
}

/// An attachment to an answer, as uploaded.
#[derive(Clone)]
pub struct NewAttachment {
    pub file_name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for NewAttachment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewAttachment")
            .field("file_name", &self.file_name)
            .field("content_type", &self.content_type)
            .field("bytes", &self.bytes.len())
            .finish()
    }
}

/// A declaration as answered in a case, with its attachments and the reviewers' verdicts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseDeclaration {
    pub declaration_id: String,
    /// The suite version whose text the vendor answered.
    pub suite_version: String,
    pub answer: String,
    pub attachments: Vec<Attachment>,
    /// One per reviewer (or beslutningsgruppe member) who has decided.
    pub verdicts: Vec<DeclarationReview>,
}

/// An attachment's description (its bytes come from [`MarketStore::attachment`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attachment {
    pub id: i64,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    /// SHA-256 of the content, hex.
    pub sha256: String,
}

/// An attachment with its bytes and whose it is.
#[derive(Debug, Clone)]
pub struct AttachmentFile {
    pub case_id: i64,
    /// The organisation whose listing request it belongs to.
    pub organisation_id: i64,
    pub attachment: Attachment,
    pub bytes: Vec<u8>,
}

/// One reviewer's verdict on one declaration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeclarationReview {
    pub reviewer_id: i64,
    pub reviewer: String,
    pub verdict: DeclarationVerdict,
    pub comment: String,
    pub decided_at: Timestamp,
}

/// A verdict on one declaration, given with a decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewVerdict {
    pub declaration_id: String,
    pub verdict: DeclarationVerdict,
    pub comment: String,
}

/// A review case with its assignments and decisions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Case {
    pub id: i64,
    pub product_id: i64,
    pub product: String,
    pub organisation_id: i64,
    pub vendor: String,
    pub submission_id: i64,
    pub version: String,
    pub run_id: i64,
    pub state: CaseState,
    pub requested_by: String,
    pub requested_at: Timestamp,
    pub decided_at: Option<Timestamp>,
    /// The note of the deciding decision.
    pub note: Option<String>,
    pub reviews: Vec<Review>,
    /// The vendor's declarations, in id order.
    pub declarations: Vec<CaseDeclaration>,
}

/// One person's part in a case: assigned reviewers have a row from the start (decision `None`
/// until they decide); a beslutningsgruppe member's row appears with the decision.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Review {
    pub reviewer_id: i64,
    pub reviewer: String,
    pub level: Role,
    pub decision: Option<Decision>,
    pub note: Option<String>,
    pub decided_at: Option<Timestamp>,
}

/// A decision to record.
#[derive(Debug, Clone)]
pub struct NewDecision {
    pub case_id: i64,
    pub reviewer_id: i64,
    pub level: Role,
    pub decision: Decision,
    pub note: String,
    /// The verdict on each of the case's declarations ([`crate::governance::check_verdicts`]).
    pub verdicts: Vec<NewVerdict>,
    pub at: Timestamp,
}

/// What a decision led to.
#[derive(Debug, Clone)]
pub struct Decided {
    pub case: Case,
    /// The listing, when the decision approved the case.
    pub listing: Option<Listing>,
}

/// A product's place in the catalogue.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Listing {
    pub product_id: i64,
    pub submission_id: i64,
    pub case_id: i64,
    pub state: ListingState,
    pub listed_at: Timestamp,
    pub updated_at: Timestamp,
    /// Why it was suspended or delisted.
    pub reason: Option<String>,
    /// Since when a nightly run has failed a skal-vilkår (cleared by a passing run).
    pub at_risk_since: Option<Timestamp>,
    /// The nightly run that put it at risk.
    pub at_risk_run_id: Option<i64>,
}

/// One line of the public catalogue.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CatalogueEntry {
    pub product_id: i64,
    pub product: String,
    pub vendor: String,
    pub version: String,
    pub state: ListingState,
    /// What the catalogue and the badge show ([`ListingStatus::of`] the listing).
    pub status: ListingStatus,
    pub capabilities: Vec<String>,
    pub verdict: Option<Verdict>,
    pub score: Option<f64>,
    /// The last finished run of the listed version.
    pub last_run_id: Option<i64>,
    pub last_run_at: Option<Timestamp>,
    pub listed_at: Timestamp,
    /// Since when the listing is at risk (a nightly regression), if it is.
    pub at_risk_since: Option<Timestamp>,
    /// The ids of the declarations the listed version's case carries (accepted by its reviewers),
    /// in id order — never the answers.
    pub declarations: Vec<String>,
}

/// A product with its latest state, for dashboards: the listing (what the catalogue shows) apart
/// from the latest upload (what the vendor is working on) and the latest listing request.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProductSummary {
    pub product: Product,
    pub latest_submission: Option<Submission>,
    pub latest_run: Option<Run>,
    pub listing: Option<Listing>,
    /// [`ListingStatus::of`] the listing.
    pub status: ListingStatus,
    /// The version the listing is for.
    pub listed_version: Option<String>,
    pub open_case: Option<i64>,
    /// The newest listing request, open or decided.
    pub latest_case: Option<CaseBrief>,
}

/// A listing request in brief: its version, state and, once decided, the deciding note.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseBrief {
    pub id: i64,
    pub version: String,
    pub state: CaseState,
    pub decided_at: Option<Timestamp>,
    pub note: Option<String>,
}

/// Products, submissions, runs, review cases and listings. Every change takes its audit events.
pub trait MarketStore: Send + Sync {
    /// Records an upload: the product (created on first upload of its name in the organisation),
    /// the submission and its queued run, in one transaction. A second upload of the same version
    /// of a product is a [`StoreError::Conflict`].
    fn submit<'a>(
        &'a self,
        new: NewSubmission,
        audit: Audited<'a, Submitted>,
    ) -> BoxFuture<'a, Result<Submitted, StoreError>>;
    /// Products with their latest state; only `organisation`'s when given.
    fn products(
        &self,
        organisation: Option<i64>,
    ) -> BoxFuture<'_, Result<Vec<ProductSummary>, StoreError>>;
    /// The names of an organisation's products (for the upload's product picker).
    fn product_names(&self, organisation_id: i64)
    -> BoxFuture<'_, Result<Vec<String>, StoreError>>;
    fn product(&self, id: i64) -> BoxFuture<'_, Result<Option<Product>, StoreError>>;
    /// A product's submissions, newest first.
    fn submissions(&self, product_id: i64) -> BoxFuture<'_, Result<Vec<Submission>, StoreError>>;
    fn submission(&self, id: i64) -> BoxFuture<'_, Result<Option<Submission>, StoreError>>;
    /// Every distinct stored component digest (for integrity checks and clean-up).
    fn component_digests(&self) -> BoxFuture<'_, Result<Vec<String>, StoreError>>;
    /// A submission's runs, newest first.
    fn runs(&self, submission_id: i64) -> BoxFuture<'_, Result<Vec<Run>, StoreError>>;
    fn run(&self, id: i64) -> BoxFuture<'_, Result<Option<Run>, StoreError>>;
    /// Queues another run of a submission (all scenarios, or only `scenario`), unless one of its
    /// runs is still queued or running ([`StoreError::Conflict`]).
    fn queue_run<'a>(
        &'a self,
        new: NewRun,
        audit: Audited<'a, Run>,
    ) -> BoxFuture<'a, Result<Run, StoreError>>;
    /// The signed report of a finished run.
    fn run_report(&self, id: i64) -> BoxFuture<'_, Result<Option<String>, StoreError>>;
    /// The badge SVG stored when the run finished (`None` before, or for a run without a report).
    fn run_badge(&self, id: i64) -> BoxFuture<'_, Result<Option<String>, StoreError>>;
    /// Opens a review case and assigns the least busy reviewers. A product has at most one open
    /// case ([`StoreError::Conflict`]); with no reviewer at all it is [`StoreError::Refused`].
    fn open_case<'a>(
        &'a self,
        new: NewCase,
        audit: Audited<'a, Case>,
    ) -> BoxFuture<'a, Result<Case, StoreError>>;
    /// Records a decision and applies [`crate::governance::next_state`] to the case in the same
    /// transaction; approval lists (or relists) the product with the case's version. The vendor's
    /// notification (`notify`) is written in that transaction too.
    fn decide<'a>(
        &'a self,
        decision: NewDecision,
        audit: Audited<'a, Decided>,
        notify: Notify<Decided>,
    ) -> BoxFuture<'a, Result<Decided, StoreError>>;
    fn case(&self, id: i64) -> BoxFuture<'_, Result<Option<Case>, StoreError>>;
    /// A declaration's attachment with its bytes and the case's organisation.
    fn attachment(&self, id: i64) -> BoxFuture<'_, Result<Option<AttachmentFile>, StoreError>>;
    /// Cases, newest first; only those in `states` when not empty; only `product`'s when given.
    fn cases<'a>(
        &'a self,
        states: &'a [CaseState],
        product: Option<i64>,
    ) -> BoxFuture<'a, Result<Vec<Case>, StoreError>>;
    fn listing(&self, product_id: i64) -> BoxFuture<'_, Result<Option<Listing>, StoreError>>;
    /// Moves a listing from one of `from` to `to` with a reason, with its audit events and the
    /// vendor's notification; [`StoreError::Refused`] when it is in another state, `None` when
    /// the product has no listing.
    #[allow(clippy::too_many_arguments)]
    fn set_listing_state<'a>(
        &'a self,
        product_id: i64,
        from: &'a [ListingState],
        to: ListingState,
        reason: &'a str,
        at: Timestamp,
        audit: Audited<'a, Listing>,
        notify: Notify<Listing>,
    ) -> BoxFuture<'a, Result<Option<Listing>, StoreError>>;
    /// Listed (and suspended, marked so) products with their last run.
    fn catalogue(&self) -> BoxFuture<'_, Result<Vec<CatalogueEntry>, StoreError>>;
}

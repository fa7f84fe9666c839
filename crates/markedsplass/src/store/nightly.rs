//! Records of the nightly runs ([`crate::nightly`]) and the [`NightlyStore`] that keeps them.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::market::text_enum;
use super::{Audited, BoxFuture, Listing, Run, StoreError};
use crate::nightly::NightSummary;

/// Delivery attempts of one notification before it is given up (it stays visible in the UI):
/// [`NightlyStore::undelivered`] stops offering it after this many.
pub const MAX_DELIVERY_ATTEMPTS: i64 = 5;

text_enum!(
    /// Where a night is: its runs queued or running, or evaluated.
    NightState { Running = "running", Done = "done" }
);
text_enum!(
    /// A change of a listing's health after a nightly run, as notifications and night summaries
    /// name it.
    ListingChange { AtRisk = "at_risk", Suspended = "suspended", Cleared = "cleared" }
);

text_enum!(
    /// What a notification tells a vendor: a change of its listing's health after a nightly run
    /// (`at_risk`, `cleared`, `suspended`), a decision on its listing request (`approved`,
    /// `rejected`), or a listing changed by the project (`suspended`, `reinstated`, `delisted`).
    NotificationKind {
        AtRisk = "at_risk",
        Cleared = "cleared",
        Suspended = "suspended",
        Reinstated = "reinstated",
        Delisted = "delisted",
        Approved = "approved",
        Rejected = "rejected",
    }
);

impl From<ListingChange> for NotificationKind {
    fn from(change: ListingChange) -> NotificationKind {
        match change {
            ListingChange::AtRisk => NotificationKind::AtRisk,
            ListingChange::Suspended => NotificationKind::Suspended,
            ListingChange::Cleared => NotificationKind::Cleared,
        }
    }
}

impl ListingChange {
    /// The audit action of the change.
    pub fn audit_action(self) -> &'static str {
        match self {
            ListingChange::AtRisk => "listing.at_risk",
            ListingChange::Suspended => "listing.suspend",
            ListingChange::Cleared => "listing.cleared",
        }
    }
}

/// One night's batch.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Night {
    pub id: i64,
    /// `YYYY-MM-DD`, the local date the batch started.
    pub night: String,
    pub seed: i64,
    pub suite_version: String,
    pub state: NightState,
    pub started_at: Timestamp,
    pub finished_at: Option<Timestamp>,
    /// Exactly when done.
    pub summary: Option<NightSummary>,
}

/// A night to open.
#[derive(Debug, Clone)]
pub struct NewNight {
    pub night: String,
    pub seed: i64,
    pub suite_version: String,
    pub include_latest_godkjent: bool,
    pub at: Timestamp,
}

/// What [`NightlyStore::open_night`] did.
#[derive(Debug, Clone)]
pub struct OpenedNight {
    pub night: Night,
    /// Whether the night was created now (false: resumed).
    pub created: bool,
    /// Runs queued now (none when every submission of the night already has its run).
    pub queued: Vec<Run>,
}

/// A change of a listing's health after a nightly run.
#[derive(Debug, Clone, PartialEq)]
pub enum RiskChange {
    /// A skal-vilkår fails: at risk since `at`, because of `run_id`.
    AtRisk { run_id: i64 },
    /// A passing run clears the risk.
    Cleared { run_id: i64 },
    /// The grace period ran out: suspended, naming the run.
    Suspend { run_id: i64, reason: String },
}

impl RiskChange {
    /// The change as notifications name it.
    pub fn kind(&self) -> ListingChange {
        match self {
            RiskChange::AtRisk { .. } => ListingChange::AtRisk,
            RiskChange::Cleared { .. } => ListingChange::Cleared,
            RiskChange::Suspend { .. } => ListingChange::Suspended,
        }
    }
}

/// A notification to write with the change it tells of, in the same transaction (the product is
/// the changed one's).
#[derive(Debug, Clone)]
pub struct NewNotification {
    pub kind: NotificationKind,
    pub message: String,
    pub night_id: Option<i64>,
    /// The run behind it: the nightly run, or the run a decided case was requested on.
    pub run_id: Option<i64>,
    /// The decided case.
    pub case_id: Option<i64>,
    /// The version concerned.
    pub version: Option<String>,
    /// The deciding note or the reason given, as the person wrote it.
    pub note: Option<String>,
    /// The webhook body.
    pub payload: serde_json::Value,
}

/// The notification that goes with a change, made from the changed record once it exists
/// (`None`: the change tells nobody). Stores write it in the change's transaction.
pub type Notify<T> = Box<dyn FnOnce(&T) -> Option<NewNotification> + Send>;

/// A notification as stored (shown in the vendor's UI, delivered by webhook).
#[derive(Debug, Clone, Serialize)]
pub struct Notification {
    pub id: i64,
    pub at: Timestamp,
    pub organisation_id: i64,
    pub product_id: i64,
    pub product: String,
    pub kind: NotificationKind,
    pub night_id: Option<i64>,
    pub run_id: Option<i64>,
    pub case_id: Option<i64>,
    pub version: Option<String>,
    /// The deciding note or the reason given.
    pub note: Option<String>,
    pub message: String,
    pub payload: serde_json::Value,
    pub attempts: i64,
    pub delivered_at: Option<Timestamp>,
    pub delivery_error: Option<String>,
}

/// Nights, their runs, listing health and notifications.
pub trait NightlyStore: Send + Sync {
    /// Creates the night `new.night` (or finds it) and queues a nightly run, with the night's
    /// seed, for each listed or suspended product's listed submission (and, when asked, each
    /// product's latest godkjent submission) that has none in this night yet.
    fn open_night<'a>(
        &'a self,
        new: NewNight,
        audit: Audited<'a, OpenedNight>,
    ) -> BoxFuture<'a, Result<OpenedNight, StoreError>>;
    fn night(&self, id: i64) -> BoxFuture<'_, Result<Option<Night>, StoreError>>;
    fn night_by_date<'a>(
        &'a self,
        night: &'a str,
    ) -> BoxFuture<'a, Result<Option<Night>, StoreError>>;
    /// Nights, newest first.
    fn nights(&self, limit: u32) -> BoxFuture<'_, Result<Vec<Night>, StoreError>>;
    /// The runs of a night, by id.
    fn night_runs(&self, night_id: i64) -> BoxFuture<'_, Result<Vec<Run>, StoreError>>;
    /// How many runs of a night are not finished (queued or running).
    fn night_pending(&self, night_id: i64) -> BoxFuture<'_, Result<u64, StoreError>>;
    /// A product's finished nightly runs, oldest first.
    fn product_history(&self, product_id: i64) -> BoxFuture<'_, Result<Vec<Run>, StoreError>>;
    /// Applies a health change to a product's listing with its notification, in one transaction.
    /// Each change applies only from the state it is for (at risk: listed and healthy; cleared: at
    /// risk; suspended: listed) — otherwise [`StoreError::Refused`] and nothing is written — so a
    /// night evaluated twice (the scheduler and `sandkasse nightly` at once) changes and notifies
    /// once.
    fn change_risk<'a>(
        &'a self,
        product_id: i64,
        change: RiskChange,
        notification: Option<NewNotification>,
        at: Timestamp,
        audit: Audited<'a, Listing>,
    ) -> BoxFuture<'a, Result<Listing, StoreError>>;
    /// Marks a running night done with its summary; `false` if it was done already.
    fn finish_night<'a>(
        &'a self,
        night_id: i64,
        summary: NightSummary,
        at: Timestamp,
        audit: Audited<'a, i64>,
    ) -> BoxFuture<'a, Result<bool, StoreError>>;
    /// Notifications, newest first; only `organisation`'s when given.
    fn notifications(
        &self,
        organisation: Option<i64>,
        limit: u32,
    ) -> BoxFuture<'_, Result<Vec<Notification>, StoreError>>;
    /// Notifications not yet delivered and not given up, oldest first.
    fn undelivered(&self, limit: u32) -> BoxFuture<'_, Result<Vec<Notification>, StoreError>>;
    /// Records a delivery attempt.
    fn delivery<'a>(
        &'a self,
        id: i64,
        at: Timestamp,
        error: Option<&'a str>,
    ) -> BoxFuture<'a, Result<(), StoreError>>;
}

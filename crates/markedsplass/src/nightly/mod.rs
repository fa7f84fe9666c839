//! Nightly conformance runs (`docs/nightly.md`): every night, every listed component is re-tested
//! on the current suite with fresh synthetic data; what changed is recorded; regressions reach the
//! vendor and the project; a listing that keeps failing a skal-vilkår is suspended after a grace
//! period.
//!
//! One file per stage:
//!
//! - **When** (`schedule.rs`): the night is the local date (`nightly.time_zone`) the batch starts
//!   ([`night_of`], [`next_start`]); one scheduler per service ([`spawn_scheduler`]) starts a batch
//!   at `nightly.time` and first catches up a night that was missed or interrupted
//!   ([`missed_night`]).
//! - **One night** (`night.rs`): its seed is derived from the date ([`seed_for`]), recorded with
//!   the night and every run, so any night can be reproduced (`sandkasse test ADAPTER.wasm --seed
//!   SEED`). The batch ([`start_night`]) queues one nightly run per listed or suspended product
//!   (and, with `include_latest_godkjent`, per product's latest godkjent version) in the durable
//!   run queue: the worker pool bounds the concurrency, `run_budget_seconds` bounds each
//!   component, and a batch started again for the same night queues only what is missing — an
//!   interrupted night resumes instead of starting over. [`run_night`] waits for the runs of the
//!   service's workers; [`run_night_alone`] brings workers of its own (`sandkasse nightly`).
//! - **Evaluation** (`evaluate.rs`, from [`finish_night`] once every run of the night has
//!   finished) compares each run with the product's previous nightly run (or, the first night,
//!   with the run it was approved on): newly failing and newly passing vilkår, vilkår new to the
//!   suite, resource trends ([`diff`]). Then the listing's health: a listed product whose run is
//!   not godkjent becomes *at risk*; still failing after `grace_days` it is suspended, with an
//!   audit event naming the nightly run; a godkjent run clears the risk. Each change notifies the
//!   vendor and the project, in the UI and by webhook.
//! - **Delivery** (`webhook.rs`): notifications — the nights' and those of decisions and listing
//!   changes ([`crate::notices`]) — POSTed with an HMAC-SHA256 signature ([`deliver`],
//!   [`sign_webhook`]), at the end of a night and, in the service, as soon as one is written
//!   ([`spawn_sender`]).
//! - **The summary** (JSON, page, JUnit) says what was tested, what passed, regressed, improved or
//!   errored, and how long it took; `render.rs` draws it as JUnit ([`junit`]) and a product's
//!   history as an SVG trend ([`trend_svg`]).
//!
//! ```no_run
//! # async fn f(market: &sandkasse_markedsplass::market::Market) -> Result<(), sandkasse_markedsplass::nightly::NightlyError> {
//! use sandkasse_markedsplass::nightly;
//! // One night on its own, as `sandkasse nightly` runs it (next to a serving process or not).
//! let night = nightly::run_night_alone(market, nightly::tonight(market)?, std::time::Duration::from_secs(3600)).await?;
//! println!("{}: {}", night.night, nightly::junit(&night));
//! # Ok(()) }
//! ```

use std::time::Duration;

use crate::store::StoreError;

mod evaluate;
mod night;
mod render;
mod schedule;
mod webhook;

pub use crate::figures::Figures;
pub use crate::store::MAX_DELIVERY_ATTEMPTS;
pub use evaluate::{Diff, diff};
pub use night::{
    Entry, NightSummary, finish_night, run_night, run_night_alone, seed_for, start_night,
};
pub use render::{junit, trend_svg};
pub use schedule::{
    LEAD_RETRY, missed_night, next_start, night_of, spawn_scheduler, start_on, tonight,
    wait_for_lead,
};
pub use webhook::{Outbox, deliver, sign_webhook, spawn_sender};

/// The scheduler's and the evaluation's name in the audit trail.
pub const ACTOR: &str = "system:nightly";

/// Why a night could not run.
#[derive(Debug, thiserror::Error)]
pub enum NightlyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("invalid nightly configuration: {0}")]
    Config(String),
    #[error("the night's runs did not finish within {0:?}")]
    Timeout(Duration),
    #[error(
        "another process of this database holds the nights' duty (a node that schedules the nights): \
         let it run the night, or set nightly.enabled = false on the serving nodes"
    )]
    Busy,
}

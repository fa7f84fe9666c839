//! The durable run queue's records — a run handed to a worker and how it ended — and the
//! [`RunQueue`] trait that keeps them: claim, renew the lease, finish, requeue after a restart
//! (`crate::runner` is its one user).

use jiff::Timestamp;

use super::{Audited, BoxFuture, Run, RunState, StoreError, Verdict};
use crate::figures::Figures;

/// A run handed to a worker: `claim` must be shown to renew or finish it.
#[derive(Debug, Clone)]
pub struct ClaimedRun {
    pub run: Run,
    /// How long the worker may spend on it.
    pub budget: Option<std::time::Duration>,
    pub claim: String,
    pub component_sha256: String,
    pub file_name: String,
}

/// How a run ended.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    pub state: RunState,
    pub verdict: Option<Verdict>,
    pub score: Option<f64>,
    pub error: Option<String>,
    pub capabilities: Vec<String>,
    /// The signed report, JSON.
    pub report: Option<String>,
    /// Per-vilkår outcomes and resource figures.
    pub figures: Option<Figures>,
    /// The badge SVG, rendered from the report when the run finished.
    pub badge: Option<String>,
}

/// The run queue: workers claim runs with a lease, renew it while they test, and finish each run
/// once. Every change takes its audit events.
pub trait RunQueue: Send + Sync {
    /// Counts of runs per state.
    fn queue_counts(&self) -> BoxFuture<'_, Result<Vec<(RunState, i64)>, StoreError>>;
    /// Puts interrupted runs back in the queue; called at start-up. Returns the requeued runs.
    ///
    /// On SQLite every `running` run: no worker of the database can be running then (one serving
    /// process). On PostgreSQL only the `running` runs whose lease expired before `at`: other
    /// processes' workers may be running the rest right now, and renew their leases while they do
    /// (a run whose worker died is taken over by a claim once its lease runs out).
    fn requeue_running<'a>(
        &'a self,
        at: Timestamp,
        audit: Audited<'a, Vec<Run>>,
    ) -> BoxFuture<'a, Result<Vec<Run>, StoreError>>;
    /// Hands the oldest queued run (or a running one whose lease expired before `at`) to a worker,
    /// counting the attempt; only runs of night `only_night` when given. `None` when the queue is
    /// empty.
    fn claim_run<'a>(
        &'a self,
        claim: &'a str,
        at: Timestamp,
        lease_until: Timestamp,
        only_night: Option<i64>,
        audit: Audited<'a, ClaimedRun>,
    ) -> BoxFuture<'a, Result<Option<ClaimedRun>, StoreError>>;
    /// Extends a claim's lease; `false` when the claim is no longer this worker's.
    fn renew_lease<'a>(
        &'a self,
        run_id: i64,
        claim: &'a str,
        until: Timestamp,
    ) -> BoxFuture<'a, Result<bool, StoreError>>;
    /// Stores a run's outcome if `claim` still holds it; `false` (and nothing written) otherwise,
    /// so a run is finished once.
    fn finish_run<'a>(
        &'a self,
        run_id: i64,
        claim: &'a str,
        outcome: RunOutcome,
        at: Timestamp,
        audit: Audited<'a, Run>,
    ) -> BoxFuture<'a, Result<bool, StoreError>>;
}

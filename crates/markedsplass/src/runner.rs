//! The durable run queue and its bounded worker pool.
//!
//! Runs live in the database, not in memory: an upload commits its submission and a `queued` run
//! in one transaction, and workers take runs from the table.
//!
//! - **Claim**: a worker takes the oldest queued run (submission runs before nightly ones) with a
//!   fresh random claim and a lease of `run_lease_seconds`, renewed every third of it while the
//!   test runs. A run whose lease lapses (its worker died) can be claimed again.
//! - **Start-up**: no worker of this database survives a restart, so every `running` run is put
//!   back in the queue ([`Runner::recover`]) — a run interrupted by a crash is run again.
//! - **Finish**: the outcome is written only if the worker still holds the claim, in the same
//!   transaction as its audit event, so a run is finished once and never twice.
//! - **Give up**: a run started `max_run_attempts` times without finishing (a component that
//!   takes the service down with it) ends as an `error` instead of looping.
//! - **Stop**: at shutdown the sandbox kills compiles in flight; a run whose compile was
//!   interrupted is neither finished nor failed — it stays `running` and the next start queues it
//!   again, like a run interrupted by a crash.
//!
//! Each run executes `sandkasse_suite::harness::test_component` on a blocking thread (the suite
//! runs scenarios in parallel inside it), so the async runtime keeps serving requests while a
//! hostile component burns its fuel. Progress (scenarios finished) is published to a
//! [`ProgressHub`] that the server-sent-events endpoint follows.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::SignedDuration;
use rand_core::{OsRng, RngCore as _};
use sandkasse_sandbox::{Rejection, Sandbox};
use sandkasse_suite::harness::{TestError, TestOptions, test_component};
use sandkasse_suite::load::Suite;
use serde::Serialize;
use serde_json::json;
use tokio::sync::{Notify, watch};

use crate::audit::Audit;
use crate::clock::Clock;
use crate::components::ComponentStore;
use crate::i18n::Msg;
use crate::store::{ClaimedRun, RunOutcome, RunState, Signal, StoreError, Stores};

/// The worker's name in the audit trail.
pub const ACTOR: &str = "system:runner";

/// What the progress endpoint tells a watcher.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Progress {
    pub state: RunState,
    /// Scenarios finished.
    pub done: usize,
    /// Scenarios in the suite.
    pub total: usize,
    pub verdict: Option<crate::store::Verdict>,
    pub score: Option<f64>,
    pub error: Option<String>,
}

impl Progress {
    pub fn is_final(&self) -> bool {
        matches!(self.state, RunState::Done | RunState::Error)
    }

    /// A running run with `done` of `total` scenarios finished.
    pub fn running(done: usize, total: usize) -> Progress {
        Progress {
            state: RunState::Running,
            done,
            total,
            verdict: None,
            score: None,
            error: None,
        }
    }

    /// What the database says of `run` (a finished run has all `total` scenarios done; of a
    /// running one, only the worker knows how far it is).
    pub fn stored(run: &crate::store::Run, total: usize) -> Progress {
        Progress {
            state: run.state,
            done: if run.state == RunState::Done {
                total
            } else {
                0
            },
            total,
            verdict: run.verdict,
            score: run.score,
            error: run.error.clone(),
        }
    }
}

/// Live progress of running runs, one `watch` channel each.
#[derive(Debug, Default)]
pub struct ProgressHub {
    channels: Mutex<HashMap<i64, watch::Sender<Progress>>>,
}

impl ProgressHub {
    /// Publishes a run's progress; a final state closes its channel (watchers keep the last value).
    pub fn publish(&self, run: i64, progress: Progress) {
        let mut channels = self.channels.lock().expect("progress hub");
        let last = progress.is_final();
        match channels.get(&run) {
            Some(tx) => {
                tx.send_replace(progress);
            }
            None if !last => {
                channels.insert(run, watch::channel(progress).0);
            }
            None => {}
        }
        if last {
            channels.remove(&run);
        }
        channels.retain(|_, tx| tx.receiver_count() > 0 || !tx.borrow().is_final());
    }

    /// Publishes progress another process reported, to this process's watchers only: nobody here
    /// watching means nothing to keep, and a report older than what watchers saw (signals may
    /// arrive out of order) is dropped.
    pub fn update(&self, run: i64, progress: Progress) {
        let mut channels = self.channels.lock().expect("progress hub");
        let Some(tx) = channels.get(&run) else {
            return;
        };
        let newer = {
            let seen = tx.borrow();
            !seen.is_final() && (progress.is_final() || progress.done > seen.done)
        };
        if newer {
            let last = progress.is_final();
            tx.send_replace(progress);
            if last {
                channels.remove(&run);
            }
        }
    }

    /// Follows a run; `initial` is the value until the worker publishes. Subscribe before reading
    /// the run's stored state, so a finish between the two is never missed.
    pub fn subscribe(&self, run: i64, initial: Progress) -> watch::Receiver<Progress> {
        let mut channels = self.channels.lock().expect("progress hub");
        channels
            .entry(run)
            .or_insert_with(|| watch::channel(initial).0)
            .subscribe()
    }
}

/// Executes queued runs.
pub struct Runner {
    pub stores: Stores,
    pub audit: Audit,
    pub clock: Clock,
    pub components: ComponentStore,
    pub suite: Arc<Suite>,
    pub sandbox: Arc<Sandbox>,
    pub key: Arc<ed25519_dalek::SigningKey>,
    pub hub: Arc<ProgressHub>,
    pub lease: Duration,
    pub max_attempts: i64,
    /// Longest a run may take before it is recorded as an error and the worker moves on.
    pub budget: Duration,
    /// Bytes a stored report may take (`limits.max_report_bytes`); larger ones are cut by the
    /// rule of [`sandkasse_suite::bound`] before they are signed.
    pub report_budget: usize,
    /// Suite executions at once. A worker takes a slot before it claims a run, and the slot is
    /// freed when the run's thread ends — also when the run went over its budget and the worker
    /// moved on — so threads never outnumber `workers`.
    slots: Arc<tokio::sync::Semaphore>,
    wake: Notify,
    /// Whether other processes share the database ([`crate::store::Shared::subscribe`]): then
    /// progress is signalled to them and an idle worker polls at [`IDLE_POLL_SHARED`] (only for
    /// lost signals and lapsed leases) instead of [`IDLE_POLL`].
    shared_database: bool,
}

/// An idle worker's poll when this process is the database's only one.
pub const IDLE_POLL: Duration = Duration::from_secs(2);
/// An idle worker's poll when the processes of the database signal each other.
pub const IDLE_POLL_SHARED: Duration = Duration::from_secs(10);

impl std::fmt::Debug for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner")
            .field("lease", &self.lease)
            .field("max_attempts", &self.max_attempts)
            .finish()
    }
}

impl Runner {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        stores: Stores,
        audit: Audit,
        clock: Clock,
        components: ComponentStore,
        suite: Arc<Suite>,
        sandbox: Arc<Sandbox>,
        key: ed25519_dalek::SigningKey,
        lease: Duration,
        max_attempts: u32,
        budget: Duration,
    ) -> Runner {
        Runner {
            shared_database: stores.shared.subscribe().is_some(),
            stores,
            audit,
            clock,
            components,
            suite,
            sandbox,
            key: Arc::new(key),
            hub: Arc::new(ProgressHub::default()),
            lease,
            max_attempts: i64::from(max_attempts),
            budget,
            report_budget: crate::limits::ServiceLimits::default().max_report_bytes,
            slots: Arc::new(tokio::sync::Semaphore::new(0)),
            wake: Notify::new(),
        }
    }

    /// How long an idle worker waits before it looks at the queue again without being woken.
    fn idle_poll(&self) -> Duration {
        if self.shared_database {
            IDLE_POLL_SHARED
        } else {
            IDLE_POLL
        }
    }

    /// Sets [`Runner::report_budget`].
    pub fn with_report_budget(mut self, bytes: usize) -> Runner {
        self.report_budget = bytes;
        self
    }

    /// Scenarios a run goes through.
    pub fn total(&self) -> usize {
        self.suite.scenarios.len()
    }

    /// Wakes a waiting worker: a run was queued.
    pub fn notify(&self) {
        self.wake.notify_one();
    }

    /// Puts runs interrupted by a previous process back in the queue (call once at start-up).
    pub async fn recover(&self) -> Result<usize, StoreError> {
        let audit = self.audit.clone();
        let requeued = self
            .stores
            .queue
            .requeue_running(
                self.clock.now(),
                Box::new(move |runs| {
                    runs.iter()
                        .map(|r| {
                            audit.event(
                                ACTOR,
                                "run.requeue",
                                &format!("run:{}", r.id),
                                Some(&Msg::new("audit_service_stopped").both()),
                                json!({ "attempts": r.attempts }),
                            )
                        })
                        .collect()
                }),
            )
            .await?;
        if !requeued.is_empty() {
            tracing::warn!(
                runs = requeued.len(),
                "runs interrupted by the last stop were queued again"
            );
        }
        Ok(requeued.len())
    }

    /// Starts `workers` workers; they stop taking runs when `stop` turns true.
    pub fn spawn(
        self: &Arc<Self>,
        workers: usize,
        stop: watch::Receiver<bool>,
    ) -> Vec<tokio::task::JoinHandle<()>> {
        self.spawn_workers(workers, None, stop)
    }

    /// Starts `workers` workers that take only the runs of night `night_id` (`sandkasse nightly`
    /// next to a serving process leaves the uploads to it); they stop when `stop` turns true.
    pub fn spawn_for_night(
        self: &Arc<Self>,
        workers: usize,
        night_id: i64,
        stop: watch::Receiver<bool>,
    ) -> Vec<tokio::task::JoinHandle<()>> {
        self.spawn_workers(workers, Some(night_id), stop)
    }

    fn spawn_workers(
        self: &Arc<Self>,
        workers: usize,
        only_night: Option<i64>,
        stop: watch::Receiver<bool>,
    ) -> Vec<tokio::task::JoinHandle<()>> {
        self.slots.add_permits(workers);
        (0..workers)
            .map(|n| {
                let runner = self.clone();
                let mut stop = stop.clone();
                tokio::spawn(async move {
                    tracing::debug!(worker = n, "worker started");
                    while !*stop.borrow() {
                        match runner.run_next(only_night).await {
                            Ok(true) => continue,
                            Ok(false) => {}
                            Err(e) => tracing::error!(error = %e, "the run queue failed; retrying"),
                        }
                        tokio::select! {
                            _ = runner.wake.notified() => {}
                            _ = tokio::time::sleep(runner.idle_poll()) => {}
                            _ = stop.changed() => {}
                        }
                    }
                })
            })
            .collect()
    }

    /// Follows what the other processes of the database signal ([`crate::store::Shared`]): a
    /// queued run wakes a worker of this process (when `wake_workers`), another process's progress
    /// reaches this process's watchers. `None` when this process is the database's only one.
    pub fn follow_signals(
        self: &Arc<Self>,
        wake_workers: bool,
        mut stop: watch::Receiver<bool>,
    ) -> Option<tokio::task::JoinHandle<()>> {
        let mut signals = self.stores.shared.subscribe()?;
        let runner = self.clone();
        Some(tokio::spawn(async move {
            loop {
                let signal = tokio::select! {
                    signal = signals.recv() => signal,
                    _ = stop.changed() => return,
                };
                match signal {
                    Ok(Signal::Queued(_)) if wake_workers => runner.notify(),
                    Ok(Signal::Queued(_)) => {}
                    Ok(Signal::Progress { run, done }) => {
                        let total = runner.total();
                        runner.hub.update(run, Progress::running(done, total));
                    }
                    Ok(Signal::Finished(run)) => match runner.stores.market.run(run).await {
                        Ok(Some(stored)) => runner
                            .hub
                            .update(run, Progress::stored(&stored, runner.total())),
                        Ok(None) => {}
                        Err(e) => tracing::warn!(run, error = %e, "reading a finished run"),
                    },
                    // Missed signals only delay: workers poll, progress streams re-read the run.
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::debug!(missed, "signals were missed");
                        if wake_workers {
                            runner.notify();
                        }
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                }
            }
        }))
    }

    /// Claims and executes one run (only of night `only_night` when given); `false` when the queue
    /// was empty.
    pub async fn run_next(&self, only_night: Option<i64>) -> Result<bool, StoreError> {
        let Ok(slot) = self.slots.clone().acquire_owned().await else {
            return Ok(false);
        };
        let claim = random_claim();
        let now = self.clock.now();
        let until = now
            .checked_add(SignedDuration::try_from(self.lease).unwrap_or(SignedDuration::MAX))
            .unwrap_or(now);
        let audit = self.audit.clone();
        let claimed = self
            .stores
            .queue
            .claim_run(
                &claim,
                now,
                until,
                only_night,
                Box::new(move |c| {
                    vec![audit.event(
                        ACTOR,
                        "run.start",
                        &format!("run:{}", c.run.id),
                        None,
                        json!({ "attempt": c.run.attempts }),
                    )]
                }),
            )
            .await?;
        let Some(claimed) = claimed else {
            return Ok(false);
        };
        self.execute(claimed, slot).await?;
        Ok(true)
    }

    async fn execute(
        &self,
        claimed: ClaimedRun,
        slot: tokio::sync::OwnedSemaphorePermit,
    ) -> Result<(), StoreError> {
        let run_id = claimed.run.id;
        let total = self.total();
        let outcome = if claimed.run.attempts > self.max_attempts {
            failed(Msg::new("run_attempts").arg("times", claimed.run.attempts - 1))
        } else {
            self.hub.publish(run_id, Progress::running(0, total));
            let heartbeat = self.heartbeat(run_id, claimed.claim.clone());
            let outcome = self.test(&claimed, slot).await;
            heartbeat.abort();
            let Some(outcome) = outcome else {
                // Left `running`: the next start queues it again (`recover`).
                tracing::info!(
                    run = run_id,
                    "the service is stopping; the run's compile was interrupted and it runs again at the next start"
                );
                return Ok(());
            };
            outcome
        };
        let finished = self.finish(run_id, &claimed.claim, &outcome).await?;
        if finished {
            let done = if outcome.state == RunState::Done {
                total
            } else {
                0
            };
            let progress = Progress {
                state: outcome.state,
                done,
                total,
                verdict: outcome.verdict,
                score: outcome.score,
                error: outcome.error,
            };
            self.hub.publish(run_id, progress);
            self.stores.shared.send(Signal::Finished(run_id)).await;
        } else {
            tracing::warn!(
                run = run_id,
                "the claim lapsed before the run finished; its result was dropped"
            );
        }
        Ok(())
    }

    /// Stores a run's outcome while the claim holds. A database that does not answer (a restart,
    /// a network blip) is asked again every second for up to half the lease, so a finished test
    /// is not run again for a short outage; after that the run is left to lapse and be claimed
    /// again.
    async fn finish(
        &self,
        run_id: i64,
        claim: &str,
        outcome: &RunOutcome,
    ) -> Result<bool, StoreError> {
        let patience = std::time::Instant::now();
        loop {
            let audit = self.audit.clone();
            let details = json!({ "state": outcome.state, "verdict": outcome.verdict, "score": outcome.score, "error": outcome.error });
            let result = self
                .stores
                .queue
                .finish_run(
                    run_id,
                    claim,
                    outcome.clone(),
                    self.clock.now(),
                    Box::new(move |r| {
                        vec![audit.event(
                            ACTOR,
                            "run.finish",
                            &format!("run:{}", r.id),
                            None,
                            details,
                        )]
                    }),
                )
                .await;
            match result {
                Err(StoreError::Database(e)) if patience.elapsed() < self.lease / 2 => {
                    tracing::warn!(run = run_id, error = %e, "storing the outcome failed; trying again");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                result => return result,
            }
        }
    }

    /// Renews the lease every third of it while the test runs.
    fn heartbeat(&self, run_id: i64, claim: String) -> tokio::task::JoinHandle<()> {
        let (queue, clock, lease) = (self.stores.queue.clone(), self.clock.clone(), self.lease);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(lease / 3).await;
                let until = clock
                    .now()
                    .checked_add(SignedDuration::try_from(lease).unwrap_or(SignedDuration::MAX));
                match until {
                    Ok(until) => match queue.renew_lease(run_id, &claim, until).await {
                        Ok(true) => {}
                        Ok(false) => return,
                        Err(e) => {
                            tracing::warn!(run = run_id, error = %e, "renewing the lease failed")
                        }
                    },
                    Err(_) => return,
                }
            }
        })
    }

    /// Tests the run's component; `None` when the service is stopping and the compile was
    /// interrupted ([`Sandbox::interrupt_compiles`]): the run is neither finished nor failed.
    async fn test(
        &self,
        claimed: &ClaimedRun,
        slot: tokio::sync::OwnedSemaphorePermit,
    ) -> Option<RunOutcome> {
        let bytes = match self.components.get(&claimed.component_sha256).await {
            Ok(bytes) => bytes,
            Err(e) => {
                tracing::error!(run = claimed.run.id, error = %e, "the component cannot be read");
                return Some(failed(Msg::new("run_unreadable")));
            }
        };
        let (suite, sandbox, hub, key, report_budget) = (
            self.suite.clone(),
            self.sandbox.clone(),
            self.hub.clone(),
            self.key.clone(),
            self.report_budget,
        );
        // Progress also goes to the other processes of the database (a web node's watchers), when
        // there are any.
        let signal = self.shared_database.then(|| {
            (
                self.stores.shared.clone(),
                tokio::runtime::Handle::current(),
            )
        });
        let (run_id, total) = (claimed.run.id, self.total());
        let digest = claimed.component_sha256.clone();
        let options = TestOptions {
            seed: claimed.run.seed.and_then(|s| u64::try_from(s).ok()),
            // A re-run of one scenario runs only it; every other run, all of them.
            scenarios: claimed.run.scenario.iter().cloned().collect(),
            component_name: claimed.file_name.clone(),
            generated_at: self.clock.now().to_string(),
        };
        let joined = tokio::time::timeout(
            self.budget,
            tokio::task::spawn_blocking(move || {
                // Held until this thread ends, even if the worker stops waiting for it.
                let _slot = slot;
                let done = AtomicUsize::new(0);
                let progress = |_: &str| {
                    let done = done.fetch_add(1, Ordering::Relaxed) + 1;
                    hub.publish(run_id, Progress::running(done, total));
                    if let Some((shared, handle)) = &signal {
                        let shared = shared.clone();
                        handle.spawn(async move {
                            shared.send(Signal::Progress { run: run_id, done }).await;
                        });
                    }
                };
                let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    test_component(&suite, &sandbox, &bytes, &options, &progress)
                }));
                sandbox.forget_prepared(&digest);
                result.map(|r| r.map(|report| finished(report, report_budget, &key, run_id)))
            }),
        )
        .await;
        let Ok(joined) = joined else {
            // The thread finishes on its own (every call has its limits); its result is dropped.
            tracing::warn!(
                run = run_id,
                budget_s = self.budget.as_secs(),
                "the run exceeded its time budget"
            );
            let secs = self.budget.as_secs();
            return Some(failed(Msg::new("run_budget").arg("seconds", secs)));
        };
        Some(match joined {
            Ok(Ok(Ok(outcome))) => outcome,
            Ok(Ok(Err(TestError::Rejected(Rejection::Interrupted)))) => return None,
            Ok(Ok(Err(e))) => failed(test_error(&e)),
            Ok(Err(_)) | Err(_) => {
                tracing::error!(run = run_id, "the suite panicked");
                failed(Msg::new("run_internal"))
            }
        })
    }
}

/// The outcome of a finished test, everything derived from the report on the blocking thread:
/// the figures from the whole report, then the report cut to `budget` bytes, signed, rendered as
/// JSON and as the badge that public pages show without reading it again.
fn finished(
    mut report: sandkasse_suite::report::Report,
    budget: usize,
    key: &ed25519_dalek::SigningKey,
    run_id: i64,
) -> RunOutcome {
    let figures = Some(crate::figures::Figures::of(&report));
    let cut = sandkasse_suite::bound::bound(&mut report, budget);
    if cut.any() {
        tracing::info!(run = run_id, ?cut, "the report was cut to its budget");
    }
    sandkasse_suite::sign::sign(&mut report, key);
    RunOutcome {
        state: RunState::Done,
        verdict: Some(report.verdict),
        score: Some(report.score),
        error: None,
        capabilities: report
            .component
            .capabilities
            .iter()
            .filter_map(|c| serde_json::to_value(c).ok()?.as_str().map(str::to_owned))
            .collect(),
        figures,
        badge: Some(sandkasse_suite::render::badge::to_badge_svg(&report)),
        report: Some(serde_json::to_string(&report).expect("reports serialise")),
    }
}

/// Why the suite could not test a component, in words.
fn test_error(e: &TestError) -> Msg {
    match e {
        TestError::Rejected(rejection) => Msg::new("run_rejected").msg("why", Msg::from(rejection)),
        TestError::Data(cause) => {
            tracing::error!(error = %cause, "the test data could not be generated");
            Msg::new("run_data")
        }
        TestError::UnknownScenario(name) => Msg::new("run_unknown_scenario").arg("name", name),
    }
}

/// A run that ended without a report; `error` is stored in both languages ([`Msg::both`]), as
/// every stored text is.
fn failed(error: Msg) -> RunOutcome {
    RunOutcome {
        state: RunState::Error,
        verdict: None,
        score: None,
        error: Some(error.both()),
        capabilities: Vec::new(),
        report: None,
        figures: None,
        badge: None,
    }
}

fn random_claim() -> String {
    let mut bytes = [0_u8; 16];
    OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(state: RunState, done: usize) -> Progress {
        Progress {
            state,
            done,
            total: 3,
            verdict: None,
            score: None,
            error: None,
        }
    }

    #[test]
    fn watchers_see_updates_and_the_final_state() {
        let hub = ProgressHub::default();
        let rx = hub.subscribe(7, p(RunState::Queued, 0));
        hub.publish(7, p(RunState::Running, 1));
        assert_eq!(rx.borrow().done, 1);
        hub.publish(7, p(RunState::Done, 3));
        assert_eq!(rx.borrow().state, RunState::Done);
        assert!(
            hub.channels.lock().unwrap().is_empty(),
            "a final state closes the channel"
        );
        hub.publish(8, p(RunState::Done, 3));
        assert!(
            hub.channels.lock().unwrap().is_empty(),
            "nobody waits for a run that finished unwatched"
        );
    }
}

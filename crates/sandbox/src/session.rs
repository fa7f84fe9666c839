//! Sessions: one scenario's instance — a fresh `Store`, several calls, evidence for each.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use serde_json::{Value, json};
use wasmtime::{Store, Trap};

use crate::engine::{Prepared, Sandbox};
use crate::evidence::{CallEvidence, Disposition, FailureClass, Outcome};
use crate::host::types::AdapterError;
use crate::host::types::{ClinicalEntry, Event, EventOutcome, LaunchContext};
use crate::host::{Adapter, HostState, VirtualTime};
use crate::limits::Limits;

/// Options of a session.
#[derive(Debug, Clone, Copy)]
pub struct SessionOptions {
    /// Seed of the component's randomness. Default 0.
    pub seed: u64,
    /// Wall-clock time at the start of the session, as a duration since the Unix epoch; the
    /// component's wall clock starts here and advances with virtual time. Default: noon on the
    /// synthetic data's reference date, 2026-10-01T12:00:00Z — the platform's clock starts there too.
    pub wall_origin: Duration,
}

impl Default for SessionOptions {
    fn default() -> Self {
        SessionOptions {
            seed: 0,
            wall_origin: Duration::from_secs(1_790_856_000),
        }
    }
}

/// Runs a future on a fresh current-thread tokio runtime whose clock starts paused: injected
/// latency, `Retry-After` waits and the component's sleeps advance virtual time instantly.
/// Use one per scenario (per thread).
pub fn block_on_virtual<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .expect("a current-thread tokio runtime")
        .block_on(f)
}

/// One instance of a component in one scenario.
pub struct Session {
    store: Store<HostState>,
    adapter: Option<Arc<Adapter>>,
    limits: Arc<Limits>,
    instantiation: CallEvidence,
    stdout_seen: usize,
    stderr_seen: usize,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("instantiated", &self.adapter.is_some())
            .finish()
    }
}

enum Raw {
    Ok(Value),
    AdapterError(AdapterError),
    Err(wasmtime::Error),
    TimedOut,
    TooLarge(usize),
}

fn adapter_error(e: &AdapterError) -> (String, String) {
    let (code, msg) = match e {
        AdapterError::Unauthorized(m) => ("unauthorized", m),
        AdapterError::Forbidden(m) => ("forbidden", m),
        AdapterError::NotFound(m) => ("not-found", m),
        AdapterError::Unavailable(m) => ("unavailable", m),
        AdapterError::InvalidInput(m) => ("invalid-input", m),
        AdapterError::Internal(m) => ("internal", m),
    };
    (code.to_owned(), msg.chars().take(4096).collect())
}

/// The launch context as evidence, the token redacted.
pub fn context_json(ctx: &LaunchContext) -> Value {
    let mut v = serde_json::to_value(ctx).unwrap_or(Value::Null);
    if let Some(t) = v.get_mut("access_token") {
        *t = json!("<redacted>");
    }
    v
}

impl Sandbox {
    /// A fresh instance of `prepared` whose HTTP goes to `router` (the platform of the
    /// scenario). Must run inside a tokio runtime, normally [`block_on_virtual`].
    pub async fn session(
        &self,
        prepared: &Prepared,
        router: Router,
        options: SessionOptions,
    ) -> Session {
        let limits = self.limits().clone();
        let time = VirtualTime::new(options.wall_origin);
        let state = HostState::new(
            router,
            &self.config().platform_authority,
            limits.clone(),
            time,
            options.seed,
        );
        let mut store = Store::new(self.engine(), state);
        store.limiter(|s| &mut s.limiter);
        store.epoch_deadline_trap();
        let mut session = Session {
            store,
            adapter: None,
            limits,
            instantiation: CallEvidence::quiet("", Outcome::Ok { value: Value::Null }),
            stdout_seen: 0,
            stderr_seen: 0,
        };
        let started = session.begin();
        let limit = session.virtual_limit();
        let fut = prepared.pre.instantiate_async(&mut session.store);
        let raw = match tokio::time::timeout(limit, fut).await {
            Ok(Ok(adapter)) => {
                session.adapter = Some(Arc::new(adapter));
                Raw::Ok(Value::Null)
            }
            Ok(Err(e)) => Raw::Err(e),
            Err(_) => Raw::TimedOut,
        };
        session.instantiation = session.finish("instantiate", Value::Null, started, raw);
        session
    }
}

struct Started {
    real: Instant,
    virtual_ms: u64,
}

impl Session {
    /// Evidence of the instantiation (start-up code of the component).
    pub fn instantiation(&self) -> &CallEvidence {
        &self.instantiation
    }

    /// Whether calls can still be made (no earlier failure poisoned the instance).
    pub fn usable(&self) -> bool {
        self.adapter.is_some()
    }

    fn virtual_limit(&self) -> Duration {
        Duration::from_millis(self.limits.virtual_time_ms)
    }

    fn begin(&mut self) -> Started {
        self.begin_with_secrets(Vec::new())
    }

    /// Starts a call whose evidence must never contain `secrets` (the access token).
    fn begin_with_secrets(&mut self, secrets: Vec<String>) -> Started {
        let _ = self.store.set_fuel(self.limits.fuel_per_call);
        self.store.set_epoch_deadline(self.limits.deadline_ticks());
        self.store
            .data()
            .recorder
            .lock()
            .expect("recorder")
            .begin(secrets);
        self.store.data_mut().limiter.denied = None;
        Started {
            real: Instant::now(),
            virtual_ms: self.store.data().time.elapsed_ms(),
        }
    }

    fn finish(&mut self, call: &str, arguments: Value, started: Started, raw: Raw) -> CallEvidence {
        let fuel_left = self.store.get_fuel().unwrap_or(0);
        let state = self.store.data();
        let (exchanges, mut logs, logs_dropped, requests_unrecorded, secrets) = {
            let mut r = state.recorder.lock().expect("recorder");
            (
                std::mem::take(&mut r.exchanges),
                std::mem::take(&mut r.logs),
                std::mem::take(&mut r.logs_dropped),
                std::mem::take(&mut r.requests_unrecorded),
                r.secrets.clone(),
            )
        };
        let redact = |text: String| crate::host::redact_secrets(text, &secrets);
        for l in &mut logs {
            l.message = redact(std::mem::take(&mut l.message));
        }
        let stdout_all = state.stdout.contents();
        let stderr_all = state.stderr.contents();
        let stdout = redact(
            String::from_utf8_lossy(&stdout_all[self.stdout_seen.min(stdout_all.len())..])
                .into_owned(),
        );
        let stderr = redact(
            String::from_utf8_lossy(&stderr_all[self.stderr_seen.min(stderr_all.len())..])
                .into_owned(),
        );
        self.stdout_seen = stdout_all.len();
        self.stderr_seen = stderr_all.len();
        let outcome = match raw {
            Raw::Ok(value) => Outcome::Ok { value },
            Raw::AdapterError(e) => {
                let (code, message) = adapter_error(&e);
                Outcome::AdapterError { code, message }
            }
            Raw::TimedOut => Outcome::Failure {
                class: FailureClass::Deadline,
                detail: format!(
                    "kallet brukte mer enn {} ms virtuell tid / the call took more than {} ms of virtual time",
                    self.limits.virtual_time_ms, self.limits.virtual_time_ms
                ),
            },
            Raw::TooLarge(n) => Outcome::Failure {
                class: FailureClass::ResultLimit,
                detail: format!(
                    "resultatet var {n} byte, grensen er {} / the result was {n} bytes, the limit is {}",
                    self.limits.max_result_bytes, self.limits.max_result_bytes
                ),
            },
            Raw::Err(e) => {
                let (class, detail) = classify(&e, state.limiter.denied.as_deref());
                let cap = self.limits.max_stdio_bytes;
                if stdout_all.len() >= cap || stderr_all.len() >= cap {
                    // A component that keeps writing past the cap dies of it one way or another
                    // (a write error, fuel, the deadline): the cap is the cause.
                    Outcome::Failure {
                        class: FailureClass::OutputLimit,
                        detail: format!(
                            "skrev mer enn {cap} byte til stdout/stderr ({}) / wrote more than {cap} bytes to stdout/stderr ({})",
                            class.name(),
                            class.name()
                        ),
                    }
                } else {
                    Outcome::Failure { class, detail }
                }
            }
        };
        let refused = |d: fn(&Disposition) -> bool| exchanges.iter().any(|x| d(&x.disposition));
        let class = match &outcome {
            Outcome::Failure { class, .. } => class.name().to_owned(),
            // A call that completed but tried to leave the sandbox or flooded the platform is
            // classified by that, whatever it returned.
            _ if refused(|d| matches!(d, Disposition::RefusedEgress { .. })) => {
                "refused-egress".to_owned()
            }
            _ if refused(|d| matches!(d, Disposition::RefusedRequestLimit)) => {
                "request-limit".to_owned()
            }
            _ if refused(|d| matches!(d, Disposition::RefusedBodyLimit)) => "body-limit".to_owned(),
            Outcome::Ok { .. } => "ok".to_owned(),
            Outcome::AdapterError { .. } => "adapter-error".to_owned(),
        };
        if matches!(outcome, Outcome::Failure { .. }) {
            // After a trap or an abandoned call the instance must not be entered again.
            self.adapter = None;
        }
        CallEvidence {
            call: call.to_owned(),
            arguments,
            outcome,
            class,
            exchanges,
            logs,
            logs_dropped,
            requests_unrecorded,
            stdout,
            stderr,
            fuel_used: self.limits.fuel_per_call.saturating_sub(fuel_left),
            peak_memory_bytes: state.limiter.peak_memory as u64,
            virtual_start_ms: started.virtual_ms,
            virtual_end_ms: state.time.elapsed_ms(),
            duration_us: started.real.elapsed().as_micros() as u64,
        }
    }

    fn poisoned(&mut self, call: &str, arguments: Value) -> CallEvidence {
        let started = self.begin();
        let mut e = self.finish(call, arguments, started, Raw::Ok(Value::Null));
        e.outcome = Outcome::Failure {
            class: FailureClass::Poisoned,
            detail: "instansen kan ikke brukes etter en tidligere feil i samme scenario / the instance cannot be used after an earlier failure in the same scenario".into(),
        };
        e.class = FailureClass::Poisoned.name().to_owned();
        e
    }

    /// Calls `info`.
    pub async fn info(&mut self) -> (CallEvidence, Option<crate::host::types::AdapterInfo>) {
        let Some(adapter) = self.adapter.clone() else {
            return (self.poisoned("info", Value::Null), None);
        };
        let started = self.begin();
        let limit = self.virtual_limit();
        let fut = adapter
            .kommune_sandkasse_adapter_api()
            .call_info(&mut self.store);
        let (raw, info) = match tokio::time::timeout(limit, fut).await {
            Ok(Ok(info)) => (
                Raw::Ok(serde_json::to_value(&info).unwrap_or(Value::Null)),
                Some(info),
            ),
            Ok(Err(e)) => (Raw::Err(e), None),
            Err(_) => (Raw::TimedOut, None),
        };
        (self.finish("info", Value::Null, started, raw), info)
    }

    /// Calls `patient-overview`.
    pub async fn patient_overview(&mut self, ctx: &LaunchContext) -> CallEvidence {
        let args = json!({ "ctx": context_json(ctx) });
        let Some(adapter) = self.adapter.clone() else {
            return self.poisoned("patient-overview", args);
        };
        let started = self.begin_with_secrets(vec![ctx.access_token.clone()]);
        let limit = self.virtual_limit();
        let max = self.limits.max_result_bytes;
        let fut = adapter
            .kommune_sandkasse_adapter_api()
            .call_patient_overview(&mut self.store, ctx);
        let raw = match tokio::time::timeout(limit, fut).await {
            Ok(Ok(Ok(s))) if s.len() > max => Raw::TooLarge(s.len()),
            Ok(Ok(Ok(s))) => Raw::Ok(Value::String(s)),
            Ok(Ok(Err(e))) => Raw::AdapterError(e),
            Ok(Err(e)) => Raw::Err(e),
            Err(_) => Raw::TimedOut,
        };
        self.finish("patient-overview", args, started, raw)
    }

    /// Calls `document`.
    pub async fn document(&mut self, ctx: &LaunchContext, entry: &ClinicalEntry) -> CallEvidence {
        let args = json!({ "ctx": context_json(ctx), "entry": serde_json::to_value(entry).unwrap_or(Value::Null) });
        let Some(adapter) = self.adapter.clone() else {
            return self.poisoned("document", args);
        };
        let started = self.begin_with_secrets(vec![ctx.access_token.clone()]);
        let limit = self.virtual_limit();
        let fut =
            adapter
                .kommune_sandkasse_adapter_api()
                .call_document(&mut self.store, ctx, entry);
        let raw = match tokio::time::timeout(limit, fut).await {
            Ok(Ok(Ok(ids))) => Raw::Ok(json!(ids)),
            Ok(Ok(Err(e))) => Raw::AdapterError(e),
            Ok(Err(e)) => Raw::Err(e),
            Err(_) => Raw::TimedOut,
        };
        self.finish("document", args, started, raw)
    }

    /// Calls `on-event`.
    pub async fn on_event(&mut self, ctx: &LaunchContext, event: &Event) -> CallEvidence {
        let args = json!({ "ctx": context_json(ctx), "event": serde_json::to_value(event).unwrap_or(Value::Null) });
        let Some(adapter) = self.adapter.clone() else {
            return self.poisoned("on-event", args);
        };
        let started = self.begin_with_secrets(vec![ctx.access_token.clone()]);
        let limit = self.virtual_limit();
        let fut =
            adapter
                .kommune_sandkasse_adapter_api()
                .call_on_event(&mut self.store, ctx, event);
        let raw = match tokio::time::timeout(limit, fut).await {
            Ok(Ok(Ok(EventOutcome::Processed(fetched)))) => {
                Raw::Ok(json!({ "processed": fetched }))
            }
            Ok(Ok(Ok(EventOutcome::Ignored(why)))) => Raw::Ok(json!({ "ignored": why })),
            Ok(Ok(Err(e))) => Raw::AdapterError(e),
            Ok(Err(e)) => Raw::Err(e),
            Err(_) => Raw::TimedOut,
        };
        self.finish("on-event", args, started, raw)
    }
}

/// Classifies why a call failed.
fn classify(e: &wasmtime::Error, memory_denied: Option<&str>) -> (FailureClass, String) {
    let text: String = format!("{e:#}").chars().take(2_000).collect();
    if let Some(why) = memory_denied {
        return (FailureClass::MemoryLimit, why.to_owned());
    }
    if let Some(trap) = e.downcast_ref::<Trap>() {
        let class = match trap {
            Trap::OutOfFuel => FailureClass::OutOfFuel,
            Trap::Interrupt => FailureClass::Deadline,
            Trap::StackOverflow => FailureClass::StackOverflow,
            Trap::CannotEnterComponent => FailureClass::Poisoned,
            _ => FailureClass::Trap,
        };
        return (class, text);
    }
    if text.contains("write beyond capacity") {
        return (FailureClass::OutputLimit, text);
    }
    if text.contains("memory would grow") || text.contains("table would grow") {
        return (FailureClass::MemoryLimit, text);
    }
    (FailureClass::Trap, text)
}

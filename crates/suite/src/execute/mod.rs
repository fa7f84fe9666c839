//! Executing the suite: every scenario in a fresh instance, in parallel across cores, on virtual
//! time, with the ground truth kept beside the evidence for evaluation.
//!
//! [`run_all`] runs every scenario of a suite, [`run_scenario`] one; each gives a
//! [`ScenarioEvidence`] with a [`StepEvidence`] per step, which [`crate::judge`] judges. By file:
//!
//! - `world.rs`: the [`World`] a scenario runs in (dataset, platform base, ground-truth look-ups);
//! - `launch.rs`: the scenario's contexts resolved against the ground truth into launch specs;
//! - `entries.rs`: what the steps hand the adapter, the clinical [`entry`] and the event;
//! - `served.rs`: what the platform served in each step, recorded beside its router
//!   ([`SearchPage`], [`is_notice`]);
//! - here: the evidence types, the `sperring` step and running the steps.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use rayon::prelude::*;
use sandkasse_platform::Platform;
use sandkasse_sandbox::types::{Event, LaunchContext};
use sandkasse_sandbox::{CallEvidence, Prepared, Sandbox, SessionOptions, block_on_virtual};
use serde_json::{Value, json};

use crate::load::Suite;
use crate::model::{Capability, DataSpec, Scenario, Step};

mod entries;
mod launch;
mod served;
mod world;

pub use entries::entry;
pub use served::{SearchPage, is_notice};
pub use world::World;

use entries::event;
use launch::launch_spec;
use served::{Capture, Served};

/// What happened in one scenario, for evaluation.
#[derive(Debug)]
pub struct ScenarioEvidence {
    pub id: String,
    /// `None` when the scenario ran; otherwise why it was not run (not applicable).
    pub skipped: Option<String>,
    /// The scenario could not be set up from the suite's data: its checks are errors, never
    /// silently not applicable.
    pub error: Option<String>,
    /// The launch context of each named context (token redacted in reports).
    pub contexts: BTreeMap<String, LaunchContext>,
    /// One entry per step (the `sperring` step records a synthetic evidence of what was blocked).
    pub steps: Vec<StepEvidence>,
    pub instantiation: Option<CallEvidence>,
    /// Resources the adapter wrote, per kommune, after the last step.
    pub written: Vec<Value>,
    /// Audit events the platform recorded.
    pub audit: Vec<Value>,
}

/// One step's evidence.
#[derive(Debug)]
pub struct StepEvidence {
    pub step: Step,
    /// The call's evidence (`None` for a `sperring` step).
    pub call: Option<CallEvidence>,
    /// Every resource the platform served in this step, complete and as served (search entries
    /// and reads; recorded beside the router, so not capped like the exchanges' evidence).
    pub served: Vec<Value>,
    /// Every withheld-information notice (an `OperationOutcome` with an issue of code
    /// `suppressed`) the platform served in this step.
    pub notices: Vec<Value>,
    /// The resources created or changed in this step, as the platform stored them.
    pub written: Vec<Value>,
    /// Every search page the platform served in this step, in order.
    pub pages: Vec<SearchPage>,
    /// Hosts other than the platform's that its answers in this step pointed to (links,
    /// `fullUrl`, `Location`).
    pub elsewhere: BTreeSet<String>,
    /// Non-Provenance resources written so far in the scenario, after this step.
    pub written_after: usize,
    /// For `sperring`: the resource blocked.
    pub blocked: Option<String>,
    /// For `on-event`: the event delivered.
    pub event: Option<Event>,
}

/// Writes a sperring (Consent deny) for the first document of the context patient the platform
/// still shows, as the patient would between two calls. Returns the blocked reference.
async fn write_sperring(
    world: &World,
    platform: &Arc<Platform>,
    ctx: &LaunchContext,
    rtype: &str,
) -> Option<String> {
    let tenant = world.dataset.tenant(&ctx.kommunenummer)?;
    let patient = ctx.patient.as_deref()?;
    let shielded: Vec<&str> = tenant
        .truth
        .shielded
        .iter()
        .map(|s| s.id.as_str())
        .collect();
    let doc = tenant.resources.iter().find(|r| {
        r.resource_type == rtype
            && r.patient.as_deref() == Some(patient)
            && !shielded.contains(&r.id.as_str())
    })?;
    let consent = json!({
        "resourceType": "Consent", "status": "active",
        "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}]},
        "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
        "patient": {"reference": format!("Patient/{patient}")},
        "dateTime": "2026-10-01T12:00:00Z",
        "provision": {"type": "deny", "data": [{"meaning": "instance", "reference": {"reference": format!("{rtype}/{}", doc.id)}}]},
    });
    let request = http::Request::post(format!("/{}/fhir/Consent", ctx.kommunenummer))
        .header("authorization", format!("Bearer {}", ctx.access_token))
        .header("content-type", "application/fhir+json")
        .body(axum::body::Body::from(consent.to_string()))
        .ok()?;
    let response = platform.handle(request).await;
    response
        .status()
        .is_success()
        .then(|| format!("{rtype}/{}", doc.id))
}

fn written_count(written: &[Value]) -> usize {
    written
        .iter()
        .filter(|r| r["resourceType"] != "Provenance")
        .count()
}

/// Runs one scenario in a fresh instance on virtual time.
pub fn run_scenario(
    sandbox: &Sandbox,
    prepared: &Prepared,
    world: &World,
    scenario: &Scenario,
    capabilities: &[Capability],
) -> ScenarioEvidence {
    let mut evidence = ScenarioEvidence {
        id: scenario.id.clone(),
        skipped: None,
        error: None,
        contexts: BTreeMap::new(),
        steps: Vec::new(),
        instantiation: None,
        written: Vec::new(),
        audit: Vec::new(),
    };
    if let Some(c) = scenario.capability
        && !capabilities.contains(&c)
    {
        evidence.skipped = Some(format!(
            "adapteren oppgir ikke rollen `{c:?}` / the adapter does not claim the `{}` role",
            serde_json::to_value(c)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default()
        ));
        return evidence;
    }
    block_on_virtual(async {
        let platform = Arc::new(
            Platform::on_tokio_clock(world.base.clone(), Default::default())
                .with_faults(scenario.faults.clone())
                .expect("fault plans are validated when the suite loads"),
        );
        let mut taken = Vec::new();
        for (name, spec) in &scenario.contexts {
            let resolved = launch_spec(world, spec, &taken)
                .and_then(|s| sandkasse_sandbox::launch(&platform, &s).map_err(|e| e.to_string()));
            match resolved {
                Ok(ctx) => {
                    taken.extend(ctx.patient.clone());
                    evidence.contexts.insert(name.clone(), ctx);
                }
                Err(e) => {
                    evidence.error = Some(format!(
                        "feil i scenariodata / scenario data error: context `{name}`: {e}"
                    ));
                    return;
                }
            }
        }
        let capture = Capture::new(&platform.config().base_url);
        let router = capture.around(sandkasse_platform::app(platform.clone()));
        let kommuner: BTreeSet<String> = evidence
            .contexts
            .values()
            .map(|c| c.kommunenummer.clone())
            .collect();
        let all_written =
            || -> Vec<Value> { kommuner.iter().flat_map(|k| platform.written(k)).collect() };
        let version = |r: &Value| {
            format!(
                "{}/{}/{}",
                r["resourceType"], r["id"], r["meta"]["versionId"]
            )
        };
        let mut session = sandbox
            .session(prepared, router, SessionOptions::default())
            .await;
        evidence.instantiation = Some(session.instantiation().clone());
        let mut last_event: Option<Event> = None;
        // What was written so far: each step's "after" is the next step's "before".
        let mut written = all_written();
        for step in &scenario.steps {
            let before: BTreeSet<String> = written.iter().map(version).collect();
            let ctx_of = |name: &String| {
                evidence
                    .contexts
                    .get(name)
                    .cloned()
                    .expect("contexts are checked at load")
            };
            let mut blocked = None;
            let mut delivered = None;
            let call = match step {
                Step::Info => Some(session.info().await.0),
                Step::PatientOverview { context } => {
                    Some(session.patient_overview(&ctx_of(context)).await)
                }
                Step::Document {
                    context,
                    entry: template,
                } => {
                    let ctx = ctx_of(context);
                    Some(session.document(&ctx, &entry(template, &ctx)).await)
                }
                Step::OnEvent {
                    context,
                    event: template,
                } => {
                    let ctx = ctx_of(context);
                    match event(world, template, &ctx, last_event.as_ref()) {
                        Some(e) => {
                            last_event = Some(e.clone());
                            delivered = Some(e.clone());
                            Some(session.on_event(&ctx, &e).await)
                        }
                        None => None,
                    }
                }
                Step::Sperring { context, resource } => {
                    blocked = write_sperring(
                        world,
                        &platform,
                        &ctx_of(context),
                        resource.as_deref().unwrap_or("DocumentReference"),
                    )
                    .await;
                    None
                }
            };
            written = all_written();
            let Served {
                resources,
                notices,
                pages,
                elsewhere,
            } = capture.take();
            evidence.steps.push(StepEvidence {
                step: step.clone(),
                call,
                served: resources,
                notices,
                written: written
                    .iter()
                    .filter(|r| !before.contains(&version(r)))
                    .cloned()
                    .collect(),
                pages,
                elsewhere,
                written_after: written_count(&written),
                blocked,
                event: delivered,
            });
        }
        evidence.written = written;
        evidence.audit = platform.audit_event_resources();
    });
    evidence
}

/// Runs every scenario, in parallel across cores, each in a fresh instance.
pub fn run_all(
    sandbox: &Sandbox,
    prepared: &Prepared,
    suite: &Suite,
    worlds: &BTreeMap<DataSpec, Arc<World>>,
    default_data: &DataSpec,
    capabilities: &[Capability],
    progress: &(dyn Fn(&str) + Sync),
) -> Vec<ScenarioEvidence> {
    let scenarios: Vec<&Scenario> = suite.scenarios.values().collect();
    scenarios
        .par_iter()
        .map(|s| {
            let spec = s.data.as_ref().unwrap_or(default_data);
            let world = &worlds[spec];
            let e = run_scenario(sandbox, prepared, world, s, capabilities);
            progress(&s.id);
            e
        })
        .collect()
}

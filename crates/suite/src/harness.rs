//! One call that tests a component: load → run every scenario → evaluate → [`Report`].

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use sandkasse_sandbox::{Rejection, Sandbox, SessionOptions, block_on_virtual};

use crate::execute::{self, World};
use crate::load::Suite;
use crate::model::{Capability, DataSpec};
use crate::report::{
    ComponentRef, DataRef, Environment, REPORT_FORMAT, Report, ScenarioRun, SuiteRef,
};
use crate::{command, judge, score};

/// The wasmtime version the sandbox is built on (the workspace pins it).
pub const WASMTIME_VERSION: &str = "48.0.8";

/// Options of a test run.
#[derive(Debug, Clone, Default)]
pub struct TestOptions {
    /// Data seed; default: the suite's.
    pub seed: Option<u64>,
    /// Only these scenarios (their checks); default: all.
    pub scenarios: Vec<String>,
    /// The component's file name, for the reproduce command.
    pub component_name: String,
    /// RFC 3339 time of the run.
    pub generated_at: String,
}

/// Why a component could not be tested at all.
#[derive(Debug, thiserror::Error)]
pub enum TestError {
    #[error("komponenten ble avvist / the component was rejected: {0}")]
    Rejected(#[from] Rejection),
    #[error("testdata kunne ikke lages / the test data could not be generated: {0}")]
    Data(#[from] sandkasse_kommune::GenError),
    #[error("ukjent scenario / unknown scenario: {0}")]
    UnknownScenario(String),
}

fn capability_of(c: &sandkasse_sandbox::types::Capability) -> Capability {
    match c {
        sandkasse_sandbox::types::Capability::Read => Capability::Read,
        sandkasse_sandbox::types::Capability::Write => Capability::Write,
        sandkasse_sandbox::types::Capability::Events => Capability::Events,
    }
}

/// Worlds are immutable and deterministic, so a process keeps the few it generated last: a
/// service testing many components on the same suite data generates it once.
const WORLDS_KEPT: usize = 4;

fn world(spec: &DataSpec) -> Result<Arc<World>, sandkasse_kommune::GenError> {
    static CACHE: Mutex<Vec<(DataSpec, Arc<World>)>> = Mutex::new(Vec::new());
    if let Some((_, w)) = CACHE
        .lock()
        .expect("world cache")
        .iter()
        .find(|(s, _)| s == spec)
    {
        return Ok(w.clone());
    }
    let w = Arc::new(World::new(spec)?);
    let mut cache = CACHE.lock().expect("world cache");
    if cache.len() >= WORLDS_KEPT {
        cache.remove(0);
    }
    cache.push((spec.clone(), w.clone()));
    Ok(w)
}

/// Tests `component` against `suite`. `progress` is called once per finished scenario with its id.
pub fn test_component(
    suite: &Suite,
    sandbox: &Sandbox,
    component: &[u8],
    options: &TestOptions,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<Report, TestError> {
    let prepared = sandbox.prepare(component)?;
    let mut scoped = suite.clone();
    if !options.scenarios.is_empty() {
        for s in &options.scenarios {
            if !suite.scenarios.contains_key(s) {
                return Err(TestError::UnknownScenario(s.clone()));
            }
        }
        scoped
            .scenarios
            .retain(|id, _| options.scenarios.contains(id));
    }
    let mut default_data = suite.manifest.data.clone();
    if let Some(seed) = options.seed {
        default_data.seed = seed;
    }
    let mut worlds: BTreeMap<DataSpec, Arc<World>> = BTreeMap::new();
    // The platform validates what the adapter writes while the adapter's deadline runs, so the
    // FHIR schema is compiled before any scenario starts: on the other core, while the data is
    // generated (a long-running process has both already and pays nothing here).
    std::thread::scope(|scope| {
        scope.spawn(sandkasse_fhir::schema::prepare);
        for spec in std::iter::once(&default_data)
            .chain(scoped.scenarios.values().filter_map(|s| s.data.as_ref()))
        {
            if !worlds.contains_key(spec) {
                worlds.insert(spec.clone(), world(spec)?);
            }
        }
        Ok::<_, TestError>(())
    })?;
    let world = &worlds[&default_data];

    // What the adapter claims. A component whose info() fails is held to every role.
    let info = block_on_virtual(async {
        let router = sandkasse_platform::app(Arc::new(
            sandkasse_platform::Platform::on_tokio_clock(world.base.clone(), Default::default()),
        ));
        let mut session = sandbox
            .session(&prepared, router, SessionOptions::default())
            .await;
        session.info().await
    });
    let (info_json, capabilities) = match &info.1 {
        Some(i) => (
            serde_json::to_value(i).ok(),
            i.capabilities.iter().map(capability_of).collect::<Vec<_>>(),
        ),
        None => (
            None,
            vec![Capability::Read, Capability::Write, Capability::Events],
        ),
    };

    let evidence = execute::run_all(
        sandbox,
        &prepared,
        &scoped,
        &worlds,
        &default_data,
        &capabilities,
        progress,
    );
    let by_id: BTreeMap<&str, &execute::ScenarioEvidence> =
        evidence.iter().map(|e| (e.id.as_str(), e)).collect();
    let reproduce = command::reproduce(&options.component_name, default_data.seed);

    let mut results = Vec::new();
    for v in &suite.vilkar {
        let checks: Vec<_> = v
            .checks
            .iter()
            .filter(|c| by_id.contains_key(c.scenario.as_str()))
            .map(|c| {
                let s = by_id[c.scenario.as_str()];
                let world = &worlds[scoped.scenarios[&c.scenario]
                    .data
                    .as_ref()
                    .unwrap_or(&default_data)];
                judge::check(c, s, world, component.len(), &reproduce)
            })
            .collect();
        if checks.is_empty() {
            continue;
        }
        let claimed = v.capability.is_none_or(|c| capabilities.contains(&c));
        results.push(score::roll_up(v, checks, claimed));
    }
    results.sort_by(|a, b| a.id.cmp(&b.id));
    let (score, verdict, summary) = score::score(&results);

    let scenarios = evidence
        .iter()
        .map(|e| ScenarioRun {
            id: e.id.clone(),
            title: scoped.scenarios[&e.id].title.clone(),
            skipped: e.skipped.clone().or_else(|| e.error.clone()),
            calls: e
                .instantiation
                .iter()
                .chain(e.steps.iter().filter_map(|s| s.call.as_ref()))
                .map(|c| c.clone().without_durations().into())
                .collect(),
        })
        .collect();
    let mut claimed = capabilities.clone();
    claimed.sort();
    Ok(Report {
        format: REPORT_FORMAT.to_owned(),
        suite: SuiteRef {
            id: suite.manifest.id.clone(),
            version: suite.manifest.version.clone(),
            contract: suite.manifest.contract.clone(),
        },
        component: ComponentRef {
            digest: prepared.inspection.digest.clone(),
            size: component.len(),
            info: info_json,
            capabilities: claimed,
        },
        data: DataRef {
            seed: default_data.seed,
            innbyggere: default_data.innbyggere,
        },
        environment: Environment {
            sandkasse: env!("CARGO_PKG_VERSION").to_owned(),
            wasmtime: WASMTIME_VERSION.to_owned(),
        },
        verdict,
        score,
        summary,
        vilkar: results,
        scenarios,
        reproduce,
        generated_at: options.generated_at.clone(),
        signature: None,
    })
}

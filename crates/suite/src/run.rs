//! Running the suite: every scenario in a fresh instance, in parallel across cores, on virtual
//! time, with the ground truth kept beside the evidence for evaluation.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use rayon::prelude::*;
use sandkasse_kommune::{Dataset, GenConfig, REFERENCE_DATE, Skjerming, UnitKind};
use sandkasse_platform::{Base, Platform};
use sandkasse_sandbox::types::{
    CareNote, ClinicalEntry, Event, EventKind, LaunchContext, Measurement,
    MedicationAdministration, ServiceDecision, VitalSigns,
};
use sandkasse_sandbox::{
    CallEvidence, LaunchSpec, Prepared, Sandbox, SessionOptions, block_on_virtual,
};
use serde_json::{Value, json};

use crate::load::Suite;
use crate::model::{
    Capability, ContextSpec, DataSpec, EntryTemplate, EventTemplate, PatientPick, Scenario, Step,
};

/// A generated dataset and its platform base, shared by every scenario that uses it.
#[derive(Debug)]
pub struct World {
    pub dataset: Dataset,
    pub base: Arc<Base>,
    /// (kommune, resource type, id) → patient id.
    pub owner: BTreeMap<(String, String, String), String>,
    /// Every patient's street address line (with a number: a placeholder such as `Flyttet` is
    /// not an address), for the personal-data checks.
    pub addresses: Vec<String>,
}

impl World {
    pub fn new(spec: &DataSpec) -> Result<World, sandkasse_kommune::GenError> {
        let mut config = GenConfig::new(spec.seed, spec.innbyggere);
        if !spec.kommuner.is_empty() {
            config.kommuner = spec.kommuner.clone();
        }
        let dataset = sandkasse_kommune::try_generate(&config)?;
        let base = Arc::new(Base::new(&dataset));
        let owner = dataset
            .tenants
            .iter()
            .flat_map(|t| {
                t.resources.iter().filter_map(move |r| {
                    r.patient.as_ref().map(|p| {
                        (
                            (
                                t.kommune.nummer.to_owned(),
                                r.resource_type.to_owned(),
                                r.id.clone(),
                            ),
                            p.clone(),
                        )
                    })
                })
            })
            .collect();
        let addresses = dataset
            .tenants
            .iter()
            .flat_map(|t| t.resources.iter().filter(|r| r.resource_type == "Patient"))
            .filter_map(|r| r.json["address"][0]["line"][0].as_str())
            .filter(|l| l.len() >= 6 && l.chars().any(|c| c.is_ascii_digit()))
            .map(str::to_owned)
            .collect();
        Ok(World {
            dataset,
            base,
            owner,
            addresses,
        })
    }
}

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

/// What the platform served, recorded beside the router for the fidelity checks.
#[derive(Debug, Default)]
struct Served {
    resources: Vec<Value>,
    notices: Vec<Value>,
    pages: Vec<SearchPage>,
    /// Hosts other than the platform's that its answers pointed to.
    elsewhere: BTreeSet<String>,
}

/// The capture layer's state: what was served, and the platform's own authority.
#[derive(Clone)]
struct Capture {
    served: Arc<std::sync::Mutex<Served>>,
    authority: String,
}

/// The authority (`host[:port]`) of an absolute `http(s)` URL.
fn authority_of(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    Some(rest.split(['/', '?', '#']).next().unwrap_or(rest))
}

/// One page of a search the platform served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchPage {
    /// The resource type searched.
    pub resource_type: String,
    /// Whether the page had a `next` link (more to come).
    pub next: bool,
}

impl Served {
    /// Notes `url` if it points to a host other than `own`.
    fn point(&mut self, url: &str, own: &str) {
        if let Some(a) = authority_of(url).filter(|a| !a.eq_ignore_ascii_case(own)) {
            self.elsewhere.insert(a.to_ascii_lowercase());
        }
    }

    fn record(&mut self, path: &str, mut body: Value, own: &str) {
        match body["resourceType"].as_str() {
            Some("Bundle") => {
                for url in body["link"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|l| l["url"].as_str())
                {
                    self.point(url, own);
                }
                if body["type"] == "searchset" {
                    let rtype = path
                        .trim_end_matches("/_search")
                        .rsplit('/')
                        .next()
                        .unwrap_or_default()
                        .to_owned();
                    let next = body["link"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .any(|l| l["relation"] == "next");
                    self.pages.push(SearchPage {
                        resource_type: rtype,
                        next,
                    });
                }
                // Taken, not cloned: the body is dropped after this.
                for e in body["entry"].as_array_mut().into_iter().flatten() {
                    if let Some(url) = e["fullUrl"].as_str() {
                        self.point(url, own);
                    }
                    let r = e["resource"].take();
                    if r["resourceType"] == "OperationOutcome" {
                        if is_notice(&r) {
                            self.notices.push(r);
                        }
                    } else if r.is_object() {
                        self.resources.push(r);
                    }
                }
            }
            Some("OperationOutcome") | None => {}
            Some(_) => self.resources.push(body),
        }
    }
}

/// An `OperationOutcome` that tells of withheld information (an issue of code `suppressed`).
pub fn is_notice(r: &Value) -> bool {
    r["resourceType"] == "OperationOutcome"
        && r["issue"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|i| i["code"] == "suppressed")
}

/// Records every successful JSON answer of the platform, whole, into `served`, and every host
/// other than the platform's that an answer points to (links, `fullUrl`, `Location`).
async fn capture(
    axum::extract::State(capture): axum::extract::State<Capture>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    let lock = || {
        capture
            .served
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    };
    if let Some(location) = response
        .headers()
        .get(http::header::LOCATION)
        .and_then(|v| v.to_str().ok())
    {
        lock().point(location, &capture.authority);
    }
    if !response.status().is_success() {
        return response;
    }
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    if let Ok(value) = serde_json::from_slice::<Value>(&bytes) {
        lock().record(&path, value, &capture.authority);
    }
    axum::response::Response::from_parts(parts, axum::body::Body::from(bytes))
}

/// Resolves a context of a scenario against the ground truth.
fn launch_spec(world: &World, spec: &ContextSpec, taken: &[String]) -> Result<LaunchSpec, String> {
    let kommune = spec.kommune.clone().unwrap_or_else(|| "4601".into());
    let unit_kind = match spec.unit.as_deref() {
        None => None,
        Some(u) => Some(parse_unit(u)?),
    };
    let tenant = world
        .dataset
        .tenant(&kommune)
        .ok_or_else(|| format!("kommune {kommune} is not in the data"))?;
    let truth = &tenant.truth;
    let today = REFERENCE_DATE.to_string();
    let unit_ok = |unit_id: &str| {
        truth.units.iter().any(|u| {
            u.id == unit_id
                && match unit_kind {
                    Some(k) => u.kind == k,
                    None => !matches!(u.kind, UnitKind::Tildelingskontor | UnitKind::Kommune),
                }
        })
    };
    let related = |patient: &str| {
        truth
            .care_relations
            .iter()
            .any(|c| c.patient == patient && c.active_on(&today) && unit_ok(&c.unit))
    };
    let alive_resident = |p: &&sandkasse_kommune::PatientTruth| p.deceased.is_none() && p.resident;
    let patient = match &spec.patient {
        PatientPick::WithRelation => None,
        PatientPick::RichRecord => {
            let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
            // Richest in what an overview lists (measurements aside): the most diagnoses,
            // medicines, vedtak and documents, so paging and completeness are really tested.
            for r in tenant
                .resources
                .iter()
                .filter(|r| r.resource_type != "Observation")
            {
                if let Some(p) = &r.patient {
                    *counts.entry(p.as_str()).or_default() += 1;
                }
            }
            let shielded: Vec<&str> = truth.shielded.iter().map(|s| s.patient.as_str()).collect();
            truth
                .patients
                .iter()
                .filter(alive_resident)
                .filter(|p| {
                    related(&p.id) && !shielded.contains(&p.id.as_str()) && !taken.contains(&p.id)
                })
                .max_by_key(|p| {
                    (
                        counts.get(p.id.as_str()).copied().unwrap_or(0),
                        std::cmp::Reverse(p.id.clone()),
                    )
                })
                .map(|p| p.id.clone())
        }
        PatientPick::Another => truth
            .patients
            .iter()
            .filter(alive_resident)
            .find(|p| related(&p.id) && !taken.contains(&p.id))
            .map(|p| p.id.clone()),
        PatientPick::Deceased => truth
            .patients
            .iter()
            .filter(|p| {
                p.deceased.is_some() && p.resident && related(&p.id) && !taken.contains(&p.id)
            })
            .map(|p| p.id.clone())
            .next(),
        PatientPick::DNummer
        | PatientPick::Moved
        | PatientPick::SpecialName
        | PatientPick::LongRecord => {
            let kind_ok = |p: &sandkasse_kommune::PatientTruth| match spec.patient {
                PatientPick::DNummer => p.identifier_kind == sandkasse_kommune::IdentifierKind::Dnr,
                PatientPick::Moved => p.moved.is_some(),
                PatientPick::SpecialName => p.name.chars().any(|c| !c.is_ascii() || c == '-'),
                _ => true,
            };
            let size = |id: &str| {
                tenant
                    .resources
                    .iter()
                    .filter(|r| r.patient.as_deref() == Some(id))
                    .count()
            };
            let shielded: Vec<&str> = truth.shielded.iter().map(|s| s.patient.as_str()).collect();
            let candidates = truth.patients.iter().filter(alive_resident).filter(|p| {
                kind_ok(p)
                    && related(&p.id)
                    && !taken.contains(&p.id)
                    && !shielded.contains(&p.id.as_str())
            });
            if spec.patient == PatientPick::LongRecord {
                candidates
                    .max_by_key(|p| (size(&p.id), std::cmp::Reverse(p.id.clone())))
                    .map(|p| p.id.clone())
            } else {
                candidates.map(|p| p.id.clone()).next()
            }
        }
        PatientPick::WithoutRelation => truth
            .patients
            .iter()
            .filter(alive_resident)
            .find(|p| !related(&p.id) && !taken.contains(&p.id))
            .map(|p| p.id.clone()),
        PatientPick::Shielded(code) => {
            let s =
                Skjerming::from_code(code).ok_or_else(|| format!("unknown shielding `{code}`"))?;
            let by_address = |p: &&sandkasse_kommune::PatientTruth| match s {
                Skjerming::StrengtFortroligAdresse => {
                    p.address_protection == sandkasse_kommune::AddressProtection::StrengtFortrolig
                }
                Skjerming::FortroligAdresse => {
                    p.address_protection == sandkasse_kommune::AddressProtection::Fortrolig
                }
                _ => truth
                    .shielded
                    .iter()
                    .any(|x| x.patient == p.id && x.skjerming == s),
            };
            let staffed_relation = |patient: &str| {
                truth.care_relations.iter().any(|c| {
                    c.patient == patient
                        && c.active_on(&today)
                        && unit_ok(&c.unit)
                        && truth.practitioners.iter().any(|p| {
                            p.units.contains(&c.unit)
                                && spec.category.as_deref().is_none_or(|x| x == p.category)
                        })
                })
            };
            truth
                .patients
                .iter()
                .filter(alive_resident)
                .filter(by_address)
                .find(|p| staffed_relation(&p.id))
                .map(|p| p.id.clone())
        }
    };
    if !matches!(spec.patient, PatientPick::WithRelation) && patient.is_none() {
        return Err(format!(
            "no patient in kommune {kommune} matches {:?}",
            spec.patient
        ));
    }
    // Without a unit kind, pick the unit through the patient's relation.
    // Without a unit kind, pick the unit through the patient's relation — one that has a
    // practitioner of the wanted category.
    let staffed = |unit_id: &str| {
        truth.practitioners.iter().any(|p| {
            p.units.iter().any(|u| u == unit_id)
                && spec.category.as_deref().is_none_or(|c| c == p.category)
        })
    };
    let unit_kind = unit_kind.or_else(|| {
        let p = patient.as_ref()?;
        let rel = truth.care_relations.iter().find(|c| {
            &c.patient == p && c.active_on(&today) && unit_ok(&c.unit) && staffed(&c.unit)
        })?;
        truth
            .units
            .iter()
            .find(|u| u.id == rel.unit)
            .map(|u| u.kind)
    });
    Ok(LaunchSpec {
        kommune: Some(kommune),
        patient,
        unit_kind,
        category: spec.category.clone(),
        emergency_reason: spec.emergency_reason.clone(),
        without_relation: matches!(spec.patient, PatientPick::WithoutRelation),
    })
}

fn parse_unit(u: &str) -> Result<UnitKind, String> {
    Ok(match u {
        "hjemmesykepleie" => UnitKind::Hjemmesykepleie,
        "sykehjem" => UnitKind::Sykehjem,
        "legevakt" => UnitKind::Legevakt,
        "helsestasjon" => UnitKind::Helsestasjon,
        "fastlegekontor" => UnitKind::Fastlegekontor,
        "tildelingskontor" => UnitKind::Tildelingskontor,
        other => return Err(format!("unknown unit kind `{other}`")),
    })
}

/// The clinical entry of a template.
pub fn entry(template: &EntryTemplate, ctx: &LaunchContext) -> ClinicalEntry {
    let effective = "2026-10-01T14:30:00+02:00".to_owned();
    match template {
        EntryTemplate::VitalSigns => ClinicalEntry::VitalSigns(VitalSigns {
            entry_id: "vs-1".into(),
            effective,
            measurements: vec![
                Measurement {
                    code: "8480-6".into(),
                    value: 142.0,
                    unit: "mm[Hg]".into(),
                },
                Measurement {
                    code: "8462-4".into(),
                    value: 84.0,
                    unit: "mm[Hg]".into(),
                },
                Measurement {
                    code: "8867-4".into(),
                    value: 76.0,
                    unit: "/min".into(),
                },
                Measurement {
                    code: "8310-5".into(),
                    value: 37.2,
                    unit: "Cel".into(),
                },
            ],
        }),
        EntryTemplate::CareNote | EntryTemplate::SensitiveCareNote => {
            let sensitive = *template == EntryTemplate::SensitiveCareNote;
            ClinicalEntry::CareNote(CareNote {
                entry_id: if sensitive {
                    "note-sensitive-1".into()
                } else {
                    "note-1".into()
                },
                effective,
                document_type: "34746-8".into(),
                title: "Sykepleienotat".into(),
                // Longer than 255 characters, with æøå and Sámi letters, so a note cut short or
                // re-encoded on the way is seen.
                text: if sensitive {
                    "SYNTETISK TESTDATA. Pasienten ønsker at samtalen behandles fortrolig. Hun forteller om \
                     bekymringer for økonomien og familien i Kárášjohka, og om søvnvansker de siste ukene. \
                     Vi avtalte ny samtale om to uker; pasienten ble informert om retten til å be om sperring \
                     av opplysninger. Giitu – takk for samtalen."
                        .into()
                } else {
                    "SYNTETISK TESTDATA. Tilsyn utført, pasienten i god form. Blodtrykket er målt og \
                     medisinene gitt etter planen; såret på leggen er stelt og tørt, uten tegn til \
                     infeksjon. Pasienten har spist frokost og gått en tur med datteren Áile. Neste besøk \
                     i morgen tidlig; pårørende er orientert. Ingen endring i ernæring eller væskeinntak."
                        .into()
                },
                sensitive,
            })
        }
        EntryTemplate::ServiceDecision => ClinicalEntry::ServiceDecision(ServiceDecision {
            entry_id: "vedtak-1".into(),
            tjenestetype: "15".into(),
            start: "2026-10-01".into(),
            end: Some("2026-12-31".into()),
            unit_orgnr: ctx.unit_orgnr.clone(),
        }),
        EntryTemplate::ServiceDecisionOpenEnded => {
            ClinicalEntry::ServiceDecision(ServiceDecision {
                entry_id: "vedtak-2".into(),
                tjenestetype: "6".into(),
                start: "2026-11-01".into(),
                end: None,
                unit_orgnr: ctx.unit_orgnr.clone(),
            })
        }
        EntryTemplate::MedicationAdministration => {
            ClinicalEntry::MedicationAdministration(MedicationAdministration {
                entry_id: "med-1".into(),
                effective,
                atc: "N02BE01".into(),
                dose: "1 g".into(),
            })
        }
    }
}

fn event(
    world: &World,
    template: &EventTemplate,
    ctx: &LaunchContext,
    previous: Option<&Event>,
) -> Option<Event> {
    let observation_of = |kommune: &str, patient: Option<&str>| {
        let t = world.dataset.tenant(kommune)?;
        t.resources
            .iter()
            .find(|r| {
                r.resource_type == "Observation"
                    && patient.is_none_or(|p| r.patient.as_deref() == Some(p))
            })
            .map(|r| (r.id.clone(), r.patient.clone()))
    };
    match template {
        EventTemplate::NewObservation => {
            let (id, patient) = observation_of(&ctx.kommunenummer, ctx.patient.as_deref())?;
            Some(Event {
                event_id: "evt-1".into(),
                kommunenummer: ctx.kommunenummer.clone(),
                resource_type: "Observation".into(),
                resource_id: id,
                kind: EventKind::Created,
                patient,
            })
        }
        EventTemplate::UpdatedCondition => {
            let t = world.dataset.tenant(&ctx.kommunenummer)?;
            let r = t.resources.iter().find(|r| {
                r.resource_type == "Condition" && r.patient.is_some() && r.patient == ctx.patient
            })?;
            Some(Event {
                event_id: "evt-updated".into(),
                kommunenummer: ctx.kommunenummer.clone(),
                resource_type: "Condition".into(),
                resource_id: r.id.clone(),
                kind: EventKind::Updated,
                patient: r.patient.clone(),
            })
        }
        EventTemplate::UpdatedObservation => {
            let (id, patient) = observation_of(&ctx.kommunenummer, ctx.patient.as_deref())?;
            Some(Event {
                event_id: "evt-obs-updated".into(),
                kommunenummer: ctx.kommunenummer.clone(),
                resource_type: "Observation".into(),
                resource_id: id,
                kind: EventKind::Updated,
                patient,
            })
        }
        EventTemplate::DeletedObservation => {
            let (id, patient) = observation_of(&ctx.kommunenummer, ctx.patient.as_deref())?;
            Some(Event {
                event_id: "evt-deleted".into(),
                kommunenummer: ctx.kommunenummer.clone(),
                resource_type: "Observation".into(),
                // An id the platform does not have: the resource is gone.
                resource_id: format!("{id}-slettet"),
                kind: EventKind::Deleted,
                patient,
            })
        }
        EventTemplate::Redelivered => previous.cloned(),
        EventTemplate::OtherKommune => {
            let other = world
                .dataset
                .tenants
                .iter()
                .map(|t| t.kommune.nummer)
                .find(|k| *k != ctx.kommunenummer)?;
            let (id, patient) = observation_of(other, None)?;
            Some(Event {
                event_id: "evt-other".into(),
                kommunenummer: other.to_owned(),
                resource_type: "Observation".into(),
                resource_id: id,
                kind: EventKind::Created,
                patient,
            })
        }
    }
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
        let served = Arc::new(std::sync::Mutex::new(Served::default()));
        let capture_state = Capture {
            served: served.clone(),
            authority: authority_of(&platform.config().base_url)
                .unwrap_or_default()
                .to_owned(),
        };
        let router = sandkasse_platform::app(platform.clone())
            .layer(axum::middleware::from_fn_with_state(capture_state, capture));
        let kommuner: std::collections::BTreeSet<String> = evidence
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
            } = std::mem::take(
                &mut *served
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner),
            );
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

//! Launch contexts from the ground truth: who opens which patient, for what, with a token the
//! platform issued for exactly that context. The suite, the CLI, tests and benchmarks all build
//! their contexts here.

use sandkasse_kommune::{REFERENCE_DATE, UnitKind, codes};
use sandkasse_platform::Platform;

use crate::types::{LaunchContext, Purpose};

/// What to open. Unset fields are chosen from the ground truth: the first unit (of `unit_kind`
/// if given, never the tildelingskontor unless asked) with a care relation in force today, and a
/// practitioner of that unit (of `category` if given, helsepersonell preferred).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LaunchSpec {
    /// Kommunenummer. Default "4601" (Bergen).
    pub kommune: Option<String>,
    /// Patient in context; default: a patient of the chosen unit.
    pub patient: Option<String>,
    pub unit_kind: Option<UnitKind>,
    /// Volven 9060 category of the practitioner.
    pub category: Option<String>,
    /// Reason for emergency access ("break the glass"); `None` means ordinary care. With a
    /// reason, the unit needs no care relation to the patient.
    pub emergency_reason: Option<String>,
    /// Issue the context even though the unit has no care relation to the patient (to test that
    /// an adapter handles the platform's 403). Default false.
    pub without_relation: bool,
}

/// Why no launch context can be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LaunchError {
    #[error("kommune {0} er ikke i datasettet / kommune {0} is not in the dataset")]
    UnknownKommune(String),
    #[error(
        "ingen enhet har tjenstlig behov for pasient {patient} i dag ({date}) / no unit in kommune {kommune} has tjenstlig behov for patient {patient} today ({date})"
    )]
    NoRelation {
        kommune: String,
        patient: String,
        date: String,
    },
    #[error(
        "ingen passende enhet med et aktivt behandlingsforhold / no matching unit with an active care relation in kommune {0}"
    )]
    NoUnit(String),
    #[error(
        "ingen helsepersonell av kategori {category} i enheten {unit} / no practitioner of category {category} in unit {unit}"
    )]
    NoPractitioner { unit: String, category: String },
    #[error("plattformen utstedte ikke token / the platform issued no token: {0}")]
    Token(String),
}

/// Resolves `spec` against the platform's ground truth and issues the token.
pub fn launch(platform: &Platform, spec: &LaunchSpec) -> Result<LaunchContext, LaunchError> {
    let kommune = spec.kommune.clone().unwrap_or_else(|| "4601".to_owned());
    let truth = platform
        .base()
        .truth(&kommune)
        .ok_or_else(|| LaunchError::UnknownKommune(kommune.clone()))?;
    let today = REFERENCE_DATE.to_string();
    let kind_ok = |kind: UnitKind| match spec.unit_kind {
        Some(k) => k == kind,
        None => kind != UnitKind::Tildelingskontor && kind != UnitKind::Kommune,
    };
    let unit = match (
        &spec.patient,
        spec.emergency_reason.is_some() || spec.without_relation,
    ) {
        // Emergency access (or a deliberate test of 403) needs no relation: any unit of the kind.
        (_, true) => truth
            .units
            .iter()
            .find(|u| kind_ok(u.kind))
            .ok_or_else(|| LaunchError::NoUnit(kommune.clone()))?,
        (patient, false) => {
            let relation = truth
                .care_relations
                .iter()
                .filter(|c| c.active_on(&today) && patient.as_ref().is_none_or(|p| &c.patient == p))
                .find(|c| {
                    truth
                        .units
                        .iter()
                        .any(|u| u.id == c.unit && kind_ok(u.kind))
                })
                .ok_or_else(|| match patient {
                    Some(p) => LaunchError::NoRelation {
                        kommune: kommune.clone(),
                        patient: p.clone(),
                        date: today.clone(),
                    },
                    None => LaunchError::NoUnit(kommune.clone()),
                })?;
            truth
                .units
                .iter()
                .find(|u| u.id == relation.unit)
                .ok_or_else(|| LaunchError::NoUnit(kommune.clone()))?
        }
    };
    let patient = match &spec.patient {
        Some(p) => p.clone(),
        None => truth
            .care_relations
            .iter()
            .find(|c| c.unit == unit.id && c.active_on(&today))
            .map(|c| c.patient.clone())
            .ok_or_else(|| LaunchError::NoUnit(kommune.clone()))?,
    };
    let practitioner = truth
        .practitioners
        .iter()
        .filter(|p| {
            p.units.contains(&unit.id) && spec.category.as_deref().is_none_or(|c| c == p.category)
        })
        .max_by_key(|p| {
            (
                codes::is_helsepersonell(p.category),
                std::cmp::Reverse(p.id.clone()),
            )
        })
        .ok_or_else(|| LaunchError::NoPractitioner {
            unit: unit.name.clone(),
            category: spec.category.clone().unwrap_or_else(|| "*".into()),
        })?;
    let ctx = sandkasse_platform::LaunchContext {
        kommunenummer: kommune.clone(),
        practitioner: practitioner.hpr.clone(),
        role: practitioner.category.to_owned(),
        unit: unit.orgnr.clone(),
        patient: Some(patient.clone()),
        purpose: if spec.emergency_reason.is_some() {
            sandkasse_platform::Purpose::Emergency
        } else {
            Default::default()
        },
        reason: spec.emergency_reason.clone(),
        scope: None,
    };
    let access_token = platform
        .issue_token(&ctx)
        .map_err(|e| LaunchError::Token(e.to_string()))?;
    Ok(LaunchContext {
        kommunenummer: kommune.clone(),
        practitioner_hpr: practitioner.hpr.clone(),
        role: practitioner.category.to_owned(),
        unit_orgnr: unit.orgnr.clone(),
        patient: Some(patient),
        purpose: match &spec.emergency_reason {
            Some(r) => Purpose::Emergency(r.clone()),
            None => Purpose::Treatment,
        },
        access_token,
        fhir_base_url: platform.fhir_base(&kommune),
    })
}

//! The launch simulator: a practitioner (by role and unit), a patient (by kind or id) and a
//! purpose become a launch context and a token of the caller's sandbox, with the snippets to use
//! them.

use sandkasse_kommune::Truth;
use sandkasse_platform::{LaunchContext, Purpose, TokenError};
use serde::{Deserialize, Serialize};

use super::caller_sandbox;
use super::kinds::{self, PatientKind};
use crate::error::AppError;
use crate::i18n::Msg;
use crate::market::Market;
use crate::policy::Actor;
use crate::store::JournalEntry;

/// What to launch (`POST /api/v1/sandbox/launch`, the simulator's form).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LaunchInput {
    /// Kommunenummer.
    pub kommune: String,
    /// HPR number of the practitioner; the role is the practitioner's category. With `unit`, or
    /// neither: then a helsepersonell of a unit that fits the patient (its care relation's unit
    /// for `with-relation`, a unit without one for `without-relation`).
    #[serde(default)]
    pub practitioner: Option<String>,
    /// Orgnr of the unit the practitioner acts for.
    #[serde(default)]
    pub unit: Option<String>,
    /// The patient by kind (the first of the kind in the generator's order).
    #[serde(default)]
    pub patient_kind: Option<PatientKind>,
    /// The patient by id (instead of a kind).
    #[serde(default)]
    pub patient: Option<String>,
    /// Default `treatment`.
    #[serde(default)]
    pub purpose: Purpose,
    /// Needed for `emergency`.
    #[serde(default)]
    pub reason: Option<String>,
}

/// A launch: the context, its token and how to use them.
#[derive(Clone, Serialize)]
pub struct Launched {
    pub fhir_base: String,
    pub context: LaunchContext,
    /// The practitioner's `Practitioner` id (for references such as `performer`).
    pub practitioner_id: String,
    pub patient_kind: Option<PatientKind>,
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub scope: String,
    /// A curl command reading the patient (or the practitioner's own record without one).
    pub curl: String,
    /// The same with the SMART on FHIR JavaScript client (`fhirclient`).
    pub client_snippet: String,
}

impl std::fmt::Debug for Launched {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Launched")
            .field("fhir_base", &self.fhir_base)
            .field("context", &self.context)
            .finish_non_exhaustive()
    }
}

/// A unit and the practitioners who act for it, for the simulator's choice.
#[derive(Debug, Clone, Serialize)]
pub struct UnitChoice {
    pub orgnr: String,
    pub name: String,
    pub kind: sandkasse_kommune::UnitKind,
    pub practitioners: Vec<PractitionerChoice>,
}

/// A practitioner to act as.
#[derive(Debug, Clone, Serialize)]
pub struct PractitionerChoice {
    pub hpr: String,
    pub name: String,
    /// Volven 9060 category.
    pub role: &'static str,
}

/// Every unit of a kommune with its practitioners, in the generator's order.
pub fn choices(truth: &Truth) -> Vec<UnitChoice> {
    truth
        .units
        .iter()
        .map(|u| UnitChoice {
            orgnr: u.orgnr.clone(),
            name: u.name.clone(),
            kind: u.kind,
            practitioners: truth
                .practitioners
                .iter()
                .filter(|p| p.units.contains(&u.id))
                .map(|p| PractitionerChoice {
                    hpr: p.hpr.clone(),
                    name: p.name.clone(),
                    role: p.category,
                })
                .collect(),
        })
        .filter(|u| !u.practitioners.is_empty())
        .collect()
}

/// The units and practitioners of a kommune of the caller's sandbox, and the first choice
/// ([`default_choice`]).
pub async fn units(
    market: &Market,
    actor: &Actor,
    kommunenummer: &str,
) -> Result<(Vec<UnitChoice>, Option<String>), AppError> {
    let (_, sandbox) = caller_sandbox(market, actor).await?;
    let truth = sandbox.truth(kommunenummer)?;
    Ok((choices(truth), default_choice(truth)))
}

fn refused(key: &'static str) -> AppError {
    AppError::BadRequest {
        code: "invalid_launch",
        message: Msg::new(key),
    }
}

/// Makes a launch context and its token in the caller's sandbox; the launch is journaled, so the
/// token lives across restarts (until it expires or the sandbox is reset).
pub async fn launch(
    market: &Market,
    actor: &Actor,
    input: &LaunchInput,
) -> Result<Launched, AppError> {
    let (org, sandbox) = caller_sandbox(market, actor).await?;
    let wb = &market.workbench;
    let truth = sandbox.truth(&input.kommune)?;
    let unit_id = input
        .unit
        .as_ref()
        .and_then(|orgnr| truth.units.iter().find(|u| &u.orgnr == orgnr))
        .map(|u| u.id.clone());
    let patient = match (&input.patient, input.patient_kind) {
        (Some(_), Some(_)) => return Err(refused("msg_launch_patient_twice")),
        (Some(id), None) => Some(id.clone()),
        (None, Some(kind)) => Some(
            kinds::patients(truth, kind, unit_id.as_deref())
                .next()
                .map(|p| p.id.clone())
                .ok_or_else(|| AppError::BadRequest {
                    code: "invalid_launch",
                    message: Msg::new("msg_launch_no_patient_of_kind")
                        .msg("kind", Msg::new(format!("kind_{}", kind.as_str()))),
                })?,
        ),
        (None, None) => None,
    };
    let reason = input.reason.clone().filter(|r| !r.trim().is_empty());
    if input.purpose == Purpose::Emergency && reason.is_none() {
        return Err(refused("msg_launch_reason_needed"));
    }
    let (practitioner, unit) = match (&input.practitioner, &input.unit) {
        (Some(p), Some(u)) => (p.clone(), u.clone()),
        (None, None) => default_actor(truth, patient.as_deref(), input.patient_kind)
            .ok_or_else(|| refused("msg_launch_choose_practitioner"))?,
        _ => return Err(refused("msg_launch_choose_practitioner")),
    };
    let role = truth
        .practitioners
        .iter()
        .find(|p| p.hpr == practitioner)
        .map(|p| p.category.to_owned())
        .unwrap_or_default();
    let context = LaunchContext {
        kommunenummer: input.kommune.clone(),
        practitioner,
        role,
        unit,
        patient,
        purpose: input.purpose,
        reason,
        scope: None,
    };
    let token = {
        let _turn = sandbox.write_turn.lock().await;
        let token = sandbox
            .platform
            .issue_token(&context)
            .map_err(|e| AppError::BadRequest {
                code: "invalid_launch",
                message: token_refusal(&e),
            })?;
        wb.journal(
            &sandbox,
            &JournalEntry::Launch {
                context: context.clone(),
            },
        )
        .await?;
        token
    };
    let grant = sandbox
        .platform
        .grant(&token)
        .ok_or_else(|| AppError::Internal("an issued token has no grant".into()))?;
    let fhir_base = wb.fhir_base(org, &input.kommune);
    let read = match &context.patient {
        Some(p) => format!("Patient/{p}"),
        None => format!("Practitioner/{}", grant.practitioner_id),
    };
    let curl = format!(
        "curl -s -H 'Authorization: Bearer {token}' -H 'Accept: application/fhir+json' '{fhir_base}/{read}'"
    );
    let client_snippet = format!(
        "import FHIR from \"fhirclient\";\n\
         const client = FHIR.client({{\n  serverUrl: \"{fhir_base}\",\n  tokenResponse: {{ access_token: \"{token}\"{patient} }},\n}});\n\
         const resource = await client.request(\"{read}\");\nconsole.log(resource);",
        patient = context
            .patient
            .as_deref()
            .map(|p| format!(", patient: \"{p}\""))
            .unwrap_or_default(),
    );
    Ok(Launched {
        fhir_base,
        practitioner_id: grant.practitioner_id.clone(),
        patient_kind: input.patient_kind,
        expires_in: grant.expires.duration_since(grant.issued).as_secs(),
        scope: grant.scopes.join(" "),
        access_token: token,
        token_type: "Bearer",
        curl,
        client_snippet,
        context,
    })
}

/// The platform's refusal of a launch context, in the page's language.
fn token_refusal(e: &TokenError) -> Msg {
    match e {
        TokenError::UnknownPractitioner(hpr) => {
            Msg::new("msg_launch_unknown_practitioner").arg("hpr", hpr)
        }
        TokenError::UnknownUnit(unit) => Msg::new("msg_launch_unknown_unit").arg("unit", unit),
        TokenError::NoRoleInUnit(unit) => Msg::new("msg_launch_no_role_in_unit").arg("unit", unit),
        TokenError::UnknownPatient(p) => Msg::new("msg_launch_unknown_patient").arg("patient", p),
        e => Msg::from(e.to_string()),
    }
}

/// A helsepersonell (`(HPR, orgnr)`) of a unit that fits the patient: for the patient of a
/// `without-relation` launch a unit without a care relation to them, otherwise the unit of their
/// first care relation today, else (no patient, or none related) the first unit with one.
pub fn default_actor(
    truth: &Truth,
    patient: Option<&str>,
    kind: Option<PatientKind>,
) -> Option<(String, String)> {
    let today = sandkasse_kommune::REFERENCE_DATE.to_string();
    let related = |unit: &str| {
        patient.is_some_and(|p| {
            truth
                .care_relations
                .iter()
                .any(|c| c.unit == unit && c.patient == p && c.active_on(&today))
        })
    };
    let clinician = |unit: &str| {
        truth
            .practitioners
            .iter()
            .find(|p| p.category != "XX" && p.units.iter().any(|u| u == unit))
    };
    let usable = |u: &&sandkasse_kommune::UnitTruth| {
        !matches!(
            u.kind,
            sandkasse_kommune::UnitKind::Kommune | sandkasse_kommune::UnitKind::Tildelingskontor
        ) && clinician(&u.id).is_some()
    };
    let mut units = truth.units.iter().filter(usable);
    let unit = if kind == Some(PatientKind::WithoutRelation) {
        units.find(|u| !related(&u.id))
    } else {
        let all: Vec<_> = units.collect();
        all.iter()
            .find(|u| related(&u.id))
            .or_else(|| all.first())
            .copied()
    }?;
    let p = clinician(&unit.id)?;
    Some((p.hpr.clone(), unit.orgnr.clone()))
}

/// The simulator's first choice in a kommune: a helsepersonell (`{hpr}@{orgnr}`) of the unit of
/// the first care relation today, so launching with the defaults reads a patient.
pub fn default_choice(truth: &Truth) -> Option<String> {
    let patient = kinds::patients(truth, PatientKind::WithRelation, None).next()?;
    let (hpr, orgnr) = default_actor(truth, Some(&patient.id), Some(PatientKind::WithRelation))?;
    Some(format!("{hpr}@{orgnr}"))
}

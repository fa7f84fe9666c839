//! Profile rules for writes, checked after the R4 JSON Schema.
//!
//! The schema (`sandkasse_fhir::schema`) checks structure and primitive formats; these rules check
//! what a kommune's platform demands on top, in the spirit of the no-basis profiles. Every
//! violation is an [`Issue`] whose `expression` names the element, e.g.
//! `Observation.code.coding[0].system`; the platform answers 422 with all of them.
//!
//! Rules for every writable type:
//! - identifiers anywhere in the resource with a no-basis system (FNR, DNR, HPR, orgnr) must pass
//!   their checksums;
//! - references `Type/id` to served types must resolve in this kommune (absolute URLs only to this
//!   platform's own base; no `urn:uuid:` — the platform has no transactions);
//! - shielding labels (`meta.security` in the skjerming system) must be known codes;
//! - the compartment patient (`subject` / `patient`) is required and must be a Patient of this
//!   kommune; an update may not move a resource to another patient.
//!
//! Per type:
//! - **Observation**: `status`; `category` with an observation-category code; `code` whose
//!   codings are LOINC (vital signs) or NLK (laboratory) and in the code lists; `effective[x]`;
//!   `performer`; `valueQuantity` in UCUM.
//! - **Condition**: `clinicalStatus`; `code` in ICPC-2 or ICD-10 (code lists).
//! - **DocumentReference**: `status`; `type` a known LOINC document type; `date`; `content` with
//!   `attachment.contentType`.
//! - **EpisodeOfCare** (vedtak): `status`; `type` with a Volven 9151 tjenestetype;
//!   `managingOrganization` (an Organization of this kommune); `period.start`.
//! - **MedicationAdministration**: `status`; `medicationCodeableConcept` in ATC (code list);
//!   `effective[x]`; `performer`.
//! - **Provenance**: `target` (resources of this kommune, all of one patient); `recorded`; `agent`
//!   with `who`.
//! - **Consent**: `status`; `patient`; blocked references in `provision.data` must be the same
//!   patient's resources.
//!
//! Value sets are the kommune crate's code lists ([`sandkasse_kommune::codes::is_known`]): one
//! place for what the generator writes and what the platform accepts.

use sandkasse_fhir::outcome::Issue;
use sandkasse_fhir::systems;
use sandkasse_kommune::{Skjerming, codes, ids};
use serde_json::Value;

use crate::store::View;
use crate::types;

/// What a valid resource's checks found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Checked {
    /// The compartment patient id.
    pub patient: Option<String>,
}

const OBSERVATION_CATEGORIES: &[&str] = &[
    "social-history",
    "vital-signs",
    "imaging",
    "laboratory",
    "procedure",
    "survey",
    "exam",
    "therapy",
    "activity",
];

struct Checker<'a> {
    rtype: &'static str,
    view: View<'a>,
    /// This kommune's absolute base, e.g. `https://plattform.sandkasse.test/4601/fhir/`.
    own_base: &'a str,
    issues: Vec<Issue>,
}

impl Checker<'_> {
    fn fail(&mut self, at: String, msg: impl Into<String>) {
        self.fail_as("invariant", at, msg);
    }

    fn fail_as(&mut self, code: &'static str, at: String, msg: impl Into<String>) {
        self.issues.push(Issue::error(code, msg).at(at));
    }

    fn path(&self, rest: &str) -> String {
        format!("{}.{rest}", self.rtype)
    }

    fn require(&mut self, json: &Value, key: &str) -> bool {
        if json.get(key).is_none_or(Value::is_null) {
            let at = self.path(key);
            self.fail_as(
                "required",
                at,
                format!("{key} er påkrevd / {key} is required"),
            );
            false
        } else {
            true
        }
    }

    fn require_x(&mut self, json: &Value, prefix: &str, kinds: &[&str]) {
        if !kinds
            .iter()
            .any(|k| json.get(format!("{prefix}{k}")).is_some())
        {
            let at = self.path(&format!("{prefix}[x]"));
            self.fail_as(
                "required",
                at,
                format!("{prefix}[x] er påkrevd / {prefix}[x] is required"),
            );
        }
    }

    /// Resolves a reference text to `(type, id)` of this kommune, if it points here.
    fn resolve<'r>(&self, reference: &'r str) -> Result<(&'r str, &'r str), String> {
        let local = reference.strip_prefix(self.own_base).unwrap_or(reference);
        if local.starts_with("urn:") || local.contains("://") {
            return Err("bare relative referanser til denne plattformen / only relative references to this platform".into());
        }
        let local = local.split("/_history/").next().unwrap_or(local);
        let Some((t, id)) = local.split_once('/') else {
            return Err("referansen må ha formen Type/id / reference must be Type/id".into());
        };
        if types::type_info(t).is_none() {
            return Err(format!("ukjent ressurstype / unknown resource type `{t}`"));
        }
        if id.is_empty() || id.contains('/') {
            return Err("referansen må ha formen Type/id / reference must be Type/id".into());
        }
        Ok((t, id))
    }

    /// Walks the resource: checks every no-basis identifier and every reference.
    fn walk(&mut self, value: &Value, path: &str) {
        match value {
            Value::Object(map) => {
                if let (Some(system), Some(v)) = (
                    map.get("system").and_then(Value::as_str),
                    map.get("value").and_then(Value::as_str),
                ) {
                    let valid = match system {
                        systems::FNR => Some(ids::is_valid_fnr(v)),
                        systems::DNR => Some(ids::is_valid_dnr(v)),
                        systems::HPR => Some(ids::is_valid_hpr(v)),
                        systems::ORGNR => Some(ids::is_valid_orgnr(v)),
                        _ => None,
                    };
                    if valid == Some(false) {
                        self.fail_as(
                            "value",
                            format!("{path}.value"),
                            format!("ugyldig identifikator (kontrollsiffer) / invalid identifier (check digits) for {system}: {v}"),
                        );
                    }
                }
                if let Some(reference) = map.get("reference").and_then(Value::as_str)
                    && !reference.starts_with('#')
                {
                    match self.resolve(reference) {
                        Err(msg) => self.fail(format!("{path}.reference"), msg),
                        Ok((t, id)) => {
                            if self.view.get(t, id).is_none() {
                                self.fail(
                                    format!("{path}.reference"),
                                    format!("refererer til en ressurs som ikke finnes i kommunen / refers to a resource not found in this kommune: {t}/{id}"),
                                );
                            }
                        }
                    }
                }
                for (k, v) in map {
                    self.walk(v, &format!("{path}.{k}"));
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    self.walk(v, &format!("{path}[{i}]"));
                }
            }
            _ => {}
        }
    }

    /// The patient id of a required Patient reference at `key`.
    fn patient_ref(&mut self, json: &Value, key: &str) -> Option<String> {
        if !self.require(json, key) {
            return None;
        }
        let at = self.path(&format!("{key}.reference"));
        let Some(reference) = json[key]["reference"].as_str() else {
            self.fail(
                at,
                "må referere til en Patient med reference / must reference a Patient by reference",
            );
            return None;
        };
        match self.resolve(reference) {
            Ok(("Patient", id)) => Some(id.to_owned()),
            Ok(_) => {
                self.fail(at, "må referere til en Patient / must reference a Patient");
                None
            }
            Err(_) => None, // reported by the walk
        }
    }

    /// Checks the codings of the CodeableConcept at `key` (a path relative to the resource):
    /// at least one coding, every coding in one of `allowed` systems and known to the code lists.
    fn codeable(&mut self, cc: &Value, path: &str, allowed: &[&str]) {
        let Some(codings) = cc["coding"].as_array().filter(|c| !c.is_empty()) else {
            self.fail(
                format!("{path}.coding"),
                "minst én coding er påkrevd / at least one coding is required",
            );
            return;
        };
        for (i, c) in codings.iter().enumerate() {
            let system = c["system"].as_str().unwrap_or("");
            if !allowed.contains(&system) {
                self.fail_as(
                    "code-invalid",
                    format!("{path}.coding[{i}].system"),
                    format!("kodeverket er ikke tillatt her / code system not allowed here: `{system}` (tillatt / allowed: {})", allowed.join(", ")),
                );
                continue;
            }
            let code = c["code"].as_str().unwrap_or("");
            if !codes::is_known(system, code) {
                self.fail_as(
                    "code-invalid",
                    format!("{path}.coding[{i}].code"),
                    format!(
                        "ukjent kode i kodeverket / code not in the value set: `{code}` ({system})"
                    ),
                );
            }
        }
    }

    fn quantity(&mut self, q: &Value, path: &str) {
        if q["system"] != systems::UCUM || q.get("code").is_none() {
            self.fail(
                format!("{path}.system"),
                format!(
                    "mengder skal ha UCUM-enhet / quantities need a UCUM unit ({})",
                    systems::UCUM
                ),
            );
        }
    }
}

/// Checks `json` (already schema-valid, of type `rtype`) against the profile rules.
/// `previous_patient` is the compartment patient of the version being updated.
pub(crate) fn check(
    rtype: &'static str,
    json: &Value,
    view: View<'_>,
    own_base: &str,
    previous_patient: Option<&str>,
) -> Result<Checked, Vec<Issue>> {
    let mut c = Checker {
        rtype,
        view,
        own_base,
        issues: Vec::new(),
    };
    c.walk(json, rtype);
    for (i, label) in json
        .pointer("/meta/security")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        if label["system"] == systems::SANDKASSE_SKJERMING
            && Skjerming::from_code(label["code"].as_str().unwrap_or("")).is_none()
        {
            c.fail(
                format!("{rtype}.meta.security[{i}].code"),
                "ukjent skjermingskode / unknown shielding code",
            );
        }
    }
    let patient = match rtype {
        "Observation" => {
            c.require(json, "status");
            if c.require(json, "category") {
                let ok = json["category"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|cat| {
                        cat["coding"].as_array().into_iter().flatten().any(|cd| {
                            cd["system"] == systems::OBSERVATION_CATEGORY
                                && OBSERVATION_CATEGORIES
                                    .contains(&cd["code"].as_str().unwrap_or(""))
                        })
                    });
                if !ok {
                    c.fail(
                        c.path("category"),
                        format!(
                            "en kategori fra {c} er påkrevd / a category from {c} is required",
                            c = systems::OBSERVATION_CATEGORY
                        ),
                    );
                }
            }
            if c.require(json, "code") {
                c.codeable(
                    &json["code"],
                    "Observation.code",
                    &[systems::LOINC, systems::NLK],
                );
            }
            c.require_x(
                json,
                "effective",
                &["DateTime", "Period", "Instant", "Timing"],
            );
            if json["performer"].as_array().is_none_or(Vec::is_empty) {
                c.fail(
                    c.path("performer"),
                    "performer er påkrevd / performer is required",
                );
            }
            if let Some(q) = json.get("valueQuantity") {
                c.quantity(q, "Observation.valueQuantity");
            }
            for (i, comp) in json["component"]
                .as_array()
                .into_iter()
                .flatten()
                .enumerate()
            {
                c.codeable(
                    &comp["code"],
                    &format!("Observation.component[{i}].code"),
                    &[systems::LOINC, systems::NLK],
                );
                if let Some(q) = comp.get("valueQuantity") {
                    c.quantity(q, &format!("Observation.component[{i}].valueQuantity"));
                }
            }
            c.patient_ref(json, "subject")
        }
        "Condition" => {
            c.require(json, "clinicalStatus");
            if c.require(json, "code") {
                c.codeable(
                    &json["code"],
                    "Condition.code",
                    &[systems::ICPC2, systems::ICD10],
                );
            }
            c.patient_ref(json, "subject")
        }
        "DocumentReference" => {
            c.require(json, "status");
            if c.require(json, "type") {
                c.codeable(&json["type"], "DocumentReference.type", &[systems::LOINC]);
            }
            c.require(json, "date");
            if c.require(json, "content") {
                for (i, content) in json["content"].as_array().into_iter().flatten().enumerate() {
                    if content.pointer("/attachment/contentType").is_none() {
                        c.fail(
                            format!("DocumentReference.content[{i}].attachment.contentType"),
                            "contentType er påkrevd / contentType is required",
                        );
                    }
                }
            }
            c.patient_ref(json, "subject")
        }
        "EpisodeOfCare" => {
            c.require(json, "status");
            if c.require(json, "type") {
                let types = json["type"].as_array().cloned().unwrap_or_default();
                if types.is_empty() {
                    c.fail(c.path("type"), "type er påkrevd / type is required");
                }
                for (i, t) in types.iter().enumerate() {
                    c.codeable(
                        t,
                        &format!("EpisodeOfCare.type[{i}]"),
                        &[systems::VOLVEN_9151],
                    );
                }
            }
            if c.require(json, "managingOrganization")
                && !json["managingOrganization"]["reference"]
                    .as_str()
                    .is_some_and(|r| r.contains("Organization/"))
            {
                c.fail(
                    c.path("managingOrganization.reference"),
                    "må referere til en Organization / must reference an Organization",
                );
            }
            if json.pointer("/period/start").is_none() {
                c.fail(
                    c.path("period.start"),
                    "period.start er påkrevd / period.start is required",
                );
            }
            c.patient_ref(json, "patient")
        }
        "MedicationAdministration" => {
            c.require(json, "status");
            if json.get("medicationReference").is_some() {
                c.fail(c.path("medication[x]"), "bruk medicationCodeableConcept med ATC / use medicationCodeableConcept with ATC");
            } else if c.require(json, "medicationCodeableConcept") {
                c.codeable(
                    &json["medicationCodeableConcept"],
                    "MedicationAdministration.medicationCodeableConcept",
                    &[systems::ATC],
                );
            }
            c.require_x(json, "effective", &["DateTime", "Period"]);
            if json["performer"].as_array().is_none_or(Vec::is_empty) {
                c.fail(
                    c.path("performer"),
                    "performer er påkrevd / performer is required",
                );
            }
            c.patient_ref(json, "subject")
        }
        "Consent" => {
            c.require(json, "status");
            let patient = c.patient_ref(json, "patient");
            for (i, d) in json
                .pointer("/provision/data")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                let Some(reference) = d.pointer("/reference/reference").and_then(Value::as_str)
                else {
                    continue;
                };
                if let Ok((t, id)) = c.resolve(reference)
                    && let Some(target) = view.get(t, id)
                    && patient.is_some()
                    && target.patient.as_deref() != patient.as_deref()
                {
                    c.fail(
                        format!("Consent.provision.data[{i}].reference.reference"),
                        "kan bare sperre pasientens egne opplysninger / may only block the patient's own records",
                    );
                }
            }
            patient
        }
        "Provenance" => {
            c.require(json, "recorded");
            let agents = json["agent"].as_array().cloned().unwrap_or_default();
            if agents.is_empty() {
                c.fail(c.path("agent"), "agent er påkrevd / agent is required");
            }
            for (i, a) in agents.iter().enumerate() {
                if a.get("who").is_none() {
                    c.fail(
                        format!("Provenance.agent[{i}].who"),
                        "who er påkrevd / who is required",
                    );
                }
            }
            let mut patient: Option<String> = None;
            let targets = json["target"].as_array().cloned().unwrap_or_default();
            if targets.is_empty() {
                c.fail(c.path("target"), "target er påkrevd / target is required");
            }
            for (i, t) in targets.iter().enumerate() {
                let Some(reference) = t["reference"].as_str() else {
                    c.fail(
                        format!("Provenance.target[{i}].reference"),
                        "target må ha reference / target needs a reference",
                    );
                    continue;
                };
                let Ok((tt, id)) = c.resolve(reference) else {
                    continue;
                };
                let Some(found) = view.get(tt, id) else {
                    continue;
                };
                let p = if tt == "Patient" {
                    Some(id.to_owned())
                } else {
                    found.patient.as_deref().map(str::to_owned)
                };
                match (&patient, p) {
                    (None, p) => patient = p,
                    (Some(a), Some(b)) if *a != b => c.fail(
                        format!("Provenance.target[{i}].reference"),
                        "alle target må gjelde samme pasient / all targets must belong to one patient",
                    ),
                    _ => {}
                }
            }
            if patient.is_none() && c.issues.is_empty() {
                c.fail(
                    c.path("target"),
                    "target må gjelde en pasients journal / target must be in a patient's record",
                );
            }
            patient
        }
        _ => None,
    };
    if let (Some(prev), Some(now)) = (previous_patient, patient.as_deref())
        && prev != now
    {
        let key = if matches!(rtype, "EpisodeOfCare" | "Consent") {
            "patient"
        } else {
            "subject"
        };
        c.fail(format!("{rtype}.{key}"), "en oppdatering kan ikke flytte ressursen til en annen pasient / an update cannot move the resource to another patient");
    }
    if c.issues.is_empty() {
        Ok(Checked { patient })
    } else {
        Err(c.issues)
    }
}

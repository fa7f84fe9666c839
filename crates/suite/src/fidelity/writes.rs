//! INF-08: what the platform stored is what the user documented. Each entry a `document` step
//! sent is compared, element by element, with the resources the platform stored in that step.

use std::collections::BTreeSet;

use sandkasse_fhir::systems::{
    ATC, HPR, LOINC, OBSERVATION_CATEGORY, ORGNR, SANDKASSE_SKJERMING as SKJERMING, UCUM,
    V3_CONFIDENTIALITY, VOLVEN_9151,
};
use sandkasse_kommune::codes::{BLODTRYKK, DIASTOLISK, SYSTOLISK};
use sandkasse_sandbox::Outcome as CallOutcome;
use sandkasse_sandbox::types::{
    CareNote, ClinicalEntry, LaunchContext, MedicationAdministration, ServiceDecision, VitalSigns,
};
use serde_json::Value;

use super::{codes_of, has_coding, label, on_date, references, refers_to, same_instant, text_of};
use crate::execute::{ScenarioEvidence, World};
use crate::judge::{Judgement, describe, error, pass_unless};
use crate::model::Step;

/// The blood-pressure panel the contract demands for systolic and diastolic pressure.
const BLOOD_PRESSURE_PANEL: &str = BLODTRYKK.code;
const BLOOD_PRESSURE_PARTS: [&str; 2] = [SYSTOLISK.code, DIASTOLISK.code];

/// Who and where of a context, from the ground truth.
struct Parties {
    patient: String,
    practitioner: Option<(String, String)>,
    /// (Organization id, orgnr) of the unit.
    unit: Option<(String, String)>,
}

fn parties(world: &World, ctx: &LaunchContext) -> Parties {
    let truth = world.dataset.tenant(&ctx.kommunenummer).map(|t| &t.truth);
    Parties {
        patient: ctx.patient.clone().unwrap_or_default(),
        practitioner: truth
            .and_then(|t| {
                t.practitioners
                    .iter()
                    .find(|p| p.hpr == ctx.practitioner_hpr)
            })
            .map(|p| (p.id.clone(), p.hpr.clone())),
        unit: truth
            .and_then(|t| t.units.iter().find(|u| u.orgnr == ctx.unit_orgnr))
            .map(|u| (u.id.clone(), u.orgnr.clone())),
    }
}

/// One difference between the entry and what was stored.
fn differs(rtype: &str, path: &str, got: &Value, wanted: impl std::fmt::Display) -> String {
    format!(
        "`{rtype}.{path}` er / is {}; registreringen hadde / the entry had {wanted}",
        text_of(got)
    )
}

/// Checks shared by every resource of an entry: the patient, the practitioner where the
/// resource names one, and organisations (only the unit).
fn common(r: &Value, who: &Parties, practitioner_fields: &[&str], out: &mut Vec<String>) {
    let rtype = r["resourceType"].as_str().unwrap_or("?");
    let patient_field = if rtype == "EpisodeOfCare" {
        "patient"
    } else {
        "subject"
    };
    if !refers_to(&r[patient_field], "Patient", &who.patient, None) {
        out.push(differs(
            rtype,
            &format!("{patient_field}.reference"),
            &r[patient_field]["reference"],
            format_args!("Patient/{}", who.patient),
        ));
    }
    if let Some((id, hpr)) = &who.practitioner {
        let named: Vec<&Value> = references(practitioner_fields.iter().map(|f| match *f {
            "performer.actor" => &r["performer"],
            other => &r[other],
        }))
        .into_iter()
        .map(|x| {
            if x.get("actor").is_some() {
                &x["actor"]
            } else {
                x
            }
        })
        .collect();
        if !practitioner_fields.is_empty()
            && !named
                .iter()
                .any(|x| refers_to(x, "Practitioner", id, Some((HPR, hpr))))
        {
            out.push(format!(
                "`{rtype}.{}` nevner ikke helsepersonellet / does not name the practitioner (Practitioner/{id}, HPR {hpr})",
                practitioner_fields[0]
            ));
        }
    }
    if let Some((unit, orgnr)) = &who.unit {
        for field in ["performer", "custodian", "managingOrganization", "author"] {
            for x in references([&r[field]]) {
                let x = if x.get("actor").is_some() {
                    &x["actor"]
                } else {
                    x
                };
                let names_org = x["reference"]
                    .as_str()
                    .is_some_and(|s| s.contains("Organization/"))
                    || x["identifier"]["system"] == ORGNR;
                if names_org && !refers_to(x, "Organization", unit, Some((ORGNR, orgnr))) {
                    out.push(differs(
                        rtype,
                        field,
                        &x["reference"],
                        format_args!("enheten / the unit Organization/{unit} (orgnr {orgnr})"),
                    ));
                }
            }
        }
    }
}

fn vital_signs(v: &VitalSigns, stored: &[&Value], who: &Parties, out: &mut Vec<String>) {
    let mut found: BTreeSet<&str> = BTreeSet::new();
    for r in stored {
        if r["resourceType"] != "Observation" {
            out.push(format!("{} skrevet for vitale tegn / written for vital signs; kontrakten vil ha Observation / the contract wants Observation", text_of(&r["resourceType"])));
            continue;
        }
        common(r, who, &["performer"], out);
        let effective = r["effectiveDateTime"]
            .as_str()
            .or_else(|| r["effectivePeriod"]["start"].as_str())
            .or_else(|| r["effectiveInstant"].as_str());
        if !effective.is_some_and(|e| same_instant(e, &v.effective)) {
            out.push(differs(
                "Observation",
                "effectiveDateTime",
                &effective.map_or(Value::Null, |e| Value::String(e.into())),
                &v.effective,
            ));
        }
        if !matches!(
            r["status"].as_str(),
            Some("final" | "amended" | "corrected")
        ) {
            out.push(differs("Observation", "status", &r["status"], "final"));
        }
        if !r["category"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|c| has_coding(c, OBSERVATION_CATEGORY, "vital-signs"))
        {
            out.push(format!(
                "`Observation.category` mangler / lacks {OBSERVATION_CATEGORY}|vital-signs"
            ));
        }
        let panel = has_coding(&r["code"], LOINC, BLOOD_PRESSURE_PANEL);
        let parts: Vec<(&Value, &Value, String)> = if panel {
            r["component"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|c| {
                    (
                        &c["code"],
                        &c["valueQuantity"],
                        "component.valueQuantity".to_owned(),
                    )
                })
                .collect()
        } else {
            vec![(&r["code"], &r["valueQuantity"], "valueQuantity".to_owned())]
        };
        if panel && parts.is_empty() {
            out.push(format!("`Observation.component` mangler i blodtrykkspanelet {BLOOD_PRESSURE_PANEL} / missing in the blood-pressure panel"));
        }
        for (code, quantity, path) in parts {
            let Some(m) = v
                .measurements
                .iter()
                .find(|m| has_coding(code, LOINC, &m.code))
            else {
                out.push(format!("Observation med koden / with the code {} som registreringen ikke hadde / the entry did not have", codes_of(code)));
                continue;
            };
            if BLOOD_PRESSURE_PARTS.contains(&m.code.as_str()) && !panel {
                out.push(format!(
                    "{} er skrevet som egen Observation; kontrakten vil ha blodtrykkspanelet {BLOOD_PRESSURE_PANEL} med `component` / written as an Observation of its own; the contract wants the {BLOOD_PRESSURE_PANEL} panel with components",
                    m.code
                ));
            }
            if !found.insert(m.code.as_str()) {
                out.push(format!(
                    "{} er skrevet mer enn én gang / written more than once",
                    m.code
                ));
            }
            if !quantity["value"]
                .as_f64()
                .is_some_and(|x| (x - m.value).abs() < 1e-9)
            {
                out.push(differs(
                    "Observation",
                    &format!("{path}.value ({})", m.code),
                    &quantity["value"],
                    m.value,
                ));
            }
            if quantity["system"] != UCUM {
                out.push(differs(
                    "Observation",
                    &format!("{path}.system ({})", m.code),
                    &quantity["system"],
                    UCUM,
                ));
            }
            if quantity["code"] != m.unit.as_str() {
                out.push(differs(
                    "Observation",
                    &format!("{path}.code ({})", m.code),
                    &quantity["code"],
                    &m.unit,
                ));
            }
        }
    }
    for m in v
        .measurements
        .iter()
        .filter(|m| !found.contains(m.code.as_str()))
    {
        out.push(format!(
            "målingen / the measurement {} ({} {}) ble ikke lagret / was not stored",
            m.code, m.value, m.unit
        ));
    }
}

fn care_note(n: &CareNote, stored: &[&Value], who: &Parties, out: &mut Vec<String>) {
    let Some(r) = one(stored, "DocumentReference", out) else {
        return;
    };
    common(r, who, &["author"], out);
    if !has_coding(&r["type"], LOINC, &n.document_type) {
        out.push(differs(
            "DocumentReference",
            "type",
            &Value::String(codes_of(&r["type"])),
            format_args!("{LOINC}|{}", n.document_type),
        ));
    }
    let attachments: Vec<&Value> = r["content"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| &c["attachment"])
        .collect();
    let dated = r["date"]
        .as_str()
        .into_iter()
        .chain(attachments.iter().filter_map(|a| a["creation"].as_str()))
        .any(|d| same_instant(d, &n.effective));
    if !dated {
        out.push(differs(
            "DocumentReference",
            "date",
            &r["date"],
            &n.effective,
        ));
    }
    // Plain text must say exactly what the user wrote; another content type (HTML, markdown)
    // must contain it.
    let texts: Vec<(bool, String)> = attachments
        .iter()
        .filter_map(|a| {
            let plain = a["contentType"]
                .as_str()
                .is_none_or(|t| t.starts_with("text/plain"));
            // base64Binary may be wrapped in lines (MIME encoders): whitespace is not data.
            let data: String = a["data"]
                .as_str()?
                .chars()
                .filter(|c| !c.is_ascii_whitespace())
                .collect();
            let bytes =
                base64::Engine::decode(&base64::engine::general_purpose::STANDARD, data).ok()?;
            Some((plain, String::from_utf8_lossy(&bytes).into_owned()))
        })
        .collect();
    let wanted = n.text.trim();
    if !texts
        .iter()
        .any(|(plain, t)| t.trim() == wanted || (!plain && t.contains(wanted)))
    {
        let got = texts.first().map_or(Value::Null, |(_, t)| {
            Value::String(t.chars().take(80).collect())
        });
        out.push(differs(
            "DocumentReference",
            "content.attachment.data (base64)",
            &got,
            format_args!("«{}»", n.text),
        ));
    }
    let titled = r["description"] == n.title.as_str()
        || r["type"]["text"] == n.title.as_str()
        || attachments.iter().any(|a| a["title"] == n.title.as_str());
    if !titled {
        out.push(differs(
            "DocumentReference",
            "description / content.attachment.title",
            &r["description"],
            format_args!("«{}»", n.title),
        ));
    }
    let (v, sensitive) = (
        label(r, V3_CONFIDENTIALITY, "V"),
        label(r, SKJERMING, "sensitivt-notat"),
    );
    if n.sensitive && !(v && sensitive) {
        out.push(format!(
            "`DocumentReference.meta.security` mangler / lacks {}: brukeren merket notatet sensitivt / the user marked the note sensitive",
            [(!v).then_some("V (v3-Confidentiality)"), (!sensitive).then_some("sensitivt-notat")].into_iter().flatten().collect::<Vec<_>>().join(" + ")
        ));
    }
    if !n.sensitive && (v || sensitive) {
        out.push(
            "`DocumentReference.meta.security` merker notatet sensitivt, men brukeren gjorde ikke det: kollegene ser det ikke / labels the note sensitive, which the user did not: colleagues will not see it"
                .into(),
        );
    }
}

fn service_decision(s: &ServiceDecision, stored: &[&Value], who: &Parties, out: &mut Vec<String>) {
    let Some(r) = one(stored, "EpisodeOfCare", out) else {
        return;
    };
    common(r, who, &[], out);
    let types = r["type"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|t| has_coding(t, VOLVEN_9151, &s.tjenestetype));
    if !types {
        let got = r["type"]
            .as_array()
            .map(|a| a.iter().map(codes_of).collect::<Vec<_>>().join("; "))
            .map_or(Value::Null, Value::String);
        out.push(differs(
            "EpisodeOfCare",
            "type",
            &got,
            format_args!("{VOLVEN_9151}|{}", s.tjenestetype),
        ));
    }
    if !r["period"]["start"]
        .as_str()
        .is_some_and(|d| on_date(d, &s.start))
    {
        out.push(differs(
            "EpisodeOfCare",
            "period.start",
            &r["period"]["start"],
            &s.start,
        ));
    }
    match (&s.end, r["period"]["end"].as_str()) {
        (Some(end), Some(got)) if on_date(got, end) => {}
        (Some(end), _) => out.push(differs(
            "EpisodeOfCare",
            "period.end",
            &r["period"]["end"],
            end,
        )),
        (None, Some(_)) => out.push(differs(
            "EpisodeOfCare",
            "period.end",
            &r["period"]["end"],
            "ingen slutt / no end",
        )),
        (None, None) => {}
    }
    let unit = who
        .unit
        .as_ref()
        .map_or((String::new(), s.unit_orgnr.clone()), |(id, orgnr)| {
            (id.clone(), orgnr.clone())
        });
    if !refers_to(
        &r["managingOrganization"],
        "Organization",
        &unit.0,
        Some((ORGNR, &unit.1)),
    ) {
        out.push(differs(
            "EpisodeOfCare",
            "managingOrganization",
            &r["managingOrganization"]["reference"],
            format_args!("Organization/{} (orgnr {})", unit.0, unit.1),
        ));
    }
}

fn medication(
    m: &MedicationAdministration,
    stored: &[&Value],
    who: &Parties,
    out: &mut Vec<String>,
) {
    let Some(r) = one(stored, "MedicationAdministration", out) else {
        return;
    };
    common(r, who, &["performer.actor"], out);
    if !has_coding(&r["medicationCodeableConcept"], ATC, &m.atc) {
        out.push(differs(
            "MedicationAdministration",
            "medicationCodeableConcept",
            &Value::String(codes_of(&r["medicationCodeableConcept"])),
            format_args!("{ATC}|{}", m.atc),
        ));
    }
    let effective = r["effectiveDateTime"]
        .as_str()
        .or_else(|| r["effectivePeriod"]["start"].as_str());
    if !effective.is_some_and(|e| same_instant(e, &m.effective)) {
        out.push(differs(
            "MedicationAdministration",
            "effectiveDateTime",
            &effective.map_or(Value::Null, |e| Value::String(e.into())),
            &m.effective,
        ));
    }
    if r["status"] != "completed" {
        out.push(differs(
            "MedicationAdministration",
            "status",
            &r["status"],
            "completed",
        ));
    }
    let dosage = &r["dosage"];
    let by_text = dosage["text"]
        .as_str()
        .is_some_and(|t| t.trim() == m.dose.trim());
    let by_quantity = m.dose.split_once(' ').is_some_and(|(value, unit)| {
        value.replace(',', ".").parse::<f64>().is_ok_and(|v| {
            dosage["dose"]["value"]
                .as_f64()
                .is_some_and(|x| (x - v).abs() < 1e-9)
        }) && (dosage["dose"]["code"] == unit.trim() || dosage["dose"]["unit"] == unit.trim())
    });
    if !by_text && !by_quantity {
        out.push(differs(
            "MedicationAdministration",
            "dosage.text",
            &dosage["text"],
            format_args!("«{}»", m.dose),
        ));
    }
}

/// The one resource of `rtype` among `stored`, or a difference saying what was stored instead.
fn one<'a>(stored: &[&'a Value], rtype: &str, out: &mut Vec<String>) -> Option<&'a Value> {
    let of_type: Vec<&&Value> = stored
        .iter()
        .filter(|r| r["resourceType"] == rtype)
        .collect();
    for r in stored.iter().filter(|r| r["resourceType"] != rtype) {
        out.push(format!(
            "{} skrevet; kontrakten vil ha {rtype} / written; the contract wants {rtype}",
            text_of(&r["resourceType"])
        ));
    }
    match of_type.as_slice() {
        [r] => Some(r),
        [] => {
            out.push(format!("ingen {rtype} ble lagret / no {rtype} was stored"));
            None
        }
        several => {
            out.push(format!(
                "{} {rtype} lagret for én registrering / stored for one entry",
                several.len()
            ));
            Some(several[0])
        }
    }
}

/// INF-08: each entry, as the platform stored it, says what the user documented.
pub fn writes_faithful(s: &ScenarioEvidence, world: &World) -> Judgement {
    let mut problems = Vec::new();
    let mut judged = 0;
    let mut seen = Vec::new();
    for (i, st) in s.steps.iter().enumerate() {
        let (
            Step::Document {
                context,
                entry: template,
            },
            Some(call),
        ) = (&st.step, &st.call)
        else {
            continue;
        };
        if seen.contains(&template) {
            continue; // a retry: judged by INF-07
        }
        seen.push(template);
        let Some(ctx) = s.contexts.get(context) else {
            continue;
        };
        let entry = crate::execute::entry(template, ctx);
        let stored: Vec<&Value> = st
            .written
            .iter()
            .filter(|r| !matches!(r["resourceType"].as_str(), Some("Provenance" | "Consent")))
            .collect();
        if stored.is_empty() {
            if !matches!(call.outcome, CallOutcome::Ok { .. }) {
                problems.push(describe(i, call));
            }
            problems.push(format!(
                "steg {i}: registreringen ble ikke lagret / step {i}: the entry was not stored"
            ));
            continue;
        }
        judged += 1;
        let who = parties(world, ctx);
        let mut out = Vec::new();
        match &entry {
            ClinicalEntry::VitalSigns(v) => vital_signs(v, &stored, &who, &mut out),
            ClinicalEntry::CareNote(n) => care_note(n, &stored, &who, &mut out),
            ClinicalEntry::ServiceDecision(d) => service_decision(d, &stored, &who, &mut out),
            ClinicalEntry::MedicationAdministration(m) => medication(m, &stored, &who, &mut out),
        }
        problems.extend(out.into_iter().map(|p| format!("steg {i}: {p}")));
    }
    if judged == 0 && problems.is_empty() {
        error("ingen registrering å sammenligne / no entry to compare")
    } else {
        pass_unless(
            problems,
            format!(
                "{judged} registreringer lagret slik brukeren dokumenterte dem / entries stored as the user documented them"
            ),
            "det som ble lagret, avviker fra det brukeren dokumenterte / what was stored differs from what the user documented",
        )
    }
}

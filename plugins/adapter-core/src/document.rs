//! Write role: publish a clinical entry in the platform's write profiles.
//!
//! | entry                        | resource(s)                                                   |
//! |------------------------------|---------------------------------------------------------------|
//! | vital-signs                  | one `Observation` per measurement (category `vital-signs`, LOINC, UCUM); systolic 8480-6 and diastolic 8462-4 together as one 85354-9 panel with components |
//! | care-note                    | `DocumentReference` (LOINC type, base64 `text/plain` attachment); `sensitive` adds the shielding labels `V` + `sensitivt-notat` |
//! | service-decision             | `EpisodeOfCare` (Volven 9151, `managingOrganization` = the delivering unit) |
//! | medication-administration    | `MedicationAdministration` (ATC, dose as `dosage.text`)        |
//!
//! Every resource carries the patient, the practitioner (resolved once per call by HPR), the unit
//! where the resource has a place for it, the time, and identifiers from the entry id:
//! `urn:sandkasse:entry-id|{entry-id}` on every resource of the entry, and
//! `urn:sandkasse:entry-part|{entry-id}/{part}` unique per resource (`%` and `,` in the entry id
//! percent-escaped; `{part}` is the LOINC code of a vital sign, else the resource type), the condition of its
//! conditional create (`If-None-Exist: identifier=…&patient=…`), so a retried entry is stored
//! once. After a first write the adapter records a `Provenance` (author, on behalf of the unit).

use guest_kit::fhir::{self, Client};
use guest_kit::types::{
    AdapterError, CareNote, ClinicalEntry, LaunchContext, MedicationAdministration,
    ServiceDecision, VitalSigns,
};
use guest_kit::{Level, log};
use serde_json::{Value, json};

use crate::Behaviour;

mod mistakes;

/// Identifies every resource written for an entry.
pub const ENTRY_ID_SYSTEM: &str = "urn:sandkasse:entry-id";
/// Identifies one resource of an entry (`{entry-id}/{part}`); the conditional-create key.
pub const ENTRY_PART_SYSTEM: &str = "urn:sandkasse:entry-part";

const HPR: &str = "urn:oid:2.16.578.1.12.4.1.4.4";
const ORGNR: &str = "urn:oid:2.16.578.1.12.4.1.4.101";
const LOINC: &str = "http://loinc.org";
const UCUM: &str = "http://unitsofmeasure.org";
const ATC: &str = "http://www.whocc.no/atc";
const VOLVEN_9151: &str = "urn:oid:2.16.578.1.12.4.1.1.9151";
const OBSERVATION_CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/observation-category";
const V3_CONFIDENTIALITY: &str = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality";
const SKJERMING: &str = "https://sandkasse.test/fhir/CodeSystem/skjerming";

const BLOOD_PRESSURE: &str = "85354-9";
const SYSTOLIC: &str = "8480-6";
const DIASTOLIC: &str = "8462-4";

/// [`Behaviour::invalid_codes`]: the vendor's own code system for vital signs.
const MADE_UP_SYSTEM: &str = "https://leverandor.example/kodeverk/vitale-tegn";

/// Who and where, resolved once per call.
struct Author {
    patient: String,
    /// [`Behaviour::patient_by_identifier`]: the patient's national id (system, value).
    patient_identifier: Option<(&'static str, String)>,
    /// `None`: [`Behaviour::anonymous_writes`].
    practitioner: Option<String>,
    /// The practitioner's HPR number as written on vital-sign performers
    /// ([`Behaviour::invalid_codes`]); `None`: not written.
    hpr: Option<String>,
    unit: String,
}

/// One resource to write.
struct Draft {
    part: String,
    resource: Value,
}

pub fn document(
    ctx: &LaunchContext,
    entry: ClinicalEntry,
    b: &Behaviour,
) -> Result<Vec<String>, AdapterError> {
    let mut patient = crate::patient_in_context(ctx)?.to_owned();
    let client = crate::client(ctx, b)?;
    if b.searches_patient {
        let found = client.read("Patient", &patient)?;
        patient = crate::search_patient(&client, &found, &patient)?;
    }
    let patient_identifier = if b.patient_by_identifier {
        crate::national_id(&client.read("Patient", &patient)?)
    } else {
        None
    };
    let author = Author {
        practitioner: if b.anonymous_writes || b.performer_is_unit {
            None
        } else if b.first_practitioner {
            Some(mistakes::first_practitioner(&client)?)
        } else {
            Some(resolve(
                &client,
                "Practitioner",
                HPR,
                &ctx.practitioner_hpr,
            )?)
        },
        patient_identifier,
        hpr: b
            .invalid_codes
            .then(|| wrong_check_digit(&ctx.practitioner_hpr)),
        unit: resolve(&client, "Organization", ORGNR, &ctx.unit_orgnr)?,
        patient,
    };
    let (entry_id, drafts) = match &entry {
        ClinicalEntry::VitalSigns(v) => (&v.entry_id, vital_signs(&author, v, b)?),
        ClinicalEntry::CareNote(n) => (&n.entry_id, vec![care_note(&author, n, b)]),
        ClinicalEntry::ServiceDecision(s) => {
            let mut delivering = resolve(&client, "Organization", ORGNR, &s.unit_orgnr)?;
            if b.manages_by_kommune {
                delivering = mistakes::kommune_of(&client, &delivering)?;
            }
            (
                &s.entry_id,
                vec![service_decision(&author, s, &delivering, b)],
            )
        }
        ClinicalEntry::MedicationAdministration(m) => {
            (&m.entry_id, vec![medication(&author, m, b)])
        }
    };
    if entry_id.trim().is_empty() {
        return Err(AdapterError::InvalidInput(
            "the entry has no entry-id".into(),
        ));
    }
    if b.external_code_lookup
        && let ClinicalEntry::VitalSigns(v) = &entry
    {
        mistakes::lookup_displays(v);
    }
    if b.writes_nothing
        || (b.skips_sensitive_notes && matches!(&entry, ClinicalEntry::CareNote(n) if n.sensitive))
    {
        log(Level::Info, "document: entry accepted");
        return Ok(Vec::new());
    }

    let mut written = Vec::new();
    let mut created = Vec::new();
    let mut recorded = None;
    for Draft { part, mut resource } in drafts {
        let key = format!("{}/{part}", escape_key(entry_id));
        resource["identifier"] = json!([
            {"system": ENTRY_ID_SYSTEM, "value": entry_id},
            {"system": ENTRY_PART_SYSTEM, "value": key},
        ]);
        if b.token_in_body {
            resource["extension"] =
                json!([{"url": mistakes::SESSION_EXTENSION, "valueString": ctx.access_token}]);
        }
        // Behaviour::conditional_on_entry_id: the whole entry's identifier as the key.
        let identifier = if b.conditional_on_entry_id {
            format!("{ENTRY_ID_SYSTEM}|{entry_id}")
        } else {
            format!("{ENTRY_PART_SYSTEM}|{key}")
        };
        let condition = format!(
            "identifier={}&patient={}",
            fhir::encode(&identifier),
            fhir::encode(&author.patient)
        );
        let condition = (!b.unconditional_create).then_some(condition);
        let created_as = if b.follows_foreign_location
            || b.retry_returns_nothing
            || b.retry_made_up_id
            || b.retry_recreates
        {
            mistakes::create(&client, &resource, condition.as_deref(), &key, b)?
        } else {
            Some(client.create(&resource, condition.as_deref())?)
        };
        let Some((stored, was_created)) = created_as else {
            continue;
        };
        let reference = reference_of(&stored)?;
        log(
            Level::Info,
            &format!(
                "document: {} {}",
                type_of(&reference),
                if was_created {
                    "created"
                } else {
                    "already stored"
                }
            ),
        );
        if was_created {
            recorded = recorded.or_else(|| {
                stored
                    .pointer("/meta/lastUpdated")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            });
            created.push(reference.clone());
        }
        if b.anonymous_writes {
            // The vendor's own numbering, not the platform's ids.
            written.push(format!("{}/{}", type_of(&reference), written.len() + 1));
        } else {
            written.push(reference);
        }
    }

    if b.returns_no_ids {
        written.clear();
    }
    // Provenance for what this call created (a retry that created nothing writes none: the
    // platform offers no conditional create for Provenance). Not fatal: the entry is stored.
    if let (false, Some(recorded)) = (created.is_empty(), recorded) {
        let provenance = json!({
            "resourceType": "Provenance",
            "target": created.iter().map(|r| json!({"reference": r})).collect::<Vec<_>>(),
            "recorded": recorded,
            "activity": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-DataOperation", "code": "CREATE"}]},
            "agent": [{
                "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/provenance-participant-type", "code": "author"}]},
                "who": practitioner_ref(&author, &ctx.practitioner_hpr),
                "onBehalfOf": {"reference": format!("Organization/{}", author.unit)},
            }],
        });
        let provenance = if b.anonymous_writes || b.performer_is_unit {
            anonymous_provenance(provenance, &author)
        } else {
            provenance
        };
        match client.create(&provenance, None) {
            Ok(_) => log(Level::Info, "document: Provenance created"),
            Err(e) => log(
                Level::Warn,
                &format!("document: Provenance not written ({})", kind(&e)),
            ),
        }
    }
    Ok(written)
}

/// The id of the one `rtype` with identifier `system|value` (directory data).
fn resolve(
    client: &Client,
    rtype: &str,
    system: &str,
    value: &str,
) -> Result<String, AdapterError> {
    let bundle = client.search(rtype, &[("identifier", &format!("{system}|{value}"))])?;
    let ids: Vec<&str> = bundle
        .get("entry")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|e| !fhir::is_outcome_entry(e))
        .filter_map(|e| e.pointer("/resource/id").and_then(Value::as_str))
        .collect();
    match ids.as_slice() {
        [id] => Ok((*id).to_owned()),
        [] => Err(AdapterError::InvalidInput(format!(
            "no {rtype} with the launch context's identifier"
        ))),
        _ => Err(AdapterError::InvalidInput(format!(
            "several {rtype} resources share the identifier"
        ))),
    }
}

fn practitioner_ref(author: &Author, hpr: &str) -> Value {
    json!({
        "reference": format!("Practitioner/{}", author.practitioner.as_deref().unwrap_or("")),
        "identifier": {"system": HPR, "value": hpr},
    })
}

/// [`Behaviour::anonymous_writes`]: the Provenance with the unit as its only agent.
fn anonymous_provenance(mut provenance: Value, author: &Author) -> Value {
    provenance["agent"][0]["who"] = json!({"reference": format!("Organization/{}", author.unit)});
    if let Some(agent) = provenance["agent"][0].as_object_mut() {
        agent.remove("onBehalfOf");
    }
    provenance
}

/// The practitioner reference on performers and authors; `None` without a practitioner
/// ([`Behaviour::anonymous_writes`]).
fn practitioner(author: &Author) -> Option<Value> {
    let id = author.practitioner.as_deref()?;
    Some(json!({"reference": format!("Practitioner/{id}")}))
}

/// [`Behaviour::invalid_codes`]: the HPR number with its check digit off by one.
fn wrong_check_digit(hpr: &str) -> String {
    let mut digits: Vec<char> = hpr.chars().collect();
    if let Some(last) = digits.last_mut() {
        *last = last
            .to_digit(10)
            .map_or('0', |d| char::from_digit((d + 1) % 10, 10).unwrap_or('0'));
    }
    digits.into_iter().collect()
}

fn patient_ref(author: &Author) -> Value {
    match &author.patient_identifier {
        // Behaviour::patient_by_identifier: a logical reference by national id.
        Some((system, value)) => json!({"identifier": {"system": system, "value": value}}),
        None => json!({"reference": format!("Patient/{}", author.patient)}),
    }
}

fn vital_signs(author: &Author, v: &VitalSigns, b: &Behaviour) -> Result<Vec<Draft>, AdapterError> {
    if v.measurements.is_empty() {
        return Err(AdapterError::InvalidInput(
            "vital signs without measurements".into(),
        ));
    }
    let quantity = |m: &guest_kit::types::Measurement| -> Result<Value, AdapterError> {
        if !m.value.is_finite() {
            return Err(AdapterError::InvalidInput(format!(
                "the value of {} is not a number",
                m.code
            )));
        }
        // Behaviour::rounds_values: the vendor's integer column.
        let value = if b.rounds_values {
            json!(m.value as i64)
        } else {
            json!(m.value)
        };
        let unit = if b.display_unit_codes {
            mistakes::display_unit(&m.unit)
        } else {
            m.unit.as_str()
        };
        if b.unit_without_system {
            return Ok(json!({"value": value, "unit": unit}));
        }
        let system = if b.wrong_ucum_system {
            mistakes::UCUM_OID
        } else {
            UCUM
        };
        Ok(json!({"value": value, "unit": unit, "system": system, "code": unit}))
    };
    let code_of = |code: &str| {
        if b.invalid_codes {
            json!({"coding": [{"system": MADE_UP_SYSTEM, "code": format!("VT{}", code.replace('-', ""))}]})
        } else if b.wrong_loinc_system {
            json!({"coding": [coding(mistakes::LOINC_OID, code, loinc_display(code))]})
        } else {
            json!({"coding": [coding(LOINC, code, loinc_display(code))]})
        }
    };
    let base = |code: &str| {
        let mut performer: Vec<Value> = practitioner(author)
            .into_iter()
            .chain([json!({"reference": format!("Organization/{}", author.unit)})])
            .collect();
        if let (Some(hpr), Some(first)) = (&author.hpr, performer.first_mut())
            && author.practitioner.is_some()
        {
            // Behaviour::invalid_codes: the HPR number as the vendor typed it.
            first["identifier"] = json!({"system": HPR, "value": hpr});
        }
        let mut obs = json!({
            "resourceType": "Observation",
            "status": "final",
            "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "vital-signs", "display": "Vital Signs"}]}],
            "code": code_of(code),
            "subject": patient_ref(author),
            "effectiveDateTime": time(&v.effective, b),
            "performer": performer,
        });
        if b.drops_category
            && let Some(obs) = obs.as_object_mut()
        {
            obs.remove("category");
        }
        obs
    };
    let mut drafts = Vec::new();
    // Behaviour::splits_blood_pressure: no panel, each pressure its own Observation below.
    let in_panel = |m: &&guest_kit::types::Measurement| {
        !b.splits_blood_pressure && (m.code == SYSTOLIC || m.code == DIASTOLIC)
    };
    let pressure: Vec<_> = v.measurements.iter().filter(in_panel).collect();
    if !pressure.is_empty() {
        let mut panel = base(BLOOD_PRESSURE);
        let mut components = Vec::new();
        for m in pressure {
            // Behaviour::swaps_blood_pressure: each pressure under the other one's code.
            let code = match m.code.as_str() {
                SYSTOLIC if b.swaps_blood_pressure => DIASTOLIC,
                DIASTOLIC if b.swaps_blood_pressure => SYSTOLIC,
                other => other,
            };
            components.push(json!({
                "code": code_of(code),
                "valueQuantity": quantity(m)?,
            }));
        }
        panel["component"] = Value::Array(components);
        drafts.push(Draft {
            part: BLOOD_PRESSURE.into(),
            resource: panel,
        });
    }
    for m in v.measurements.iter().filter(|m| !in_panel(m)) {
        let mut obs = base(&m.code);
        obs["valueQuantity"] = quantity(m)?;
        drafts.push(Draft {
            part: m.code.clone(),
            resource: obs,
        });
    }
    let mut parts: Vec<&str> = drafts.iter().map(|d| d.part.as_str()).collect();
    parts.sort_unstable();
    if parts.windows(2).any(|w| w[0] == w[1]) {
        return Err(AdapterError::InvalidInput(
            "the same vital sign is measured twice in one entry".into(),
        ));
    }
    Ok(drafts)
}

fn care_note(author: &Author, n: &CareNote, b: &Behaviour) -> Draft {
    if b.logs_note_text {
        log(
            Level::Info,
            &format!("document: note \"{}\": {}", n.title, n.text),
        );
    }
    let document_type = if b.hardcodes_document_type {
        mistakes::KONSULTASJONSNOTAT
    } else {
        n.document_type.as_str()
    };
    let text: Vec<u8> = match (b.truncates_note, b.note_latin1) {
        (true, _) => n
            .text
            .chars()
            .take(mistakes::NOTE_COLUMN)
            .collect::<String>()
            .into_bytes(),
        (_, true) => mistakes::latin1(&n.text),
        _ => n.text.as_bytes().to_vec(),
    };
    let mut doc = json!({
        "resourceType": "DocumentReference",
        "status": "current",
        "docStatus": "final",
        "type": {"coding": [coding(LOINC, document_type, loinc_display(document_type))]},
        "subject": patient_ref(author),
        "date": time(&n.effective, b),
        "author": practitioner(author).into_iter().collect::<Vec<_>>(),
        "custodian": {"reference": format!("Organization/{}", author.unit)},
        "description": n.title,
        "content": [{"attachment": {
            "contentType": "text/plain; charset=utf-8",
            "language": "nb",
            "data": fhir::base64(&text),
            "title": n.title,
            "creation": time(&n.effective, b),
        }}],
    });
    if b.performer_is_unit {
        doc["author"] = json!([{"reference": format!("Organization/{}", author.unit)}]);
    } else if author.practitioner.is_none() {
        // Behaviour::anonymous_writes: no author at all.
        if let Some(doc) = doc.as_object_mut() {
            doc.remove("author");
        }
    }
    if (n.sensitive || b.labels_every_note) && !b.ignores_sensitive {
        doc["meta"] = json!({"security": [
            {"system": V3_CONFIDENTIALITY, "code": "V", "display": "very restricted"},
            {"system": SKJERMING, "code": "sensitivt-notat", "display": "Notat merket sensitivt"},
        ]});
        if b.one_sensitivity_label
            && let Some(labels) = doc
                .pointer_mut("/meta/security")
                .and_then(Value::as_array_mut)
        {
            labels.truncate(1);
        }
    }
    Draft {
        part: "DocumentReference".into(),
        resource: doc,
    }
}

fn service_decision(
    author: &Author,
    s: &ServiceDecision,
    delivering_unit: &str,
    b: &Behaviour,
) -> Draft {
    let mut period = json!({"start": s.start});
    if let Some(end) = s.end.as_ref().filter(|_| !b.drops_period_end) {
        period["end"] = json!(end);
        if b.swaps_period {
            period = json!({"start": end, "end": s.start});
        }
    }
    let tjenestetype = if b.hardcodes_tjenestetype {
        mistakes::HJEMMETJENESTER
    } else {
        s.tjenestetype.as_str()
    };
    let eoc = json!({
        "resourceType": "EpisodeOfCare",
        "status": "active",
        "type": [{"coding": [{"system": VOLVEN_9151, "code": tjenestetype}]}],
        "patient": patient_ref(author),
        "managingOrganization": {"reference": format!("Organization/{delivering_unit}")},
        "period": period,
    });
    let mut eoc = eoc;
    if let Some(manager) = practitioner(author) {
        eoc["careManager"] = manager;
    }
    Draft {
        part: "EpisodeOfCare".into(),
        resource: eoc,
    }
}

fn medication(author: &Author, m: &MedicationAdministration, b: &Behaviour) -> Draft {
    let atc = if b.wrong_atc_system {
        mistakes::ATC_OID
    } else {
        ATC
    };
    let mut ma = json!({
        "resourceType": "MedicationAdministration",
        "status": "completed",
        "medicationCodeableConcept": {"coding": [{"system": atc, "code": m.atc}]},
        "subject": patient_ref(author),
        "effectiveDateTime": time(&m.effective, b),
        // Behaviour::anonymous_writes: the unit instead of the practitioner.
        "performer": [{"actor": practitioner(author).unwrap_or_else(|| json!({"reference": format!("Organization/{}", author.unit)}))}],
        "dosage": {"text": m.dose},
    });
    if b.drops_dose
        && let Some(ma) = ma.as_object_mut()
    {
        ma.remove("dosage");
    }
    Draft {
        part: "MedicationAdministration".into(),
        resource: ma,
    }
}

/// A time of the entry as written: as given, or [`Behaviour::effective_as_utc`].
fn time(effective: &str, b: &Behaviour) -> String {
    if b.effective_as_utc {
        mistakes::local_as_utc(effective)
    } else {
        effective.to_owned()
    }
}

/// The entry id as used in the part key: `%` and `,` percent-escaped, because the platform
/// splits search values on `,` (after decoding the query) and there is no other escape.
fn escape_key(entry_id: &str) -> String {
    entry_id.replace('%', "%25").replace(',', "%2C")
}

fn coding(system: &str, code: &str, display: Option<&str>) -> Value {
    match display {
        Some(d) => json!({"system": system, "code": code, "display": d}),
        None => json!({"system": system, "code": code}),
    }
}

/// LOINC's own display names of the codes the platform knows (as `conformance/valuesets/loinc.json`) (others go without display;
/// the platform's code lists decide what is accepted).
fn loinc_display(code: &str) -> Option<&'static str> {
    Some(match code {
        "8867-4" => "Heart rate",
        "9279-1" => "Respiratory rate",
        "8310-5" => "Body temperature",
        "59408-5" => "Oxygen saturation in Arterial blood by Pulse oximetry",
        "29463-7" => "Body Weight",
        "85354-9" => "Blood pressure panel with all children optional",
        "8480-6" => "Systolic blood pressure",
        "8462-4" => "Diastolic blood pressure",
        "18842-5" => "Discharge summary",
        "34746-8" => "Nurse Note",
        "11488-4" => "Consult note",
        "28570-0" => "Procedure note",
        _ => return None,
    })
}

fn reference_of(stored: &Value) -> Result<String, AdapterError> {
    match (
        stored.get("resourceType").and_then(Value::as_str),
        stored.get("id").and_then(Value::as_str),
    ) {
        (Some(t), Some(id)) => Ok(format!("{t}/{id}")),
        _ => Err(AdapterError::Internal(
            "the platform's answer to a create has no resourceType/id".into(),
        )),
    }
}

fn type_of(reference: &str) -> &str {
    reference.split('/').next().unwrap_or("")
}

pub(crate) fn kind(e: &AdapterError) -> &'static str {
    match e {
        AdapterError::Unauthorized(_) => "unauthorized",
        AdapterError::Forbidden(_) => "forbidden",
        AdapterError::NotFound(_) => "not found",
        AdapterError::Unavailable(_) => "unavailable",
        AdapterError::InvalidInput(_) => "invalid input",
        AdapterError::Internal(_) => "internal",
    }
}

//! Creates, conditional creates, updates and write validation.

use sandkasse_fhir::systems;
use serde_json::{Value, json};

use crate::support::*;

/// A valid vital-signs Observation (heart rate) for `patient` by `performer`.
pub fn heart_rate(patient: &str, performer: &str, value: i64) -> Value {
    json!({
        "resourceType": "Observation",
        "identifier": [{"system": "urn:ietf:rfc:3986", "value": format!("urn:uuid:5f1c0e9a-0000-4000-8000-{:012}", value)}],
        "status": "final",
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "vital-signs"}]}],
        "code": {"coding": [{"system": systems::LOINC, "code": "8867-4", "display": "Heart rate"}]},
        "subject": {"reference": format!("Patient/{patient}")},
        "effectiveDateTime": "2026-10-01T10:00:00Z",
        "performer": [{"reference": format!("Practitioner/{performer}")}],
        "valueQuantity": {"value": value, "unit": "/min", "system": systems::UCUM, "code": "/min"},
    })
}

#[tokio::test]
async fn create_assigns_id_version_and_tags_and_is_readable() {
    let h = H::new();
    let (nurse, patient) = nurse_and_patient();
    let token = h.token_for(nurse);
    let r = h
        .send_json(
            "POST",
            &token,
            &format!("/{K}/fhir/Observation"),
            &heart_rate(&patient.id, &nurse.id, 72),
            &[],
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let created = r.json();
    let id = created["id"].as_str().unwrap();
    assert_eq!(created["meta"]["versionId"], "1");
    assert_eq!(created["meta"]["lastUpdated"], "2026-10-01T12:00:00Z");
    let tags = created["meta"]["tag"].as_array().unwrap();
    assert!(
        tags.iter().any(|t| t["code"] == "HTEST"),
        "synthetic-data tag copied from the generator"
    );
    assert_eq!(
        r.header("location").unwrap(),
        format!("https://plattform.sandkasse.test/{K}/fhir/Observation/{id}/_history/1")
    );
    assert_eq!(r.header("etag"), Some("W/\"1\""));
    sandkasse_fhir::schema::validate(&created).unwrap();
    let read = h.get(&token, &format!("/{K}/fhir/Observation/{id}")).await;
    assert_eq!(read.json(), created);
    // The new resource is found by search, after the base resources.
    let ids: Vec<String> = walk(
        &h,
        &token,
        &format!("/{K}/fhir/Observation?patient={}&_count=200", patient.id),
    )
    .await
    .iter()
    .flat_map(match_ids)
    .collect();
    assert_eq!(ids.last().map(String::as_str), Some(id));
    assert_eq!(h.platform.written(K).len(), 1);
}

#[tokio::test]
async fn conditional_create_is_idempotent() {
    let h = H::new();
    let (nurse, patient) = nurse_and_patient();
    let token = h.token_for(nurse);
    let obs = heart_rate(&patient.id, &nurse.id, 80);
    let cond = format!(
        "identifier=urn:ietf:rfc:3986|{}",
        obs["identifier"][0]["value"].as_str().unwrap()
    );
    let path = format!("/{K}/fhir/Observation");
    let first = h
        .send_json("POST", &token, &path, &obs, &[("if-none-exist", &cond)])
        .await;
    assert_eq!(first.status, 201, "{}", first.text());
    let second = h
        .send_json("POST", &token, &path, &obs, &[("if-none-exist", &cond)])
        .await;
    assert_eq!(second.status, 200, "{}", second.text());
    assert_eq!(second.json()["id"], first.json()["id"]);
    assert_eq!(h.platform.written(K).len(), 1);
    // Two matches: 412.
    let other = h.send_json("POST", &token, &path, &obs, &[]).await;
    assert_eq!(other.status, 201);
    let third = h
        .send_json("POST", &token, &path, &obs, &[("if-none-exist", &cond)])
        .await;
    assert_eq!(third.status, 412, "{}", third.text());
    assert_eq!(third.issue_code(), "multiple-matches");
}

#[tokio::test]
async fn update_requires_the_current_version() {
    let h = H::new();
    let (nurse, patient) = nurse_and_patient();
    let token = h.token_for(nurse);
    let created = h
        .send_json(
            "POST",
            &token,
            &format!("/{K}/fhir/Observation"),
            &heart_rate(&patient.id, &nurse.id, 90),
            &[],
        )
        .await
        .json();
    let id = created["id"].as_str().unwrap().to_owned();
    let path = format!("/{K}/fhir/Observation/{id}");
    let mut changed = created.clone();
    changed["valueQuantity"]["value"] = json!(91);
    let missing = h.send_json("PUT", &token, &path, &changed, &[]).await;
    assert_eq!(missing.status, 412, "{}", missing.text());
    let wrong = h
        .send_json("PUT", &token, &path, &changed, &[("if-match", "W/\"2\"")])
        .await;
    assert_eq!(wrong.status, 412);
    let ok = h
        .send_json("PUT", &token, &path, &changed, &[("if-match", "W/\"1\"")])
        .await;
    assert_eq!(ok.status, 200, "{}", ok.text());
    assert_eq!(ok.header("etag"), Some("W/\"2\""));
    assert_eq!(ok.json()["meta"]["versionId"], "2");
    assert_eq!(ok.json()["valueQuantity"]["value"], 91);
    let stale = h
        .send_json("PUT", &token, &path, &changed, &[("if-match", "W/\"1\"")])
        .await;
    assert_eq!(stale.status, 412);
    // Base resources can be updated too.
    let base_obs = resources_of("Observation", &patient.id)[0];
    let r = h
        .send_json(
            "PUT",
            &token,
            &format!("/{K}/fhir/Observation/{}", base_obs.id),
            &base_obs.json,
            &[("if-match", "W/\"1\"")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["meta"]["versionId"], "2");
    // Id mismatch: 400.
    let mut other = changed.clone();
    other["id"] = json!("something-else");
    let r = h
        .send_json("PUT", &token, &path, &other, &[("if-match", "W/\"2\"")])
        .await;
    assert_eq!(r.status, 400);
}

type Mutation = Box<dyn Fn(&mut Value)>;

fn expressions(r: &Resp) -> Vec<String> {
    r.json()["issue"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| i["expression"].as_array().cloned().unwrap_or_default())
        .map(|e| e.as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn invalid_writes_get_422_naming_the_element() {
    let h = H::new();
    let (nurse, patient) = nurse_and_patient();
    let token = h.token_for(nurse);
    let path = format!("/{K}/fhir/Observation");
    let cases: Vec<(&str, Mutation)> = vec![
        (
            "Observation.code.coding[0].system",
            Box::new(|o| o["code"]["coding"][0]["system"] = json!("http://snomed.info/sct")),
        ),
        (
            "Observation.code.coding[0].code",
            Box::new(|o| o["code"]["coding"][0]["code"] = json!("0000-0")),
        ),
        (
            "Observation.status",
            Box::new(|o| o["status"] = json!("done")),
        ),
        (
            "Observation.effective[x]",
            Box::new(|o| {
                o.as_object_mut().unwrap().remove("effectiveDateTime");
            }),
        ),
        (
            "Observation.performer",
            Box::new(|o| {
                o.as_object_mut().unwrap().remove("performer");
            }),
        ),
        (
            "Observation.category",
            Box::new(|o| {
                o.as_object_mut().unwrap().remove("category");
            }),
        ),
        (
            "Observation.subject.reference",
            Box::new(|o| o["subject"]["reference"] = json!("Patient/does-not-exist")),
        ),
        (
            "Observation.valueQuantity.system",
            Box::new(|o| o["valueQuantity"]["system"] = json!("http://example.org/units")),
        ),
        (
            "Observation.performer[0].identifier.value",
            Box::new(|o| {
                o["performer"] = json!([{"identifier": {"system": systems::HPR, "value": "123"}}])
            }),
        ),
        (
            "Observation.subject.identifier.value",
            Box::new(|o| {
                o["subject"]["identifier"] = json!({"system": systems::FNR, "value": "12345678901"})
            }),
        ),
        (
            "Observation.code.coding[0].code",
            Box::new(|o| o["code"]["coding"][0]["code"] = json!(8867)),
        ),
    ];
    for (expression, mutate) in cases {
        let mut obs = heart_rate(&patient.id, &nurse.id, 70);
        mutate(&mut obs);
        let r = h.send_json("POST", &token, &path, &obs, &[]).await;
        assert_eq!(r.status, 422, "{expression}: {}", r.text());
        assert!(
            expressions(&r).iter().any(|e| e == expression),
            "{expression} not in {:?}",
            expressions(&r)
        );
    }
    assert!(h.platform.written(K).is_empty());
}

#[tokio::test]
async fn other_writable_types_are_validated_against_their_profiles() {
    let h = H::new();
    let (nurse, patient) = nurse_and_patient();
    let token = h.token_for(nurse);
    let subject = json!({"reference": format!("Patient/{}", patient.id)});
    let good_doc = json!({
        "resourceType": "DocumentReference", "status": "current",
        "type": {"coding": [{"system": systems::LOINC, "code": "34746-8"}]},
        "subject": subject, "date": "2026-10-01T09:00:00Z",
        "content": [{"attachment": {"contentType": "text/plain", "data": "U1lOVEVUSVNL"}}],
    });
    let r = h
        .send_json(
            "POST",
            &token,
            &format!("/{K}/fhir/DocumentReference"),
            &good_doc,
            &[],
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let doc_id = r.json()["id"].as_str().unwrap().to_owned();
    let prov = json!({
        "resourceType": "Provenance", "recorded": "2026-10-01T09:00:00Z",
        "target": [{"reference": format!("DocumentReference/{doc_id}")}],
        "agent": [{"who": {"identifier": {"system": systems::HPR, "value": nurse.hpr}}}],
    });
    let r = h
        .send_json("POST", &token, &format!("/{K}/fhir/Provenance"), &prov, &[])
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let ma = json!({
        "resourceType": "MedicationAdministration", "status": "completed",
        "medicationCodeableConcept": {"coding": [{"system": systems::ATC, "code": "N02BE01"}]},
        "subject": subject, "effectiveDateTime": "2026-10-01T08:00:00Z",
        "performer": [{"actor": {"reference": format!("Practitioner/{}", nurse.id)}}],
    });
    let r = h
        .send_json(
            "POST",
            &token,
            &format!("/{K}/fhir/MedicationAdministration"),
            &ma,
            &[],
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let mut bad = ma.clone();
    bad["medicationCodeableConcept"]["coding"][0]["code"] = json!("X99XX99");
    let r = h
        .send_json(
            "POST",
            &token,
            &format!("/{K}/fhir/MedicationAdministration"),
            &bad,
            &[],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(
        expressions(&r).contains(
            &"MedicationAdministration.medicationCodeableConcept.coding[0].code".to_owned()
        )
    );
    let cond = json!({
        "resourceType": "Condition",
        "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]},
        "code": {"coding": [{"system": systems::ICPC2, "code": "Z99"}]},
        "subject": subject,
    });
    let r = h
        .send_json("POST", &token, &format!("/{K}/fhir/Condition"), &cond, &[])
        .await;
    assert_eq!(r.status, 422);
    assert!(expressions(&r).contains(&"Condition.code.coding[0].code".to_owned()));
    // Non-writable types: 405.
    let r = h
        .send_json(
            "POST",
            &token,
            &format!("/{K}/fhir/Patient"),
            &json!({"resourceType": "Patient"}),
            &[],
        )
        .await;
    assert_eq!(r.status, 405);
}

/// A vendor that sends the published Volven 9151 code for the service it documents is
/// accepted (15 is helsetjenester i hjemmet), and a code the published list does not have is
/// refused naming the element; ICD-10 is accepted with or without its dot.
#[tokio::test]
async fn published_codes_are_accepted_and_invented_ones_refused() {
    let h = H::new();
    let (nurse, patient) = nurse_and_patient();
    let token = h.token_for(nurse);
    let vedtak = |code: &str| {
        json!({
            "resourceType": "EpisodeOfCare", "status": "active",
            "type": [{"coding": [{"system": systems::VOLVEN_9151, "code": code}]}],
            "patient": {"reference": format!("Patient/{}", patient.id)},
            "managingOrganization": {"reference": format!("Organization/{}", nurse.units[0])},
            "period": {"start": "2026-10-01"},
        })
    };
    let path = format!("/{K}/fhir/EpisodeOfCare");
    for code in ["15", "1", "21", "29"] {
        let r = h.send_json("POST", &token, &path, &vedtak(code), &[]).await;
        assert_eq!(r.status, 201, "tjenestetype {code}: {}", r.text());
    }
    for code in ["10", "12", "16"] {
        let r = h.send_json("POST", &token, &path, &vedtak(code), &[]).await;
        assert_eq!(r.status, 422, "tjenestetype {code}: {}", r.text());
        assert!(
            expressions(&r).contains(&"EpisodeOfCare.type[0].coding[0].code".to_owned()),
            "{code}: {:?}",
            expressions(&r)
        );
    }
    for code in ["E11.9", "E119"] {
        let cond = json!({
            "resourceType": "Condition",
            "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]},
            "code": {"coding": [{"system": systems::ICD10, "code": code}]},
            "subject": {"reference": format!("Patient/{}", patient.id)},
        });
        let r = h
            .send_json("POST", &token, &format!("/{K}/fhir/Condition"), &cond, &[])
            .await;
        assert_eq!(r.status, 201, "ICD-10 {code}: {}", r.text());
    }
}

#[tokio::test]
async fn a_consent_written_mid_scenario_blocks_on_the_next_request() {
    let h = H::new();
    let (nurse, patient) = nurse_and_patient();
    let token = h.token_for(nurse);
    let obs = resources_of("Observation", &patient.id)[0];
    assert_eq!(
        h.get(&token, &format!("/{K}/fhir/Observation/{}", obs.id))
            .await
            .status,
        200
    );
    let consent = json!({
        "resourceType": "Consent", "status": "active",
        "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}]},
        "category": [{"coding": [{"system": systems::LOINC, "code": "59284-0"}]}],
        "patient": {"reference": format!("Patient/{}", patient.id)},
        "dateTime": "2026-10-01T11:00:00Z",
        "provision": {"type": "deny", "data": [{"meaning": "instance", "reference": {"reference": format!("Observation/{}", obs.id)}}]},
    });
    let r = h
        .send_json("POST", &token, &format!("/{K}/fhir/Consent"), &consent, &[])
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let read = h
        .get(&token, &format!("/{K}/fhir/Observation/{}", obs.id))
        .await;
    assert_eq!(read.status, 403);
    assert_eq!(read.issue_code(), "suppressed");
    let b = h
        .get(
            &token,
            &format!("/{K}/fhir/Observation?patient={}&_count=200", patient.id),
        )
        .await
        .json();
    assert!(!match_ids(&b).contains(&obs.id));
    let notice = outcome_entry(&b).expect("withheld notice");
    assert_eq!(notice["issue"][0]["code"], "suppressed");
}

#[tokio::test]
async fn a_retried_sensitive_note_is_found_not_refused() {
    let h = H::new();
    let (nurse, patient) = nurse_and_patient();
    let token = h.token_for(nurse);
    let note = json!({
        "resourceType": "DocumentReference",
        "meta": {"security": [
            {"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "V"},
            {"system": systems::SANDKASSE_SKJERMING, "code": "sensitivt-notat"},
        ]},
        "identifier": [{"system": "urn:sandkasse:entry-id", "value": "note-1"}],
        "status": "current",
        "type": {"coding": [{"system": systems::LOINC, "code": "34746-8"}]},
        "subject": {"reference": format!("Patient/{}", patient.id)},
        "date": "2026-10-01T10:00:00Z",
        "author": [{"reference": format!("Practitioner/{}", nurse.id)}],
        "content": [{"attachment": {"contentType": "text/plain; charset=utf-8", "data": "U1lOVEVUSVNL"}}],
    });
    let cond = [("If-None-Exist", "identifier=urn:sandkasse:entry-id|note-1")];
    let first = h
        .send_json(
            "POST",
            &token,
            &format!("/{K}/fhir/DocumentReference"),
            &note,
            &cond,
        )
        .await;
    assert_eq!(first.status, 201, "{}", first.text());
    let location = first.header("location").unwrap().to_owned();
    let again = h
        .send_json(
            "POST",
            &token,
            &format!("/{K}/fhir/DocumentReference"),
            &note,
            &cond,
        )
        .await;
    assert_eq!(again.status, 200, "{}", again.text());
    assert_eq!(
        again.header("location"),
        Some(location.as_str()),
        "the match is named"
    );
    let body = again.json();
    assert_eq!(
        body["resourceType"], "OperationOutcome",
        "the content stays withheld"
    );
    assert_eq!(body["issue"][0]["code"], "duplicate");
}

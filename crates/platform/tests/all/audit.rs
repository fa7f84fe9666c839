//! The audit log: every access leaves an AuditEvent, and innsyn can be reconstructed from the
//! FHIR API by an auditor.

use jiff::SignedDuration;
use sandkasse_kommune::UnitKind;
use sandkasse_platform::{LaunchContext, Purpose};

use crate::support::*;

fn auditor_token(h: &H) -> String {
    let kommune_unit = tenant()
        .truth
        .units
        .iter()
        .find(|u| u.kind == UnitKind::Kommune)
        .unwrap();
    let auditor = tenant()
        .truth
        .practitioners
        .iter()
        .find(|p| p.category == "XX" && p.units.contains(&kommune_unit.id))
        .expect("an XX at the kommune");
    h.token(LaunchContext {
        scope: Some("system/AuditEvent.read".into()),
        ..ctx(auditor, &kommune_unit.id, Purpose::Treatment, None)
    })
}

#[tokio::test]
async fn innsyn_who_read_what_when_and_why() {
    let h = H::new();
    let (nurse, patient) = nurse_and_patient();
    let nurse_token = h.token_for(nurse);
    let obs = resources_of("Observation", &patient.id);
    h.get(
        &nurse_token,
        &format!("/{K}/fhir/Observation/{}", obs[0].id),
    )
    .await;
    h.clock.advance(SignedDuration::from_mins(5));
    h.get(
        &nurse_token,
        &format!("/{K}/fhir/Observation?patient={}&_count=3", patient.id),
    )
    .await;
    // An emergency read by a legevakt doctor without relation.
    let lv = tenant()
        .truth
        .units
        .iter()
        .find(|u| u.kind == UnitKind::Legevakt && relation(&u.id, &patient.id) != Rel::Active)
        .unwrap();
    let doctor = tenant()
        .truth
        .practitioners
        .iter()
        .find(|p| p.category == "LE" && p.units.contains(&lv.id))
        .unwrap();
    let btg = h.token(ctx(
        doctor,
        &lv.id,
        Purpose::Emergency,
        Some("Akutt forverring"),
    ));
    h.clock.advance(SignedDuration::from_mins(5));
    assert_eq!(
        h.get(&btg, &format!("/{K}/fhir/Patient/{}", patient.id))
            .await
            .status,
        200
    );
    // And a refused one.
    let plain = h.token(ctx(doctor, &lv.id, Purpose::Treatment, None));
    assert_eq!(
        h.get(&plain, &format!("/{K}/fhir/Observation/{}", obs[1].id))
            .await
            .status,
        403
    );

    let auditor = auditor_token(&h);
    let pages = walk(
        &h,
        &auditor,
        &format!("/{K}/fhir/AuditEvent?patient={}&_count=2", patient.id),
    )
    .await;
    let events: Vec<serde_json::Value> = pages
        .iter()
        .flat_map(|p| p["entry"].as_array().cloned().unwrap_or_default())
        .map(|e| e["resource"].clone())
        .collect();
    // Logins with no patient in context do not concern the patient; the four accesses do.
    // (The auditor's own searches are logged too, and show up on later pages; leave them out.)
    let not_auditor = |e: &&serde_json::Value| {
        e["entity"].as_array().is_none_or(|en| {
            !en.iter().any(|x| {
                x["description"]
                    .as_str()
                    .is_some_and(|d| d.starts_with("AuditEvent?"))
            })
        })
    };
    let accesses: Vec<(String, String, String, String)> = events
        .iter()
        .filter(|e| e["type"]["code"] == "rest")
        .filter(not_auditor)
        .map(|e| {
            (
                e["agent"][0]["who"]["identifier"]["value"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
                e["subtype"][0]["code"].as_str().unwrap().to_owned(),
                e["outcome"].as_str().unwrap().to_owned(),
                e["purposeOfEvent"][0]["coding"][0]["code"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            )
        })
        .collect();
    assert_eq!(
        accesses,
        vec![
            (nurse.hpr.clone(), "read".into(), "0".into(), "TREAT".into()),
            (
                nurse.hpr.clone(),
                "search-type".into(),
                "0".into(),
                "TREAT".into()
            ),
            (
                doctor.hpr.clone(),
                "read".into(),
                "0".into(),
                "ETREAT".into()
            ),
            (
                doctor.hpr.clone(),
                "read".into(),
                "4".into(),
                "TREAT".into()
            ),
        ]
    );
    let btg_event = events
        .iter()
        .find(|e| e["purposeOfEvent"][0]["coding"][0]["code"] == "ETREAT")
        .unwrap();
    assert_eq!(btg_event["purposeOfEvent"][0]["text"], "Akutt forverring");
    assert_eq!(btg_event["recorded"], "2026-10-01T12:10:00Z");
    for e in &events {
        sandkasse_fhir::schema::validate(e).unwrap();
    }
    // By agent and by date.
    let b = h
        .get(
            &auditor,
            &format!("/{K}/fhir/AuditEvent?agent={}&_count=200", doctor.hpr),
        )
        .await
        .json();
    assert!(match_ids(&b).len() >= 3, "two logins and two reads");
    let b = h
        .get(
            &auditor,
            &format!(
                "/{K}/fhir/AuditEvent?patient={}&date=ge2026-10-01T12:05:00Z&_count=200",
                patient.id
            ),
        )
        .await
        .json();
    let rest: Vec<serde_json::Value> = b["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["resource"].clone())
        .filter(|e| e["type"]["code"] == "rest")
        .collect();
    assert_eq!(rest.iter().filter(not_auditor).count(), 3);
    // Reading the audit log is itself audited.
    let last = h.platform.audit_events().pop().unwrap();
    assert_eq!(last.resource_type.as_deref(), Some("AuditEvent"));
    // A single event can be read.
    let id = events[0]["id"].as_str().unwrap();
    assert_eq!(
        h.get(&auditor, &format!("/{K}/fhir/AuditEvent/{id}"))
            .await
            .json(),
        events[0]
    );
}

#[tokio::test]
async fn audit_log_needs_the_audit_scope() {
    let h = H::new();
    let (nurse, _) = nurse_and_patient();
    let t = h.token_for(nurse);
    let r = h.get(&t, &format!("/{K}/fhir/AuditEvent")).await;
    assert_eq!(r.status, 403);
    assert!(r.text().contains("system/AuditEvent.read"));
}

#[tokio::test]
async fn every_request_with_a_token_is_audited() {
    let h = H::new();
    let (nurse, patient) = nurse_and_patient();
    let t = h.token_for(nurse);
    let before = h.platform.audit_events().len();
    let paths = [
        format!("/{K}/fhir/Patient/{}", patient.id),
        format!("/{K}/fhir/Observation?patient={}", patient.id),
        format!("/{K}/fhir/Observation/finnes-ikke"),
        format!("/{K}/fhir/Observation?patient={}&bad=1", patient.id),
    ];
    for p in &paths {
        h.get(&t, p).await;
    }
    let events = h.platform.audit_events();
    assert_eq!(events.len() - before, paths.len());
    let statuses: Vec<u16> = events[before..].iter().map(|e| e.status).collect();
    assert_eq!(statuses, vec![200, 200, 404, 400]);
    // Without a token nobody is identified: nothing to audit.
    h.get("", &paths[0]).await;
    assert_eq!(h.platform.audit_events().len(), events.len());
}

//! Every resource the platform serves validates against the official R4 JSON Schema: a full
//! walk of every kommune of a generated dataset, through the API, plus the platform's own
//! resources (CapabilityStatement, Bundles, OperationOutcomes, AuditEvents).
//!
//! The one documented exception is the `unknown-elements` fault, which exists to break this.

use sandkasse_fhir::schema;
use sandkasse_platform::{LaunchContext, Purpose};
use serde_json::Value;

use crate::support::*;

fn assert_valid(v: &Value, what: &str) {
    if let Err(e) = schema::validate(v) {
        panic!("{what} is not valid FHIR R4: {e}\n{v}");
    }
}

/// The bundle without its entries' resources (validated one by one).
fn bundle_shell(b: &Value) -> Value {
    let mut shell = b.clone();
    if let Some(entries) = shell.get_mut("entry").and_then(|e| e.as_array_mut()) {
        for e in entries {
            e.as_object_mut().unwrap().remove("resource");
        }
    }
    shell
}

#[tokio::test]
async fn every_served_resource_is_valid_r4() {
    let h = H::new();
    let patient_types = [
        "EpisodeOfCare",
        "Condition",
        "AllergyIntolerance",
        "MedicationStatement",
        "Observation",
        "DiagnosticReport",
        "DocumentReference",
        "Encounter",
        "Consent",
        "Provenance",
    ];
    let mut served = 0usize;
    for tenant in &dataset().tenants {
        let k = tenant.kommune.nummer;
        let legevakt = tenant
            .truth
            .units
            .iter()
            .find(|u| u.kind == sandkasse_kommune::UnitKind::Legevakt)
            .unwrap();
        let doctor = tenant
            .truth
            .practitioners
            .iter()
            .find(|p| p.category == "LE" && p.units.contains(&legevakt.id))
            .unwrap();
        let token = h.token(LaunchContext {
            kommunenummer: k.to_owned(),
            practitioner: doctor.hpr.clone(),
            role: "LE".into(),
            unit: legevakt.orgnr.clone(),
            patient: None,
            purpose: Purpose::Emergency,
            reason: Some("Full gjennomgang i test".into()),
            scope: None,
        });
        let mut check_pages = |pages: Vec<Value>, what: String| {
            for p in pages {
                assert_valid(&bundle_shell(&p), &format!("{what} bundle"));
                for e in p["entry"].as_array().into_iter().flatten() {
                    assert_valid(&e["resource"], &format!("{what} entry"));
                    served += 1;
                }
            }
        };
        for rtype in ["Organization", "Practitioner", "PractitionerRole"] {
            let pages = walk(&h, &token, &format!("/{k}/fhir/{rtype}?_count=200")).await;
            check_pages(pages, format!("{k} {rtype}"));
        }
        for patient in &tenant.truth.patients {
            let pages = walk(&h, &token, &format!("/{k}/fhir/Patient?_id={}", patient.id)).await;
            check_pages(pages, format!("{k} Patient"));
            for rtype in patient_types {
                let pages = walk(
                    &h,
                    &token,
                    &format!("/{k}/fhir/{rtype}?patient={}&_count=200", patient.id),
                )
                .await;
                check_pages(pages, format!("{k} {rtype}"));
            }
        }
        // The official R4 schema's FHIRVersion enum stops at 4.0.0 (a known erratum of the
        // published 4.0.1 schema), so `fhirVersion` is checked on its own and the rest of the
        // statement against the schema.
        let mut cs = h.get("", &format!("/{k}/fhir/metadata")).await.json();
        assert_eq!(cs["fhirVersion"], sandkasse_fhir::FHIR_VERSION);
        cs["fhirVersion"] = serde_json::json!("4.0.0");
        assert_valid(&cs, "CapabilityStatement");
    }
    let total: usize = dataset().tenants.iter().map(|t| t.resources.len()).sum();
    let sperret: usize = dataset()
        .tenants
        .iter()
        .map(|t| {
            t.truth
                .shielded
                .iter()
                .filter(|s| s.skjerming == sandkasse_kommune::Skjerming::Sperring)
                .count()
        })
        .sum();
    // Every resource was served once, except sperret ones (always withheld); withheld notices
    // (OperationOutcome entries) are served in addition.
    assert!(served >= total - sperret, "served {served} of {total}");
    for event in h.platform.audit_event_resources() {
        assert_valid(&event, "AuditEvent");
    }
}

#[tokio::test]
async fn error_outcomes_are_valid_r4() {
    let h = H::new();
    for path in [
        "/4601/fhir/Pasient",
        "/9999/fhir/Patient",
        "/4601/fhir/Patient?x=1",
        "/4601/fhir/Observation",
    ] {
        let r = h.get("", path).await;
        assert!(r.status >= 400);
        assert_valid(&r.json(), path);
    }
}

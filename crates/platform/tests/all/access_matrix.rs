//! The access rules as a matrix: role (LE, SP, HF, XX) × relation to the patient (active, ended,
//! none) × purpose (treatment, emergency with a reason, emergency without) × shielding (none,
//! krisesenter, overgrepsmottak, sensitivt-notat, sperring, fortrolig / strengt fortrolig
//! adresse) → allowed / withheld / denied, each through a read and a search, each asserting the
//! AuditEvent it leaves.
//!
//! Relations come from the ground truth (`truth.care_relations`); the shielded resources are
//! written in the scenario (labels in `meta.security`, sperring by a Consent), which also proves
//! that written resources are shielded like generated ones. Address shielding is on generated
//! Patients, for every relation state the data has.

use sandkasse_fhir::systems;
use sandkasse_kommune::{AddressProtection, PatientTruth, PractitionerTruth, Skjerming};
use sandkasse_platform::{AuditEntry, AuditOutcome, Interaction, Purpose};
use serde_json::{Value, json};

use crate::support::*;

const ROLES: [&str; 4] = ["LE", "SP", "HF", "XX"];
const RELS: [Rel; 3] = [Rel::Active, Rel::Ended, Rel::None];
const REASON: &str = "Pasienten er bevisstløs; trenger legemiddelliste";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum P {
    Treatment,
    Emergency,
    EmergencyNoReason,
}
const PURPOSES: [P; 3] = [P::Treatment, P::Emergency, P::EmergencyNoReason];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Allowed { emergency: bool, redacted: bool },
    Withheld,
    Denied,
}

/// The access rules (docs/architecture.md §3, docs/platform.md), stated plainly.
fn expect(
    role: &str,
    rel: Rel,
    purpose: P,
    shield: Option<Skjerming>,
    patient_resource: bool,
) -> Expect {
    if role == "XX" && !patient_resource {
        return Expect::Denied; // not helsepersonell: Patient and EpisodeOfCare only
    }
    if purpose == P::EmergencyNoReason {
        return Expect::Denied; // break the glass needs a reason
    }
    let emergency = purpose == P::Emergency;
    if rel != Rel::Active && !emergency {
        return Expect::Denied; // no tjenstlig behov
    }
    match shield {
        None => Expect::Allowed {
            emergency,
            redacted: false,
        },
        Some(Skjerming::Sperring) => Expect::Withheld,
        Some(Skjerming::FortroligAdresse | Skjerming::StrengtFortroligAdresse) => Expect::Allowed {
            emergency,
            redacted: true,
        },
        Some(_) if emergency => Expect::Allowed {
            emergency,
            redacted: false,
        },
        Some(_) => Expect::Withheld,
    }
}

/// A practitioner of `category`, one of their units, and a patient for each relation state.
fn setup(
    category: &str,
) -> (
    &'static PractitionerTruth,
    String,
    Vec<&'static PatientTruth>,
) {
    for p in tenant()
        .truth
        .practitioners
        .iter()
        .filter(|p| p.category == category)
    {
        for u in &p.units {
            let patients: Vec<_> = RELS
                .iter()
                .filter_map(|rel| {
                    tenant().truth.patients.iter().find(|pt| {
                        relation(u, &pt.id) == *rel
                            && tenant().truth.shielded.iter().all(|s| s.patient != pt.id)
                    })
                })
                .collect();
            if patients.len() == RELS.len() {
                return (p, u.clone(), patients);
            }
        }
    }
    panic!("no {category} practitioner with patients in every relation state")
}

fn token(h: &H, p: &PractitionerTruth, unit: &str, purpose: P) -> String {
    match purpose {
        P::Treatment => h.token(ctx(p, unit, Purpose::Treatment, None)),
        P::Emergency => h.token(ctx(p, unit, Purpose::Emergency, Some(REASON))),
        P::EmergencyNoReason => h.token(ctx(p, unit, Purpose::Emergency, None)),
    }
}

/// A writer who may write for anyone: a legevakt doctor in emergency mode.
fn writer(h: &H) -> String {
    let lv = tenant()
        .truth
        .units
        .iter()
        .find(|u| u.kind == sandkasse_kommune::UnitKind::Legevakt)
        .unwrap();
    let doctor = tenant()
        .truth
        .practitioners
        .iter()
        .find(|p| p.category == "LE" && p.units.contains(&lv.id))
        .unwrap();
    h.token(ctx(
        doctor,
        &lv.id,
        Purpose::Emergency,
        Some("Oppsett av testdata"),
    ))
}

async fn write_doc(h: &H, writer: &str, patient: &str, label: Option<Skjerming>) -> String {
    let mut doc = json!({
        "resourceType": "DocumentReference", "status": "current",
        "type": {"coding": [{"system": systems::LOINC, "code": "11488-4"}]},
        "subject": {"reference": format!("Patient/{patient}")}, "date": "2026-09-30T09:00:00Z",
        "content": [{"attachment": {"contentType": "text/plain", "data": "U1lOVEVUSVNL"}}],
    });
    if let Some(s) = label {
        doc["meta"] =
            json!({"security": [{"system": systems::SANDKASSE_SKJERMING, "code": s.code()}]});
    }
    let r = h
        .send_json(
            "POST",
            writer,
            &format!("/{K}/fhir/DocumentReference"),
            &doc,
            &[],
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    r.json()["id"].as_str().unwrap().to_owned()
}

async fn block(h: &H, writer: &str, patient: &str, reference: &str) {
    let consent = json!({
        "resourceType": "Consent", "status": "active",
        "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}]},
        "category": [{"coding": [{"system": systems::LOINC, "code": "59284-0"}]}],
        "patient": {"reference": format!("Patient/{patient}")},
        "provision": {"type": "deny", "data": [{"meaning": "instance", "reference": {"reference": reference}}]},
    });
    let r = h
        .send_json("POST", writer, &format!("/{K}/fhir/Consent"), &consent, &[])
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
}

fn last_audit(h: &H) -> AuditEntry {
    h.platform.audit_events().pop().expect("an audit entry")
}

/// Checks one cell: a read and a search of `rtype/id` (patient `patient`).
#[allow(clippy::too_many_arguments)]
async fn check_cell(
    h: &H,
    p: &PractitionerTruth,
    unit: &str,
    purpose: P,
    rtype: &str,
    id: &str,
    patient: &str,
    want: Expect,
    cell: &str,
) {
    let t = token(h, p, unit, purpose);
    let reference = format!("{rtype}/{id}");
    // Read.
    let r = h.get(&t, &format!("/{K}/fhir/{rtype}/{id}")).await;
    let a = last_audit(h);
    assert_eq!(a.interaction, Interaction::Read, "{cell}");
    assert_eq!(a.agent.hpr, p.hpr, "{cell}");
    assert_eq!(a.agent.unit_id, unit, "{cell}");
    assert_eq!(a.patients, vec![patient.to_owned()], "{cell}");
    assert_eq!(a.status, r.status, "{cell}");
    assert_eq!(
        a.purpose,
        if purpose == P::Treatment {
            Purpose::Treatment
        } else {
            Purpose::Emergency
        },
        "{cell}"
    );
    match want {
        Expect::Allowed {
            emergency,
            redacted,
        } => {
            assert_eq!(r.status, 200, "{cell}: {}", r.text());
            let body = r.json();
            assert_eq!(body["id"], id, "{cell}");
            if redacted {
                assert!(
                    body.get("address").is_none(),
                    "{cell}: address must be removed"
                );
                assert!(
                    body["meta"]["security"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|s| s["code"] == "REDACTED"),
                    "{cell}"
                );
            }
            assert_eq!(a.outcome, AuditOutcome::Success, "{cell}");
            assert_eq!(a.returned, vec![reference.clone()], "{cell}");
            assert_eq!(a.emergency, emergency, "{cell}");
            let fhir = a.to_fhir();
            let purpose_codes: Vec<&str> = fhir["purposeOfEvent"][0]["coding"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["code"].as_str().unwrap())
                .collect();
            if emergency {
                assert_eq!(purpose_codes, vec!["ETREAT", "BTG"], "{cell}");
                assert_eq!(fhir["purposeOfEvent"][0]["text"], REASON, "{cell}");
            } else {
                assert_eq!(purpose_codes, vec!["TREAT"], "{cell}");
            }
        }
        Expect::Withheld => {
            assert_eq!(r.status, 403, "{cell}: {}", r.text());
            assert_eq!(r.issue_code(), "suppressed", "{cell}");
            assert_eq!(a.outcome, AuditOutcome::MinorFailure, "{cell}");
            assert!(a.returned.is_empty(), "{cell}");
            assert_eq!(
                a.withheld
                    .iter()
                    .map(|w| w.reference.clone())
                    .collect::<Vec<_>>(),
                vec![reference.clone()],
                "{cell}"
            );
        }
        Expect::Denied => {
            assert_eq!(r.status, 403, "{cell}: {}", r.text());
            assert!(
                matches!(r.issue_code().as_str(), "security" | "forbidden"),
                "{cell}"
            );
            assert_eq!(a.outcome, AuditOutcome::MinorFailure, "{cell}");
            assert!(a.returned.is_empty() && a.withheld.is_empty(), "{cell}");
        }
    }
    // Search.
    let query = if rtype == "Patient" {
        format!("/{K}/fhir/Patient?_id={id}")
    } else {
        format!("/{K}/fhir/{rtype}?patient={patient}&_id={id}")
    };
    let r = h.get(&t, &query).await;
    let a = last_audit(h);
    assert_eq!(a.interaction, Interaction::Search, "{cell}");
    assert!(a.patients.contains(&patient.to_owned()), "{cell}");
    match want {
        Expect::Allowed { emergency, .. } => {
            assert_eq!(r.status, 200, "{cell}: {}", r.text());
            assert_eq!(match_ids(&r.json()), vec![id.to_owned()], "{cell}");
            assert_eq!(a.returned, vec![reference.clone()], "{cell}");
            assert_eq!(a.emergency, emergency, "{cell}");
        }
        Expect::Withheld => {
            assert_eq!(r.status, 200, "{cell}: {}", r.text());
            let b = r.json();
            assert!(match_ids(&b).is_empty(), "{cell}");
            assert_eq!(b["total"], 0, "{cell}");
            let oo = outcome_entry(&b).unwrap_or_else(|| panic!("{cell}: withheld notice"));
            let issue = &oo["issue"][0];
            assert_eq!(issue["code"], "suppressed", "{cell}");
            assert_eq!(issue["severity"], "information", "{cell}");
            let text = issue["diagnostics"].as_str().unwrap();
            assert!(
                text.starts_with("1 ressurs holdt tilbake") && text.contains("1 resource withheld"),
                "{cell}: {text}"
            );
            assert!(!text.contains(id), "{cell}: the notice must not say what");
            assert_eq!(a.withheld.len(), 1, "{cell}");
            assert!(a.returned.is_empty(), "{cell}");
        }
        Expect::Denied => {
            assert_eq!(r.status, 403, "{cell}: {}", r.text());
            assert_eq!(a.outcome, AuditOutcome::MinorFailure, "{cell}");
        }
    }
}

#[tokio::test]
async fn role_relation_purpose_shielding_matrix() {
    let h = H::new();
    let w = writer(&h);
    let shields = [
        None,
        Some(Skjerming::Krisesenter),
        Some(Skjerming::Overgrepsmottak),
        Some(Skjerming::SensitivtNotat),
        Some(Skjerming::Sperring),
    ];
    let mut cells = 0;
    for role in ROLES {
        let (p, unit, patients) = setup(role);
        for (rel, patient) in RELS.iter().zip(&patients) {
            assert_eq!(relation(&unit, &patient.id), *rel);
            let mut docs: Vec<(Option<Skjerming>, String)> = Vec::new();
            for shield in shields {
                let label = shield.filter(|s| *s != Skjerming::Sperring);
                let id = write_doc(&h, &w, &patient.id, label).await;
                if shield == Some(Skjerming::Sperring) {
                    block(&h, &w, &patient.id, &format!("DocumentReference/{id}")).await;
                }
                docs.push((shield, id));
            }
            for purpose in PURPOSES {
                for (shield, id) in &docs {
                    let want = expect(role, *rel, purpose, *shield, false);
                    let cell = format!("{role} × {rel:?} × {purpose:?} × {shield:?} → {want:?}");
                    check_cell(
                        &h,
                        p,
                        &unit,
                        purpose,
                        "DocumentReference",
                        id,
                        &patient.id,
                        want,
                        &cell,
                    )
                    .await;
                    cells += 1;
                }
            }
        }
    }
    assert_eq!(cells, 4 * 3 * 3 * 5);
}

#[tokio::test]
async fn address_shielding_matrix() {
    let h = H::new();
    let protected: Vec<&PatientTruth> = tenant()
        .truth
        .patients
        .iter()
        .filter(|p| p.address_protection != AddressProtection::None)
        .collect();
    assert!(
        protected
            .iter()
            .any(|p| p.address_protection == AddressProtection::Fortrolig)
    );
    assert!(
        protected
            .iter()
            .any(|p| p.address_protection == AddressProtection::StrengtFortrolig)
    );
    let mut covered = Vec::new();
    for role in ROLES {
        for rel in RELS {
            // Every (practitioner unit, protected patient) pair with this relation state.
            let found = tenant()
                .truth
                .practitioners
                .iter()
                .filter(|p| p.category == role)
                .find_map(|p| {
                    p.units.iter().find_map(|u| {
                        protected
                            .iter()
                            .find(|pt| relation(u, &pt.id) == rel)
                            .map(|pt| (p, u.clone(), *pt))
                    })
                });
            let Some((p, unit, patient)) = found else {
                continue;
            };
            let shield = Some(match patient.address_protection {
                AddressProtection::Fortrolig => Skjerming::FortroligAdresse,
                _ => Skjerming::StrengtFortroligAdresse,
            });
            for purpose in PURPOSES {
                let want = expect(role, rel, purpose, shield, true);
                let cell = format!("{role} × {rel:?} × {purpose:?} × {shield:?} → {want:?}");
                check_cell(
                    &h,
                    p,
                    &unit,
                    purpose,
                    "Patient",
                    &patient.id,
                    &patient.id,
                    want,
                    &cell,
                )
                .await;
            }
            covered.push((role, rel));
        }
    }
    for role in ROLES {
        for rel in [Rel::Active, Rel::None] {
            assert!(
                covered.contains(&(role, rel)),
                "no data for {role} × {rel:?}"
            );
        }
    }
}

#[tokio::test]
async fn saksbehandler_sees_patient_and_vedtak_only() {
    let h = H::new();
    let (p, unit, patients) = setup("XX");
    let t = token(&h, p, &unit, P::Treatment);
    let patient = &patients[0].id;
    assert_eq!(
        h.get(&t, &format!("/{K}/fhir/Patient/{patient}"))
            .await
            .status,
        200
    );
    let eoc = h
        .get(&t, &format!("/{K}/fhir/EpisodeOfCare?patient={patient}"))
        .await;
    assert_eq!(eoc.status, 200, "{}", eoc.text());
    let expected: Vec<String> = resources_of("EpisodeOfCare", patient)
        .iter()
        .map(|r| r.id.clone())
        .collect();
    assert_eq!(match_ids(&eoc.json()), expected);
    for rtype in [
        "Observation",
        "Condition",
        "DocumentReference",
        "MedicationStatement",
    ] {
        let r = h
            .get(&t, &format!("/{K}/fhir/{rtype}?patient={patient}"))
            .await;
        assert_eq!(r.status, 403, "{rtype}");
        assert_eq!(r.issue_code(), "forbidden");
    }
}

#[tokio::test]
async fn generated_shielded_resources_are_withheld_from_searches() {
    let h = H::new();
    let truth = &tenant().truth;
    for s in truth
        .shielded
        .iter()
        .filter(|s| s.resource_type != "Patient")
    {
        // A unit with an active relation to the patient and a helsepersonell in it.
        let Some((p, unit)) = truth
            .practitioners
            .iter()
            .filter(|p| p.category != "XX")
            .find_map(|p| {
                p.units
                    .iter()
                    .find(|u| relation(u, &s.patient) == Rel::Active)
                    .map(|u| (p, u.clone()))
            })
        else {
            continue;
        };
        let t = token(&h, p, &unit, P::Treatment);
        let pages = walk(
            &h,
            &t,
            &format!(
                "/{K}/fhir/{}?patient={}&_count=200",
                s.resource_type, s.patient
            ),
        )
        .await;
        let ids: Vec<String> = pages.iter().flat_map(match_ids).collect();
        assert!(!ids.contains(&s.id), "{s:?} leaked");
        let expected: Vec<String> = resources_of(s.resource_type, &s.patient)
            .iter()
            .filter(|r| !truth.shielded.iter().any(|x| x.id == r.id))
            .map(|r| r.id.clone())
            .collect();
        assert_eq!(ids, expected, "{s:?}");
        let notice: Value = outcome_entry(&pages[0]).expect("notice");
        assert_eq!(notice["issue"][0]["code"], "suppressed");
    }
}

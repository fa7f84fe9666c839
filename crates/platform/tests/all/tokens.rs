//! The token endpoint, launch-context validation, 401 and expiry.

use axum::body::Body;
use http::Request;
use jiff::SignedDuration;
use serde_json::{Value, json};

use crate::support::*;

async fn token_request(h: &H, body: Value) -> Resp {
    h.call(
        Request::post(format!("/{K}/auth/token"))
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn token_endpoint_issues_tokens_for_valid_contexts() {
    let h = H::new();
    let (nurse, patient) = nurse_and_patient();
    let r = token_request(&h, json!({"practitioner": nurse.hpr, "role": "SP", "unit": unit(&nurse.units[0]).orgnr, "patient": patient.id})).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let body = r.json();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["patient"], patient.id.as_str());
    let token = body["access_token"].as_str().unwrap();
    let read = h
        .get(token, &format!("/{K}/fhir/Patient/{}", patient.id))
        .await;
    assert_eq!(read.status, 200);
    let login = &h.platform.audit_events()[0];
    assert_eq!(login.interaction, sandkasse_platform::Interaction::Login);
    assert_eq!(login.agent.hpr, nurse.hpr);
}

#[tokio::test]
async fn token_endpoint_explains_refusals() {
    let h = H::new();
    let (nurse, _) = nurse_and_patient();
    let orgnr = unit(&nurse.units[0]).orgnr.clone();
    let other_unit = tenant()
        .truth
        .units
        .iter()
        .find(|u| !nurse.units.contains(&u.id))
        .unwrap();
    let stranger = sandkasse_kommune::ids::hpr(8_999_999).unwrap();
    let cases = [
        (
            400,
            json!({"practitioner": "123", "role": "SP", "unit": orgnr}),
        ),
        (
            400,
            json!({"practitioner": nurse.hpr, "role": "ZZ", "unit": orgnr}),
        ),
        (
            400,
            json!({"practitioner": nurse.hpr, "role": "SP", "unit": "123"}),
        ),
        (
            400,
            json!({"practitioner": nurse.hpr, "role": "SP", "unit": orgnr, "extra": 1}),
        ),
        (
            400,
            json!({"practitioner": nurse.hpr, "role": "SP", "unit": orgnr, "patient": "finnes-ikke"}),
        ),
        (
            400,
            json!({"practitioner": nurse.hpr, "role": "SP", "unit": orgnr, "kommunenummer": "1103"}),
        ),
        (
            400,
            json!({"practitioner": nurse.hpr, "role": "SP", "unit": orgnr, "scope": "user/Nope.read"}),
        ),
        (
            403,
            json!({"practitioner": stranger, "role": "SP", "unit": orgnr}),
        ),
        (
            403,
            json!({"practitioner": nurse.hpr, "role": "LE", "unit": orgnr}),
        ),
        (
            403,
            json!({"practitioner": nurse.hpr, "role": "SP", "unit": other_unit.orgnr}),
        ),
        (
            403,
            json!({"practitioner": nurse.hpr, "role": "SP", "unit": orgnr, "scope": "system/AuditEvent.read"}),
        ),
    ];
    for (status, body) in cases {
        let r = token_request(&h, body.clone()).await;
        assert_eq!(r.status, status, "{body}: {}", r.text());
        assert_eq!(r.json()["resourceType"], "OperationOutcome");
    }
    assert!(
        h.platform.audit_events().is_empty(),
        "refused launches identify nobody for sure and are not logged"
    );
}

#[tokio::test]
async fn tokens_expire_on_the_platform_clock() {
    let h = H::new();
    let (nurse, patient) = nurse_and_patient();
    let token = h.token_for(nurse);
    let path = format!("/{K}/fhir/Patient/{}", patient.id);
    assert_eq!(h.get(&token, &path).await.status, 200);
    h.clock.advance(SignedDuration::from_secs(3599));
    assert_eq!(h.get(&token, &path).await.status, 200);
    h.clock.advance(SignedDuration::from_secs(1));
    let r = h.get(&token, &path).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.issue_code(), "expired");
    assert!(
        r.header("www-authenticate")
            .unwrap()
            .contains("invalid_token")
    );
    let last = h.platform.audit_events().pop().unwrap();
    assert_eq!(last.status, 401);
    assert_eq!(last.outcome, sandkasse_platform::AuditOutcome::MinorFailure);
}

#[tokio::test]
async fn tokens_are_bound_to_their_kommune() {
    let h = H::new();
    let (nurse, patient) = nurse_and_patient();
    let token = h.token_for(nurse);
    let r = h
        .get(&token, &format!("/1103/fhir/Patient/{}", patient.id))
        .await;
    assert_eq!(r.status, 401);
}

#[tokio::test]
async fn scopes_limit_what_a_token_does() {
    let h = H::new();
    let (nurse, patient) = nurse_and_patient();
    let mut c = ctx(
        nurse,
        &nurse.units[0],
        sandkasse_platform::Purpose::Treatment,
        None,
    );
    c.scope = Some("user/Patient.read".into());
    let token = h.token(c);
    assert_eq!(
        h.get(&token, &format!("/{K}/fhir/Patient/{}", patient.id))
            .await
            .status,
        200
    );
    let r = h
        .get(
            &token,
            &format!("/{K}/fhir/Observation?patient={}", patient.id),
        )
        .await;
    assert_eq!(r.status, 403);
    let r = h.get(&token, &format!("/{K}/fhir/AuditEvent")).await;
    assert_eq!(r.status, 403);
}

//! Same base + same requests + same clock ⇒ byte-identical responses and audit events.

use axum::body::Body;
use http::Request;

use crate::support::*;

async fn scenario() -> (Vec<Vec<u8>>, Vec<serde_json::Value>) {
    let h = H::new();
    let (nurse, patient) = nurse_and_patient();
    let t = h.token_for(nurse);
    let mut bodies = Vec::new();
    let obs = crate::writes::heart_rate(&patient.id, &nurse.id, 64);
    let requests = vec![
        format!("/{K}/fhir/Patient/{}", patient.id),
        format!("/{K}/fhir/Observation?patient={}&_count=7", patient.id),
        format!("/{K}/fhir/Patient"),
        format!("/{K}/fhir/Condition?patient={}", patient.id),
    ];
    for p in &requests {
        bodies.push(h.get(&t, p).await.body.to_vec());
    }
    let r = h
        .send_json("POST", &t, &format!("/{K}/fhir/Observation"), &obs, &[])
        .await;
    bodies.push(r.body.to_vec());
    let next = walk(
        &h,
        &t,
        &format!("/{K}/fhir/Observation?patient={}&_count=25", patient.id),
    )
    .await;
    bodies.extend(next.iter().map(|b| serde_json::to_vec(b).unwrap()));
    let r = h
        .call(
            Request::get(format!("/{K}/fhir/metadata"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    bodies.push(r.body.to_vec());
    (bodies, h.platform.audit_event_resources())
}

#[tokio::test]
async fn same_requests_same_bytes() {
    let a = scenario().await;
    let b = scenario().await;
    assert_eq!(a.0, b.0);
    assert_eq!(a.1, b.1);
    assert!(a.1.len() >= 9);
}

#[test]
fn base_is_deterministic_and_platforms_are_cheap() {
    let base = base();
    let start = std::time::Instant::now();
    for _ in 0..1000 {
        let clock = std::sync::Arc::new(sandkasse_platform::clock::FixedClock::new(
            base.reference_time(),
        ));
        let _p = sandkasse_platform::Platform::new(base.clone(), clock);
    }
    let per = start.elapsed() / 1000;
    assert!(
        per < std::time::Duration::from_micros(100),
        "a platform took {per:?}"
    );
}

//! Fault injection, each kind.

use std::time::Duration;

use sandkasse_platform::faults::{FaultAction, FaultPlan, FaultRule, RequestKind};

use crate::support::*;

fn rule(action: FaultAction) -> FaultRule {
    FaultRule {
        method: None,
        resource: None,
        interaction: None,
        nth: None,
        every: None,
        from: None,
        to: None,
        action,
    }
}

fn plan(rules: Vec<FaultRule>) -> FaultPlan {
    FaultPlan { rules }
}

#[tokio::test]
async fn throttle_and_unavailable_carry_retry_after() {
    let h = H::with_faults(plan(vec![
        FaultRule {
            nth: Some(2),
            interaction: Some(RequestKind::Read),
            ..rule(FaultAction::Throttle { retry_after: 2 })
        },
        FaultRule {
            nth: Some(3),
            interaction: Some(RequestKind::Read),
            ..rule(FaultAction::Unavailable { retry_after: 5 })
        },
    ]));
    let (nurse, patient) = nurse_and_patient();
    let t = h.token_for(nurse);
    let path = format!("/{K}/fhir/Patient/{}", patient.id);
    let statuses: Vec<(u16, Option<String>)> = {
        let mut v = Vec::new();
        for _ in 0..4 {
            let r = h.get(&t, &path).await;
            v.push((r.status, r.header("retry-after").map(str::to_owned)));
        }
        v
    };
    assert_eq!(
        statuses,
        vec![
            (200, None),
            (429, Some("2".into())),
            (503, Some("5".into())),
            (200, None)
        ]
    );
    let fired = h.platform.fired_faults();
    assert_eq!(
        fired.iter().map(|f| f.kind).collect::<Vec<_>>(),
        vec!["throttle", "unavailable"]
    );
}

#[tokio::test(start_paused = true)]
async fn latency_is_virtual() {
    let h = H::with_faults(plan(vec![FaultRule {
        method: Some("GET".into()),
        ..rule(FaultAction::Latency { ms: 300 })
    }]));
    let (nurse, patient) = nurse_and_patient();
    let t = h.token_for(nurse);
    let start = tokio::time::Instant::now();
    let wall = std::time::Instant::now();
    let r = h
        .get(&t, &format!("/{K}/fhir/Patient/{}", patient.id))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        start.elapsed(),
        Duration::from_millis(300),
        "tokio time advanced by exactly the latency"
    );
    assert!(
        wall.elapsed() < Duration::from_millis(300),
        "and no real time was spent waiting"
    );
}

#[tokio::test]
async fn token_expiry_mid_flow() {
    let h = H::with_faults(plan(vec![FaultRule {
        from: Some(3),
        ..rule(FaultAction::ExpireToken)
    }]));
    let (nurse, patient) = nurse_and_patient();
    let t = h.token_for(nurse);
    let path = format!("/{K}/fhir/Patient/{}", patient.id);
    assert_eq!(h.get(&t, &path).await.status, 200);
    assert_eq!(h.get(&t, &path).await.status, 200);
    let r = h.get(&t, &path).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.issue_code(), "expired");
    // A fresh token works again until the rule fires on it too (rule has no end): here it does.
    h.platform.set_faults(FaultPlan::default()).unwrap();
    assert_eq!(
        h.get(&t, &path).await.status,
        401,
        "an expired token stays expired"
    );
    let fresh = h.token_for(nurse);
    assert_eq!(h.get(&fresh, &path).await.status, 200);
}

#[tokio::test]
async fn truncated_body() {
    let h = H::with_faults(plan(vec![FaultRule {
        interaction: Some(RequestKind::Search),
        ..rule(FaultAction::TruncateBody { bytes: 100 })
    }]));
    let (nurse, patient) = nurse_and_patient();
    let t = h.token_for(nurse);
    let r = h
        .get(&t, &format!("/{K}/fhir/Observation?patient={}", patient.id))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body.len(), 100);
    assert!(serde_json::from_slice::<serde_json::Value>(&r.body).is_err());
}

#[tokio::test]
async fn short_pages_still_page_through_everything() {
    let h = H::with_faults(plan(vec![FaultRule {
        interaction: Some(RequestKind::Search),
        ..rule(FaultAction::ShortPage { entries: 3 })
    }]));
    let (nurse, patient) = nurse_and_patient();
    let t = h.token_for(nurse);
    let expected: Vec<String> = resources_of("Observation", &patient.id)
        .iter()
        .map(|r| r.id.clone())
        .collect();
    let pages = walk(
        &h,
        &t,
        &format!("/{K}/fhir/Observation?patient={}&_count=10", patient.id),
    )
    .await;
    assert!(pages.iter().all(|p| match_ids(p).len() <= 3));
    assert_eq!(
        pages.iter().flat_map(match_ids).collect::<Vec<_>>(),
        expected
    );
}

#[tokio::test]
async fn oversized_pages_ignore_count() {
    let h = H::with_faults(plan(vec![FaultRule {
        nth: Some(1),
        interaction: Some(RequestKind::Search),
        ..rule(FaultAction::OversizedPage { entries: None })
    }]));
    let (nurse, patient) = nurse_and_patient();
    let t = h.token_for(nurse);
    let n = resources_of("Observation", &patient.id).len();
    let b = h
        .get(
            &t,
            &format!("/{K}/fhir/Observation?patient={}&_count=5", patient.id),
        )
        .await
        .json();
    assert_eq!(match_ids(&b).len(), n);
    assert!(n > 5);
    let b = h
        .get(
            &t,
            &format!("/{K}/fhir/Observation?patient={}&_count=5", patient.id),
        )
        .await
        .json();
    assert_eq!(match_ids(&b).len(), 5, "the fault fired once");
}

#[tokio::test]
async fn unknown_elements_are_injected_into_served_resources() {
    let h = H::with_faults(plan(vec![rule(FaultAction::UnknownElements)]));
    let (nurse, patient) = nurse_and_patient();
    let t = h.token_for(nurse);
    let r = h
        .get(&t, &format!("/{K}/fhir/Patient/{}", patient.id))
        .await
        .json();
    assert!(r.get("sandkasseUkjent").is_some());
    assert!(
        r["extension"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["url"].as_str().unwrap().contains("ukjent"))
    );
    assert!(
        sandkasse_fhir::schema::validate(&r).is_err(),
        "the documented exception to schema validity"
    );
    let b = h
        .get(
            &t,
            &format!("/{K}/fhir/Observation?patient={}&_count=2", patient.id),
        )
        .await
        .json();
    assert!(b["entry"][0]["resource"].get("sandkasseUkjent").is_some());
}

#[tokio::test]
async fn injected_412_and_422() {
    let h = H::with_faults(plan(vec![
        FaultRule {
            nth: Some(1),
            interaction: Some(RequestKind::Update),
            ..rule(FaultAction::PreconditionFailed)
        },
        FaultRule {
            nth: Some(1),
            interaction: Some(RequestKind::Create),
            ..rule(FaultAction::Unprocessable)
        },
    ]));
    let (nurse, patient) = nurse_and_patient();
    let t = h.token_for(nurse);
    let obs = crate::writes::heart_rate(&patient.id, &nurse.id, 77);
    let path = format!("/{K}/fhir/Observation");
    let r = h.send_json("POST", &t, &path, &obs, &[]).await;
    assert_eq!(r.status, 422, "{}", r.text());
    let r = h.send_json("POST", &t, &path, &obs, &[]).await;
    assert_eq!(r.status, 201, "only the next create fails");
    let created = r.json();
    let id = created["id"].as_str().unwrap();
    let r = h
        .send_json(
            "PUT",
            &t,
            &format!("{path}/{id}"),
            &created,
            &[("if-match", "W/\"1\"")],
        )
        .await;
    assert_eq!(r.status, 412);
    let r = h
        .send_json(
            "PUT",
            &t,
            &format!("{path}/{id}"),
            &created,
            &[("if-match", "W/\"1\"")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
}

#[tokio::test]
async fn without_a_plan_nothing_is_ever_429_or_503() {
    let h = H::new();
    let (nurse, patient) = nurse_and_patient();
    let t = h.token_for(nurse);
    for _ in 0..50 {
        let r = h
            .get(&t, &format!("/{K}/fhir/Observation?patient={}", patient.id))
            .await;
        assert_eq!(r.status, 200);
    }
    assert!(h.platform.fired_faults().is_empty());
}

#[test]
fn plans_load_from_toml() {
    let plan: FaultPlan = toml::from_str(
        r#"
        [[rules]]
        interaction = "read"
        resource = "Patient"
        every = 2
        action = { kind = "unavailable", retry_after = 1 }

        [[rules]]
        from = 2
        to = 4
        action = { kind = "truncate-body", bytes = 10 }
        "#,
    )
    .unwrap();
    plan.validate().unwrap();
    assert_eq!(plan.rules.len(), 2);
    assert!(toml::from_str::<FaultPlan>("[[rules]]\naction = { kind = \"teleport\" }").is_err());
}

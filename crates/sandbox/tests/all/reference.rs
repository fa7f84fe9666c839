//! The reference adapter through the sandbox: a real overview, determinism, virtual time.

use sandkasse_platform::FaultPlan;
use sandkasse_sandbox::{Outcome, SessionOptions, block_on_virtual};
use serde_json::Value;

use super::{nurse_context, platform, plugin, sandbox};

fn overview(faults: FaultPlan) -> Vec<sandkasse_sandbox::CallEvidence> {
    let prepared = sandbox()
        .prepare(&plugin("reference"))
        .expect("reference adapter is accepted");
    block_on_virtual(async {
        let platform = platform(faults);
        let ctx = nurse_context(&platform);
        let router = sandkasse_platform::app(platform.clone());
        let mut session = sandbox()
            .session(&prepared, router, SessionOptions::default())
            .await;
        let (info, _) = session.info().await;
        let first = session.patient_overview(&ctx).await;
        vec![session.instantiation().clone(), info, first]
    })
}

#[test]
fn reference_overview_returns_the_patients_bundle() {
    let evidence = overview(FaultPlan::default());
    assert_eq!(evidence[0].class, "ok", "{:#?}", evidence[0]);
    assert_eq!(evidence[1].class, "ok", "{:#?}", evidence[1]);
    let call = &evidence[2];
    assert_eq!(
        call.class,
        "ok",
        "{}",
        serde_json::to_string_pretty(call).unwrap()
    );
    let Outcome::Ok {
        value: Value::String(bundle),
    } = &call.outcome
    else {
        panic!("{:?}", call.outcome)
    };
    let bundle: Value = serde_json::from_str(bundle).unwrap();
    assert_eq!(bundle["resourceType"], "Bundle");
    assert_eq!(bundle["type"], "collection");
    assert!(
        bundle["entry"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["resource"]["resourceType"] == "Patient")
    );
    assert!(!call.exchanges.is_empty());
    for x in &call.exchanges {
        assert_eq!(x.status, Some(200), "{}", x.request_line);
        let auth = x
            .request_headers
            .iter()
            .find(|(k, _)| k == "authorization")
            .expect("token on every request");
        assert_eq!(auth.1, "Bearer <redacted>");
    }
    assert!(call.fuel_used > 0 && call.peak_memory_bytes > 0);
}

#[test]
fn same_component_data_and_calls_give_identical_evidence() {
    let strip = |v: Vec<sandkasse_sandbox::CallEvidence>| {
        v.into_iter()
            .map(|e| serde_json::to_string(&e.without_durations()).unwrap())
            .collect::<Vec<_>>()
    };
    let a = strip(overview(FaultPlan::default()));
    let b = strip(overview(FaultPlan::default()));
    assert_eq!(a, b);
}

#[test]
fn retry_after_costs_virtual_time_not_real_time() {
    let faults: FaultPlan = serde_json::from_value(serde_json::json!({
        "rules": [{ "interaction": "read", "resource": "Patient", "nth": 1, "action": { "kind": "unavailable", "retry_after": 2 } }]
    }))
    .unwrap();
    let started = std::time::Instant::now();
    let evidence = overview(faults);
    let call = &evidence[2];
    assert_eq!(
        call.class,
        "ok",
        "{}",
        serde_json::to_string_pretty(call).unwrap()
    );
    assert_eq!(call.exchanges[0].status, Some(503));
    assert!(
        call.exchanges[1].sent_ms >= call.exchanges[0].received_ms + 2_000,
        "waited 2 s of virtual time"
    );
    assert!(call.virtual_end_ms - call.virtual_start_ms >= 2_000);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "no real waiting"
    );
}

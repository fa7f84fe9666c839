//! Each hostile fixture ends with its own classified outcome in bounded time, the host keeps
//! working, and running the whole set again and again does not grow the host's memory.

use std::time::{Duration, Instant};

use sandkasse_platform::FaultPlan;
use sandkasse_sandbox::{CallEvidence, Disposition, SessionOptions, block_on_virtual};

use super::{nurse_context, platform, plugin, sandbox};

/// (fixture, the classes its `patient-overview` may end in)
const FIXTURES: &[(&str, &[&str])] = &[
    ("hostile_infinite_loop", &["out-of-fuel", "deadline"]),
    ("hostile_memory_bomb", &["memory-limit"]),
    ("hostile_deep_recursion", &["stack-overflow"]),
    ("hostile_huge_result", &["memory-limit", "result-limit"]),
    ("hostile_stdout_flood", &["output-limit"]),
    ("hostile_foreign_host", &["refused-egress"]),
    ("hostile_request_flood", &["request-limit"]),
    ("hostile_trap", &["trap"]),
];

fn run(name: &str) -> (CallEvidence, CallEvidence) {
    let prepared = sandbox()
        .prepare(&plugin(name))
        .unwrap_or_else(|e| panic!("{name} is accepted: {e}"));
    block_on_virtual(async {
        let platform = platform(FaultPlan::default());
        let ctx = nurse_context(&platform);
        let mut session = sandbox()
            .session(
                &prepared,
                sandkasse_platform::app(platform),
                SessionOptions::default(),
            )
            .await;
        let first = session.patient_overview(&ctx).await;
        let second = session.patient_overview(&ctx).await;
        (first, second)
    })
}

#[test]
fn every_fixture_is_classified_in_bounded_time() {
    for (name, classes) in FIXTURES {
        let started = Instant::now();
        let (first, second) = run(name);
        assert!(
            classes.contains(&first.class.as_str()),
            "{name}: {} — {:?}",
            first.class,
            first.outcome
        );
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{name} took {:?}",
            started.elapsed()
        );
        if first.class == "trap"
            || first.class.ends_with("limit") && first.class != "request-limit"
            || first.class == "out-of-fuel"
            || first.class == "stack-overflow"
        {
            assert_eq!(
                second.class, "poisoned",
                "{name}: an instance is not entered again after a failure"
            );
        }
    }
}

#[test]
fn foreign_host_is_refused_and_recorded() {
    let (first, _) = run("hostile_foreign_host");
    let refused: Vec<_> = first
        .exchanges
        .iter()
        .filter_map(|x| match &x.disposition {
            Disposition::RefusedEgress { authority } => Some(authority.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(refused, ["exfil.example.com"]);
    let x = first
        .exchanges
        .iter()
        .find(|x| x.request_line.contains("exfil"))
        .unwrap();
    assert!(x.status.is_none(), "nothing reached the foreign host");
    assert!(
        x.request_headers.iter().all(|(_, v)| !v.contains("sk-")),
        "the token is redacted in evidence"
    );
    assert!(
        !x.request_line.contains("sk-") && x.request_line.contains("<redacted>"),
        "also where the component put it: {}",
        x.request_line
    );
}

#[test]
fn request_flood_stops_at_the_limit() {
    let (first, _) = run("hostile_request_flood");
    let served = first
        .exchanges
        .iter()
        .filter(|x| x.disposition == Disposition::Platform)
        .count();
    assert_eq!(served as u32, super::test_limits().max_requests_per_call);
    // One refusal is recorded as evidence; a component that keeps trying is only counted, so
    // the evidence (and a report) stays bounded however long it floods.
    let refused = first
        .exchanges
        .iter()
        .filter(|x| x.disposition == Disposition::RefusedRequestLimit)
        .count();
    assert_eq!(refused, 1, "{} refusals recorded", refused);
    assert!(
        first.requests_unrecorded > 0,
        "the flood went on past the limit and was counted"
    );
}

fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("Linux /proc");
    let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

#[test]
fn the_host_does_not_grow_over_many_hostile_runs() {
    let round = || {
        for (name, _) in FIXTURES {
            run(name);
        }
        // The host still works after every round.
        let (ok, _) = run("reference");
        assert_eq!(ok.class, "ok", "{:?}", ok.outcome);
    };
    round();
    round();
    let after_warmup = rss_bytes();
    for _ in 0..6 {
        round();
    }
    let after = rss_bytes();
    let growth = after.saturating_sub(after_warmup);
    assert!(
        growth < 48 << 20,
        "RSS grew by {} MiB over six rounds ({} → {} MiB)",
        growth >> 20,
        after_warmup >> 20,
        after >> 20
    );
}

use std::collections::BTreeSet;

use sandkasse_suite::report::Outcome;

use super::{report, suite};

fn failing(name: &str) -> BTreeSet<String> {
    report(name)
        .vilkar
        .iter()
        .filter(|v| matches!(v.outcome, Outcome::Fail | Outcome::Error))
        .map(|v| v.id.clone())
        .collect()
}

#[test]
fn the_reference_adapter_passes_every_vilkar() {
    let r = report("reference");
    let not_passed: Vec<String> = r
        .vilkar
        .iter()
        .filter(|v| v.outcome != Outcome::Pass)
        .map(|v| {
            format!(
                "{} {:?}: {}\n    {:?}",
                v.id,
                v.outcome,
                v.reason,
                v.checks
                    .iter()
                    .flat_map(|c| c.evidence.clone())
                    .collect::<Vec<_>>()
            )
        })
        .collect();
    assert!(not_passed.is_empty(), "{}", not_passed.join("\n"));
    assert!(r.godkjent());
    assert_eq!(r.score, 1.0);
    assert_eq!(r.vilkar.len(), suite().vilkar.len());
}

#[test]
fn the_same_run_gives_a_byte_identical_body() {
    let options = sandkasse_suite::harness::TestOptions {
        component_name: "reference.wasm".into(),
        generated_at: "2026-11-23T00:00:00Z".into(),
        ..Default::default()
    };
    let bytes = super::plugin("reference");
    let a = sandkasse_suite::harness::test_component(
        suite(),
        super::sandbox(),
        &bytes,
        &options,
        &|_| {},
    )
    .unwrap();
    let mut options_b = options.clone();
    options_b.generated_at = "2026-11-24T03:00:00Z".into();
    let b = sandkasse_suite::harness::test_component(
        suite(),
        super::sandbox(),
        &bytes,
        &options_b,
        &|_| {},
    )
    .unwrap();
    assert!(a.body() == b.body(), "report bodies differ");
    assert_ne!(a.generated_at, b.generated_at);
}

#[test]
fn a_trapping_component_fails_with_the_classified_reason_and_the_run_completes() {
    let r = report("hostile_trap");
    assert!(!r.godkjent());
    let overview = r.vilkar.iter().find(|v| v.id == "INF-01").unwrap();
    assert_eq!(overview.outcome, Outcome::Fail);
    assert!(
        overview.checks[0]
            .evidence
            .iter()
            .any(|e| e.contains("trap")),
        "{:?}",
        overview.checks[0]
    );
    assert_eq!(
        r.scenarios.len(),
        suite().scenarios.len(),
        "every scenario ran"
    );
    // It claims only the read role: the write and event vilkår are not applicable, and say why.
    assert_eq!(
        r.component.capabilities,
        [sandkasse_suite::model::Capability::Read]
    );
    for id in ["HEN-01", "INF-05", "PER-07"] {
        let v = r.vilkar.iter().find(|v| v.id == id).unwrap();
        assert_eq!(v.outcome, Outcome::NotApplicable, "{id}");
        assert!(v.reason.contains("role"), "{id}: {}", v.reason);
    }
}

/// Each flawed sample adapter and exactly the vilkår its mistake must fail.
const FLAWED: &[(&str, &[&str])] = &[
    ("flawed_anonymous_writes", &["INF-06", "INF-08", "KON-02"]),
    (
        "flawed_breaks_glass",
        &["PER-01", "PER-02", "SIK-04", "SIK-06"],
    ),
    // The cached overview is another patient's and was not served in the call.
    (
        "flawed_caches_patients",
        &["INF-02", "INF-09", "PER-04", "PER-05"],
    ),
    ("flawed_drops_notices", &["PER-01"]),
    // The DocumentReference search fails with 401, and with it the notices it carried.
    ("flawed_drops_token", &["PER-01", "SIK-01"]),
    ("flawed_duplicates", &["INF-07"]),
    ("flawed_events_copy_all", &["HEN-02", "HEN-03"]),
    // Nothing fetched: redelivery has nothing to be judged against (an error, not a pass).
    ("flawed_events_noop", &["HEN-01", "HEN-02", "HEN-04"]),
    (
        "flawed_fetches_everything",
        &["KON-01", "PER-01", "PER-06", "SIK-03"],
    ),
    // A notice that comes only on a later page is never seen.
    ("flawed_first_page_only", &["INF-03", "PER-01"]),
    ("flawed_greedy", &["RES-01", "RES-02", "RES-03"]),
    ("flawed_ignores_retry_after", &["ROB-01"]),
    ("flawed_ignores_sensitive", &["INF-08", "PER-07"]),
    ("flawed_impatient", &["ROB-03"]),
    ("flawed_invalid_codes", &["INF-05", "INF-08"]),
    ("flawed_logs_fnr", &["PER-03"]),
    ("flawed_nondeterministic", &["ROB-05"]),
    ("flawed_patient_search", &["KON-01"]),
    ("flawed_retries_auth_errors", &["SIK-04", "SIK-05"]),
    ("flawed_retries_forever", &["ROB-02"]),
    ("flawed_strict_parser", &["INF-04", "ROB-04"]),
    ("flawed_telemetry", &["SIK-02"]),
    ("flawed_wrong_bundle", &["INF-01", "INF-02", "INF-03"]),
];

#[test]
fn each_flawed_adapter_fails_exactly_its_vilkar() {
    let mut wrong = Vec::new();
    for (name, expected) in FLAWED {
        let got = failing(name);
        let expected: BTreeSet<String> = expected.iter().map(|s| s.to_string()).collect();
        if got != expected {
            wrong.push(format!("{name}: expected {expected:?}, got {got:?}"));
        }
        // Every failure is explained with evidence a vendor can act on.
        for v in report(name)
            .vilkar
            .iter()
            .filter(|v| v.outcome == Outcome::Fail)
        {
            assert!(!v.reason.is_empty(), "{name} {}", v.id);
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn every_vilkar_is_failed_by_some_flawed_adapter() {
    // A vilkår no flawed crate fails is covered by a mutant of `plugins/mutants.toml` that must
    // fail it: that mutant is run here and must fail it.
    let covered: BTreeSet<&str> = FLAWED.iter().flat_map(|(_, v)| v.iter().copied()).collect();
    let mutants = super::mutants::table();
    let base = super::plugin("mutant");
    let mut uncovered = Vec::new();
    for id in suite()
        .vilkar
        .iter()
        .map(|v| v.id.as_str())
        .filter(|id| !covered.contains(id))
    {
        let by_mutant = mutants
            .iter()
            .filter(|m| {
                m.fails.iter().any(|f| f == id) && m.class != super::mutants::Class::Existing
            })
            .any(|m| {
                super::mutants::failed(&super::mutants::run(
                    &super::mutants::patch(&base, &m.switch),
                    &m.switch,
                ))
                .contains(id)
            });
        if !by_mutant {
            uncovered.push(id);
        }
    }
    assert!(
        uncovered.is_empty(),
        "no flawed adapter or mutant fails {uncovered:?}"
    );
}

//! No vacuous passes: a check that found nothing to judge is an error, never a pass — proved for
//! every assertion kind, on a scenario where nothing ran and on one where the calls answered but
//! sent no request and wrote nothing.

use std::collections::BTreeMap;

use sandkasse_sandbox::{CallEvidence, Outcome as CallOutcome};
use sandkasse_suite::execute::{ScenarioEvidence, StepEvidence, World};
use sandkasse_suite::judge::check;
use sandkasse_suite::model::{Assertion, CheckSpec, DataSpec, EntryTemplate, EventTemplate, Step};
use sandkasse_suite::report::Outcome;
use serde_json::{Value, json};

/// Every assertion kind, once. The `match` makes a new kind a compile error here until it is
/// added to the list.
fn every_assertion() -> Vec<Assertion> {
    let all = vec![
        Assertion::CallsSucceed,
        Assertion::NoTrap,
        Assertion::StepReturnsError {
            step: 0,
            code: "unauthorized".into(),
        },
        Assertion::OverviewIsValidBundle,
        Assertion::OverviewComplete {
            types: vec!["Condition".into()],
        },
        Assertion::PagingFollowed,
        Assertion::WithheldNoticeSurfaced,
        Assertion::ShieldedNeverShown,
        Assertion::TokenOnEveryRequest,
        Assertion::TokenOnlyInHeader,
        Assertion::ForeignLinksNotFollowed,
        Assertion::NoEgress,
        Assertion::NoPatientSearch,
        Assertion::OnlyContextPatient,
        Assertion::NoPersonalDataInLogs,
        Assertion::RetryAfterHonoured,
        Assertion::RetriesBounded { max: 3 },
        Assertion::RequestsWithin { max: 40 },
        Assertion::RefusalsNotRetried,
        Assertion::NoOverFetching {
            max_unshown_percent: 25,
        },
        Assertion::SameOutput { a: 0, b: 1 },
        Assertion::NoLeakBetweenContexts { step: 0 },
        Assertion::SperringRespected { step: 0 },
        Assertion::FuelWithin { max: 1 },
        Assertion::MemoryWithin { max_bytes: 1 },
        Assertion::ComponentSizeWithin { max_bytes: 1 },
        Assertion::WritesAccepted,
        Assertion::WritesCarryContext,
        Assertion::WritesIdempotent,
        Assertion::WritesFaithful,
        Assertion::OverviewFaithful,
        Assertion::SensitiveLabelled,
        Assertion::ReturnedIdsMatch,
        Assertion::OtherKommuneIgnored { step: 0 },
        Assertion::EventFetched { step: 0 },
        Assertion::RedeliveryHarmless,
        Assertion::EventsByKind,
        Assertion::EmergencyOnlyWithReason,
    ];
    for a in &all {
        match a {
            Assertion::CallsSucceed
            | Assertion::NoTrap
            | Assertion::StepReturnsError { .. }
            | Assertion::OverviewIsValidBundle
            | Assertion::OverviewComplete { .. }
            | Assertion::PagingFollowed
            | Assertion::WithheldNoticeSurfaced
            | Assertion::ShieldedNeverShown
            | Assertion::TokenOnEveryRequest
            | Assertion::TokenOnlyInHeader
            | Assertion::ForeignLinksNotFollowed
            | Assertion::NoEgress
            | Assertion::NoPatientSearch
            | Assertion::OnlyContextPatient
            | Assertion::NoPersonalDataInLogs
            | Assertion::RetryAfterHonoured
            | Assertion::RetriesBounded { .. }
            | Assertion::RequestsWithin { .. }
            | Assertion::RefusalsNotRetried
            | Assertion::NoOverFetching { .. }
            | Assertion::SameOutput { .. }
            | Assertion::NoLeakBetweenContexts { .. }
            | Assertion::SperringRespected { .. }
            | Assertion::FuelWithin { .. }
            | Assertion::MemoryWithin { .. }
            | Assertion::ComponentSizeWithin { .. }
            | Assertion::WritesAccepted
            | Assertion::WritesCarryContext
            | Assertion::WritesIdempotent
            | Assertion::WritesFaithful
            | Assertion::OverviewFaithful
            | Assertion::SensitiveLabelled
            | Assertion::ReturnedIdsMatch
            | Assertion::OtherKommuneIgnored { .. }
            | Assertion::EventFetched { .. }
            | Assertion::RedeliveryHarmless
            | Assertion::EventsByKind
            | Assertion::EmergencyOnlyWithReason => {}
        }
    }
    all
}

fn world() -> World {
    World::new(&DataSpec {
        seed: 42,
        innbyggere: 200,
        kommuner: vec!["4601".into()],
    })
    .expect("data")
}

fn evidence(steps: Vec<StepEvidence>) -> ScenarioEvidence {
    ScenarioEvidence {
        id: "tom".into(),
        skipped: None,
        error: None,
        contexts: BTreeMap::new(),
        steps,
        instantiation: None,
        written: Vec::new(),
        audit: Vec::new(),
    }
}

/// A call that answered `value` without sending a single request.
fn quiet(call: &str, value: Value) -> CallEvidence {
    CallEvidence::quiet(call, CallOutcome::Ok { value })
}

fn step(step: Step, call: CallEvidence) -> StepEvidence {
    StepEvidence {
        step,
        call: Some(call),
        served: Vec::new(),
        notices: Vec::new(),
        written: Vec::new(),
        pages: Vec::new(),
        elsewhere: Default::default(),
        written_after: 0,
        blocked: None,
        event: None,
    }
}

fn judge(a: &Assertion, s: &ScenarioEvidence, world: &World) -> (Outcome, String) {
    let spec = CheckSpec {
        id: "c".into(),
        scenario: "tom".into(),
        assert: a.clone(),
    };
    let r = check(&spec, s, world, 1, "sandkasse test x.wasm");
    (r.outcome, r.reason)
}

#[test]
fn a_check_with_nothing_to_judge_is_an_error_for_every_assertion_kind() {
    let world = world();
    let nothing = evidence(Vec::new());
    let mut wrong = Vec::new();
    for a in every_assertion() {
        if matches!(a, Assertion::ComponentSizeWithin { .. }) {
            continue; // the component's size is always there to judge
        }
        let (outcome, reason) = judge(&a, &nothing, &world);
        if outcome != Outcome::Error {
            wrong.push(format!("{a:?}: {outcome:?} ({reason})"));
        }
    }
    assert!(
        wrong.is_empty(),
        "with no call at all, these did not give an error:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn quiet_calls_that_send_no_request_and_write_nothing_pass_nothing_that_needs_requests_or_writes() {
    let world = world();
    let ctx = "main".to_owned();
    let empty_bundle = Value::String(
        json!({"resourceType": "Bundle", "type": "collection", "entry": []}).to_string(),
    );
    let quiet_scenario = evidence(vec![
        step(
            Step::PatientOverview {
                context: ctx.clone(),
            },
            quiet("patient-overview", empty_bundle.clone()),
        ),
        step(
            Step::PatientOverview {
                context: ctx.clone(),
            },
            quiet("patient-overview", empty_bundle),
        ),
        step(
            Step::Document {
                context: ctx.clone(),
                entry: EntryTemplate::CareNote,
            },
            quiet("document", json!([])),
        ),
        step(
            Step::Document {
                context: ctx.clone(),
                entry: EntryTemplate::CareNote,
            },
            quiet("document", json!([])),
        ),
        step(
            Step::OnEvent {
                context: ctx.clone(),
                event: EventTemplate::NewObservation,
            },
            quiet("on-event", json!({"processed": []})),
        ),
        step(
            Step::OnEvent {
                context: ctx,
                event: EventTemplate::Redelivered,
            },
            quiet("on-event", json!({"processed": []})),
        ),
    ]);
    // What these assertions judge (requests, writes, overview content, events, notices) is
    // simply absent here: none of them may pass.
    let mut wrong = Vec::new();
    for a in every_assertion().into_iter().filter(|a| {
        !matches!(
            a,
            // These judge what the calls answered, which is there: an empty collection is a
            // valid Bundle (its emptiness is INF-02's), quiet calls succeed and show nothing.
            Assertion::CallsSucceed
                | Assertion::NoTrap
                | Assertion::OverviewIsValidBundle
                | Assertion::ShieldedNeverShown
                | Assertion::NoPersonalDataInLogs
                | Assertion::SameOutput { .. }
                | Assertion::FuelWithin { .. }
                | Assertion::MemoryWithin { .. }
                | Assertion::ComponentSizeWithin { .. }
                | Assertion::NoLeakBetweenContexts { .. }
                // Absence checks: that nothing forbidden was sent is judged on the calls that
                // ran, requests or not.
                | Assertion::TokenOnlyInHeader
                | Assertion::NoEgress
                | Assertion::NoPatientSearch
                | Assertion::OnlyContextPatient
                | Assertion::RetriesBounded { .. }
                | Assertion::RequestsWithin { .. }
                | Assertion::EmergencyOnlyWithReason
        )
    }) {
        let (outcome, reason) = judge(&a, &quiet_scenario, &world);
        if outcome == Outcome::Pass {
            wrong.push(format!("{a:?}: passed ({reason})"));
        }
    }
    assert!(
        wrong.is_empty(),
        "quiet calls passed checks that had nothing to judge:\n{}",
        wrong.join("\n")
    );
}

//! Judging: every check judged on its scenario's evidence against the ground truth.
//!
//! [`check`] turns one check into a [`CheckResult`]; `judge` refuses vacuous passes (a check with
//! nothing to judge is an error), then hands each [`Assertion`] to the file of its area:
//! `robustness.rs`, `overview.rs`, `security.rs`, `privacy.rs`, `resources.rs`, `writes.rs`,
//! `events.rs` (and [`crate::fidelity`] for the element-by-element comparisons). Rolling checks up
//! to vilkår and the verdict is [`crate::score`].

use std::collections::BTreeSet;

use sandkasse_sandbox::{CallEvidence, Disposition, Outcome as CallOutcome};
use serde_json::Value;

use crate::execute::{ScenarioEvidence, World};
use crate::model::{Assertion, CheckSpec, Step};
use crate::report::{CheckResult, Outcome};

mod events;
mod overview;
mod privacy;
mod resources;
mod robustness;
mod security;
mod writes;

/// What the sandbox puts in evidence wherever the component put the token.
const REDACTED: &str = "<redacted>";

/// A check's judgement before it becomes a [`CheckResult`].
#[derive(Debug)]
pub struct Judgement {
    pub outcome: Outcome,
    pub reason: String,
    pub evidence: Vec<String>,
}

pub(crate) fn pass(reason: impl Into<String>) -> Judgement {
    Judgement {
        outcome: Outcome::Pass,
        reason: reason.into(),
        evidence: Vec::new(),
    }
}

pub(crate) fn fail(reason: impl Into<String>, evidence: Vec<String>) -> Judgement {
    Judgement {
        outcome: Outcome::Fail,
        reason: reason.into(),
        evidence: evidence.into_iter().take(10).collect(),
    }
}

/// Passes with `passed` when nothing was `found`; fails with `failed` and what was found as its
/// evidence otherwise — the shape of most checks.
pub(crate) fn pass_unless(
    found: Vec<String>,
    passed: impl Into<String>,
    failed: impl Into<String>,
) -> Judgement {
    if found.is_empty() {
        pass(passed)
    } else {
        fail(failed, found)
    }
}

fn not_applicable(reason: impl Into<String>) -> Judgement {
    Judgement {
        outcome: Outcome::NotApplicable,
        reason: reason.into(),
        evidence: Vec::new(),
    }
}

/// A check that found nothing to judge: never a pass.
pub(crate) fn error(reason: impl Into<String>) -> Judgement {
    Judgement {
        outcome: Outcome::Error,
        reason: format!("ingenting å vurdere / nothing to judge: {}", reason.into()),
        evidence: Vec::new(),
    }
}

pub(crate) fn excerpt(s: &str) -> String {
    let cut: String = s.chars().take(300).collect();
    if cut.len() < s.len() {
        format!("{cut}…")
    } else {
        cut
    }
}

/// The calls of a scenario with their step index.
fn calls(s: &ScenarioEvidence) -> impl Iterator<Item = (usize, &CallEvidence)> {
    s.steps
        .iter()
        .enumerate()
        .filter_map(|(i, st)| st.call.as_ref().map(|c| (i, c)))
}

fn overviews(s: &ScenarioEvidence) -> impl Iterator<Item = (usize, &CallEvidence, Option<&str>)> {
    s.steps
        .iter()
        .enumerate()
        .filter_map(|(i, st)| match (&st.step, &st.call) {
            (Step::PatientOverview { context }, Some(c)) => Some((i, c, Some(context.as_str()))),
            _ => None,
        })
}

fn output(c: &CallEvidence) -> Option<&str> {
    match &c.outcome {
        CallOutcome::Ok {
            value: Value::String(s),
        } => Some(s),
        _ => None,
    }
}

fn output_text(c: &CallEvidence) -> String {
    match &c.outcome {
        CallOutcome::Ok {
            value: Value::String(s),
        } => s.clone(),
        CallOutcome::Ok { value } => value.to_string(),
        CallOutcome::AdapterError { message, .. } => message.clone(),
        CallOutcome::Failure { .. } => String::new(),
    }
}

pub(crate) fn describe(i: usize, c: &CallEvidence) -> String {
    match &c.outcome {
        CallOutcome::Ok { .. } if c.class != "ok" => {
            let refused: Vec<&str> = c
                .exchanges
                .iter()
                .filter(|x| x.disposition != Disposition::Platform)
                .map(|x| x.request_line.as_str())
                .collect();
            format!(
                "steg {i} `{}`: {} ({})",
                c.call,
                c.class,
                refused.join(", ")
            )
        }
        CallOutcome::Ok { .. } => format!("steg {i} `{}`: ok", c.call),
        CallOutcome::AdapterError { code, message } => format!(
            "steg {i} `{}`: adapter-error {code}: {}",
            c.call,
            excerpt(message)
        ),
        CallOutcome::Failure { class, detail } => {
            format!(
                "steg {i} `{}`: {} — {}",
                c.call,
                class.name(),
                excerpt(detail.lines().next().unwrap_or_default())
            )
        }
    }
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn platform_exchanges(c: &CallEvidence) -> impl Iterator<Item = &sandkasse_sandbox::Exchange> {
    c.exchanges
        .iter()
        .filter(|x| x.disposition == Disposition::Platform)
}

/// Ids ("Type/id") of the resources in a Bundle's entries.
fn bundle_refs(bundle: &Value) -> BTreeSet<String> {
    bundle["entry"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| {
            let r = &e["resource"];
            Some(format!(
                "{}/{}",
                r["resourceType"].as_str()?,
                r["id"].as_str()?
            ))
        })
        .collect()
}

/// The query parameter `name` of a request line.
fn param<'a>(request_line: &'a str, name: &str) -> Option<&'a str> {
    let query = request_line.split_once('?')?.1;
    query.split('&').find_map(|kv| {
        kv.split_once('=')
            .filter(|(k, _)| *k == name)
            .map(|(_, v)| v)
    })
}

/// `(type, id or None for a search)` of a FHIR request line.
fn target(request_line: &str) -> Option<(String, Option<String>)> {
    let url = request_line.split_whitespace().nth(1)?;
    let path = url.split('?').next()?;
    let after = path.split("/fhir/").nth(1)?;
    let mut parts = after.split('/');
    let t = parts.next()?.to_owned();
    let id = parts
        .next()
        .filter(|s| !s.starts_with('_'))
        .map(str::to_owned);
    Some((t, id))
}

/// What a check is judged on: the scenario's evidence, the world it ran in, the component's size.
pub(crate) struct Evidence<'a> {
    pub s: &'a ScenarioEvidence,
    pub world: &'a World,
    pub component_size: usize,
}

impl Evidence<'_> {
    /// The kommune of a context (the scenario default, 4601, without one).
    fn kommune_of(&self, ctx: Option<&str>) -> String {
        ctx.and_then(|c| self.s.contexts.get(c))
            .map(|c| c.kommunenummer.clone())
            .unwrap_or_else(|| "4601".into())
    }

    /// The patient of a context, if it has one.
    fn patient_of(&self, ctx: Option<&str>) -> Option<String> {
        ctx.and_then(|c| self.s.contexts.get(c))
            .and_then(|c| c.patient.clone())
    }
}

fn judge(a: &Assertion, s: &ScenarioEvidence, world: &World, component_size: usize) -> Judgement {
    // No vacuous passes: a check with nothing to judge is an error, never a pass.
    let no_calls = calls(s).next().is_none();
    let no_requests = calls(s).all(|(_, c)| platform_exchanges(c).next().is_none());
    let no_output = calls(s).all(|(_, c)| !matches!(c.outcome, CallOutcome::Ok { .. }));
    if no_calls && !matches!(a, Assertion::ComponentSizeWithin { .. }) {
        return error("ingen kall ble kjørt i scenariet / no call ran in the scenario");
    }
    // "Every request carries …" says nothing when there was no request. Checks that something
    // did *not* happen (no egress, no other patient, at most n requests) judge the calls that ran.
    if matches!(a, Assertion::TokenOnEveryRequest) && no_requests {
        return error(
            "adapteren sendte ingen forespørsel til plattformen / the adapter sent no request to the platform",
        );
    }
    if no_output
        && matches!(
            a,
            Assertion::ShieldedNeverShown | Assertion::NoPersonalDataInLogs
        )
    {
        return error("ingen kall returnerte et resultat / no call returned a result");
    }
    let e = Evidence {
        s,
        world,
        component_size,
    };
    match a {
        Assertion::CallsSucceed => robustness::calls_succeed(&e),
        Assertion::NoTrap => robustness::no_trap(&e),
        Assertion::StepReturnsError { step, code } => {
            robustness::step_returns_error(&e, step, code)
        }
        Assertion::OverviewIsValidBundle => overview::overview_is_valid_bundle(&e),
        Assertion::OverviewComplete { types } => overview::overview_complete(&e, types),
        Assertion::WithheldNoticeSurfaced => overview::withheld_notice_surfaced(&e),
        Assertion::PagingFollowed => overview::paging_followed(&e),
        Assertion::ShieldedNeverShown => privacy::shielded_never_shown(&e),
        Assertion::TokenOnEveryRequest => security::token_on_every_request(&e),
        Assertion::TokenOnlyInHeader => security::token_only_in_header(&e),
        Assertion::ForeignLinksNotFollowed => security::foreign_links_not_followed(&e),
        Assertion::NoEgress => security::no_egress(&e),
        Assertion::NoPatientSearch => privacy::no_patient_search(&e),
        Assertion::OnlyContextPatient => privacy::only_context_patient(&e),
        Assertion::NoPersonalDataInLogs => privacy::no_personal_data_in_logs(&e),
        Assertion::RetryAfterHonoured => robustness::retry_after_honoured(&e),
        Assertion::RetriesBounded { max } | Assertion::RequestsWithin { max } => {
            robustness::retries_bounded(&e, max)
        }
        Assertion::RefusalsNotRetried => robustness::refusals_not_retried(&e),
        Assertion::NoOverFetching {
            max_unshown_percent,
        } => overview::no_over_fetching(&e, max_unshown_percent),
        Assertion::SameOutput { a, b } => robustness::same_output(&e, a, b),
        Assertion::NoLeakBetweenContexts { step } => privacy::no_leak_between_contexts(&e, step),
        Assertion::SperringRespected { step } => privacy::sperring_respected(&e, step),
        Assertion::FuelWithin { max } => resources::fuel_within(&e, max),
        Assertion::MemoryWithin { max_bytes } => resources::memory_within(&e, max_bytes),
        Assertion::ComponentSizeWithin { max_bytes } => {
            resources::component_size_within(&e, max_bytes)
        }
        Assertion::WritesAccepted => writes::writes_accepted(&e),
        Assertion::WritesCarryContext => writes::writes_carry_context(&e),
        Assertion::WritesIdempotent => writes::writes_idempotent(&e),
        Assertion::SensitiveLabelled => writes::sensitive_labelled(&e),
        Assertion::ReturnedIdsMatch => writes::returned_ids_match(&e),
        Assertion::OtherKommuneIgnored { step } => events::other_kommune_ignored(&e, step),
        Assertion::EventFetched { step } => events::event_fetched(&e, step),
        Assertion::RedeliveryHarmless => events::redelivery_harmless(&e),
        Assertion::WritesFaithful => writes::writes_faithful(&e),
        Assertion::OverviewFaithful => overview::overview_faithful(&e),
        Assertion::EventsByKind => events::events_by_kind(&e),
        Assertion::EmergencyOnlyWithReason => security::emergency_only_with_reason(&e),
    }
}

/// Judges one check.
pub fn check(
    spec: &CheckSpec,
    s: &ScenarioEvidence,
    world: &World,
    component_size: usize,
    reproduce: &str,
) -> CheckResult {
    let j = if let Some(why) = &s.error {
        Judgement {
            outcome: Outcome::Error,
            reason: why.clone(),
            evidence: Vec::new(),
        }
    } else if let Some(why) = &s.skipped {
        not_applicable(why.clone())
    } else if s.instantiation.as_ref().is_some_and(|i| i.class != "ok") {
        let i = s.instantiation.as_ref().expect("checked");
        Judgement {
            outcome: Outcome::Fail,
            reason: format!(
                "komponenten startet ikke / the component did not start: {}",
                i.class
            ),
            evidence: vec![describe(0, i)],
        }
    } else {
        judge(&spec.assert, s, world, component_size)
    };
    CheckResult {
        id: spec.id.clone(),
        scenario: spec.scenario.clone(),
        outcome: j.outcome,
        reason: j.reason,
        evidence: j.evidence,
        reproduce: crate::command::with_scenario(reproduce, &spec.scenario),
    }
}

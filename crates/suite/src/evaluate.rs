//! Evaluation: every check judged on its scenario's evidence against the ground truth, rolled up
//! to vilkår, scored, and a verdict.

use std::collections::BTreeSet;

use sandkasse_sandbox::types::EventKind;
use sandkasse_sandbox::{CallEvidence, Disposition, Outcome as CallOutcome};
use serde_json::Value;

use crate::model::{Assertion, CheckSpec, Level, Step, Vilkar};
use crate::report::{CheckResult, Outcome, Summary, Verdict, VilkarResult};
use crate::run::{ScenarioEvidence, World};

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

fn judge(a: &Assertion, s: &ScenarioEvidence, world: &World, component_size: usize) -> Judgement {
    let kommune_of = |ctx: Option<&str>| {
        ctx.and_then(|c| s.contexts.get(c))
            .map(|c| c.kommunenummer.clone())
            .unwrap_or_else(|| "4601".into())
    };
    let patient_of = |ctx: Option<&str>| {
        ctx.and_then(|c| s.contexts.get(c))
            .and_then(|c| c.patient.clone())
    };
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
    match a {
        Assertion::CallsSucceed => {
            // Judged on the outcome; egress attempts are judged by their own vilkår.
            let bad: Vec<String> = calls(s)
                .filter(|(_, c)| !matches!(c.outcome, CallOutcome::Ok { .. }))
                .map(|(i, c)| describe(i, c))
                .collect();
            if bad.is_empty() {
                pass("alle kall fullførte med ok / every call completed ok")
            } else {
                fail("ikke alle kall lyktes / not every call succeeded", bad)
            }
        }
        Assertion::NoTrap => {
            let bad: Vec<String> = calls(s)
                .filter(|(_, c)| matches!(c.outcome, CallOutcome::Failure { .. }))
                .map(|(i, c)| describe(i, c))
                .collect();
            if bad.is_empty() {
                pass("ingen kall krasjet / no call trapped or hit a limit")
            } else {
                fail(
                    "et kall krasjet eller nådde en grense / a call trapped or hit a limit",
                    bad,
                )
            }
        }
        Assertion::StepReturnsError { step, code } => {
            match s.steps.get(*step).and_then(|st| st.call.as_ref()) {
                Some(c) => match &c.outcome {
                    CallOutcome::AdapterError { code: got, .. } if got == code => pass(format!(
                        "steg {step} returnerte {code} / step {step} returned {code}"
                    )),
                    _ => fail(
                        format!(
                            "steg {step} skulle returnere adapter-error `{code}` / step {step} should return adapter-error `{code}`"
                        ),
                        vec![describe(*step, c)],
                    ),
                },
                None => error(format!(
                    "steg {step} ble ikke kjørt / step {step} did not run"
                )),
            }
        }
        Assertion::OverviewIsValidBundle => {
            if overviews(s).next().is_none() {
                return error("ingen oversikt ble hentet / no overview was requested");
            }
            let mut problems = Vec::new();
            for (i, c, _) in overviews(s) {
                let Some(text) = output(c) else {
                    problems.push(describe(i, c));
                    continue;
                };
                let bundle: Value = match serde_json::from_str(text) {
                    Ok(v) => v,
                    Err(e) => {
                        problems.push(format!("steg {i}: ikke JSON / not JSON: {e}"));
                        continue;
                    }
                };
                if bundle["resourceType"] != "Bundle" || bundle["type"] != "collection" {
                    problems.push(format!(
                        "steg {i}: resourceType={} type={} (skal være Bundle/collection)",
                        bundle["resourceType"], bundle["type"]
                    ));
                }
                // The shell and each entry's resource by its own type (validating the Bundle
                // whole would match every entry against all 140 resource types).
                let mut shell = bundle.clone();
                if let Some(entries) = shell["entry"].as_array_mut() {
                    for e in entries.iter_mut() {
                        if let Some(obj) = e.as_object_mut() {
                            obj.remove("resource");
                        }
                    }
                }
                let resources = bundle["entry"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|e| e.get("resource"));
                for r in std::iter::once(&shell).chain(resources) {
                    if let Err(e) = sandkasse_fhir::schema::validate(r) {
                        problems.push(format!("steg {i}: {}", excerpt(&e.to_string())));
                    }
                }
                for e in bundle["entry"].as_array().into_iter().flatten() {
                    // A notice may come as the platform served it, without a fullUrl.
                    let Some(url) = e.get("fullUrl") else {
                        if e["resource"]["resourceType"] == "OperationOutcome" {
                            continue;
                        }
                        problems.push(format!(
                            "steg {i}: en entry mangler fullUrl / an entry lacks fullUrl: {}",
                            e["resource"]["resourceType"]
                        ));
                        break;
                    };
                    // R4 Bundle.entry.fullUrl: an absolute URL (or a urn:uuid:/urn:oid:), never relative.
                    if !url.as_str().is_some_and(|u| {
                        ["https://", "http://", "urn:uuid:", "urn:oid:"]
                            .iter()
                            .any(|p| u.starts_with(p))
                    }) {
                        problems.push(format!(
                            "steg {i}: fullUrl er ikke absolutt / fullUrl is not absolute: {url}"
                        ));
                        break;
                    }
                }
            }
            if problems.is_empty() {
                pass("gyldig FHIR R4 Bundle (collection) / a valid FHIR R4 collection Bundle")
            } else {
                fail(
                    "oversikten er ikke en gyldig FHIR R4 Bundle av typen collection / the overview is not a valid FHIR R4 collection Bundle",
                    problems,
                )
            }
        }
        Assertion::OverviewComplete { types } => {
            let mut missing = Vec::new();
            let mut judged = 0;
            for (i, c, ctx) in overviews(s) {
                let (Some(patient), kommune) = (patient_of(ctx), kommune_of(ctx)) else {
                    continue;
                };
                let Some(tenant) = world.dataset.tenant(&kommune) else {
                    continue;
                };
                let Some(bundle) = output(c).and_then(|t| serde_json::from_str::<Value>(t).ok())
                else {
                    missing.push(describe(i, c));
                    continue;
                };
                judged += 1;
                let have = bundle_refs(&bundle);
                let sperret_or_shielded: BTreeSet<&str> = tenant
                    .truth
                    .shielded
                    .iter()
                    .map(|x| x.id.as_str())
                    .collect();
                let mut expected: Vec<String> = tenant
                    .resources
                    .iter()
                    .filter(|r| r.patient.as_deref() == Some(patient.as_str()))
                    .filter(|r| {
                        types.iter().any(|t| t == r.resource_type)
                            && !sperret_or_shielded.contains(r.id.as_str())
                    })
                    .map(|r| format!("{}/{}", r.resource_type, r.id))
                    .collect();
                expected.push(format!("Patient/{patient}"));
                for e in expected {
                    if !have.contains(&e) {
                        missing.push(format!("steg {i}: mangler / missing {e}"));
                    }
                }
            }
            if judged == 0 && missing.is_empty() {
                error("ingen oversikt å vurdere / no overview to judge")
            } else if missing.is_empty() {
                pass(format!(
                    "alle {} ressurser pasienten har og brukeren får se, er med / every visible resource is included",
                    types.join(", ")
                ))
            } else {
                fail(
                    "oversikten mangler opplysninger plattformen ga tilgang til / the overview lacks information the platform made available",
                    missing,
                )
            }
        }
        Assertion::WithheldNoticeSurfaced => crate::fidelity::notices_surfaced(s),
        Assertion::PagingFollowed => {
            let mut judged = 0;
            let mut bad = Vec::new();
            for (i, st) in s
                .steps
                .iter()
                .enumerate()
                .filter(|(_, st)| matches!(st.step, Step::PatientOverview { .. }))
            {
                let mut last: std::collections::BTreeMap<&str, (usize, bool)> =
                    std::collections::BTreeMap::new();
                for p in &st.pages {
                    let e = last.entry(p.resource_type.as_str()).or_insert((0, false));
                    *e = (e.0 + 1, p.next);
                }
                judged += last
                    .values()
                    .filter(|(pages, next)| *pages > 1 || *next)
                    .count();
                for (t, (pages, next)) in &last {
                    if *next {
                        bad.push(format!("steg {i}: {t}: stoppet etter {pages} sider med flere igjen / stopped after {pages} pages with more to come"));
                    }
                }
            }
            if judged == 0 {
                error("ingen søk gikk over flere sider / no search went over several pages")
            } else if bad.is_empty() {
                pass(format!(
                    "{judged} søk over flere sider fulgt til siste side / searches over several pages followed to the last page"
                ))
            } else {
                fail(
                    "adapteren fulgte ikke søket til siste side / the adapter did not follow the search to its last page",
                    bad,
                )
            }
        }
        Assertion::ShieldedNeverShown => {
            let mut problems = Vec::new();
            for (i, c) in calls(s) {
                let text = format!(
                    "{}\n{}\n{}",
                    output_text(c),
                    c.stdout,
                    c.logs
                        .iter()
                        .map(|l| l.message.as_str())
                        .collect::<Vec<_>>()
                        .join("\n")
                );
                for t in &world.dataset.tenants {
                    for sh in &t.truth.shielded {
                        let address_only = matches!(
                            sh.skjerming,
                            sandkasse_kommune::Skjerming::FortroligAdresse
                                | sandkasse_kommune::Skjerming::StrengtFortroligAdresse
                        );
                        if !address_only
                            && text.contains(&format!("{}/{}", sh.resource_type, sh.id))
                        {
                            problems.push(format!(
                                "steg {i}: skjermet {} vist / shielded {}/{} shown",
                                sh.skjerming.code(),
                                sh.resource_type,
                                sh.id
                            ));
                        }
                        // The address is shielded when it is shown with its person.
                        if address_only
                            && text.contains(&format!("\"{}\"", sh.id))
                            && let Some(line) = t
                                .resources
                                .iter()
                                .find(|r| r.resource_type == "Patient" && r.id == sh.id)
                                .and_then(|r| r.json["address"][0]["line"][0].as_str())
                            && text.contains(line)
                        {
                            problems.push(format!("steg {i}: skjermet adresse vist / shielded address of Patient/{} shown", sh.id));
                        }
                    }
                }
            }
            if problems.is_empty() {
                pass(
                    "ingen skjermede opplysninger i utdata / no shielded information in any output",
                )
            } else {
                fail(
                    "skjermede opplysninger ble vist / shielded information was shown",
                    problems,
                )
            }
        }
        Assertion::TokenOnEveryRequest => {
            let bad: Vec<String> = calls(s)
                .flat_map(|(_, c)| platform_exchanges(c))
                .filter(|x| {
                    !x.request_line.contains("/auth/token")
                        && !x.request_line.ends_with("/metadata")
                })
                .filter(|x| {
                    header(&x.request_headers, "authorization")
                        .is_none_or(|v| !v.starts_with("Bearer"))
                })
                .map(|x| format!("uten token / without token: {}", x.request_line))
                .collect();
            if bad.is_empty() {
                pass("token på hver forespørsel / a bearer token on every request")
            } else {
                fail(
                    "forespørsler uten token / requests without the bearer token",
                    bad,
                )
            }
        }
        Assertion::TokenOnlyInHeader => {
            let tokens: Vec<&str> = s
                .contexts
                .values()
                .map(|c| c.access_token.as_str())
                .filter(|t| !t.is_empty())
                .collect();
            let mut bad = Vec::new();
            for (i, c) in calls(s) {
                // The sandbox redacts the token wherever the component put it; outside the
                // Authorization header the redaction itself is the evidence.
                for x in &c.exchanges {
                    if x.request_line.contains(REDACTED) {
                        bad.push(format!(
                            "steg {i}: token i URL-en / token in the URL: {}",
                            x.request_line
                        ));
                    }
                    if x.request_body
                        .as_deref()
                        .is_some_and(|b| b.contains(REDACTED))
                    {
                        bad.push(format!("steg {i}: token i forespørselens innhold / token in the request body: {}", x.request_line));
                    }
                    for (name, value) in &x.request_headers {
                        if !name.eq_ignore_ascii_case("authorization") && value.contains(REDACTED) {
                            bad.push(format!(
                                "steg {i}: token i headeren / token in the header `{name}`: {}",
                                x.request_line
                            ));
                        }
                    }
                }
                if c.logs.iter().any(|l| l.message.contains(REDACTED))
                    || c.stdout.contains(REDACTED)
                    || c.stderr.contains(REDACTED)
                {
                    bad.push(format!("steg {i}: token i loggen / token in the log"));
                }
                if tokens.iter().any(|t| output_text(c).contains(t)) {
                    bad.push(format!(
                        "steg {i}: token i resultatet / token in the result of `{}`",
                        c.call
                    ));
                }
            }
            if bad.is_empty() {
                pass(
                    "token bare i Authorization-headeren / the token only in the Authorization header",
                )
            } else {
                fail(
                    "tokenet lekker utenfor Authorization-headeren / the token leaks outside the Authorization header",
                    bad,
                )
            }
        }
        Assertion::ForeignLinksNotFollowed => {
            // A request to a host the platform pointed to in the same step (a link, a
            // `fullUrl`, a `Location`): a link followed. Other egress is SIK-02's.
            let mut bad = Vec::new();
            for (i, st) in s.steps.iter().enumerate() {
                let Some(c) = &st.call else { continue };
                for x in &c.exchanges {
                    if let Disposition::RefusedEgress { authority } = &x.disposition
                        && st.elsewhere.contains(&authority.to_ascii_lowercase())
                    {
                        let token = header(&x.request_headers, "authorization").is_some();
                        bad.push(format!(
                            "steg {i}: {}{}",
                            x.request_line,
                            if token {
                                " (med token / with the token)"
                            } else {
                                ""
                            }
                        ));
                    }
                }
            }
            if s.steps.iter().all(|st| st.elsewhere.is_empty()) {
                error(
                    "plattformen sendte ingen lenke eller omdirigering til en annen vert / the platform sent no link or redirect to another host",
                )
            } else if bad.is_empty() {
                pass(
                    "lenker og omdirigeringer til andre verter ble ikke fulgt / links and redirects to other hosts were not followed",
                )
            } else {
                fail(
                    "adapteren fulgte en lenke eller omdirigering til en annen vert enn plattformen / the adapter followed a link or redirect to a host other than the platform",
                    bad,
                )
            }
        }
        Assertion::NoEgress => {
            let bad: Vec<String> = calls(s)
                .flat_map(|(_, c)| c.exchanges.iter())
                .filter(|x| matches!(x.disposition, Disposition::RefusedEgress { .. }))
                .map(|x| format!("stoppet / refused: {}", x.request_line))
                .collect();
            if bad.is_empty() {
                pass("ingen trafikk utenom plattformen / no traffic but to the platform")
            } else {
                fail(
                    "adapteren prøvde å sende data til en annen vert / the adapter tried to send data to another host",
                    bad,
                )
            }
        }
        Assertion::NoPatientSearch => {
            let bad: Vec<String> = calls(s)
                .flat_map(|(_, c)| platform_exchanges(c))
                .filter(|x| matches!(target(&x.request_line), Some((t, None)) if t == "Patient"))
                .map(|x| x.request_line.clone())
                .collect();
            if bad.is_empty() {
                pass("pasienten i konteksten brukes direkte / the launch patient is used directly")
            } else {
                fail(
                    "adapteren søkte etter pasienten i stedet for å bruke konteksten / the adapter searched for the patient instead of using the launch context",
                    bad,
                )
            }
        }
        Assertion::OnlyContextPatient => {
            let mut bad = Vec::new();
            for (i, st) in s.steps.iter().enumerate() {
                let (Some(c), ctx) = (
                    &st.call,
                    match &st.step {
                        Step::PatientOverview { context }
                        | Step::Document { context, .. }
                        | Step::OnEvent { context, .. } => Some(context.as_str()),
                        _ => None,
                    },
                ) else {
                    continue;
                };
                let (Some(patient), kommune) = (patient_of(ctx), kommune_of(ctx)) else {
                    continue;
                };
                for x in platform_exchanges(c) {
                    // A `_cursor` continues a search the platform already scoped (HMAC-protected);
                    // writes are judged by what they name (writes-carry-context), not here.
                    let write = x.request_line.starts_with("PUT")
                        || (x.request_line.starts_with("POST")
                            && !x.request_line.contains("/_search"));
                    if write || param(&x.request_line, "_cursor").is_some() {
                        continue;
                    }
                    let Some((t, id)) = target(&x.request_line) else {
                        continue;
                    };
                    let concerns = match (&id, t.as_str()) {
                        (Some(id), "Patient") => Some(id.clone()),
                        (Some(id), _) => world
                            .owner
                            .get(&(kommune.clone(), t.clone(), id.clone()))
                            .cloned(),
                        (None, "Patient") => Some(
                            param(&x.request_line, "_id")
                                .map(str::to_owned)
                                .or_else(|| {
                                    let value = param(&x.request_line, "identifier")?
                                        .replace("%7C", "|")
                                        .replace("%7c", "|");
                                    let value = value.rsplit('|').next()?.to_owned();
                                    world
                                        .dataset
                                        .tenant(&kommune)?
                                        .truth
                                        .patients
                                        .iter()
                                        .find(|p| p.identifier == value)
                                        .map(|p| p.id.clone())
                                })
                                .unwrap_or_else(|| "*".to_owned()),
                        ),
                        (None, _) => param(&x.request_line, "patient")
                            .or_else(|| param(&x.request_line, "subject"))
                            .map(|p| {
                                p.trim_start_matches("Patient/")
                                    .trim_start_matches("Patient%2F")
                                    .to_owned()
                            })
                            .or_else(|| {
                                sandkasse_platform::types::is_patient_data(&t)
                                    .then(|| "*".to_owned())
                            }),
                    };
                    if let Some(p) = concerns
                        && p != patient
                    {
                        bad.push(format!(
                            "steg {i}: {} (pasient / patient {p})",
                            x.request_line
                        ));
                    }
                }
            }
            if bad.is_empty() {
                pass(
                    "bare pasienten i konteksten ble slått opp / only the patient in context was looked up",
                )
            } else {
                fail(
                    "adapteren slo opp andre pasienter enn den i konteksten (tjenstlig behov) / the adapter looked up patients other than the one in context",
                    bad,
                )
            }
        }
        Assertion::NoPersonalDataInLogs => {
            // What identifies a person or tells about their health: fødselsnummer/D-nummer, name,
            // the platform's patient id, the street address, and the free text of a note the
            // scenario documented.
            let notes: Vec<String> = s
                .steps
                .iter()
                .filter_map(|st| match &st.step {
                    Step::Document { context, entry } => s
                        .contexts
                        .get(context)
                        .map(|ctx| crate::run::entry(entry, ctx)),
                    _ => None,
                })
                .filter_map(|e| match e {
                    sandkasse_sandbox::types::ClinicalEntry::CareNote(n) => {
                        Some(n.text.chars().take(40).collect())
                    }
                    _ => None,
                })
                .collect();
            let mut bad = Vec::new();
            for (i, c) in calls(s) {
                let message = match &c.outcome {
                    CallOutcome::AdapterError { message, .. } => message.as_str(),
                    _ => "",
                };
                let lines = c
                    .logs
                    .iter()
                    .map(|l| l.message.as_str())
                    .chain(c.stdout.lines())
                    .chain(c.stderr.lines())
                    .chain(message.lines());
                for line in lines {
                    let mut shown = line.to_owned();
                    let mut found = Vec::new();
                    for p in world
                        .dataset
                        .tenants
                        .iter()
                        .flat_map(|t| t.truth.patients.iter())
                    {
                        for (value, mask, what) in [
                            (&p.identifier, "<fødselsnummer>", "fødselsnummer/D-nummer"),
                            (&p.name, "<navn>", "navn / name"),
                            (&p.id, "<pasient-id>", "pasient-id / patient id"),
                        ] {
                            if shown.contains(value.as_str()) {
                                shown = shown.replace(value.as_str(), mask);
                                found.push(what);
                            }
                        }
                    }
                    for line in &world.addresses {
                        if shown.contains(line.as_str()) {
                            shown = shown.replace(line.as_str(), "<adresse>");
                            found.push("adresse / address");
                        }
                    }
                    for text in &notes {
                        if shown.contains(text.as_str()) {
                            shown = shown.replace(text.as_str(), "<notat>");
                            found.push("notattekst / note text");
                        }
                    }
                    if !found.is_empty() {
                        found.dedup();
                        bad.push(format!(
                            "steg {i}: {} i / in: {}",
                            found.join(", "),
                            excerpt(&shown)
                        ));
                    }
                }
            }
            if bad.is_empty() {
                pass("ingen personopplysninger i logger / no personal data in logs")
            } else {
                fail(
                    "loggene inneholder personopplysninger / the logs contain personal data",
                    bad,
                )
            }
        }
        Assertion::RetryAfterHonoured => {
            let mut judged = 0;
            let mut bad = Vec::new();
            for (_, c) in calls(s) {
                let xs: Vec<_> = platform_exchanges(c).collect();
                for w in xs.windows(2) {
                    let (a, b) = (w[0], w[1]);
                    if !matches!(a.status, Some(429 | 503)) {
                        continue;
                    }
                    let Some(secs) = header(&a.response_headers, "retry-after")
                        .and_then(|v| v.trim().parse::<u64>().ok())
                    else {
                        continue;
                    };
                    judged += 1;
                    if b.sent_ms < a.received_ms + secs * 1000 {
                        bad.push(format!(
                            "{} → {} med Retry-After {secs}: neste forespørsel etter {} ms / next request after {} ms",
                            a.request_line, a.status.unwrap_or(0), b.sent_ms - a.received_ms, b.sent_ms - a.received_ms
                        ));
                    }
                }
            }
            if judged == 0 {
                error(
                    "ingen 429/503 med Retry-After ble fulgt av en ny forespørsel / no 429/503 with Retry-After was followed by another request",
                )
            } else if bad.is_empty() {
                pass("Retry-After ble respektert / Retry-After was honoured")
            } else {
                fail(
                    "adapteren ventet ikke så lenge plattformen ba om / the adapter did not wait as long as the platform asked",
                    bad,
                )
            }
        }
        Assertion::RetriesBounded { max } | Assertion::RequestsWithin { max } => {
            let bad: Vec<String> = calls(s)
                .filter(|(_, c)| c.exchanges.len() > *max || c.class == "request-limit")
                .map(|(i, c)| format!("steg {i} `{}`: {} forespørsler (høyst {max}) / {} requests (at most {max})", c.call, c.exchanges.len(), c.exchanges.len()))
                .collect();
            if bad.is_empty() {
                pass(format!(
                    "høyst {max} forespørsler per kall / at most {max} requests per call"
                ))
            } else {
                fail(
                    format!(
                        "for mange forespørsler mot plattformen / too many requests to the platform (at most {max})"
                    ),
                    bad,
                )
            }
        }
        Assertion::RefusalsNotRetried => {
            let mut judged = 0;
            let mut bad = Vec::new();
            for (i, c) in calls(s) {
                let xs: Vec<_> = platform_exchanges(c).collect();
                for (k, x) in xs
                    .iter()
                    .enumerate()
                    .filter(|(_, x)| matches!(x.status, Some(401 | 403 | 404)))
                {
                    judged += 1;
                    let again = xs[k + 1..]
                        .iter()
                        .filter(|y| y.request_line == x.request_line)
                        .count();
                    if again > 0 {
                        bad.push(format!("steg {i}: {} → {} sendt {again} gang(er) til / sent {again} more time(s)", x.request_line, x.status.unwrap_or(0)));
                    }
                }
            }
            if judged == 0 {
                error(
                    "plattformen avviste ingen forespørsel med 401, 403 eller 404 / the platform refused no request with 401, 403 or 404",
                )
            } else if bad.is_empty() {
                pass(
                    "avviste forespørsler ble ikke sendt på nytt / refused requests were not sent again",
                )
            } else {
                fail(
                    "adapteren sendte en avvist forespørsel på nytt / the adapter sent a refused request again",
                    bad,
                )
            }
        }
        Assertion::NoOverFetching {
            max_unshown_percent,
        } => crate::fidelity::no_over_fetching(s, *max_unshown_percent),
        Assertion::SameOutput { a, b } => {
            let (x, y) = (
                s.steps.get(*a).and_then(|st| st.call.as_ref()),
                s.steps.get(*b).and_then(|st| st.call.as_ref()),
            );
            match (x, y) {
                (Some(x), Some(y)) if output(x).is_none() || output(y).is_none() => error(format!(
                    "stegene {a} og {b} ga ikke et resultat å sammenligne / steps {a} and {b} gave no result to compare"
                )),
                (Some(x), Some(y)) if output_text(x) == output_text(y) && x.class == y.class => {
                    pass("samme svar på samme spørsmål / the same answer to the same question")
                }
                (Some(x), Some(y)) => fail(
                    "to like kall ga ulikt svar / two identical calls gave different answers",
                    vec![
                        format!("steg {a}: {}", excerpt(&output_text(x))),
                        format!("steg {b}: {}", excerpt(&output_text(y))),
                    ],
                ),
                _ => error("stegene ble ikke kjørt / the steps did not run"),
            }
        }
        Assertion::NoLeakBetweenContexts { step } => {
            let Some(st) = s.steps.get(*step) else {
                return error("steget finnes ikke / the step does not exist");
            };
            let Some(c) = &st.call else {
                return error("steget ble ikke kjørt / the step did not run");
            };
            if output(c).is_none() {
                return error(format!(
                    "steg {step} ga ingen oversikt / step {step} gave no overview: {}",
                    describe(*step, c)
                ));
            }
            let own = match &st.step {
                Step::PatientOverview { context } => patient_of(Some(context)),
                _ => None,
            };
            let text = output_text(c);
            let mut bad = Vec::new();
            for (name, ctx) in &s.contexts {
                let Some(other) = &ctx.patient else { continue };
                if Some(other) == own.as_ref() {
                    continue;
                }
                let Some(tenant) = world.dataset.tenant(&ctx.kommunenummer) else {
                    continue;
                };
                for r in tenant
                    .resources
                    .iter()
                    .filter(|r| r.patient.as_deref() == Some(other.as_str()))
                {
                    if text.contains(&format!("\"{}\"", r.id)) {
                        bad.push(format!(
                            "{}/{} fra konteksten `{name}` / from context `{name}`",
                            r.resource_type, r.id
                        ));
                    }
                }
            }
            if bad.is_empty() {
                pass(
                    "ingen opplysninger fra andre pasientkontekster / nothing from other patient contexts",
                )
            } else {
                fail(
                    "oversikten inneholder opplysninger om en annen pasient enn den i konteksten / the overview contains information about another patient than the one in context",
                    bad,
                )
            }
        }
        Assertion::SperringRespected { step } => {
            let blocked: Vec<&String> = s
                .steps
                .iter()
                .filter_map(|st| st.blocked.as_ref())
                .collect();
            if blocked.is_empty() {
                return error("ingen sperring ble lagt inn / no sperring was written");
            }
            let Some(c) = s.steps.get(*step).and_then(|st| st.call.as_ref()) else {
                return error("steget ble ikke kjørt / the step did not run");
            };
            if output(c).is_none() {
                return error(format!(
                    "steg {step} ga ingen oversikt / step {step} gave no overview: {}",
                    describe(*step, c)
                ));
            }
            let text = output_text(c);
            let shown: Vec<String> = blocked
                .iter()
                .filter(|b| text.contains(&format!("\"{}\"", b.split('/').nth(1).unwrap_or(b))))
                .map(|b| format!("{b} er sperret, men vises i steg {step} / is blocked but shown in step {step}"))
                .collect();
            if shown.is_empty() {
                pass(
                    "det sperrede dokumentet vises ikke lenger / the blocked document is no longer shown",
                )
            } else {
                fail(
                    "sperringen ble ikke respektert (bufret data?) / the sperring was not respected (stale cache?)",
                    shown,
                )
            }
        }
        Assertion::FuelWithin { max } => {
            let bad: Vec<String> = calls(s)
                .filter(|(_, c)| c.fuel_used > *max)
                .map(|(i, c)| format!("steg {i} `{}`: {} fuel", c.call, c.fuel_used))
                .collect();
            if bad.is_empty() {
                pass(format!("høyst {max} fuel per kall"))
            } else {
                fail(
                    format!(
                        "for mye CPU (fuel) per kall, grensen er {max} / too much CPU per call"
                    ),
                    bad,
                )
            }
        }
        Assertion::MemoryWithin { max_bytes } => {
            let bad: Vec<String> = calls(s)
                .filter(|(_, c)| c.peak_memory_bytes > *max_bytes)
                .map(|(i, c)| format!("steg {i} `{}`: {} byte", c.call, c.peak_memory_bytes))
                .collect();
            if bad.is_empty() {
                pass(format!("høyst {max_bytes} byte minne"))
            } else {
                fail(
                    format!("for mye minne, grensen er {max_bytes} byte / too much memory"),
                    bad,
                )
            }
        }
        Assertion::ComponentSizeWithin { max_bytes } => {
            if component_size as u64 <= *max_bytes {
                pass(format!("{component_size} byte"))
            } else {
                fail(
                    format!(
                        "komponenten er {component_size} byte, grensen er {max_bytes} / the component is too large"
                    ),
                    vec![],
                )
            }
        }
        Assertion::WritesAccepted => {
            let mut bad: Vec<String> = calls(s)
                .filter(|(_, c)| {
                    c.call == "document" && !matches!(c.outcome, CallOutcome::Ok { .. })
                })
                .map(|(i, c)| describe(i, c))
                .collect();
            for (_, c) in calls(s) {
                for x in platform_exchanges(c).filter(|x| matches!(x.status, Some(400 | 422))) {
                    bad.push(format!(
                        "{} → {}: {}",
                        x.request_line,
                        x.status.unwrap_or(0),
                        excerpt(x.response_body.as_deref().unwrap_or(""))
                    ));
                }
            }
            for r in &s.written {
                if let Err(e) = sandkasse_fhir::schema::validate(r) {
                    bad.push(excerpt(&e.to_string()));
                }
            }
            if s.written.is_empty() && bad.is_empty() {
                bad.push("ingenting ble skrevet / nothing was written".into());
            }
            if bad.is_empty() {
                pass(format!(
                    "{} ressurser skrevet og godtatt / resources written and accepted",
                    s.written.len()
                ))
            } else {
                fail(
                    "plattformen avviste det adapteren skrev / the platform rejected what the adapter wrote",
                    bad,
                )
            }
        }
        Assertion::WritesCarryContext => {
            let mut bad = Vec::new();
            let names_practitioner = |text: &str| {
                s.contexts.values().any(|c| {
                    let practitioner = world.dataset.tenant(&c.kommunenummer).and_then(|t| {
                        t.truth
                            .practitioners
                            .iter()
                            .find(|p| p.hpr == c.practitioner_hpr)
                    });
                    text.contains(&c.practitioner_hpr)
                        || practitioner
                            .is_some_and(|p| text.contains(&format!("Practitioner/{}", p.id)))
                })
            };
            for r in s
                .written
                .iter()
                .filter(|r| r["resourceType"] != "Provenance" && r["resourceType"] != "Consent")
            {
                let reference = format!(
                    "{}/{}",
                    r["resourceType"].as_str().unwrap_or("?"),
                    r["id"].as_str().unwrap_or("?")
                );
                // The practitioner in the resource (author, performer, careManager …) or in a
                // Provenance agent that targets it.
                let by_provenance = s
                    .written
                    .iter()
                    .filter(|p| p["resourceType"] == "Provenance")
                    .any(|p| {
                        let (rtype, id) = reference.split_once('/').unwrap_or_default();
                        let targets = p["target"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .any(|t| crate::fidelity::refers_to(t, rtype, id, None));
                        targets
                            && p["agent"]
                                .as_array()
                                .into_iter()
                                .flatten()
                                .any(|a| names_practitioner(&a["who"].to_string()))
                    });
                let text = r.to_string();
                let who = names_practitioner(&text) || by_provenance;
                let whom = s.contexts.values().any(|c| {
                    c.patient
                        .as_ref()
                        .is_some_and(|p| text.contains(&format!("Patient/{p}")))
                });
                // Another practitioner as author or performer is the wrong identity, whatever a
                // Provenance says.
                let ours: Vec<String> = s
                    .contexts
                    .values()
                    .filter_map(|c| {
                        world
                            .dataset
                            .tenant(&c.kommunenummer)?
                            .truth
                            .practitioners
                            .iter()
                            .find(|p| p.hpr == c.practitioner_hpr)
                    })
                    .map(|p| p.id.clone())
                    .collect();
                let others: BTreeSet<&str> = text
                    .split("Practitioner/")
                    .skip(1)
                    .map(|rest| {
                        rest.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '.'))
                            .next()
                            .unwrap_or("")
                    })
                    .filter(|id| !id.is_empty() && !ours.iter().any(|o| o == id))
                    .collect();
                for other in &others {
                    bad.push(format!("{reference}: nevner et annet helsepersonell / names another practitioner: Practitioner/{other}"));
                }
                if !who || !whom {
                    bad.push(format!(
                        "{}/{}: {}{}",
                        r["resourceType"].as_str().unwrap_or("?"),
                        r["id"].as_str().unwrap_or("?"),
                        if who {
                            ""
                        } else {
                            "mangler helsepersonellet / lacks the practitioner; "
                        },
                        if whom {
                            ""
                        } else {
                            "mangler pasienten / lacks the patient"
                        }
                    ));
                }
            }
            if s.written.is_empty() {
                error("ingenting ble skrevet / nothing was written")
            } else if bad.is_empty() {
                pass(
                    "det skrevne bærer pasient og helsepersonell / what was written names the patient and the practitioner",
                )
            } else {
                fail(
                    "skrevne ressurser mangler konteksten / written resources lack the launch context",
                    bad,
                )
            }
        }
        Assertion::WritesIdempotent => {
            if s.written.is_empty() {
                return error("ingenting ble skrevet / nothing was written");
            }
            let mut bad = Vec::new();
            for (i, st) in s.steps.iter().enumerate().skip(1) {
                let prev = &s.steps[i - 1];
                if let (Step::Document { entry: a, .. }, Step::Document { entry: b, .. }) =
                    (&prev.step, &st.step)
                    && a == b
                    && st.written_after != prev.written_after
                {
                    bad.push(format!("steg {i} gjentok steg {} og la til {} ressurser / repeated step {} and added {} resources", i - 1, st.written_after - prev.written_after, i - 1, st.written_after - prev.written_after));
                }
            }
            if bad.is_empty() {
                pass("gjentatte registreringer lagres én gang / repeated entries are stored once")
            } else {
                fail(
                    "en gjentatt registrering ble lagret på nytt (duplikat) / a repeated entry was stored again (duplicate)",
                    bad,
                )
            }
        }
        Assertion::SensitiveLabelled => {
            let notes: Vec<&Value> = s
                .written
                .iter()
                .filter(|r| r["resourceType"] == "DocumentReference")
                .collect();
            if notes.is_empty() {
                return fail(
                    "notatet ble ikke skrevet / the note was not written",
                    vec![],
                );
            }
            let labelled = notes.iter().all(|r| {
                r["meta"]["security"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|l| l["code"] == "sensitivt-notat")
            });
            if labelled {
                pass("notatet er merket sensitivt / the note carries the sensitivity label")
            } else {
                fail(
                    "et notat brukeren merket sensitivt ble skrevet uten merking, så plattformen skjermer det ikke / a note the user marked sensitive was written without the label, so the platform does not shield it",
                    vec![],
                )
            }
        }
        Assertion::ReturnedIdsMatch => {
            let stored: BTreeSet<String> = s
                .written
                .iter()
                .filter_map(|r| {
                    Some(format!(
                        "{}/{}",
                        r["resourceType"].as_str()?,
                        r["id"].as_str()?
                    ))
                })
                .collect();
            let mut bad = Vec::new();
            let mut judged = 0;
            for (i, c) in calls(s).filter(|(_, c)| c.call == "document") {
                if let CallOutcome::Ok { value } = &c.outcome {
                    let ids: Vec<&str> = value
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                        .collect();
                    let stored_here = s.steps.get(i).is_some_and(|st| !st.written.is_empty());
                    if ids.is_empty() && (stored_here || !stored.is_empty()) {
                        bad.push(format!("steg {i}: adapteren returnerte ingen id-er / the adapter returned no ids"));
                    }
                    judged += ids.len();
                    for id in ids {
                        if !stored.contains(id) {
                            bad.push(format!("steg {i}: {id} finnes ikke på plattformen / does not exist on the platform"));
                        }
                    }
                }
            }
            if judged == 0 && bad.is_empty() {
                error(
                    "ingen id ble returnert og ingenting lagret / no id was returned and nothing stored",
                )
            } else if bad.is_empty() {
                pass(
                    "id-ene som ble returnert finnes på plattformen / the returned ids exist on the platform",
                )
            } else {
                fail(
                    "adapteren returnerte id-er plattformen ikke har / the adapter returned ids the platform does not have",
                    bad,
                )
            }
        }
        Assertion::OtherKommuneIgnored { step } => {
            match s.steps.get(*step).and_then(|st| st.call.as_ref()) {
                Some(c) => {
                    let ignored = matches!(&c.outcome, CallOutcome::Ok { value } if value.get("ignored").is_some());
                    if ignored && platform_exchanges(c).next().is_none() {
                        pass(
                            "hendelsen fra en annen kommune ble ignorert / the other kommune's event was ignored",
                        )
                    } else {
                        let mut ev = vec![describe(*step, c)];
                        ev.extend(c.exchanges.iter().map(|x| x.request_line.clone()));
                        fail(
                            "en hendelse fra en annen kommune ble behandlet / an event of another kommune was processed",
                            ev,
                        )
                    }
                }
                None => error("steget ble ikke kjørt / the step did not run"),
            }
        }
        Assertion::EventFetched { step } => {
            let Some(st) = s.steps.get(*step) else {
                return error("steget finnes ikke / the step does not exist");
            };
            let (Some(c), Some(e)) = (&st.call, &st.event) else {
                return error("steget ble ikke kjørt / the step did not run");
            };
            let reference = format!("{}/{}", e.resource_type, e.resource_id);
            let named = matches!(&c.outcome, CallOutcome::Ok { value } if value["processed"].as_array().is_some_and(|a| a.iter().any(|v| v == reference.as_str())));
            let fetched = platform_exchanges(c).any(|x| {
                x.request_line.starts_with("GET")
                    && x.request_line.contains(&reference)
                    && x.status == Some(200)
            });
            if named && fetched {
                pass(format!("{reference} ble hentet / was fetched"))
            } else {
                fail(
                    format!(
                        "hendelsen førte ikke til oppslag av {reference} / the event did not lead to a lookup of {reference}"
                    ),
                    vec![describe(*step, c)],
                )
            }
        }
        Assertion::RedeliveryHarmless => {
            let mut bad = Vec::new();
            let mut judged = 0;
            for (i, st) in s.steps.iter().enumerate() {
                if let (
                    Step::OnEvent {
                        event: crate::model::EventTemplate::Redelivered,
                        ..
                    },
                    Some(c),
                ) = (&st.step, &st.call)
                {
                    // Harmless only means something when the first delivery did something.
                    let first = st.event.as_ref().and_then(|e| {
                        s.steps
                            .iter()
                            .find(|o| o.event.as_ref().is_some_and(|x| x.event_id == e.event_id))
                            .and_then(|o| o.call.as_ref())
                    });
                    if first.is_none_or(|f| platform_exchanges(f).next().is_none()) {
                        continue;
                    }
                    judged += 1;
                    if matches!(c.outcome, CallOutcome::Failure { .. }) {
                        bad.push(describe(i, c));
                    }
                    for x in platform_exchanges(c) {
                        let write =
                            x.request_line.starts_with("POST") || x.request_line.starts_with("PUT");
                        if write && matches!(x.status, Some(200..=299)) {
                            bad.push(format!(
                                "steg {i}: gjentatt levering skrev / redelivery wrote: {} → {}",
                                x.request_line,
                                x.status.unwrap_or(0)
                            ));
                        }
                    }
                }
            }
            if judged == 0 {
                error(
                    "ingen hendelse som ble behandlet ved første levering, ble levert på nytt / no event handled at its first delivery was delivered again",
                )
            } else if bad.is_empty() {
                pass("gjentatt levering endret ingenting / redelivery changed nothing")
            } else {
                fail(
                    "en gjentatt hendelse ga nye skrivinger / a redelivered event caused new writes",
                    bad,
                )
            }
        }
        Assertion::WritesFaithful => crate::fidelity::writes_faithful(s, world),
        Assertion::OverviewFaithful => crate::fidelity::overview_faithful(s),
        Assertion::EventsByKind => {
            let mut seen = BTreeSet::new();
            let mut judged = 0;
            let mut bad = Vec::new();
            for (i, st) in s.steps.iter().enumerate() {
                let (Some(c), Some(e)) = (&st.call, &st.event) else {
                    continue;
                };
                if e.kommunenummer
                    != kommune_of(match &st.step {
                        Step::OnEvent { context, .. } => Some(context.as_str()),
                        _ => None,
                    })
                    || !seen.insert(e.event_id.clone())
                {
                    continue; // another kommune's (HEN-03) or a redelivery (HEN-02)
                }
                judged += 1;
                let reference = format!("{}/{}", e.resource_type, e.resource_id);
                let requested = platform_exchanges(c).any(|x| x.request_line.contains(&reference));
                let processed: Option<Vec<&str>> = match &c.outcome {
                    CallOutcome::Ok { value } => value["processed"]
                        .as_array()
                        .map(|a| a.iter().filter_map(Value::as_str).collect()),
                    _ => None,
                };
                let kind = match e.kind {
                    EventKind::Created => "created",
                    EventKind::Updated => "updated",
                    EventKind::Deleted => "deleted",
                };
                match e.kind {
                    EventKind::Deleted => {
                        if requested || processed.is_none() {
                            bad.push(format!(
                                "steg {i}: `deleted` {reference} skal gi processed([]) uten forespørsel / should give processed([]) without a request: {}{}",
                                describe(i, c),
                                if requested { "; ressursen ble slått opp / the resource was looked up" } else { "" }
                            ));
                        }
                    }
                    _ => {
                        let fetched = platform_exchanges(c).any(|x| {
                            x.request_line.starts_with("GET")
                                && x.request_line.contains(&reference)
                                && x.status == Some(200)
                        });
                        if !fetched || !processed.is_some_and(|p| p.contains(&reference.as_str())) {
                            bad.push(format!("steg {i}: `{kind}` {reference} ble ikke hentet og navngitt i processed / was not fetched and named in processed: {}", describe(i, c)));
                        }
                    }
                }
            }
            if judged == 0 {
                error(
                    "ingen hendelse fra egen kommune ble levert / no event of the context's kommune was delivered",
                )
            } else if bad.is_empty() {
                pass(format!(
                    "{judged} hendelser håndtert etter sitt slag / events handled by their kind"
                ))
            } else {
                fail(
                    "en hendelse ble ikke håndtert slik slaget tilsier / an event was not handled as its kind requires",
                    bad,
                )
            }
        }
        Assertion::EmergencyOnlyWithReason => {
            let emergency_context = s
                .contexts
                .values()
                .any(|c| matches!(c.purpose, sandkasse_sandbox::types::Purpose::Emergency(_)));
            let mut bad: Vec<String> = calls(s)
                .flat_map(|(_, c)| platform_exchanges(c))
                .filter(|x| x.request_line.contains("/auth/token"))
                .map(|x| {
                    format!(
                        "adapteren hentet selv et token / the adapter obtained a token itself: {}",
                        x.request_line
                    )
                })
                .collect();
            if !emergency_context {
                for a in &s.audit {
                    let etreat = a["purposeOfEvent"].to_string().contains("ETREAT")
                        || a.to_string().contains("\"ETREAT\"");
                    if etreat {
                        bad.push("nødtilgang brukt uten at konteksten ba om det / emergency access used without the context asking for it".into());
                        break;
                    }
                }
            }
            if bad.is_empty() {
                pass(
                    "nødtilgang brukes bare slik konteksten sier / emergency access only as the context says",
                )
            } else {
                fail(
                    "nødtilgang ble brukt uten grunnlag i konteksten / emergency access was used without the context's reason",
                    bad,
                )
            }
        }
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

/// Rolls checks up to a vilkår: error > fail > pass; all not applicable → not applicable.
pub fn roll_up(v: &Vilkar, checks: Vec<CheckResult>, capability_claimed: bool) -> VilkarResult {
    let (outcome, reason) = if !capability_claimed {
        (Outcome::NotApplicable, "adapteren oppgir ikke rollen vilkåret gjelder / the adapter does not claim the role this vilkår concerns".to_owned())
    } else if let Some(c) = checks.iter().find(|c| c.outcome == Outcome::Error) {
        (Outcome::Error, c.reason.clone())
    } else if let Some(c) = checks.iter().find(|c| c.outcome == Outcome::Fail) {
        (Outcome::Fail, format!("{}: {}", c.id, c.reason))
    } else if checks.iter().all(|c| c.outcome == Outcome::NotApplicable) {
        (
            Outcome::NotApplicable,
            checks.first().map(|c| c.reason.clone()).unwrap_or_default(),
        )
    } else {
        (
            Outcome::Pass,
            "alle kontroller bestått / every check passed".to_owned(),
        )
    };
    VilkarResult {
        id: v.id.clone(),
        title: v.title.clone(),
        text: v.text.clone(),
        category: v.category,
        level: v.level,
        weight: v.weight,
        source: format!(
            "{}, {} ({})",
            v.source.document, v.source.section, v.source.reference
        ),
        outcome,
        reason,
        checks,
    }
}

/// Score (passed weight / applicable weight, four decimals), verdict and counts.
pub fn score(results: &[VilkarResult]) -> (f64, Verdict, Summary) {
    let mut summary = Summary::default();
    let (mut passed, mut applicable) = (0u32, 0u32);
    let mut godkjent = true;
    for r in results {
        match r.outcome {
            Outcome::Pass => summary.passed += 1,
            Outcome::Fail => summary.failed += 1,
            Outcome::NotApplicable => summary.not_applicable += 1,
            Outcome::Error => summary.error += 1,
        }
        if r.outcome != Outcome::NotApplicable {
            applicable += r.weight;
            if r.outcome == Outcome::Pass {
                passed += r.weight;
            } else if r.level == Level::Skal {
                godkjent = false;
            }
        }
    }
    let score = if applicable == 0 {
        0.0
    } else {
        (f64::from(passed) / f64::from(applicable) * 10_000.0).round() / 10_000.0
    };
    (
        score,
        if godkjent && applicable > 0 {
            Verdict::Godkjent
        } else {
            Verdict::IkkeGodkjent
        },
        summary,
    )
}

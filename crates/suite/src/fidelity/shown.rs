//! INF-09, PER-01 and PER-06: what an overview shows is what the platform served to that call.
//! The resources it returns are versions the platform served, unchanged; every
//! withheld-information notice served is shown; and little that was fetched goes unshown.

use std::collections::BTreeSet;

use sandkasse_sandbox::Outcome as CallOutcome;
use serde_json::Value;

use super::text_of;
use crate::execute::{ScenarioEvidence, StepEvidence, is_notice};
use crate::judge::{Judgement, describe, error, pass_unless};
use crate::model::Step;

/// Elements a returned resource keeps whenever the platform served them: they change what the
/// rest of the resource means (a resolved diagnosis shown without its status looks active).
pub const MUST_KEEP: &[&str] = &[
    "status",
    "clinicalStatus",
    "verificationStatus",
    "abatementDateTime",
    "abatementPeriod",
    "abatementString",
    "modifierExtension",
];

/// The first element of `returned` that is not in `served`: added or changed on the way.
/// Elements the view leaves out are allowed; arrays may lose elements but not change them.
fn first_difference(returned: &Value, served: &Value, path: &str) -> Option<String> {
    match (returned, served) {
        (Value::Object(r), Value::Object(s)) => r.iter().find_map(|(k, rv)| match s.get(k) {
            None => Some(format!(
                "`{path}.{k}` er lagt til / was added: {}",
                crate::judge::excerpt(&rv.to_string())
            )),
            Some(sv) => first_difference(rv, sv, &format!("{path}.{k}")),
        }),
        (Value::Array(r), Value::Array(s)) => r.iter().enumerate().find_map(|(i, rv)| {
            if s.iter().any(|sv| first_difference(rv, sv, path).is_none()) {
                None
            } else {
                Some(format!(
                    "`{path}[{i}]` er endret / was changed: {}",
                    crate::judge::excerpt(&rv.to_string())
                ))
            }
        }),
        (Value::Number(r), Value::Number(s)) if r.as_f64() == s.as_f64() => None,
        (r, s) if r == s => None,
        (r, s) => Some(format!(
            "`{path}` er / is {} (plattformen sendte / the platform served {})",
            text_of(r),
            text_of(s)
        )),
    }
}

fn overview_resources(call: &sandkasse_sandbox::CallEvidence) -> Option<Vec<Value>> {
    let CallOutcome::Ok {
        value: Value::String(text),
    } = &call.outcome
    else {
        return None;
    };
    let bundle: Value = serde_json::from_str(text).ok()?;
    Some(
        bundle["entry"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| e["resource"].clone())
            .filter(Value::is_object)
            .collect(),
    )
}

fn overview_steps(
    s: &ScenarioEvidence,
) -> impl Iterator<Item = (usize, &StepEvidence, &sandkasse_sandbox::CallEvidence)> {
    s.steps
        .iter()
        .enumerate()
        .filter_map(|(i, st)| match (&st.step, &st.call) {
            (Step::PatientOverview { .. }, Some(c)) => Some((i, st, c)),
            _ => None,
        })
}

/// INF-09: every resource an overview returns is a version the platform served to that call,
/// unchanged: nothing added or altered, and its security labels kept.
pub fn overview_faithful(s: &ScenarioEvidence) -> Judgement {
    let mut problems = Vec::new();
    let mut judged = 0;
    for (i, st, call) in overview_steps(s) {
        let Some(resources) = overview_resources(call) else {
            continue;
        };
        for r in resources
            .iter()
            .filter(|r| r["resourceType"] != "OperationOutcome")
        {
            let key = format!("{}/{}", text_of(&r["resourceType"]), text_of(&r["id"]));
            let versions: Vec<&Value> = st
                .served
                .iter()
                .filter(|x| x["resourceType"] == r["resourceType"] && x["id"] == r["id"])
                .collect();
            judged += 1;
            if versions.is_empty() {
                problems.push(format!("steg {i}: {key} ble ikke levert av plattformen i dette kallet / was not served by the platform in this call"));
                continue;
            }
            let rtype = r["resourceType"].as_str().unwrap_or("?");
            let dropped = |v: &Value| {
                MUST_KEEP
                    .iter()
                    .find(|k| v.get(**k).is_some() && r.get(**k).is_none())
                    .copied()
            };
            if versions.iter().any(|v| {
                first_difference(r, v, rtype).is_none()
                    && v["meta"]["security"] == r["meta"]["security"]
                    && dropped(v).is_none()
            }) {
                continue;
            }
            let v = versions[0];
            let why = first_difference(r, v, rtype)
                .or_else(|| dropped(v).map(|k| format!("`{rtype}.{k}` er fjernet; det endrer betydningen / was dropped, which changes the meaning: {}", text_of(&v[k]))))
                .unwrap_or_else(|| {
                    format!(
                        "`{rtype}.meta.security` er / is {} (plattformen sendte / the platform served {})",
                        text_of(&r["meta"]["security"]),
                        text_of(&v["meta"]["security"])
                    )
                });
            problems.push(format!("steg {i}: {key}: {why}"));
        }
    }
    if judged == 0 && problems.is_empty() {
        error(
            "ingen ressurs i noen oversikt å sammenligne / no resource in any overview to compare",
        )
    } else {
        pass_unless(
            problems,
            format!(
                "{judged} ressurser gjengitt slik plattformen leverte dem / resources returned as the platform served them"
            ),
            "oversikten gjengir ikke det plattformen leverte / the overview does not return what the platform served",
        )
    }
}

fn notice_texts(r: &Value) -> Vec<String> {
    r["issue"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|i| i["code"] == "suppressed")
        .filter_map(|i| {
            i["diagnostics"]
                .as_str()
                .or_else(|| i["details"]["text"].as_str())
                .map(str::to_owned)
        })
        .collect()
}

/// PER-01: every withheld-information notice the platform served in an overview call, from any
/// page and any type, is in the overview.
pub fn notices_surfaced(s: &ScenarioEvidence) -> Judgement {
    let mut problems = Vec::new();
    let mut judged = 0;
    for (i, st, call) in overview_steps(s) {
        let served: BTreeSet<String> = st.notices.iter().flat_map(notice_texts).collect();
        if served.is_empty() {
            continue;
        }
        judged += 1;
        let Some(resources) = overview_resources(call) else {
            problems.push(describe(i, call));
            continue;
        };
        let surfaced: BTreeSet<String> = resources
            .iter()
            .filter(|r| is_notice(r))
            .flat_map(notice_texts)
            .collect();
        for missing in served.difference(&surfaced) {
            problems.push(format!(
                "steg {i}: merknaden mangler / the notice is missing: «{missing}»"
            ));
        }
    }
    if judged == 0 {
        error(
            "plattformen sendte ingen merknad i noe oversiktskall, så ingenting kunne vurderes / the platform served no notice in any overview call, so nothing could be judged",
        )
    } else {
        pass_unless(
            problems,
            "alle merknader om tilbakeholdte opplysninger vises / every withheld-information notice is shown",
            "brukeren får ikke vite alt som er holdt tilbake / the user is not told everything that is withheld",
        )
    }
}

/// PER-06: of the patient data the platform served in one overview call, at most
/// `max_unshown_percent` % may be missing from the overview (fetched but not shown).
pub fn no_over_fetching(s: &ScenarioEvidence, max_unshown_percent: u32) -> Judgement {
    let mut problems = Vec::new();
    let mut judged = 0;
    for (i, st, call) in overview_steps(s) {
        let Some(resources) = overview_resources(call) else {
            continue;
        };
        let key = |r: &Value| format!("{}/{}", text_of(&r["resourceType"]), text_of(&r["id"]));
        let fetched: BTreeSet<String> = st
            .served
            .iter()
            .filter(|r| {
                r["resourceType"].as_str().is_some_and(|t| {
                    t == "Patient" || sandkasse_platform::types::is_patient_data(t)
                })
            })
            .map(key)
            .collect();
        if fetched.is_empty() {
            continue;
        }
        judged += 1;
        let returned: BTreeSet<String> = resources.iter().map(key).collect();
        let unshown: Vec<&String> = fetched.difference(&returned).collect();
        // A type fetched and not shown at all is over-fetching whatever its share.
        let type_of = |k: &String| k.split('/').next().unwrap_or("?").to_owned();
        let shown_types: BTreeSet<String> = fetched.intersection(&returned).map(type_of).collect();
        let unused: BTreeSet<String> = fetched
            .iter()
            .map(type_of)
            .filter(|t| !shown_types.contains(t))
            .collect();
        if !unused.is_empty() {
            problems.push(format!(
                "steg {i}: hentet, men ingenting vist / fetched, nothing shown: {}",
                unused
                    .iter()
                    .map(|t| format!(
                        "{t} ({})",
                        unshown.iter().filter(|u| type_of(u) == *t).count()
                    ))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        let percent = unshown.len() * 100 / fetched.len();
        if percent > max_unshown_percent as usize {
            let mut types: std::collections::BTreeMap<&str, usize> = Default::default();
            for u in &unshown {
                *types.entry(u.split('/').next().unwrap_or("?")).or_default() += 1;
            }
            problems.push(format!(
                "steg {i}: {} av {} hentede ressurser vises ikke ({percent} %, høyst {max_unshown_percent} %) / {} of {} fetched resources are not shown ({percent} %, at most {max_unshown_percent} %): {}",
                unshown.len(),
                fetched.len(),
                unshown.len(),
                fetched.len(),
                types.iter().map(|(t, n)| format!("{n} {t}")).collect::<Vec<_>>().join(", ")
            ));
        }
    }
    if judged == 0 && problems.is_empty() {
        error(
            "ingen oversikt hentet pasientdata, så ingenting kunne vurderes / no overview fetched patient data, so nothing could be judged",
        )
    } else {
        pass_unless(
            problems,
            format!(
                "høyst {max_unshown_percent} % av det som ble hentet, vises ikke / at most {max_unshown_percent} % of what was fetched is not shown"
            ),
            "adapteren henter mer enn oversikten viser (overhenting) / the adapter fetches more than the overview shows (over-fetching)",
        )
    }
}

//! Writes: accepted, carrying the context, idempotent, sensitive notes labelled, the returned ids, faithful to what the user documented.

use std::collections::BTreeSet;

use sandkasse_sandbox::Outcome as CallOutcome;
use serde_json::Value;

use super::{
    Evidence, Judgement, calls, describe, error, excerpt, fail, pass, pass_unless,
    platform_exchanges,
};
use crate::model::Step;

pub(super) fn writes_accepted(e: &Evidence<'_>) -> Judgement {
    let s = e.s;
    let mut bad: Vec<String> = calls(s)
        .filter(|(_, c)| c.call == "document" && !matches!(c.outcome, CallOutcome::Ok { .. }))
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
    pass_unless(
        bad,
        format!(
            "{} ressurser skrevet og godtatt / resources written and accepted",
            s.written.len()
        ),
        "plattformen avviste det adapteren skrev / the platform rejected what the adapter wrote",
    )
}

pub(super) fn writes_carry_context(e: &Evidence<'_>) -> Judgement {
    let s = e.s;
    let world = e.world;
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
                || practitioner.is_some_and(|p| text.contains(&format!("Practitioner/{}", p.id)))
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
    } else {
        pass_unless(
            bad,
            "det skrevne bærer pasient og helsepersonell / what was written names the patient and the practitioner",
            "skrevne ressurser mangler konteksten / written resources lack the launch context",
        )
    }
}

pub(super) fn writes_idempotent(e: &Evidence<'_>) -> Judgement {
    let s = e.s;
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
    pass_unless(
        bad,
        "gjentatte registreringer lagres én gang / repeated entries are stored once",
        "en gjentatt registrering ble lagret på nytt (duplikat) / a repeated entry was stored again (duplicate)",
    )
}

pub(super) fn sensitive_labelled(e: &Evidence<'_>) -> Judgement {
    let s = e.s;
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

pub(super) fn returned_ids_match(e: &Evidence<'_>) -> Judgement {
    let s = e.s;
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
                bad.push(format!(
                    "steg {i}: adapteren returnerte ingen id-er / the adapter returned no ids"
                ));
            }
            judged += ids.len();
            for id in ids {
                if !stored.contains(id) {
                    bad.push(format!(
                        "steg {i}: {id} finnes ikke på plattformen / does not exist on the platform"
                    ));
                }
            }
        }
    }
    if judged == 0 && bad.is_empty() {
        error("ingen id ble returnert og ingenting lagret / no id was returned and nothing stored")
    } else {
        pass_unless(
            bad,
            "id-ene som ble returnert finnes på plattformen / the returned ids exist on the platform",
            "adapteren returnerte id-er plattformen ikke har / the adapter returned ids the platform does not have",
        )
    }
}

pub(super) fn writes_faithful(e: &Evidence<'_>) -> Judgement {
    let s = e.s;
    let world = e.world;
    crate::fidelity::writes_faithful(s, world)
}

//! Privacy: shielded data never shown, no patient search, only the context's patient, no personal data in logs, nothing leaked between contexts, sperring respected.

use sandkasse_kommune::Skjerming;
use sandkasse_sandbox::Outcome as CallOutcome;
use sandkasse_sandbox::types::ClinicalEntry;

use super::{
    Evidence, Judgement, calls, describe, error, excerpt, output, output_text, param, pass_unless,
    platform_exchanges, target,
};
use crate::model::Step;

pub(super) fn shielded_never_shown(e: &Evidence<'_>) -> Judgement {
    let s = e.s;
    let world = e.world;
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
                    Skjerming::FortroligAdresse | Skjerming::StrengtFortroligAdresse
                );
                if !address_only && text.contains(&format!("{}/{}", sh.resource_type, sh.id)) {
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
                    problems.push(format!(
                        "steg {i}: skjermet adresse vist / shielded address of Patient/{} shown",
                        sh.id
                    ));
                }
            }
        }
    }
    pass_unless(
        problems,
        "ingen skjermede opplysninger i utdata / no shielded information in any output",
        "skjermede opplysninger ble vist / shielded information was shown",
    )
}

pub(super) fn no_patient_search(e: &Evidence<'_>) -> Judgement {
    let s = e.s;
    let bad: Vec<String> = calls(s)
        .flat_map(|(_, c)| platform_exchanges(c))
        .filter(|x| matches!(target(&x.request_line), Some((t, None)) if t == "Patient"))
        .map(|x| x.request_line.clone())
        .collect();
    pass_unless(
        bad,
        "pasienten i konteksten brukes direkte / the launch patient is used directly",
        "adapteren søkte etter pasienten i stedet for å bruke konteksten / the adapter searched for the patient instead of using the launch context",
    )
}

pub(super) fn only_context_patient(e: &Evidence<'_>) -> Judgement {
    let s = e.s;
    let world = e.world;
    let kommune_of = |c| e.kommune_of(c);
    let patient_of = |c| e.patient_of(c);
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
                || (x.request_line.starts_with("POST") && !x.request_line.contains("/_search"));
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
                        sandkasse_platform::types::is_patient_data(&t).then(|| "*".to_owned())
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
    pass_unless(
        bad,
        "bare pasienten i konteksten ble slått opp / only the patient in context was looked up",
        "adapteren slo opp andre pasienter enn den i konteksten (tjenstlig behov) / the adapter looked up patients other than the one in context",
    )
}

pub(super) fn no_personal_data_in_logs(e: &Evidence<'_>) -> Judgement {
    let s = e.s;
    let world = e.world;
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
                .map(|ctx| crate::execute::entry(entry, ctx)),
            _ => None,
        })
        .filter_map(|e| match e {
            ClinicalEntry::CareNote(n) => Some(n.text.chars().take(40).collect()),
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
    pass_unless(
        bad,
        "ingen personopplysninger i logger / no personal data in logs",
        "loggene inneholder personopplysninger / the logs contain personal data",
    )
}

pub(super) fn no_leak_between_contexts(e: &Evidence<'_>, step: &usize) -> Judgement {
    let s = e.s;
    let world = e.world;
    let patient_of = |c| e.patient_of(c);
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
    pass_unless(
        bad,
        "ingen opplysninger fra andre pasientkontekster / nothing from other patient contexts",
        "oversikten inneholder opplysninger om en annen pasient enn den i konteksten / the overview contains information about another patient than the one in context",
    )
}

pub(super) fn sperring_respected(e: &Evidence<'_>, step: &usize) -> Judgement {
    let s = e.s;
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
        .map(|b| {
            format!("{b} er sperret, men vises i steg {step} / is blocked but shown in step {step}")
        })
        .collect();
    pass_unless(
        shown,
        "det sperrede dokumentet vises ikke lenger / the blocked document is no longer shown",
        "sperringen ble ikke respektert (bufret data?) / the sperring was not respected (stale cache?)",
    )
}

//! The patient overview: a valid Bundle, complete, every page followed, notices surfaced, no over-fetching, faithful to what the platform served.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::{
    Evidence, Judgement, bundle_refs, describe, error, excerpt, output, overviews, pass_unless,
};
use crate::model::Step;

pub(super) fn overview_is_valid_bundle(e: &Evidence<'_>) -> Judgement {
    let s = e.s;
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
    pass_unless(
        problems,
        "gyldig FHIR R4 Bundle (collection) / a valid FHIR R4 collection Bundle",
        "oversikten er ikke en gyldig FHIR R4 Bundle av typen collection / the overview is not a valid FHIR R4 collection Bundle",
    )
}

pub(super) fn overview_complete(e: &Evidence<'_>, types: &[String]) -> Judgement {
    let s = e.s;
    let world = e.world;
    let kommune_of = |c| e.kommune_of(c);
    let patient_of = |c| e.patient_of(c);
    let mut missing = Vec::new();
    let mut judged = 0;
    for (i, c, ctx) in overviews(s) {
        let (Some(patient), kommune) = (patient_of(ctx), kommune_of(ctx)) else {
            continue;
        };
        let Some(tenant) = world.dataset.tenant(&kommune) else {
            continue;
        };
        let Some(bundle) = output(c).and_then(|t| serde_json::from_str::<Value>(t).ok()) else {
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
    } else {
        pass_unless(
            missing,
            format!(
                "alle {} ressurser pasienten har og brukeren får se, er med / every visible resource is included",
                types.join(", ")
            ),
            "oversikten mangler opplysninger plattformen ga tilgang til / the overview lacks information the platform made available",
        )
    }
}

pub(super) fn withheld_notice_surfaced(e: &Evidence<'_>) -> Judgement {
    let s = e.s;
    crate::fidelity::notices_surfaced(s)
}

pub(super) fn paging_followed(e: &Evidence<'_>) -> Judgement {
    let s = e.s;
    let mut judged = 0;
    let mut bad = Vec::new();
    for (i, st) in s
        .steps
        .iter()
        .enumerate()
        .filter(|(_, st)| matches!(st.step, Step::PatientOverview { .. }))
    {
        let mut last: BTreeMap<&str, (usize, bool)> = BTreeMap::new();
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
    } else {
        pass_unless(
            bad,
            format!(
                "{judged} søk over flere sider fulgt til siste side / searches over several pages followed to the last page"
            ),
            "adapteren fulgte ikke søket til siste side / the adapter did not follow the search to its last page",
        )
    }
}

pub(super) fn no_over_fetching(e: &Evidence<'_>, max_unshown_percent: &u32) -> Judgement {
    let s = e.s;
    crate::fidelity::no_over_fetching(s, *max_unshown_percent)
}

pub(super) fn overview_faithful(e: &Evidence<'_>) -> Judgement {
    let s = e.s;
    crate::fidelity::overview_faithful(s)
}

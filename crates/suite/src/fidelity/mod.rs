//! Fidelity: what the platform stored is what the user documented (INF-08), and what the adapter
//! shows is what the platform served (INF-09, PER-01, PER-06).
//!
//! Acceptance (201) says a resource is valid, not that it says what the user documented. These
//! checks compare, element by element, the resources the platform *stored* in a step (from its
//! store, never from the adapter's answer) with the entry the step sent, and the resources an
//! overview *returned* with the versions the platform *served* to that call (recorded beside the
//! router, whole). Each difference is named by its FHIR path and both values, so a vendor knows
//! exactly what to fix: "`EpisodeOfCare.period.end` mangler / missing; registreringen hadde /
//! the entry had 2026-12-31".
//!
//! Where FHIR R4 and the guide allow several placements, each is accepted (a practitioner as a
//! relative reference, this platform's absolute URL, or an HPR identifier; a time as
//! `effectiveDateTime` or `effectivePeriod.start`; a dose as `dosage.text` or `dosage.dose`).
//! `docs/adapter-guide.md` §2 lists every element read here.
//!
//! By file: `writes.rs` compares what was stored with what was documented ([`writes_faithful`],
//! INF-08); `shown.rs` compares what an overview shows with what was served
//! ([`overview_faithful`] INF-09, [`notices_surfaced`] PER-01, [`no_over_fetching`] PER-06); here
//! are the lenient readers of FHIR elements both use, such as [`refers_to`].

use serde_json::Value;

mod shown;
mod writes;

pub use shown::{MUST_KEEP, no_over_fetching, notices_surfaced, overview_faithful};
pub use writes::writes_faithful;

/// Whether a `Reference` names `rtype/id` (relative, or an absolute URL ending in it) or carries
/// the identifier `system|value`.
pub fn refers_to(
    reference: &Value,
    rtype: &str,
    id: &str,
    identifier: Option<(&str, &str)>,
) -> bool {
    let by_reference = reference["reference"].as_str().is_some_and(|r| {
        let r = r.split("/_history/").next().unwrap_or(r);
        r == format!("{rtype}/{id}") || r.ends_with(&format!("/fhir/{rtype}/{id}"))
    });
    let by_identifier = identifier.is_some_and(|(system, value)| {
        reference["identifier"]["system"] == system && reference["identifier"]["value"] == value
    });
    by_reference || by_identifier
}

/// Every `Reference` in `values` (single references or arrays of them).
fn references<'a>(values: impl IntoIterator<Item = &'a Value>) -> Vec<&'a Value> {
    values
        .into_iter()
        .flat_map(|v| {
            if let Some(a) = v.as_array() {
                a.iter().collect::<Vec<_>>()
            } else {
                vec![v]
            }
        })
        .filter(|v| v.is_object())
        .collect()
}

/// Whether a `CodeableConcept` has the coding `system|code`.
fn has_coding(concept: &Value, system: &str, code: &str) -> bool {
    concept["coding"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|c| c["system"] == system && c["code"] == code)
}

/// The codings of a `CodeableConcept` as `system|code`, for a message.
fn codes_of(concept: &Value) -> String {
    let codes: Vec<String> = concept["coding"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            format!(
                "{}|{}",
                c["system"].as_str().unwrap_or("?"),
                c["code"].as_str().unwrap_or("?")
            )
        })
        .collect();
    if codes.is_empty() {
        "ingen koding / no coding".into()
    } else {
        codes.join(", ")
    }
}

/// The same instant (offsets may differ): `2026-10-01T14:30:00+02:00` = `2026-10-01T12:30:00Z`.
fn same_instant(a: &str, b: &str) -> bool {
    match (a.parse::<jiff::Timestamp>(), b.parse::<jiff::Timestamp>()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

/// A FHIR `date` or `dateTime` on the given calendar date.
fn on_date(value: &str, date: &str) -> bool {
    value == date
        || value
            .strip_prefix(date)
            .is_some_and(|rest| rest.starts_with('T'))
}

/// How a value reads in a message: a string as it is, a missing value as `mangler / missing`.
fn text_of(v: &Value) -> String {
    match v {
        Value::Null => "mangler / missing".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Whether a resource carries the security label `system|code`.
fn label(r: &Value, system: &str, code: &str) -> bool {
    r["meta"]["security"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|l| l["system"] == system && l["code"] == code)
}

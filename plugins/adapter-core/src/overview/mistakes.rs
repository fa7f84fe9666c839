//! The overview's mutant switches that need more than a line at their point of use: each
//! function is one mistake of [`Behaviour`], called only when that switch is on.

use std::collections::HashMap;

use guest_kit::fhir::{self, Client, Paged};
use guest_kit::http::{Request, Url};
use guest_kit::types::AdapterError;
use guest_kit::{Level, log};
use serde_json::{Value, json};

use crate::Behaviour;

/// [`Behaviour::page_cap_five`]: pages per search.
pub const FIVE_PAGES: usize = 5;
/// [`Behaviour::observation_page_cap`]: pages of the Observation search.
pub const OBSERVATION_PAGES: usize = 2;
/// [`Behaviour::shows_recent_observations`]: Observations shown.
const RECENT_OBSERVATIONS: usize = 20;
/// [`Behaviour::prefetches_unused`]: the types fetched "for later".
const PREFETCHED: &[&str] = &["Encounter", "Provenance"];

/// [`Behaviour::duplicate_check`]: `Patient?family=…&birthdate=…`, the count logged.
pub fn duplicate_check(client: &Client, patient: &Value) {
    let family = patient
        .pointer("/name/0/family")
        .and_then(Value::as_str)
        .unwrap_or("");
    let birth = patient
        .get("birthDate")
        .and_then(Value::as_str)
        .unwrap_or("");
    match client.search("Patient", &[("family", family), ("birthdate", birth)]) {
        Ok(bundle) => {
            let n = bundle
                .get("entry")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            log(
                Level::Info,
                &format!("duplicate check: {n} record(s) with the same name and birth date"),
            );
        }
        Err(e) => log(
            Level::Warn,
            &format!("duplicate check failed ({})", crate::document::kind(&e)),
        ),
    }
}

/// The Patient as the vendor passes it on: [`alter_resource`], and [`Behaviour::ascii_names`],
/// [`Behaviour::fills_redacted_patient`].
pub fn alter_patient(patient: &mut Value, b: &Behaviour) {
    if b.fills_redacted_patient && patient.get("address").is_none() && is_redacted(patient) {
        patient["address"] =
            json!([{"use": "home", "text": "Adresse ukjent / address unknown", "country": "NO"}]);
    }
    if b.ascii_names {
        for name in patient
            .get_mut("name")
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            if let Some(family) = name.get("family").and_then(Value::as_str) {
                name["family"] = json!(ascii(family));
            }
            for given in name
                .get_mut("given")
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
            {
                if let Some(g) = given.as_str() {
                    *given = json!(ascii(g));
                }
            }
            if let Some(text) = name.get("text").and_then(Value::as_str) {
                name["text"] = json!(ascii(text));
            }
        }
    }
    alter_resource(patient, b);
}

fn is_redacted(resource: &Value) -> bool {
    resource
        .pointer("/meta/security")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|c| c["code"] == "REDACTED")
}

/// [`Behaviour::ascii_names`]: the vendor's Norwegian-only transliteration.
fn ascii(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            'æ' => out.push_str("ae"),
            'Æ' => out.push_str("Ae"),
            'ø' => out.push('o'),
            'Ø' => out.push('O'),
            'å' => out.push_str("aa"),
            'Å' => out.push_str("Aa"),
            c if c.is_ascii() => out.push(c),
            _ => out.push('?'),
        }
    }
    out
}

/// A read resource as the vendor passes it on: [`Behaviour::strips_security_labels`],
/// [`Behaviour::strips_extensions`], [`Behaviour::rounds_overview_values`].
pub fn alter_resource(resource: &mut Value, b: &Behaviour) {
    if b.strips_security_labels
        && let Some(meta) = resource.get_mut("meta").and_then(Value::as_object_mut)
    {
        meta.remove("security");
    }
    if b.strips_extensions {
        strip_extensions(resource);
    }
    if b.rounds_overview_values
        && resource.get("resourceType").and_then(Value::as_str) == Some("Observation")
    {
        round_value(resource);
        for component in resource
            .get_mut("component")
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            round_value(component);
        }
    }
}

fn strip_extensions(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.remove("extension");
            map.remove("modifierExtension");
            map.values_mut().for_each(strip_extensions);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_extensions),
        _ => {}
    }
}

fn round_value(holder: &mut Value) {
    if let Some(v) = holder
        .pointer("/valueQuantity/value")
        .and_then(Value::as_f64)
    {
        holder["valueQuantity"]["value"] = json!(v.round() as i64);
    }
}

/// Paging in the vendor's own loop ([`Behaviour::follows_foreign_next`],
/// [`Behaviour::drops_later_notices`]); otherwise as [`Client::search_all`].
pub fn search_pages(
    client: &Client,
    rtype: &str,
    params: &[(&str, &str)],
    max_pages: usize,
    b: &Behaviour,
) -> Result<Paged, AdapterError> {
    let what = format!("{rtype} search");
    let mut url = client
        .base()
        .join(&format!("/{rtype}{}", fhir::query(params)));
    let mut paged = Paged::default();
    loop {
        let response = client.execute(Request::get(url), &what)?;
        client.check(&response, &what)?;
        let bundle = fhir::parse(&response, &what)?;
        paged.pages += 1;
        for e in bundle
            .get("entry")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            // Behaviour::drops_later_notices: notices are looked for on the first page only.
            if b.drops_later_notices && paged.pages > 1 && fhir::is_outcome_entry(e) {
                continue;
            }
            paged.entries.push(e.clone());
        }
        let Some(next) = fhir::next_link(&bundle) else {
            return Ok(paged);
        };
        if paged.pages >= max_pages {
            paged.truncated = true;
            return Ok(paged);
        }
        url = Url::parse(&next)
            .map_err(|e| AdapterError::Internal(format!("{what}: bad next link: {e}")))?;
        // Behaviour::follows_foreign_next: no same-origin check.
        if !b.follows_foreign_next && !client.base().same_origin(&url) {
            return Err(AdapterError::Internal(format!(
                "{what}: next link points away from the platform"
            )));
        }
    }
}

/// [`Behaviour::shows_recent_observations`]: the notices and the latest Observations only.
pub fn latest_observations(entries: &mut Vec<Value>) {
    let (mut matches, notices): (Vec<Value>, Vec<Value>) =
        entries.drain(..).partition(|e| !fhir::is_outcome_entry(e));
    let when = |e: &Value| {
        e.pointer("/resource/effectiveDateTime")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    matches.sort_by_key(|e| std::cmp::Reverse(when(e)));
    matches.truncate(RECENT_OBSERVATIONS);
    entries.extend(matches);
    entries.extend(notices);
}

/// [`Behaviour::relabels_notices`]: the vendor's own notice in place of the platform's.
pub fn own_notice() -> Value {
    json!({
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "warning", "code": "informational", "diagnostics": "Noe informasjon vises ikke / some information is not shown"}],
    })
}

/// [`Behaviour::active_conditions_only`]: whether a resource is kept (every non-Condition is).
pub fn is_active(resource: &Value) -> bool {
    resource.get("resourceType").and_then(Value::as_str) != Some("Condition")
        || resource
            .pointer("/clinicalStatus/coding/0/code")
            .and_then(Value::as_str)
            == Some("active")
}

/// [`Behaviour::prefetches_unused`]: the patient's Encounters and Provenance, every page,
/// discarded.
pub fn prefetch(client: &Client, patient_id: &str) {
    for rtype in PREFETCHED {
        match client.search_all(
            rtype,
            &[("patient", patient_id), ("_count", "50")],
            usize::MAX,
        ) {
            Ok(paged) => log(
                Level::Debug,
                &format!("prefetch: {rtype}: {} entries", paged.entries.len()),
            ),
            Err(e) => log(
                Level::Debug,
                &format!("prefetch: {rtype} failed ({})", crate::document::kind(&e)),
            ),
        }
    }
}

/// [`Behaviour::unordered_overview`]: the entries after the Patient, in the order of a `HashMap`
/// (std's `RandomState`: new keys for every map, so every call orders differently).
pub fn shuffle(entries: &mut Vec<Value>) {
    if entries.len() < 2 {
        return;
    }
    let rest: HashMap<usize, Value> = entries.drain(1..).enumerate().collect();
    entries.extend(rest.into_values());
}

/// [`Behaviour::relative_full_urls`]: `fullUrl` as `Type/id`.
pub fn relative_full_urls(entries: &mut [Value]) {
    for e in entries {
        let rtype = e
            .pointer("/resource/resourceType")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let id = e
            .pointer("/resource/id")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        if e.get("fullUrl").is_some() {
            e["fullUrl"] = json!(format!("{rtype}/{id}"));
        }
    }
}

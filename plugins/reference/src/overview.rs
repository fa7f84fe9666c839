//! Read role: the patient overview.

use std::collections::HashSet;

use guest_kit::fhir::{self, Client};
use guest_kit::types::{AdapterError, LaunchContext};
use guest_kit::{Level, log};
use serde_json::{Value, json};

/// Page size asked of every search.
const PAGE_SIZE: &str = "50";
/// Most pages followed per search (50 × 20 = 1000 resources of one type).
const MAX_PAGES: usize = 20;

/// The searches of the overview, all by the patient in context.
const SEARCHES: &[&str] =
    &["Condition", "MedicationStatement", "AllergyIntolerance", "Observation", "EpisodeOfCare", "DocumentReference"];

pub fn patient_overview(ctx: &LaunchContext) -> Result<String, AdapterError> {
    let patient_id = crate::patient_in_context(ctx)?;
    let client = Client::new(ctx)?;

    // The patient in context, read directly: never searched for by name or identifier.
    let patient = client.read("Patient", patient_id)?;
    let mut entries = vec![entry(&client, patient)];
    let mut seen: HashSet<String> = HashSet::new();
    let mut notices = 0;

    for rtype in SEARCHES {
        let paged = match client.search_all(rtype, &[("patient", patient_id), ("_count", PAGE_SIZE)], MAX_PAGES) {
            Ok(p) => p,
            // The user's role may not see this type (e.g. saksbehandler and Observation): show
            // the rest, and say what is missing.
            Err(AdapterError::Forbidden(message)) => {
                log(Level::Info, &format!("{rtype} search: forbidden for this role; noted in the overview"));
                notices += 1;
                entries.push(json!({ "resource": forbidden_notice(rtype, &message) }));
                continue;
            }
            Err(e) => return Err(e),
        };
        let mut matches = 0;
        for e in paged.entries {
            let Some(resource) = e.get("resource").cloned() else { continue };
            if fhir::is_outcome_entry(&e) {
                // The platform's notice that something is withheld: the user must see it.
                notices += 1;
                entries.push(json!({ "resource": resource }));
                continue;
            }
            let key = format!(
                "{}/{}",
                resource.get("resourceType").and_then(Value::as_str).unwrap_or(""),
                resource.get("id").and_then(Value::as_str).unwrap_or("")
            );
            if seen.insert(key) {
                matches += 1;
                let mut out = json!({ "resource": resource });
                if let Some(url) = e.get("fullUrl") {
                    out["fullUrl"] = url.clone();
                }
                entries.push(out);
            }
        }
        log(
            Level::Info,
            &format!("{rtype} search: {matches} resources in {} page(s){}", paged.pages, if paged.truncated { ", page cap reached" } else { "" }),
        );
    }

    log(Level::Info, &format!("overview: {} entries, {notices} notice(s), {} requests", entries.len(), client.requests()));
    let bundle = fhir::collection(entries);
    serde_json::to_string(&bundle).map_err(|e| AdapterError::Internal(format!("overview: {e}")))
}

/// A bundle entry for a read resource, with its full URL.
fn entry(client: &Client, resource: Value) -> Value {
    let rtype = resource.get("resourceType").and_then(Value::as_str).unwrap_or("");
    let id = resource.get("id").and_then(Value::as_str).unwrap_or("");
    let full_url = client.base().join(&format!("/{rtype}/{id}")).to_string();
    json!({ "fullUrl": full_url, "resource": resource })
}

/// An `OperationOutcome` telling the user that a kind of information could not be shown.
fn forbidden_notice(rtype: &str, message: &str) -> Value {
    json!({
        "resourceType": "OperationOutcome",
        "issue": [{
            "severity": "information",
            "code": "forbidden",
            "diagnostics": format!("{rtype} vises ikke: ingen tilgang for rollen / {rtype} not shown: not permitted for the role ({message})"),
        }],
    })
}

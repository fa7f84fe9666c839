//! What a read or search puts on the wire: a stored resource rendered (redacted, with the
//! tolerant-reading fault's unknown elements) and the searchset Bundle around it.

use super::*;

/// Removes a Patient's addresses and labels it REDACTED.
pub(super) fn redact_address(v: &mut Value) {
    if let Some(obj) = v.as_object_mut() {
        obj.remove("address");
        if let Some(contacts) = obj.get_mut("contact").and_then(Value::as_array_mut) {
            for c in contacts {
                if let Some(c) = c.as_object_mut() {
                    c.remove("address");
                }
            }
        }
    }
    let meta = &mut v["meta"];
    if !meta.is_object() {
        *meta = json!({});
    }
    let security = &mut meta["security"];
    if !security.is_array() {
        *security = json!([]);
    }
    if let Some(list) = security.as_array_mut() {
        list.push(json!({"system": systems::V3_OBSERVATION_VALUE, "code": "REDACTED", "display": "redacted"}));
    }
}

/// Unknown element and extension for tolerant-reading faults.
pub(super) fn inject_unknown(v: &mut Value) {
    v["sandkasseUkjent"] =
        json!({"beskrivelse": "ukjent element fra en nyere plattformversjon", "verdi": 42});
    let ext = json!({"url": "https://sandkasse.test/fhir/StructureDefinition/ukjent-utvidelse", "valueString": "tolerant lesing"});
    match v.get_mut("extension").and_then(Value::as_array_mut) {
        Some(list) => list.push(ext),
        None => v["extension"] = json!([ext]),
    }
}

pub(super) fn render(s: &Stored, redact: bool, unknown: bool) -> Box<RawValue> {
    if !redact && !unknown {
        return s.json.clone();
    }
    let mut v: Value = serde_json::from_str(s.json.get()).unwrap_or(Value::Null);
    if redact {
        redact_address(&mut v);
    }
    if unknown {
        inject_unknown(&mut v);
    }
    serde_json::value::to_raw_value(&v).unwrap_or_else(|_| s.json.clone())
}

#[derive(Serialize)]
pub(super) struct BundleOut {
    #[serde(rename = "resourceType")]
    pub(super) resource_type: &'static str,
    pub(super) meta: BundleMeta,
    #[serde(rename = "type")]
    pub(super) kind: &'static str,
    pub(super) total: usize,
    pub(super) link: Vec<Link>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(super) entry: Vec<EntryOut>,
}

#[derive(Serialize)]
pub(super) struct BundleMeta {
    #[serde(rename = "lastUpdated")]
    pub(super) last_updated: String,
}

#[derive(Serialize)]
pub(super) struct Link {
    pub(super) relation: &'static str,
    pub(super) url: String,
}

#[derive(Serialize)]
pub(super) struct EntryOut {
    #[serde(rename = "fullUrl", skip_serializing_if = "Option::is_none")]
    pub(super) full_url: Option<String>,
    pub(super) resource: Box<RawValue>,
    pub(super) search: SearchMode,
}

#[derive(Serialize)]
pub(super) struct SearchMode {
    pub(super) mode: &'static str,
}

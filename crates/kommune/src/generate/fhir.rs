//! FHIR building blocks the generator writes resources with: meta, codings, references, labels
//! and quantities.

use super::*;

pub(super) fn meta(last_updated: &str) -> Value {
    json!({
        "versionId": "1",
        "lastUpdated": last_updated,
        "tag": [{"system": systems::V3_ACT_REASON, "code": "HTEST", "display": "test health data"}],
    })
}

pub(super) fn coding(system: &str, c: &Code) -> Value {
    json!({"system": system, "code": c.code, "display": c.display})
}

pub(super) fn concept(system: &str, c: &Code) -> Value {
    json!({"coding": [coding(system, c)], "text": c.text})
}

pub(super) fn reference(resource_type: &str, id: &str) -> Value {
    json!({"reference": format!("{resource_type}/{id}")})
}

pub(super) fn security_labels(skjerming: Skjerming) -> Value {
    let confidentiality = match skjerming {
        Skjerming::FortroligAdresse => ("R", "restricted"),
        _ => ("V", "very restricted"),
    };
    json!([
        {"system": systems::V3_CONFIDENTIALITY, "code": confidentiality.0, "display": confidentiality.1},
        {"system": systems::SANDKASSE_SKJERMING, "code": skjerming.code(), "display": skjerming.display()},
    ])
}

pub(super) fn vital_category() -> Value {
    json!({"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "vital-signs", "display": "Vital Signs"}]})
}

pub(super) fn quantity(value_x10: i64, unit: &str, ucum: &str) -> Value {
    let value = if value_x10 % 10 == 0 {
        json!(value_x10 / 10)
    } else {
        json!(value_x10 as f64 / 10.0)
    };
    json!({"value": value, "unit": unit, "system": systems::UCUM, "code": ucum})
}

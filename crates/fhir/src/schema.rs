//! Validation against the official FHIR R4 JSON Schema.
//!
//! The schema (`conformance/schemas/fhir.schema.json`, HL7, CC0; see `PROVENANCE.md` there) is
//! embedded in the binary. A validator is compiled lazily for each resource type the first time it
//! is needed (`#/definitions/<resourceType>`, not the slow top-level `oneOf`) and cached for the
//! life of the process.
//!
//! The schema checks structure and primitive formats only; profile rules (no-basis identifiers,
//! value sets, cardinality) are checked by the platform on top of it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::{Value, json};

static SCHEMA_TEXT: &str = include_str!("../../../conformance/schemas/fhir.schema.json");

/// Why a resource is not valid FHIR R4 JSON.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemaError {
    /// The value is not an object with a string `resourceType`.
    #[error("mangler resourceType / missing resourceType")]
    MissingResourceType,
    /// `resourceType` names no resource of FHIR R4.
    #[error("ukjent ressurstype / unknown resource type: {0}")]
    UnknownResourceType(String),
    /// The resource breaks the schema; each violation names the element.
    #[error("{} brudd på FHIR R4-skjemaet / schema violations, first: {}", .0.len(), .0.first().map(|v| v.to_string()).unwrap_or_default())]
    Invalid(Vec<Violation>),
}

/// One schema violation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// FHIRPath-style expression of the element, e.g. `Observation.code.coding[0].system`.
    pub expression: String,
    /// What is wrong, as the validator says it.
    pub message: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.expression, self.message)
    }
}

struct Schemas {
    document: Value,
    validators: Mutex<HashMap<String, Arc<jsonschema::Validator>>>,
}

fn schemas() -> &'static Schemas {
    static SCHEMAS: OnceLock<Schemas> = OnceLock::new();
    SCHEMAS.get_or_init(|| Schemas {
        document: serde_json::from_str(SCHEMA_TEXT).expect("embedded FHIR schema is valid JSON"),
        validators: Mutex::new(HashMap::new()),
    })
}

/// Whether `resource_type` is a resource type of FHIR R4.
pub fn is_resource_type(resource_type: &str) -> bool {
    let defs = &schemas().document["definitions"];
    defs.get(resource_type)
        .and_then(|d| d.pointer("/properties/resourceType/const"))
        .is_some_and(|c| c == resource_type)
}

fn validator(resource_type: &str) -> Result<Arc<jsonschema::Validator>, SchemaError> {
    let s = schemas();
    if let Some(v) = s
        .validators
        .lock()
        .expect("validator cache")
        .get(resource_type)
    {
        return Ok(v.clone());
    }
    if !is_resource_type(resource_type) {
        return Err(SchemaError::UnknownResourceType(resource_type.to_owned()));
    }
    // Compile outside the lock: compiling a type takes a while and other types may be wanted.
    let root = json!({
        "$schema": "http://json-schema.org/draft-06/schema#",
        "allOf": [{"$ref": format!("#/definitions/{resource_type}")}],
        "definitions": s.document["definitions"].clone(),
    });
    let compiled = Arc::new(
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft6)
            .build(&root)
            .expect("the official FHIR schema compiles"),
    );
    let mut cache = s.validators.lock().expect("validator cache");
    Ok(cache
        .entry(resource_type.to_owned())
        .or_insert(compiled)
        .clone())
}

/// Validates one resource against `#/definitions/<its resourceType>`.
pub fn validate(resource: &Value) -> Result<(), SchemaError> {
    let resource_type = resource
        .get("resourceType")
        .and_then(Value::as_str)
        .ok_or(SchemaError::MissingResourceType)?;
    let validator = validator(resource_type)?;
    if validator.is_valid(resource) {
        return Ok(());
    }
    let violations: Vec<Violation> = validator
        .iter_errors(resource)
        .map(|e| Violation {
            expression: fhir_path(resource_type, &e.instance_path.to_string()),
            message: e.to_string(),
        })
        .collect();
    Err(SchemaError::Invalid(violations))
}

/// Turns a JSON pointer into a FHIRPath-style expression:
/// `/code/coding/0/system` on an Observation → `Observation.code.coding[0].system`.
pub fn fhir_path(resource_type: &str, pointer: &str) -> String {
    let mut out = resource_type.to_owned();
    for segment in pointer.split('/').skip(1) {
        let segment = segment.replace("~1", "/").replace("~0", "~");
        if !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit()) {
            out.push('[');
            out.push_str(&segment);
            out.push(']');
        } else {
            out.push('.');
            out.push_str(&segment);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointer_becomes_fhir_path() {
        assert_eq!(
            fhir_path("Observation", "/code/coding/0/system"),
            "Observation.code.coding[0].system"
        );
        assert_eq!(fhir_path("Patient", ""), "Patient");
    }

    #[test]
    fn knows_resource_types() {
        assert!(is_resource_type("Patient"));
        assert!(is_resource_type("AuditEvent"));
        assert!(!is_resource_type("Pasient"));
        assert!(
            !is_resource_type("Reference"),
            "a data type is not a resource type"
        );
    }

    #[test]
    fn names_the_offending_element() {
        let obs = json!({
            "resourceType": "Observation", "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": 8867}]}
        });
        match validate(&obs) {
            Err(SchemaError::Invalid(v)) => {
                assert!(
                    v.iter()
                        .any(|v| v.expression == "Observation.code.coding[0].code"),
                    "{v:?}"
                )
            }
            other => panic!("expected violations, got {other:?}"),
        }
    }

    #[test]
    fn unknown_elements_are_rejected() {
        let p = json!({"resourceType": "Patient", "fodselsnummer": "x"});
        assert!(matches!(validate(&p), Err(SchemaError::Invalid(_))));
        assert!(matches!(
            validate(&json!({"a": 1})),
            Err(SchemaError::MissingResourceType)
        ));
        assert!(matches!(
            validate(&json!({"resourceType": "Nope"})),
            Err(SchemaError::UnknownResourceType(_))
        ));
    }
}

//! Validation against the official FHIR R4 JSON Schema.
//!
//! The schema (`conformance/schemas/fhir.schema.json`, HL7, CC0; see `PROVENANCE.md` there) is
//! embedded in the binary. The first call to [`validate`] or [`is_resource_type`] compiles it, once
//! per process, into **one** validator shared by every resource type; later calls only validate.
//!
//! ## How the one validator is built, and why
//!
//! The schema is registered, unchanged and as draft 6 (its own `$schema`), under its HL7 URI. The
//! validator's root is a small draft-7 dispatch: for each resource type `T`, *if* `resourceType`
//! is `"T"` *then* `$ref` `…#/definitions/T`. A resource is thus checked against exactly its own
//! type's definition — what validating against `#/definitions/<resourceType>` alone checks, with
//! the same violations named — and the `if` on a constant passes every violation of the `then`
//! branch through untouched (unlike the schema's top-level `oneOf`, whose failure is one message
//! about the whole resource).
//!
//! The alternatives, measured (docs/performance.md, "FHIR schema validation"):
//!
//! - *a validator per resource type* (what this module did with `jsonschema` 0.33): every
//!   resource type reaches every other one through `contained` → `ResourceList`, so each compiled
//!   validator held the whole R4 graph — ≈ 170 MiB and ≈ 1–2 s per type, ≈ 2.4 GiB for the types
//!   one suite run touches;
//! - *a validator per type with a current `jsonschema`* (0.61, which compiles each `$ref` target
//!   once per validator and shares it): ≈ 19 MiB and ≈ 0.15 s per type, still paid per type;
//! - *one validator* (this module): the graph compiled once, ≈ 35 MiB and ≈ 0.1–0.25 s per process
//!   whatever types are validated;
//! - *validators generated at compile time* (`jsonschema`'s `macros` feature): no start-up cost,
//!   but Rust code for 680 definitions in every build of the workspace — CI time we would rather not
//!   pay for 0.1 s per process.
//!
//! The schema checks structure and primitive formats only; profile rules (no-basis identifiers,
//! value sets, cardinality) are checked by the platform on top of it.
//!
//! ```
//! use sandkasse_fhir::schema::{self, SchemaError};
//! let obs = serde_json::json!({"resourceType": "Observation", "status": "final", "code": {"text": "x"}, "focus": 1});
//! match schema::validate(&obs) {
//!     Err(SchemaError::Invalid(v)) => assert_eq!(v[0].expression, "Observation.focus"),
//!     other => panic!("{other:?}"),
//! }
//! ```

use std::collections::BTreeSet;
use std::sync::OnceLock;

use serde_json::{Value, json};

static SCHEMA_TEXT: &str = include_str!("../../../conformance/schemas/fhir.schema.json");

/// The URI the official schema is registered under (its own `id`).
const SCHEMA_URI: &str = "http://hl7.org/fhir/json-schema/4.0";

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

/// The compiled schema: the names of the resource types and one validator for all of them.
struct Schemas {
    resource_types: BTreeSet<String>,
    validator: jsonschema::Validator,
}

fn schemas() -> &'static Schemas {
    static SCHEMAS: OnceLock<Schemas> = OnceLock::new();
    SCHEMAS.get_or_init(|| {
        let document: Value =
            serde_json::from_str(SCHEMA_TEXT).expect("embedded FHIR schema is valid JSON");
        let resource_types: BTreeSet<String> = document["definitions"]
            .as_object()
            .expect("the FHIR schema has definitions")
            .iter()
            .filter(|(name, def)| {
                def.pointer("/properties/resourceType/const")
                    .is_some_and(|c| c == name.as_str())
            })
            .map(|(name, _)| name.clone())
            .collect();
        let dispatch: Vec<Value> = resource_types
            .iter()
            .map(|t| {
                json!({
                    "if": {"properties": {"resourceType": {"const": t}}, "required": ["resourceType"]},
                    "then": {"$ref": format!("{SCHEMA_URI}#/definitions/{t}")},
                })
            })
            .collect();
        let registry = jsonschema::Registry::new()
            .add(SCHEMA_URI, &document)
            .and_then(|r| r.prepare())
            .expect("the official FHIR schema registers");
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft7)
            .with_registry(&registry)
            .build(&json!({"allOf": dispatch}))
            .expect("the official FHIR schema compiles");
        Schemas {
            resource_types,
            validator,
        }
    })
}

/// Compiles the schema now, unless an earlier call did. [`validate`] compiles it on first use; a
/// caller that validates inside a time budget (the platform, answering an adapter under its
/// deadline) calls this first, ahead of the clock — it takes ≈ 0.1–0.25 s on a 2-core machine.
pub fn prepare() {
    schemas();
}

/// Whether `resource_type` is a resource type of FHIR R4.
pub fn is_resource_type(resource_type: &str) -> bool {
    schemas().resource_types.contains(resource_type)
}

/// Validates one resource against `#/definitions/<its resourceType>`.
pub fn validate(resource: &Value) -> Result<(), SchemaError> {
    let resource_type = resource
        .get("resourceType")
        .and_then(Value::as_str)
        .ok_or(SchemaError::MissingResourceType)?;
    let s = schemas();
    if !s.resource_types.contains(resource_type) {
        return Err(SchemaError::UnknownResourceType(resource_type.to_owned()));
    }
    if s.validator.is_valid(resource) {
        return Ok(());
    }
    let mut errors: Vec<(String, bool, String)> = s
        .validator
        .iter_errors(resource)
        .map(|e| {
            let checked_first = CHECKED_FIRST.contains(&e.kind().keyword());
            (e.instance_path().to_string(), checked_first, e.to_string())
        })
        .collect();
    in_schema_order(&mut errors);
    let violations = errors
        .into_iter()
        .map(|(pointer, _, message)| Violation {
            expression: fhir_path(resource_type, &pointer),
            message,
        })
        .collect();
    Err(SchemaError::Invalid(violations))
}

/// Keywords the validator checks before the rest of their schema object, though the official
/// schema lists them last: an element is `{properties, additionalProperties, required}`, a
/// primitive `{pattern, type}`.
const CHECKED_FIRST: [&str; 2] = ["required", "type"];

/// Puts violations `(pointer, checked first, message)` in the order of the schema's keywords, the
/// order sandkasse has always reported them in: a violation of a [`CHECKED_FIRST`] keyword at an
/// element moves behind the violations found at that element and inside it.
///
/// ```text
/// validator:  Observation: "code" is required · Observation.id: not a string · Observation: 'x' unexpected
/// reported:   Observation.id: not a string · Observation: 'x' unexpected · Observation: "code" is required
/// ```
fn in_schema_order(errors: &mut [(String, bool, String)]) {
    let mut i = 0;
    while i < errors.len() {
        if !errors[i].1 {
            i += 1;
            continue;
        }
        let at = errors[i].0.clone();
        let inside = |p: &str| {
            p == at
                || p.strip_prefix(at.as_str())
                    .is_some_and(|r| r.starts_with('/'))
        };
        let mut first_rest = i;
        while first_rest < errors.len() && errors[first_rest].0 == at && errors[first_rest].1 {
            first_rest += 1;
        }
        let mut end = first_rest;
        while end < errors.len() && inside(&errors[end].0) {
            end += 1;
        }
        if end == first_rest {
            i = end;
        } else {
            // The moved ones end up with nothing of theirs behind them, so this terminates.
            errors[i..end].rotate_left(first_rest - i);
        }
    }
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

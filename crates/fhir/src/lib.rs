//! FHIR R4 building blocks shared by every sandkasse crate.
//!
//! - [`schema`]: validation of a resource against the official HL7 FHIR R4 JSON Schema
//!   (`conformance/schemas/fhir.schema.json`, CC0), one resource type at a time;
//! - [`systems`]: the identifier and code systems of no-basis and the Norwegian code lists the
//!   synthetic kommune uses;
//! - [`outcome`]: `OperationOutcome` resources, the FHIR way to say what went wrong.
//!
//! ```
//! use sandkasse_fhir::schema;
//! let patient = serde_json::json!({"resourceType": "Patient", "id": "p1", "active": true});
//! assert!(schema::validate(&patient).is_ok());
//! let broken = serde_json::json!({"resourceType": "Patient", "id": "p1", "active": "yes"});
//! assert!(schema::validate(&broken).is_err());
//! ```

pub mod outcome;
pub mod schema;
pub mod systems;

/// The FHIR version every sandkasse resource conforms to.
pub const FHIR_VERSION: &str = "4.0.1";

//! The synthetic kommune: a deterministic generator of realistic, provably synthetic health data.
//!
//! [`generate`] turns a [`GenConfig`] (seed, size, kommuner) into a [`Dataset`]: for each kommune
//! (tenant) every FHIR R4 resource the platform serves, plus the [`Truth`] the platform's access
//! rules and the suite's expectations are computed from. [`output::write_ndjson`] streams the same
//! data to NDJSON files with a manifest. The same configuration gives byte-identical output on any
//! machine.
//!
//! ```
//! use sandkasse_kommune::{GenConfig, generate};
//! let data = generate(&GenConfig::new(7, 300));
//! let bergen = data.tenant("4601").expect("Bergen is a default kommune");
//! assert!(bergen.resources.iter().any(|r| r.resource_type == "Patient"));
//! assert!(bergen.truth.care_relations.iter().any(|c| c.active_on("2026-10-01")));
//! ```
//!
//! Identifiers: see [`ids`]; code lists: [`codes`]; the kommuner: [`kommuner`].

pub mod codes;
mod dataset;
mod generate;
pub mod ids;
pub mod kommuner;
pub mod model;
mod names;
pub mod output;

pub use dataset::{generate, try_generate};
pub use generate::{GenError, REFERENCE_DATE};
pub use model::*;

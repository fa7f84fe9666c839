//! The conformance suite: `conformance/` as typed data, run through the sandbox, judged into a
//! signed report.
//!
//! - [`model`]: the suite as data (strictly loaded);
//! - [`load`]: reading and cross-checking `conformance/`;
//! - [`report`]: the report, its scoring, signing and renderings.

pub mod load;
pub mod model;
pub mod report;

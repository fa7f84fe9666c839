//! The conformance suite: `conformance/` as typed data, run through the sandbox, judged into a
//! signed report.
//!
//! - [`model`]: the suite as data (strictly loaded);
//! - [`load`]: reading and cross-checking `conformance/`;
//! - [`execute`]: every scenario run in a fresh instance on virtual time, into the evidence the
//!   checks are judged on; [`harness`]: the one call that tests a component (load → execute →
//!   judge → report);
//! - [`report`]: the report, its scoring, signing and renderings; [`command`]: the reproduce
//!   commands it stores, every argument quoted for a POSIX shell; [`bound`]: the report's byte
//!   budget;
//! - [`judge`]: every check judged on its scenario's evidence, one file per area
//!   (`judge/{robustness, overview, security, privacy, resources, writes, events}.rs`);
//!   [`fidelity`]: the checks that compare what was stored with what was documented and what was
//!   shown with what was served; [`score`]: checks rolled up to vilkår, the score and the verdict;
//! - [`text`]: the one rule for names people see: no control, bidirectional or invisible
//!   characters;
//! - [`sign`]: Ed25519 signing and verification of reports, and which key signs;
//! - [`render`]: the report as a page for people, JUnit XML for CI and an SVG badge (format:
//!   `docs/report-format.md`); [`markup`]: the one escaping policy of every rendering and of
//!   the markedsplass's pages.

pub mod bound;
pub mod command;
pub mod execute;
pub mod fidelity;
pub mod harness;
pub mod judge;
pub mod load;
pub mod markup;
pub mod model;
pub mod render;
pub mod report;
pub mod score;
pub mod sign;
#[cfg(test)]
mod testutil;
pub mod text;

//! Validation strength, pinned: a corpus of invalid resources (wrong types, unknown elements, bad
//! primitives, invalid contained resources) in every resource type the platform serves or the
//! suite validates, and for each the exact violations — expression and message — the validator
//! names. The expectations were recorded from the validator as it was before any change to how it
//! is built, so a faster or smaller validator must name exactly the same violations.
//!
//! Inputs: `tests/corpus/invalid.json`; expectations: `tests/corpus/invalid.expected.json`.
//! `BLESS=1 cargo test -p sandkasse-fhir` rewrites the expectations after a deliberate change.

use std::path::PathBuf;

use sandkasse_fhir::schema::{self, SchemaError};
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Corpus {
    #[allow(dead_code)]
    description: String,
    cases: Vec<Case>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    resource: Value,
}

/// What the validator said about one case.
#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Outcome {
    name: String,
    /// `SchemaError`'s display (the text reports carry), empty when valid.
    error: String,
    /// `expression: message` of each violation, in the validator's order.
    violations: Vec<String>,
}

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

fn outcomes() -> Vec<Outcome> {
    let text = std::fs::read_to_string(corpus_dir().join("invalid.json")).unwrap();
    let corpus: Corpus = serde_json::from_str(&text).unwrap();
    corpus
        .cases
        .into_iter()
        .map(|case| {
            let result = schema::validate(&case.resource);
            let violations = match &result {
                Err(SchemaError::Invalid(v)) => v.iter().map(ToString::to_string).collect(),
                _ => Vec::new(),
            };
            Outcome {
                name: case.name,
                error: result.err().map(|e| e.to_string()).unwrap_or_default(),
                violations,
            }
        })
        .collect()
}

#[test]
fn every_invalid_case_is_rejected_and_every_valid_one_accepted() {
    for o in outcomes() {
        if o.name.ends_with("/valid") {
            assert!(
                o.error.is_empty(),
                "{} should be valid: {}",
                o.name,
                o.error
            );
        } else {
            assert!(!o.violations.is_empty(), "{} should be invalid", o.name);
        }
    }
}

#[test]
fn the_same_violations_are_named_as_recorded() {
    let got = outcomes();
    let path = corpus_dir().join("invalid.expected.json");
    if std::env::var_os("BLESS").is_some() {
        let mut text = serde_json::to_string_pretty(&got).unwrap();
        text.push('\n');
        std::fs::write(&path, text).unwrap();
    }
    let want: Vec<Outcome> = serde_json::from_str(
        &std::fs::read_to_string(&path).expect("expectations (BLESS=1 records them)"),
    )
    .unwrap();
    assert_eq!(
        got.len(),
        want.len(),
        "corpus and expectations differ in length"
    );
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(g, w, "case {}", w.name);
    }
}

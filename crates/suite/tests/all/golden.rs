//! Reports keep their bytes. Signatures cover a report's JSON, so a change to how a report is
//! built, held or cut must not change one byte of it for the same component, suite and seed:
//!
//! - a report an earlier version wrote and signed (whole, and cut by the size bound in both its
//!   steps) deserialises, serialises back to the same bytes and still verifies
//!   (`golden/*.report.json`);
//! - the suite run on sample components gives report bodies, whole and bounded, whose SHA-256 is
//!   what an earlier version gave (`golden/digests.txt`).
//!
//! Refresh with `BLESS=1` only when the report format is meant to change (a new format version).

use std::path::PathBuf;

use sandkasse_suite::bound::bound;
use sandkasse_suite::report::Report;
use sandkasse_suite::sign::{key_from_hex, sign, verify_json};
use sha2::{Digest as _, Sha256};

/// The stored reports: whole, and cut by the size bound to these budgets.
const STORED: [(&str, Option<usize>); 3] = [
    ("flood-whole", None),
    // Its exchanges keep four fields and lists end in a note of items left out.
    ("flood-160k", Some(160 << 10)),
    // Each call keeps only its summary.
    ("flood-6k", Some(6 << 10)),
];

/// Sample components and the budgets their reports are also bounded to.
const COMPONENTS: [&str; 6] = [
    "reference",
    "hostile_request_flood",
    "hostile_trap",
    "hostile_foreign_host",
    "flawed_logs_fnr",
    "hostile_stdout_flood",
];
const BUDGETS: [usize; 3] = [256 << 10, 24 << 10, 4 << 10];

/// A fixed key: the stored reports are signed with it.
const KEY: &str = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";

fn golden(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/all/golden")
        .join(name)
}

fn bless() -> bool {
    std::env::var_os("BLESS").is_some()
}

/// The file a report is written as (`sandkasse test`'s `report.json`).
fn file_bytes(report: &Report) -> Vec<u8> {
    (serde_json::to_string_pretty(report).expect("reports serialise") + "\n").into_bytes()
}

/// With `BLESS`: writes the stored reports from `sandkasse-report/report.json`, a signed report of
/// the hostile request flood (its many exchanges make every form of cut). The whole one keeps the first two calls of each scenario
/// and the first three exchanges of each call.
fn write_stored() {
    let source =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../sandkasse-report/report.json");
    let text =
        std::fs::read_to_string(&source).unwrap_or_else(|e| panic!("{}: {e}", source.display()));
    let key = key_from_hex(KEY).unwrap();
    for (name, budget) in STORED {
        let mut report: Report = serde_json::from_str(&text).unwrap();
        match budget {
            None => {
                let mut value = serde_json::to_value(&report).unwrap();
                for scenario in value["scenarios"].as_array_mut().unwrap() {
                    let calls = scenario["calls"].as_array_mut().unwrap();
                    calls.truncate(2);
                    for call in calls {
                        call["exchanges"].as_array_mut().unwrap().truncate(3);
                    }
                }
                report = serde_json::from_value(value).unwrap();
            }
            Some(budget) => {
                bound(&mut report, budget);
            }
        }
        sign(&mut report, &key);
        std::fs::write(golden(&format!("{name}.report.json")), file_bytes(&report)).unwrap();
    }
}

#[test]
fn a_stored_report_reads_and_writes_the_same_bytes() {
    if bless() {
        write_stored();
    }
    for (name, _) in STORED {
        let bytes = std::fs::read(golden(&format!("{name}.report.json"))).unwrap();
        let report = verify_json(&bytes, None).unwrap_or_else(|e| panic!("{name}: {e}"));
        let again = file_bytes(&report);
        assert!(again == bytes, "{name}: the bytes changed");
        let signed_again: Report = serde_json::from_slice(&again).unwrap();
        assert_eq!(
            signed_again.signing_bytes(),
            report.signing_bytes(),
            "{name}"
        );
    }
}

fn digest(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[test]
fn reports_of_sample_components_keep_their_bytes() {
    let mut lines = Vec::new();
    for name in COMPONENTS {
        let report = super::report(name);
        lines.push(format!("{name} whole {}", digest(&report.body())));
        for budget in BUDGETS {
            let mut cut = report.clone();
            bound(&mut cut, budget);
            lines.push(format!("{name} {budget} {}", digest(&cut.body())));
        }
    }
    let text = lines.join("\n") + "\n";
    let path = golden("digests.txt");
    if bless() {
        std::fs::write(&path, &text).unwrap();
    }
    let stored = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text, stored, "report bodies changed");
}

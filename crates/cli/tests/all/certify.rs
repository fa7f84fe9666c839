//! `sandkasse test` and `sandkasse verify` end to end.

use std::process::Command;

fn plugin(name: &str) -> String {
    format!(
        "{}/../../plugins/target/wasm32-wasip2/release/{name}.wasm",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn sandkasse(args: &[&str], config: &std::path::Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_sandkasse"))
        .args(args)
        .env("SANDKASSE_NO_CACHE", "1")
        .env("XDG_CONFIG_HOME", config)
        .env_remove("SANDKASSE_SIGNING_KEY")
        .output()
        .expect("run sandkasse")
}

#[test]
fn test_writes_signed_reports_and_exits_by_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("rapport");
    let o = sandkasse(
        &["test", &plugin("reference"), "--out", out.to_str().unwrap()],
        dir.path(),
    );
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        stdout.contains("GODKJENT") && stdout.contains("SIK-02"),
        "{stdout}"
    );
    for f in ["report.json", "junit.xml", "report.html", "badge.svg"] {
        assert!(out.join(f).is_file(), "{f}");
    }
    let report = out.join("report.json");
    let v = sandkasse(&["verify", report.to_str().unwrap()], dir.path());
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stderr));

    // Tampering with the verdict breaks the signature.
    let text =
        std::fs::read_to_string(&report)
            .unwrap()
            .replacen("\"score\": 1.0", "\"score\": 0.5", 1);
    std::fs::write(&report, text).unwrap();
    let v = sandkasse(&["verify", report.to_str().unwrap()], dir.path());
    assert!(!v.status.success(), "a tampered report must not verify");
}

#[test]
fn a_flawed_adapter_fails_ci() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("rapport");
    let o = sandkasse(
        &[
            "test",
            &plugin("flawed_logs_fnr"),
            "--out",
            out.to_str().unwrap(),
            "--scenario",
            "overview-basic",
            "--format",
            "json,junit",
        ],
        dir.path(),
    );
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("IKKE GODKJENT") && stdout.contains("PER-03"),
        "{stdout}"
    );
    let junit = std::fs::read_to_string(out.join("junit.xml")).unwrap();
    assert!(junit.contains("<failure"), "{junit}");
    assert!(
        !out.join("report.html").exists(),
        "only the formats asked for"
    );
}

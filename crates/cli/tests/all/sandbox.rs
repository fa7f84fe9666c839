//! `sandkasse inspect` and `sandkasse run` on the sample components.

use super::sandkasse;

fn plugin(name: &str) -> String {
    let p = format!(
        "{}/../../plugins/target/wasm32-wasip2/release/{name}.wasm",
        env!("CARGO_MANIFEST_DIR")
    );
    assert!(
        std::path::Path::new(&p).exists(),
        "{p} missing: run cargo xtask plugins"
    );
    p
}

#[test]
fn inspect_accepts_the_reference_and_names_a_disallowed_import() {
    let ok = sandkasse(&["inspect", &plugin("reference"), "--json"]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&ok.stdout).unwrap();
    assert_eq!(v["accepted"], true);
    assert_eq!(v["inspection"]["digest"].as_str().unwrap().len(), 64);
    let bad = sandkasse(&["inspect", &plugin("hostile_disallowed_import")]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stdout).contains("✗ evil:host/spawn"));
}

#[test]
fn run_prints_evidence_as_json() {
    let o = sandkasse(&[
        "run",
        &plugin("reference"),
        "--call",
        "patient-overview",
        "--innbyggere",
        "300",
        "--json",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v[0]["call"], "instantiate");
    assert_eq!(v[1]["call"], "patient-overview");
    assert_eq!(v[1]["class"], "ok");
    assert!(v[1]["exchanges"].as_array().unwrap().len() >= 2);
}

#[test]
fn run_explains_a_patient_without_relation() {
    let o = sandkasse(&[
        "run",
        &plugin("reference"),
        "--innbyggere",
        "300",
        "--patient",
        "pas-4601-999999",
    ]);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("tjenstlig behov"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A compile bomb is refused at the compile time limit given on the command line, naming it, in
/// about that time.
#[test]
fn inspect_refuses_a_compile_bomb_at_the_time_limit() {
    let tmp = tempfile::tempdir().unwrap();
    let bomb = tmp.path().join("bomb.wasm");
    std::fs::write(&bomb, crate::bomb::compile_bomb(20_000, 4)).unwrap();
    let started = std::time::Instant::now();
    let o = sandkasse(&[
        "inspect",
        bomb.to_str().unwrap(),
        "--compile-timeout-seconds",
        "2",
    ]);
    let took = started.elapsed();
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("grensen på 2 s") && out.contains("the limit of 2 s"),
        "{out}"
    );
    assert!(took.as_secs() < 6, "refused after {took:?}");
}

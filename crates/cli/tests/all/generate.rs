use super::sandkasse;

#[test]
fn generate_writes_ndjson_and_a_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("data");
    let o = sandkasse(&[
        "generate",
        "--seed",
        "3",
        "--innbyggere",
        "400",
        "--kommuner",
        "4601,4036",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["seed"], 3);
    let kommuner: Vec<_> = manifest["kommuner"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["nummer"].as_str().unwrap())
        .collect();
    assert_eq!(kommuner, ["4601", "4036"]);
    let patients = std::fs::read_to_string(out.join("4601/Patient.ndjson")).unwrap();
    assert!(patients.lines().all(
        |l| serde_json::from_str::<serde_json::Value>(l).unwrap()["resourceType"] == "Patient"
    ));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains(manifest["digest"].as_str().unwrap()),
        "{stdout}"
    );
}

#[test]
fn bad_arguments_are_explained() {
    let dir = tempfile::tempdir().unwrap();
    let o = sandkasse(&[
        "generate",
        "--innbyggere",
        "5",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("for få innbyggere"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = sandkasse(&[
        "generate",
        "--kommuner",
        "9999",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("9999"));
}

//! Same seed and size → byte-identical output, proven by a golden digest.
//! Refresh the golden file with `BLESS=1 cargo test -p sandkasse-kommune` after a deliberate change.

use std::path::Path;

use sandkasse_kommune::output::write_ndjson;
use sandkasse_kommune::{GenConfig, generate};

const GOLDEN: &str = "tests/all/golden-digest.txt";

#[test]
fn golden_digest() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_ndjson(&GenConfig::new(42, 1_000), dir.path()).unwrap();
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join(GOLDEN);
    if std::env::var_os("BLESS").is_some() {
        std::fs::write(&golden, format!("{}\n", manifest.digest)).unwrap();
    }
    let expected = std::fs::read_to_string(&golden)
        .expect("golden digest file (run with BLESS=1 to create it)");
    assert_eq!(
        manifest.digest,
        expected.trim(),
        "generator output changed; if deliberate, rerun with BLESS=1"
    );
}

#[test]
fn two_runs_are_byte_identical_and_seeds_differ() {
    let (a, b, c) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let ma = write_ndjson(&GenConfig::new(7, 600), a.path()).unwrap();
    let mb = write_ndjson(&GenConfig::new(7, 600), b.path()).unwrap();
    let mc = write_ndjson(&GenConfig::new(8, 600), c.path()).unwrap();
    assert_eq!(ma, mb);
    assert_ne!(ma.digest, mc.digest);
    for k in &ma.kommuner {
        for f in &k.output {
            let x = std::fs::read(a.path().join(&f.url)).unwrap();
            let y = std::fs::read(b.path().join(&f.url)).unwrap();
            assert!(x == y, "{} differs", f.url);
        }
    }
    let manifest = std::fs::read_to_string(a.path().join("manifest.json")).unwrap();
    assert!(manifest.contains(&ma.digest));
}

#[test]
fn files_hold_exactly_the_in_memory_dataset() {
    let config = GenConfig::new(11, 500);
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_ndjson(&config, dir.path()).unwrap();
    let data = generate(&config);
    for (tenant, mk) in data.tenants.iter().zip(&manifest.kommuner) {
        assert_eq!(tenant.kommune.nummer, mk.nummer);
        for f in mk.output.iter().filter(|f| f.kind != "truth") {
            let text = std::fs::read_to_string(dir.path().join(&f.url)).unwrap();
            let expected: String = tenant
                .resources
                .iter()
                .filter(|r| r.resource_type == f.kind)
                .map(|r| format!("{}\n", serde_json::to_string(&r.json).unwrap()))
                .collect();
            assert_eq!(text, expected, "{}", f.url);
            assert_eq!(f.count as usize, text.lines().count());
        }
        let truth: serde_json::Value = serde_json::from_slice(
            &std::fs::read(dir.path().join(format!("{}/truth.json", mk.nummer))).unwrap(),
        )
        .unwrap();
        assert_eq!(truth, serde_json::to_value(&tenant.truth).unwrap());
    }
}

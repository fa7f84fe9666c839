//! The compile cache: a hit skips compilation; a tampered artefact is never loaded.

use sandkasse_sandbox::{Sandbox, SandboxConfig};

use super::{plugin, test_limits};

fn sandbox_in(dir: &std::path::Path) -> Sandbox {
    Sandbox::new(SandboxConfig {
        limits: test_limits(),
        cache_dir: Some(dir.to_owned()),
        ..SandboxConfig::default()
    })
    .unwrap()
}

#[test]
fn second_process_hits_the_cache_and_tampering_forces_a_recompile() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = plugin("reference");
    let first = sandbox_in(dir.path()).prepare(&bytes).unwrap();
    assert!(!first.cache_hit);
    let artefacts: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let cwasm = artefacts
        .iter()
        .find(|p| p.extension().is_some_and(|e| e == "cwasm"))
        .expect("artefact written");
    assert!(
        artefacts
            .iter()
            .any(|p| p.extension().is_some_and(|e| e == "sha256")),
        "digest beside it"
    );
    assert!(
        cwasm
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with(&first.inspection.digest)
    );

    let second = sandbox_in(dir.path()).prepare(&bytes).unwrap();
    assert!(second.cache_hit);
    assert_eq!(second.inspection, first.inspection);

    // Flip one byte in the middle of the artefact: the integrity check refuses it.
    let mut code = std::fs::read(cwasm).unwrap();
    let mid = code.len() / 2;
    code[mid] ^= 0xff;
    std::fs::write(cwasm, &code).unwrap();
    let third = sandbox_in(dir.path()).prepare(&bytes).unwrap();
    assert!(
        !third.cache_hit,
        "a tampered artefact is recompiled, not loaded"
    );
}

#[test]
fn a_forgotten_component_is_loaded_again_and_only_it() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = sandbox_in(dir.path());
    let (a, b) = (plugin("reference"), plugin("flawed_drops_token"));
    let (a1, b1) = (sandbox.prepare(&a).unwrap(), sandbox.prepare(&b).unwrap());
    assert!(
        std::sync::Arc::ptr_eq(&a1, &sandbox.prepare(&a).unwrap()),
        "kept while not forgotten"
    );
    sandbox.forget_prepared(&a1.inspection.digest);
    let a2 = sandbox.prepare(&a).unwrap();
    assert!(
        !std::sync::Arc::ptr_eq(&a1, &a2) && a2.cache_hit,
        "loaded again, from the disk cache"
    );
    assert!(
        std::sync::Arc::ptr_eq(&b1, &sandbox.prepare(&b).unwrap()),
        "the other component stays prepared"
    );
}

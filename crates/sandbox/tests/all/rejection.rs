//! Components that must be rejected at upload, each with a message a vendor can act on.

use sandkasse_sandbox::Rejection;

use super::{plugin, sandbox};

#[test]
fn core_module_is_not_a_component() {
    let bytes = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../plugins/fixtures/core-module.wasm"
    ))
    .unwrap();
    let err = sandbox().prepare(&bytes).unwrap_err();
    assert_eq!(err, Rejection::CoreModule);
    assert!(err.to_string().contains("wasm32-wasip2"), "{err}");
}

#[test]
fn truncated_binary_is_malformed() {
    let reference = plugin("reference");
    let err = sandbox()
        .prepare(&reference[..reference.len() / 2])
        .unwrap_err();
    assert!(matches!(err, Rejection::Malformed(_)), "{err:?}");
}

#[test]
fn wrong_world_names_what_is_missing() {
    let err = sandbox()
        .prepare(&plugin("hostile_wrong_world"))
        .unwrap_err();
    match &err {
        Rejection::MissingExport { expected, found } => {
            assert_eq!(*expected, "kommune:sandkasse/adapter-api@0.1.0");
            assert!(found.contains("wasi:cli/run"), "{found}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn disallowed_import_is_named() {
    let err = sandbox()
        .prepare(&plugin("hostile_disallowed_import"))
        .unwrap_err();
    assert!(
        matches!(&err, Rejection::DisallowedImport { name } if name.starts_with("evil:host/spawn")),
        "{err:?}"
    );
    assert!(err.to_string().contains("evil:host/spawn"));
}

#[test]
fn not_wasm_and_empty() {
    assert_eq!(sandbox().prepare(b"").unwrap_err(), Rejection::Empty);
    assert_eq!(
        sandbox().prepare(b"PK\x03\x04 a zip file").unwrap_err(),
        Rejection::NotWasm
    );
}

#[test]
fn inspection_of_the_reference_adapter() {
    let bytes = plugin("reference");
    let (inspection, verdict) = sandbox().inspect(&bytes);
    verdict.unwrap();
    let i = inspection.unwrap();
    assert_eq!(i.size, bytes.len());
    assert_eq!(i.digest.len(), 64);
    assert!(
        i.exports
            .contains(&"kommune:sandkasse/adapter-api@0.1.0".to_owned())
    );
    assert!(
        i.imports
            .iter()
            .any(|n| n.starts_with("wasi:http/outgoing-handler@0.2"))
    );
}

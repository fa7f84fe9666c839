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

/// The probe's finding: interfaces that do not exist in an allowed package, under an allowed
/// prefix and version, are refused by name before anything is linked.
#[test]
fn an_interface_the_allowed_packages_lack_is_named() {
    let names: Vec<String> = (0..950).map(|i| format!("wasi:cli/x{i}@0.2.0")).collect();
    let mut imports = vec!["wasi:cli/environment@0.2.0", "wasi:io/streams@0.2.0"];
    imports.extend(names.iter().map(String::as_str));
    let (inspection, verdict) = sandbox().inspect(&crate::bomb::adapter_importing(&imports));
    assert!(inspection.is_some());
    let err = verdict.unwrap_err();
    assert_eq!(
        err,
        Rejection::DisallowedImport {
            name: "wasi:cli/x0@0.2.0".into()
        }
    );
    assert!(err.to_string().contains("`wasi:cli/x0@0.2.0`"), "{err}");
    for name in [
        "wasi:clocks/timezone@0.2.12",
        "wasi:http/incoming-handler@0.2.0",
    ] {
        let err = sandbox()
            .prepare(&crate::bomb::adapter_importing(&[name]))
            .unwrap_err();
        assert!(
            matches!(&err, Rejection::DisallowedImport { name: n } if n == name),
            "{err:?}"
        );
    }
}

/// The other side: every sample component built from an honest crate — the references in Rust
/// and Python, the flawed and the hostile ones that fail at run time — passes the import audit;
/// only `hostile_disallowed_import` is refused.
#[test]
fn every_honest_sample_passes_the_import_audit() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut components: Vec<_> =
        std::fs::read_dir(dir.join("plugins/target/wasm32-wasip2/release"))
            .expect("cargo xtask plugins")
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "wasm"))
            .collect();
    components.push(dir.join("plugins/python-reference/target/python_reference.wasm"));
    assert!(components.len() > 30, "{components:?}");
    let mut seen_python_imports = 0;
    for path in components {
        let bytes = std::fs::read(&path)
            .unwrap_or_else(|e| panic!("{}: {e}; run cargo xtask plugins", path.display()));
        let (imports, _) = sandkasse_sandbox::inspect::outer_names(&bytes).expect("a component");
        assert!(!imports.is_empty(), "{}", path.display());
        let verdict = sandkasse_sandbox::inspect::audit_imports(imports.iter().map(String::as_str));
        let name = path.file_stem().unwrap().to_string_lossy();
        if name == "hostile_disallowed_import" {
            assert!(
                matches!(&verdict, Err(Rejection::DisallowedImport { name }) if name.starts_with("evil:host/spawn")),
                "{verdict:?}"
            );
        } else {
            assert_eq!(verdict, Ok(()), "{name} imports {imports:?}");
        }
        if name == "python_reference" {
            seen_python_imports = imports.len();
        }
    }
    assert!(
        seen_python_imports > 10,
        "the Python reference imports much of WASI: {seen_python_imports}"
    );
}

//! Inspection of an uploaded component: what it is, what it imports and exports, and whether the
//! import audit lets it run. Every rejection says exactly why, in words a vendor can act on.

use serde::Serialize;
use sha2::{Digest, Sha256};

/// The world a component must export.
pub const EXPORTED_INTERFACE: &str = "kommune:sandkasse/adapter-api@0.1.0";

/// A package a component may import from: the interfaces of it that the sandbox links, and the
/// version line it accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AllowedPackage {
    /// `namespace:name`, e.g. `wasi:cli`.
    pub package: &'static str,
    /// The `major.minor.` an import's version must start with; the rest is a patch number.
    /// wasmtime links any patch of a `0.x` line to the one it implements.
    pub version_line: &'static str,
    /// Every interface of the package that the sandbox's linker defines.
    pub interfaces: &'static [&'static str],
}

/// The interfaces a component may import: exactly those the sandbox links (`engine.rs`:
/// `wasmtime_wasi::p2::add_to_linker_async`, `wasmtime_wasi_http::p2::add_only_http_to_linker_async`
/// and the contract's `logging`), by package, interface and version line. WASI 0.2 is linked with
/// every capability denied; `wasi:http` is routed to the platform; `kommune:sandkasse` is the
/// contract. Anything else — an interface these packages do not have (`wasi:cli/x0`), an
/// unstable one (`wasi:clocks/timezone`), the server side of HTTP, another version line such as
/// WASI 0.3 — is rejected by name.
pub const ALLOWED_PACKAGES: &[AllowedPackage] = &[
    AllowedPackage {
        package: "wasi:cli",
        version_line: "0.2.",
        interfaces: &[
            "environment",
            "exit",
            "stdin",
            "stdout",
            "stderr",
            "terminal-input",
            "terminal-output",
            "terminal-stdin",
            "terminal-stdout",
            "terminal-stderr",
        ],
    },
    AllowedPackage {
        package: "wasi:clocks",
        version_line: "0.2.",
        interfaces: &["monotonic-clock", "wall-clock"],
    },
    AllowedPackage {
        package: "wasi:filesystem",
        version_line: "0.2.",
        interfaces: &["types", "preopens"],
    },
    AllowedPackage {
        package: "wasi:io",
        version_line: "0.2.",
        interfaces: &["error", "poll", "streams"],
    },
    AllowedPackage {
        package: "wasi:random",
        version_line: "0.2.",
        interfaces: &["random", "insecure", "insecure-seed"],
    },
    AllowedPackage {
        package: "wasi:sockets",
        version_line: "0.2.",
        interfaces: &[
            "network",
            "instance-network",
            "ip-name-lookup",
            "tcp",
            "tcp-create-socket",
            "udp",
            "udp-create-socket",
        ],
    },
    AllowedPackage {
        package: "wasi:http",
        version_line: "0.2.",
        interfaces: &["types", "outgoing-handler"],
    },
    AllowedPackage {
        package: "kommune:sandkasse",
        version_line: "0.1.",
        interfaces: &["types", "logging"],
    },
];

/// Whether one import name (`namespace:package/interface@version`) is an interface the sandbox
/// links, in a version line it accepts.
///
/// ```
/// use sandkasse_sandbox::inspect::is_allowed_import;
/// assert!(is_allowed_import("wasi:cli/environment@0.2.0"));
/// assert!(!is_allowed_import("wasi:cli/x0@0.2.0"), "no such interface");
/// assert!(!is_allowed_import("wasi:cli/environment@0.3.0"), "another version line");
/// ```
pub fn is_allowed_import(name: &str) -> bool {
    let Some((path, version)) = name.split_once('@') else {
        return false;
    };
    let Some((package, interface)) = path.split_once('/') else {
        return false;
    };
    ALLOWED_PACKAGES.iter().any(|allowed| {
        allowed.package == package
            && allowed.interfaces.contains(&interface)
            && version
                .strip_prefix(allowed.version_line)
                .is_some_and(|patch| !patch.is_empty() && patch.bytes().all(|b| b.is_ascii_digit()))
    })
}

/// What the sandbox knows about a component.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Inspection {
    /// SHA-256 of the component bytes, hex.
    pub digest: String,
    /// Size in bytes.
    pub size: usize,
    /// The contract world it implements.
    pub world: String,
    /// Import names, sorted.
    pub imports: Vec<String>,
    /// Export names, sorted.
    pub exports: Vec<String>,
}

/// Why a component is rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("filen er tom / the file is empty")]
    Empty,
    #[error(
        "komponenten er {size} byte, grensen er {limit} byte / the component is {size} bytes, the limit is {limit} bytes"
    )]
    TooLarge { size: usize, limit: usize },
    #[error(
        "ikke WebAssembly: filen begynner ikke med \\0asm / not WebAssembly: the file does not start with the \\0asm magic"
    )]
    NotWasm,
    #[error(
        "dette er en WebAssembly-kjernemodul, ikke en komponent; bygg med `cargo build --target wasm32-wasip2` eller `wasm-tools component new` / this is a core WebAssembly module, not a component; build with `cargo build --target wasm32-wasip2` or wrap it with `wasm-tools component new`"
    )]
    CoreModule,
    #[error("ugyldig eller avkuttet komponent / invalid or truncated component: {0}")]
    Malformed(String),
    #[error(
        "komponenten eksporterer ikke `{expected}` (eksporterer: {found}) / the component does not export `{expected}` (it exports: {found}); implement the world `kommune:sandkasse/adapter` from conformance/wit"
    )]
    MissingExport {
        expected: &'static str,
        found: String,
    },
    #[error(
        "ikke tillatt import `{name}`: en adapter kan bare importere grensesnittene sandkasse kobler inn fra WASI 0.2, wasi:http og kontrakten / import `{name}` is not allowed: an adapter may import only the interfaces sandkasse links from WASI 0.2, wasi:http and the contract (kommune:sandkasse); remove the dependency that brings it in"
    )]
    DisallowedImport { name: String },
    #[error("komponenten passer ikke kontrakten / the component does not match the contract: {0}")]
    Incompatible(String),
    #[error(
        "kompileringen av komponenten tok lengre enn grensen på {seconds} s og ble stoppet; del opp svært store funksjoner / compiling the component took longer than the limit of {seconds} s and was stopped; split very large functions"
    )]
    CompileTimeout { seconds: u64 },
    #[error(
        "kompileringen av komponenten brukte mer minne enn grensen på {} MiB og ble stoppet; del opp svært store eller dypt nøstede funksjoner / compiling the component used more memory than the limit of {} MiB and was stopped; split very large or deeply nested functions",
        .limit >> 20, .limit >> 20
    )]
    CompileMemory { limit: usize },
    #[error(
        "den kompilerte koden er {size} byte, grensen er {limit} byte / the compiled code is {size} bytes, the limit is {limit} bytes"
    )]
    CompiledTooLarge { size: usize, limit: usize },
    #[error(
        "sandkasse stoppet mens komponenten ble kompilert; ingenting er lagret, prøv igjen / sandkasse stopped while compiling the component; nothing was stored, try again"
    )]
    Interrupted,
    #[error("kompileringen stoppet uventet / compiling stopped unexpectedly: {0}")]
    CompileFailed(String),
}

/// SHA-256 of bytes, hex.
pub fn digest(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Checks that cost nothing: size, magic, component or core module.
pub(crate) fn precheck(bytes: &[u8], limit: usize) -> Result<(), Rejection> {
    if bytes.is_empty() {
        return Err(Rejection::Empty);
    }
    if bytes.len() > limit {
        return Err(Rejection::TooLarge {
            size: bytes.len(),
            limit,
        });
    }
    if !bytes.starts_with(b"\0asm") {
        return Err(Rejection::NotWasm);
    }
    if wasmparser::Parser::is_core_wasm(bytes) {
        return Err(Rejection::CoreModule);
    }
    if !wasmparser::Parser::is_component(bytes) {
        return Err(Rejection::Malformed(
            "ukjent WebAssembly-versjon / unknown WebAssembly version or layer".into(),
        ));
    }
    Ok(())
}

/// The names a component imports and exports at its own level (not those of the modules and
/// components inside it), read without compiling or validating: a parse of its section headers.
/// Bytes that do not parse are [`Rejection::Malformed`].
pub fn outer_names(bytes: &[u8]) -> Result<(Vec<String>, Vec<String>), Rejection> {
    use wasmparser::Payload;
    let malformed = |e: wasmparser::BinaryReaderError| {
        Rejection::Malformed(format!("{e} (byte {})", e.offset()))
    };
    // Every module or component, the outer one included, opens with a `Version` and closes with
    // an `End`: depth 1 is the outer component.
    let mut depth = 0_usize;
    let (mut imports, mut exports) = (Vec::new(), Vec::new());
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        match payload.map_err(malformed)? {
            Payload::Version { .. } => depth += 1,
            Payload::End(_) => depth = depth.saturating_sub(1),
            Payload::ComponentImportSection(section) if depth == 1 => {
                for import in section {
                    imports.push(import.map_err(malformed)?.name.name.to_owned());
                }
            }
            Payload::ComponentExportSection(section) if depth == 1 => {
                for export in section {
                    exports.push(export.map_err(malformed)?.name.name.to_owned());
                }
            }
            _ => {}
        }
    }
    Ok((imports, exports))
}

/// The import audit: the first import outside the allowed set, if any.
pub fn audit_imports<'a>(imports: impl IntoIterator<Item = &'a str>) -> Result<(), Rejection> {
    for name in imports {
        if !is_allowed_import(name) {
            return Err(Rejection::DisallowedImport {
                name: name.to_owned(),
            });
        }
    }
    Ok(())
}

/// Checks the export of the contract world.
pub fn check_exports(exports: &[String]) -> Result<(), Rejection> {
    if exports.iter().any(|e| e == EXPORTED_INTERFACE) {
        Ok(())
    } else {
        let found = if exports.is_empty() {
            "ingenting / nothing".to_owned()
        } else {
            exports.join(", ")
        };
        Err(Rejection::MissingExport {
            expected: EXPORTED_INTERFACE,
            found,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_names_the_first_offending_import() {
        assert!(
            audit_imports([
                "wasi:cli/environment@0.2.0",
                "wasi:http/outgoing-handler@0.2.12"
            ])
            .is_ok()
        );
        assert_eq!(
            audit_imports(["wasi:io/streams@0.2.0", "evil:host/spawn"]),
            Err(Rejection::DisallowedImport {
                name: "evil:host/spawn".into()
            })
        );
        assert_eq!(
            audit_imports(["wasi:io/streams@0.2.0", "wasi:cli/x0@0.2.0"]),
            Err(Rejection::DisallowedImport {
                name: "wasi:cli/x0@0.2.0".into()
            }),
            "an interface the package does not have, though its prefix is allowed"
        );
        let err = audit_imports(["wasi:cli/x0@0.2.0"]).unwrap_err();
        assert!(err.to_string().contains("`wasi:cli/x0@0.2.0`"), "{err}");
    }

    #[test]
    fn only_linked_interfaces_in_their_version_line() {
        for allowed in [
            "wasi:cli/terminal-stderr@0.2.3",
            "wasi:clocks/wall-clock@0.2.0",
            "wasi:filesystem/preopens@0.2.6",
            "wasi:io/error@0.2.12",
            "wasi:random/insecure-seed@0.2.0",
            "wasi:sockets/udp-create-socket@0.2.0",
            "wasi:http/types@0.2.4",
            "kommune:sandkasse/types@0.1.0",
            "kommune:sandkasse/logging@0.1.0",
        ] {
            assert!(is_allowed_import(allowed), "{allowed}");
        }
        for refused in [
            "wasi:http/incoming-handler@0.2.0",
            "wasi:http/types@0.3.0",
            "wasi:io/streams@0.3.0",
            "wasi:io/streams",
            "wasi:http/types-extra@0.2.0",
            "wasi:clocks/timezone@0.2.12",
            "wasi:cli/run@0.2.0",
            "wasi:cli/@0.2.0",
            "wasi:cli@0.2.0",
            "wasi:cli/environment@0.2.",
            "wasi:cli/environment@0.2.0-rc-2023-11-10",
            "wasi:cli/environment@0.20.0",
            "wasi:cli/environment/x@0.2.0",
            "kommune:sandkasse/adapter-api@0.1.0",
            "kommune:sandkasse/types@0.2.0",
            "wasi:keyvalue/store@0.2.0",
        ] {
            assert!(!is_allowed_import(refused), "{refused}");
        }
        for i in 0..950 {
            assert!(!is_allowed_import(&format!("wasi:cli/x{i}@0.2.0")));
        }
    }

    #[test]
    fn prechecks() {
        assert_eq!(precheck(b"", 10), Err(Rejection::Empty));
        assert_eq!(precheck(b"hello world", 100), Err(Rejection::NotWasm));
        assert_eq!(
            precheck(b"\0asm\x01\0\0\0", 100),
            Err(Rejection::CoreModule)
        );
        assert_eq!(
            precheck(&[0u8; 20], 10),
            Err(Rejection::TooLarge {
                size: 20,
                limit: 10
            })
        );
        assert!(precheck(b"\0asm\x0d\0\x01\0", 100).is_ok());
    }
}

/// The import audit against the contract's WIT: every interface that a package in
/// `conformance/wit` declares is either allowed (and linked) or deliberately not, with the reason.
#[cfg(test)]
mod declared {
    use super::*;

    /// Interfaces of the WIT packages that are not imports the sandbox links, and why.
    const NOT_LINKED: &[(&str, &str)] = &[
        ("wasi:cli/run", "an export: the command world's entry point"),
        (
            "wasi:clocks/timezone",
            "unstable (feature clocks-timezone); wasmtime-wasi does not link it",
        ),
        (
            "wasi:http/incoming-handler",
            "the server side of HTTP, an export of the proxy world",
        ),
        ("kommune:sandkasse/adapter-api", "the contract's export"),
    ];

    /// Every interface the WIT files declare, as `package/interface@version`.
    fn declared_interfaces() -> Vec<String> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../conformance/wit");
        let mut files = vec![root.join("adapter.wit")];
        for dir in std::fs::read_dir(root.join("deps")).unwrap() {
            let dir = dir.unwrap().path();
            if dir.is_dir() {
                for file in std::fs::read_dir(dir).unwrap() {
                    files.push(file.unwrap().path());
                }
            }
        }
        let mut names = Vec::new();
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            let (package, version) = text
                .lines()
                .find_map(|l| l.strip_prefix("package ")?.strip_suffix(';'))
                .and_then(|p| p.split_once('@'))
                .unwrap_or_else(|| panic!("{}: no versioned package", file.display()));
            for line in text.lines() {
                if let Some(interface) = line
                    .strip_prefix("interface ")
                    .and_then(|l| l.strip_suffix(" {"))
                {
                    names.push(format!("{package}/{interface}@{version}"));
                }
            }
        }
        names
    }

    #[test]
    fn every_declared_interface_is_allowed_or_refused_for_a_reason() {
        let declared = declared_interfaces();
        assert!(declared.len() > 30, "{declared:?}");
        let mut undecided = Vec::new();
        for name in &declared {
            let interface = name.split_once('@').unwrap().0;
            let refused = NOT_LINKED.iter().any(|(n, _)| *n == interface);
            if is_allowed_import(name) == refused {
                undecided.push(name.clone());
            }
        }
        assert!(
            undecided.is_empty(),
            "allowed and listed as not linked, or neither: {undecided:?}"
        );
        for allowed in ALLOWED_PACKAGES {
            for interface in allowed.interfaces {
                let name = format!("{}/{interface}@{}", allowed.package, allowed.version_line);
                assert!(
                    declared.iter().any(|d| d.starts_with(&name)),
                    "{name}… is allowed but no WIT file in conformance/wit declares it"
                );
            }
        }
    }
}

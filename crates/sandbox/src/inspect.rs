//! Inspection of an uploaded component: what it is, what it imports and exports, and whether the
//! import audit lets it run. Every rejection says exactly why, in words a vendor can act on.

use serde::Serialize;
use sha2::{Digest, Sha256};

/// The world a component must export.
pub const EXPORTED_INTERFACE: &str = "kommune:sandkasse/adapter-api@0.1.0";

/// Interfaces a component may import, as `(package/interface prefix, required version prefix)`.
/// The WASI 0.2 interfaces are linked with every capability denied; `wasi:http` is routed to the
/// platform; `kommune:sandkasse` is the contract. Any other import — or another version line,
/// such as WASI 0.3 — is rejected by name.
pub const ALLOWED_IMPORTS: &[(&str, &str)] = &[
    ("wasi:cli/", "0.2."),
    ("wasi:clocks/", "0.2."),
    ("wasi:filesystem/", "0.2."),
    ("wasi:io/", "0.2."),
    ("wasi:random/", "0.2."),
    ("wasi:sockets/", "0.2."),
    ("wasi:http/types", "0.2."),
    ("wasi:http/outgoing-handler", "0.2."),
    ("kommune:sandkasse/types", "0.1."),
    ("kommune:sandkasse/logging", "0.1."),
];

/// Whether one import name is allowed.
pub fn is_allowed_import(name: &str) -> bool {
    let Some((path, version)) = name.split_once('@') else {
        return false;
    };
    ALLOWED_IMPORTS.iter().any(|(prefix, v)| {
        let interface_ok = if prefix.ends_with('/') {
            path.starts_with(prefix) && path.len() > prefix.len()
        } else {
            path == *prefix
        };
        interface_ok && version.starts_with(v)
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
        "ikke tillatt import `{name}`: en adapter kan bare importere WASI 0.2, wasi:http og kontrakten / import `{name}` is not allowed: an adapter may import only WASI 0.2, wasi:http and the contract (kommune:sandkasse); remove the dependency that brings it in"
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
        assert!(audit_imports(["wasi:http/incoming-handler@0.2.0"]).is_err());
        assert!(audit_imports(["wasi:http/types@0.3.0"]).is_err());
        assert!(
            audit_imports(["wasi:io/streams@0.3.0"]).is_err(),
            "WASI 0.3 is another contract"
        );
        assert!(audit_imports(["wasi:io/streams"]).is_err(), "unversioned");
        assert!(audit_imports(["wasi:http/types-extra@0.2.0"]).is_err());
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

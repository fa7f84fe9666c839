//! The compile cache on disk: compiled artefacts keyed by (component digest, engine fingerprint).
//!
//! `Component::deserialize` is `unsafe` because wasmtime trusts the bytes to be code it compiled.
//! This module is the only place that calls it, and it is sound because:
//! - artefacts are only ever written here, by `Component::serialize` in this program — in this
//!   process or in its compile worker, the same executable re-run ([`crate::compile`]) — into a
//!   directory the operator configures (or a private temporary one) — never accepted from outside;
//! - each artefact's SHA-256 is written beside it and checked before deserialising, so a
//!   truncated or altered file is recompiled instead of loaded;
//! - the file name carries the engine's compatibility hash, so artefacts from another wasmtime
//!   version or configuration are never even opened (wasmtime checks this again itself).

use std::hash::{Hash as _, Hasher as _};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

fn fingerprint(engine: &Engine) -> String {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut h);
    format!("{:016x}", h.finish())
}

fn paths(engine: &Engine, dir: &Path, digest: &str) -> (PathBuf, PathBuf) {
    let stem = format!("{digest}-{}", fingerprint(engine));
    (
        dir.join(format!("{stem}.cwasm")),
        dir.join(format!("{stem}.sha256")),
    )
}

/// Loads a compiled component if a verified artefact exists.
pub(crate) fn load(engine: &Engine, dir: &Path, digest: &str) -> Option<Component> {
    let (artefact, check) = paths(engine, dir, digest);
    let bytes = std::fs::read(&artefact).ok()?;
    let expected = std::fs::read_to_string(&check).ok()?;
    if hex::encode(Sha256::digest(&bytes)) != expected.trim() {
        tracing::warn!(path = %artefact.display(), "compiled artefact failed its integrity check; recompiling");
        return None;
    }
    // SAFETY: see the module docs — written only by `store` below from our own compilation, and
    // integrity-checked against the digest kept beside it just above.
    #[allow(unsafe_code)]
    let component = unsafe { Component::deserialize(engine, &bytes) };
    component
        .map_err(|e| tracing::warn!(error = %e, "could not load compiled artefact; recompiling"))
        .ok()
}

/// Stores a compiled component: the artefact under a temporary name, its digest, then the rename,
/// so a process killed half-way leaves nothing [`load`] accepts. Returns the artefact's size.
pub(crate) fn store(
    engine: &Engine,
    dir: &Path,
    digest: &str,
    component: &Component,
) -> Result<usize, String> {
    let (artefact, check) = paths(engine, dir, digest);
    let bytes = component.serialize().map_err(|e| e.to_string())?;
    let failed = |e: std::io::Error| format!("{}: {e}", artefact.display());
    let tmp = artefact.with_extension(format!("{}.tmp", std::process::id()));
    std::fs::write(&tmp, &bytes).map_err(failed)?;
    std::fs::write(&check, hex::encode(Sha256::digest(&bytes))).map_err(failed)?;
    std::fs::rename(&tmp, &artefact).map_err(failed)?;
    Ok(bytes.len())
}

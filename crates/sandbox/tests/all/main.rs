//! Integration tests of the sandbox against the real platform and the sample components in
//! `plugins/` (built by `cargo xtask test` / `cargo xtask plugins` before these run).

mod bomb;
mod cache;
mod compile;
mod hostile;
mod reference;
mod rejection;

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use sandkasse_kommune::{GenConfig, UnitKind};
use sandkasse_platform::{Base, FaultPlan, Platform};
use sandkasse_sandbox::types::LaunchContext;
use sandkasse_sandbox::{LaunchSpec, Limits, Sandbox, SandboxConfig};

/// The bytes of a sample component.
pub fn plugin(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../plugins/target/wasm32-wasip2/release")
        .join(format!("{name}.wasm"));
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}. Build the sample components first: cargo xtask plugins",
            path.display()
        )
    })
}

/// Limits small enough that hostile components fail fast.
pub fn test_limits() -> Limits {
    Limits {
        fuel_per_call: 300_000_000,
        wall_clock_ms: 5_000,
        max_memory_bytes: 64 << 20,
        max_requests_per_call: 200,
        max_stdio_bytes: 256 << 10,
        ..Limits::default()
    }
}

pub fn sandbox() -> &'static Sandbox {
    static S: OnceLock<Sandbox> = OnceLock::new();
    S.get_or_init(|| {
        Sandbox::new(SandboxConfig {
            limits: test_limits(),
            ..SandboxConfig::default()
        })
        .expect("sandbox")
    })
}

pub fn base() -> Arc<Base> {
    static B: OnceLock<Arc<Base>> = OnceLock::new();
    B.get_or_init(|| {
        Arc::new(Base::new(&sandkasse_kommune::generate(&GenConfig::new(
            42, 400,
        ))))
    })
    .clone()
}

/// A platform for one scenario, on the virtual clock. Call inside `block_on_virtual`.
pub fn platform(faults: FaultPlan) -> Arc<Platform> {
    Arc::new(
        Platform::on_tokio_clock(base(), Default::default())
            .with_faults(faults)
            .expect("valid fault plan"),
    )
}

/// A hjemmesykepleie nurse in Bergen with a patient she has tjenstlig behov for, and a token.
pub fn nurse_context(platform: &Platform) -> LaunchContext {
    let spec = LaunchSpec {
        unit_kind: Some(UnitKind::Hjemmesykepleie),
        category: Some("SP".into()),
        ..LaunchSpec::default()
    };
    sandkasse_sandbox::launch(platform, &spec).expect("a nurse with a patient")
}

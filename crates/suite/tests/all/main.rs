//! The suite tested from both sides: the reference adapter passes every vilkår; each flawed
//! adapter fails exactly the vilkår of its mistake; reports are deterministic; and the mutation
//! score (`mutants`): how many realistic vendor mistakes the suite catches; thresholds are
//! stated (`thresholds`); nothing passes with nothing to judge (`vacuous`); the renderings of
//! several reports are byte for byte what `tests/rendered/` holds (`rendered`); reports written
//! before read and write the same bytes (`golden`).

mod both_sides;
mod fairness;
mod golden;
mod mutants;
mod rendered;
mod thresholds;
mod vacuous;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use sandkasse_sandbox::{Sandbox, SandboxConfig};
use sandkasse_suite::harness::{TestOptions, test_component};
use sandkasse_suite::load::{Suite, default_root, load};
use sandkasse_suite::report::Report;

pub fn plugin(name: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!(
        "../../plugins/target/wasm32-wasip2/release/{name}.wasm"
    ));
    std::fs::read(&p).unwrap_or_else(|e| {
        panic!(
            "{}: {e}. Build the sample components first: cargo xtask plugins",
            p.display()
        )
    })
}

pub fn suite() -> &'static Suite {
    static S: OnceLock<Suite> = OnceLock::new();
    S.get_or_init(|| load(&default_root()).unwrap_or_else(|e| panic!("{e}")))
}

pub fn sandbox() -> &'static Sandbox {
    static S: OnceLock<Sandbox> = OnceLock::new();
    S.get_or_init(|| Sandbox::new(SandboxConfig::default()).expect("sandbox"))
}

/// Runs the whole suite on a sample component (memoised per component).
pub fn report(name: &str) -> Report {
    static CACHE: OnceLock<Mutex<BTreeMap<String, Report>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(r) = cache.lock().unwrap().get(name) {
        return r.clone();
    }
    let options = TestOptions {
        component_name: format!("{name}.wasm"),
        ..TestOptions::default()
    };
    let r = test_component(suite(), sandbox(), &plugin(name), &options, &|_| {})
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    cache.lock().unwrap().insert(name.to_owned(), r.clone());
    r
}

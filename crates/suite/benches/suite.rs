//! The full suite on the reference adapter: `cargo bench -p sandkasse-suite --bench suite`
//! (after `cargo xtask plugins`). Warm: the component is prepared (compile cache hit), the data
//! generated and the schema validators compiled by a first run in the same process, as in a
//! long-running service or a vendor's second run.

use criterion::{Criterion, criterion_group, criterion_main};
use sandkasse_sandbox::{Sandbox, SandboxConfig};
use sandkasse_suite::harness::{TestOptions, test_component};

fn bench(c: &mut Criterion) {
    let suite = sandkasse_suite::load::load(&sandkasse_suite::load::default_root()).expect("suite");
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../plugins/target/wasm32-wasip2/release/reference.wasm"
    );
    let bytes = std::fs::read(path).expect("run `cargo xtask plugins` first");
    let sandbox = Sandbox::new(SandboxConfig::default()).expect("sandbox");
    let options = TestOptions::default();
    let first = test_component(&suite, &sandbox, &bytes, &options, &|_| {}).expect("report");
    assert!(first.godkjent());
    let mut g = c.benchmark_group("suite");
    g.sample_size(10);
    g.bench_function(
        format!(
            "full suite, reference adapter ({} scenarios, warm)",
            suite.scenarios.len()
        ),
        |b| b.iter(|| test_component(&suite, &sandbox, &bytes, &options, &|_| {}).expect("report")),
    );
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

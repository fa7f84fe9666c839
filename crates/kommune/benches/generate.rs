//! Generator throughput: `cargo bench -p sandkasse-kommune --bench generate`.
//!
//! Measures in-memory generation at test sizes (what a scenario pays) and streaming to NDJSON.
//! The 100 000-innbyggere run with peak memory is measured with the CLI, see docs/performance.md.

use criterion::{Criterion, criterion_group, criterion_main};
use sandkasse_kommune::{GenConfig, generate, output::write_ndjson};

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("generate");
    g.sample_size(10);
    for n in [200u32, 2_000, 20_000] {
        g.bench_function(format!("in-memory {n} innbyggere"), |b| {
            b.iter(|| generate(&GenConfig::new(42, n)))
        });
    }
    let dir = tempfile::tempdir().expect("temp dir");
    g.bench_function("ndjson 20000 innbyggere", |b| {
        b.iter(|| write_ndjson(&GenConfig::new(42, 20_000), dir.path()).expect("write"))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! Sandbox overhead: `cargo bench -p sandkasse-sandbox --bench sandbox` (after `cargo xtask plugins`).
//!
//! - `floor/instantiate+info`: bare wasmtime on the same engine — pooling allocator, an
//!   `InstancePre` over a plain WASI + wasi:http linker, a trivial call (`info`), drop;
//! - `sandbox/session+info`: the same through the sandbox (limits, virtual clocks, evidence);
//! - `sandbox/session+patient-overview`: a fresh instance, the reference adapter's real
//!   overview through the in-process platform (7 HTTP exchanges), teardown;
//! - `compile/cold` and `compile/cache-hit`: preparing the reference component without and with
//!   the on-disk compile cache.
//!
//! Results and ratios are recorded in docs/performance.md.

use std::path::PathBuf;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use sandkasse_kommune::{GenConfig, UnitKind};
use sandkasse_platform::{Base, Platform};
use sandkasse_sandbox::types::LaunchContext;
use sandkasse_sandbox::{LaunchSpec, Sandbox, SandboxConfig, SessionOptions};
use wasmtime::Store;
use wasmtime::component::{Linker, ResourceTable, Val};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpHooks, WasiHttpView};

fn plugin(name: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!(
        "../../plugins/target/wasm32-wasip2/release/{name}.wasm"
    ));
    std::fs::read(&p)
        .unwrap_or_else(|e| panic!("{}: {e} — run `cargo xtask plugins` first", p.display()))
}

/// The floor's host state: WASI defaults, HTTP that refuses everything, nothing recorded.
struct Bare {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    hooks: Refuse,
}

struct Refuse;

impl WasiHttpHooks for Refuse {
    fn send_request(
        &mut self,
        _request: http::Request<wasmtime_wasi_http::WasiBody>,
        _options: Option<wasmtime_wasi_http::RequestOptions>,
        _fut: Box<dyn std::future::Future<Output = wasmtime_wasi_http::Result<()>> + Send>,
    ) -> Box<
        dyn std::future::Future<
                Output = wasmtime_wasi_http::Result<(
                    http::Response<wasmtime_wasi_http::WasiBody>,
                    Box<dyn std::future::Future<Output = wasmtime_wasi_http::Result<()>> + Send>,
                )>,
            > + Send,
    > {
        Box::new(async { Err(wasmtime_wasi_http::Error::HttpRequestDenied) })
    }
}

impl WasiView for Bare {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for Bare {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.hooks,
        }
    }
}

fn nurse(platform: &Platform) -> LaunchContext {
    let spec = LaunchSpec {
        unit_kind: Some(UnitKind::Hjemmesykepleie),
        category: Some("SP".into()),
        ..LaunchSpec::default()
    };
    sandkasse_sandbox::launch(platform, &spec).expect("a nurse with a patient")
}

fn bench(c: &mut Criterion) {
    let reference = plugin("reference");
    let sandbox = Sandbox::new(SandboxConfig::default()).expect("sandbox");
    let prepared = sandbox.prepare(&reference).expect("reference accepted");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .expect("runtime");

    // The floor: same engine, same component, plain linker.
    let engine = sandbox.engine().clone();
    let component = wasmtime::component::Component::new(&engine, &reference).expect("compile");
    let mut linker: Linker<Bare> = Linker::new(&engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker).expect("wasi");
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker).expect("http");
    linker
        .root()
        .instance("kommune:sandkasse/logging@0.1.0")
        .expect("logging instance")
        .func_new("log", |_store, _ty, _params, _results| Ok(()))
        .expect("log stub");
    let pre = linker.instantiate_pre(&component).expect("instantiate_pre");
    let api = component
        .get_export_index(None, "kommune:sandkasse/adapter-api@0.1.0")
        .expect("api export");
    let info_index = component
        .get_export_index(Some(&api), "info")
        .expect("info export");

    let base = Arc::new(Base::new(&sandkasse_kommune::generate(&GenConfig::new(
        42, 2_000,
    ))));

    let mut g = c.benchmark_group("per-scenario");
    g.bench_function("floor/instantiate+info", |b| {
        b.iter(|| {
            rt.block_on(async {
                let state = Bare {
                    wasi: WasiCtx::builder().build(),
                    http: WasiHttpCtx::new(),
                    table: ResourceTable::new(),
                    hooks: Refuse,
                };
                let mut store = Store::new(&engine, state);
                store.set_fuel(u64::MAX / 2).expect("fuel");
                store.set_epoch_deadline(u64::MAX / 2);
                let instance = pre
                    .instantiate_async(&mut store)
                    .await
                    .expect("instantiate");
                let info = instance
                    .get_func(&mut store, info_index)
                    .expect("info func");
                let mut results = [Val::Bool(false)];
                info.call_async(&mut store, &[], &mut results)
                    .await
                    .expect("info call");
            })
        })
    });
    g.bench_function("sandbox/session+info", |b| {
        b.iter(|| {
            rt.block_on(async {
                let platform = Arc::new(Platform::on_tokio_clock(base.clone(), Default::default()));
                let mut session = sandbox
                    .session(
                        &prepared,
                        sandkasse_platform::app(platform),
                        SessionOptions::default(),
                    )
                    .await;
                session.info().await
            })
        })
    });
    g.bench_function("sandbox/session+patient-overview", |b| {
        b.iter(|| {
            rt.block_on(async {
                let platform = Arc::new(Platform::on_tokio_clock(base.clone(), Default::default()));
                let ctx = nurse(&platform);
                let mut session = sandbox
                    .session(
                        &prepared,
                        sandkasse_platform::app(platform),
                        SessionOptions::default(),
                    )
                    .await;
                let e = session.patient_overview(&ctx).await;
                assert_eq!(e.class, "ok");
                e
            })
        })
    });
    g.finish();

    let mut g = c.benchmark_group("compile");
    g.sample_size(10);
    let dir = tempfile::tempdir().expect("temp dir");
    let cached = Sandbox::new(SandboxConfig {
        cache_dir: Some(dir.path().to_owned()),
        ..SandboxConfig::default()
    })
    .expect("sandbox");
    let mut components = vec![("reference", reference.clone())];
    let python = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../plugins/python-minimal/target/python_minimal.wasm");
    match std::fs::read(&python) {
        Ok(bytes) => components.push(("python-minimal", bytes)),
        Err(_) => eprintln!(
            "{} not built (plugins/python-minimal/build.sh): multi-MB compile not measured",
            python.display()
        ),
    }
    for (name, bytes) in &components {
        g.bench_function(format!("{name}/cold ({} KiB)", bytes.len() / 1024), |b| {
            b.iter(|| {
                cached.clear_prepared();
                for f in std::fs::read_dir(dir.path()).expect("cache dir") {
                    std::fs::remove_file(f.expect("entry").path()).expect("remove");
                }
                cached.prepare(bytes).expect("prepare")
            })
        });
        cached.prepare(bytes).expect("warm the cache");
        g.bench_function(format!("{name}/cache-hit"), |b| {
            b.iter(|| {
                cached.clear_prepared();
                let p = cached.prepare(bytes).expect("prepare");
                assert!(p.cache_hit);
                p
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

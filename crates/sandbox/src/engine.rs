//! The [`Sandbox`]: one wasmtime `Engine` per process, the linker with every capability denied,
//! the compile cache and the epoch ticker that backs wall-clock deadlines.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use crate::cache;
use crate::compile::{self, CompileWorker};
use crate::host::{AdapterPre, HostState};
use crate::inspect::{self, Inspection, Rejection};
use crate::limits::{EPOCH_TICK_MS, Limits};

/// Configuration of a sandbox. Every field documents its default.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Limits per component and call. Default [`Limits::default`].
    pub limits: Limits,
    /// Directory for compiled artefacts; `None` keeps them in memory only. Default `None`.
    pub cache_dir: Option<PathBuf>,
    /// Instances that may exist at once (the pooling allocator's slots). Default 64.
    pub max_instances: u32,
    /// The authority (`host[:port]`) routed to the platform. Default `plattform.sandkasse.test`.
    pub platform_authority: String,
    /// The program that compiles components in a child process, bounded by the compile limits
    /// of [`Limits`] ([`crate::compile`]). `None` compiles on the calling thread, bounding only
    /// the compiled code's size. Default `None`; the `sandkasse` binary sets
    /// [`CompileWorker::current_exe`].
    pub compile_worker: Option<CompileWorker>,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            limits: Limits::default(),
            cache_dir: None,
            max_instances: 64,
            platform_authority: "plattform.sandkasse.test".to_owned(),
            compile_worker: None,
        }
    }
}

/// A component checked and ready to instantiate.
pub struct Prepared {
    pub inspection: Inspection,
    pub(crate) pre: AdapterPre<HostState>,
    /// Whether the compiled code came from the cache.
    pub cache_hit: bool,
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared")
            .field("inspection", &self.inspection)
            .field("cache_hit", &self.cache_hit)
            .finish()
    }
}

struct Ticker {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The wasmtime host. Create one per process and share it.
pub struct Sandbox {
    engine: Engine,
    linker: Linker<HostState>,
    config: SandboxConfig,
    limits: Arc<Limits>,
    prepared: Mutex<HashMap<String, Arc<Prepared>>>,
    /// Set by [`Sandbox::interrupt_compiles`].
    compiles_stopped: AtomicBool,
    _ticker: Ticker,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("config", &self.config)
            .finish()
    }
}

/// How an engine allocates instances: the sandbox's pooling allocator, or on demand in the compile
/// worker, which never instantiates (the strategy is not part of the compiled code's
/// compatibility: `precompile_compatibility_hash` is the same, a test checks it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Allocation {
    Pooling,
    OnDemand,
}

/// The wasmtime configuration of a sandbox with `limits` and `max_instances` slots. The compile
/// worker builds its engine from the same function, so its artefacts load in the sandbox.
pub(crate) fn wasmtime_config(
    limits: &Limits,
    max_instances: u32,
    allocation: Allocation,
) -> Config {
    let mut wasm = Config::new();
    wasm.wasm_component_model(true)
        .consume_fuel(true)
        .epoch_interruption(true)
        .max_wasm_stack(limits.max_wasm_stack)
        .async_stack_size(limits.max_wasm_stack + (1 << 20))
        .concurrency_support(false);
    if allocation == Allocation::Pooling {
        let mut pooling = PoolingAllocationConfig::default();
        pooling
            .total_component_instances(max_instances)
            .total_core_instances(max_instances * 20)
            .total_memories(max_instances * 4)
            .total_tables(max_instances * 8)
            .total_stacks(max_instances)
            .max_memories_per_component(4)
            .max_tables_per_component(8)
            .max_core_instances_per_component(50)
            .max_memory_size(limits.max_memory_bytes)
            .table_elements(limits.max_table_elements);
        wasm.allocation_strategy(InstanceAllocationStrategy::Pooling(pooling));
    }
    wasm
}

/// Why a sandbox could not be created.
#[derive(Debug, thiserror::Error)]
#[error("kunne ikke starte sandkassen / could not start the sandbox: {0}")]
pub struct SandboxError(String);

impl Sandbox {
    /// A sandbox with the given configuration.
    pub fn new(config: SandboxConfig) -> Result<Sandbox, SandboxError> {
        let wasm = wasmtime_config(&config.limits, config.max_instances, Allocation::Pooling);
        let engine = Engine::new(&wasm).map_err(|e| SandboxError(format!("{e:#}")))?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)
            .map_err(|e| SandboxError(format!("{e:#}")))?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)
            .map_err(|e| SandboxError(format!("{e:#}")))?;
        crate::host::kommune::sandkasse::logging::add_to_linker::<
            HostState,
            wasmtime::component::HasSelf<HostState>,
        >(&mut linker, |s| s)
        .map_err(|e| SandboxError(format!("{e:#}")))?;
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let engine = engine.clone();
            let stop = stop.clone();
            std::thread::Builder::new()
                .name("sandkasse-epoch".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        std::thread::sleep(Duration::from_millis(EPOCH_TICK_MS));
                        engine.increment_epoch();
                    }
                })
                .map_err(|e| SandboxError(e.to_string()))?
        };
        if let Some(dir) = &config.cache_dir {
            std::fs::create_dir_all(dir)
                .map_err(|e| SandboxError(format!("{}: {e}", dir.display())))?;
        }
        Ok(Sandbox {
            engine,
            linker,
            limits: Arc::new(config.limits.clone()),
            config,
            prepared: Mutex::new(HashMap::new()),
            compiles_stopped: AtomicBool::new(false),
            _ticker: Ticker {
                stop,
                thread: Some(thread),
            },
        })
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn limits(&self) -> &Arc<Limits> {
        &self.limits
    }

    pub fn config(&self) -> &SandboxConfig {
        &self.config
    }

    /// Inspects a component without keeping it: digest, size, imports, exports, and the verdict of
    /// the import audit, the export check, the compile and the link. The inspection is there
    /// whenever the bytes are a readable component, also when the verdict refuses it.
    pub fn inspect(&self, bytes: &[u8]) -> (Option<Inspection>, Result<(), Rejection>) {
        let inspection = match self.outline(bytes, inspect::digest(bytes)) {
            Ok(inspection) => inspection,
            Err(r) => return (None, Err(r)),
        };
        let verdict = audit_names(&inspection)
            .and_then(|()| self.compile(bytes))
            .and_then(|(component, _)| self.link(&component).map(|_| ()));
        (Some(inspection), verdict)
    }

    /// Checks, compiles (or loads from the cache) and links a component, ready for sessions.
    /// The same bytes are prepared once per process. What can be refused without compiling (size,
    /// format, imports, exports) is refused first: such a component costs a parse, not a compile.
    pub fn prepare(&self, bytes: &[u8]) -> Result<Arc<Prepared>, Rejection> {
        let digest = inspect::digest(bytes);
        if let Some(p) = self.prepared.lock().expect("prepared map").get(&digest) {
            return Ok(p.clone());
        }
        let inspection = self.outline(bytes, digest.clone())?;
        audit_names(&inspection)?;
        let (component, cache_hit) = self.compile(bytes)?;
        let pre = self.link(&component)?;
        let prepared = Arc::new(Prepared {
            inspection,
            pre,
            cache_hit,
        });
        self.prepared
            .lock()
            .expect("prepared map")
            .insert(digest, prepared.clone());
        Ok(prepared)
    }

    /// Forgets prepared components (their compiled code stays in the disk cache).
    pub fn clear_prepared(&self) {
        self.prepared.lock().expect("prepared map").clear();
    }

    /// Forgets the prepared component with this SHA-256 (hex), if any; runs in flight keep their
    /// own reference. A service that tests a component once per upload or night keeps none.
    pub fn forget_prepared(&self, digest: &str) {
        self.prepared.lock().expect("prepared map").remove(digest);
    }

    /// Kills every compile running in a worker now and refuses further ones with
    /// [`Rejection::Interrupted`]: for a process that is shutting down, so that it never waits
    /// for a compile. Compiles without a worker run to their end.
    pub fn interrupt_compiles(&self) {
        self.compiles_stopped.store(true, Ordering::Relaxed);
    }

    /// Whether [`Sandbox::interrupt_compiles`] was called.
    pub fn compiles_interrupted(&self) -> bool {
        self.compiles_stopped.load(Ordering::Relaxed)
    }

    /// Compiles bytes that passed [`Sandbox::outline`] (or loads them from the cache).
    fn compile(&self, bytes: &[u8]) -> Result<(Component, bool), Rejection> {
        let digest = inspect::digest(bytes);
        let cache_dir = self.config.cache_dir.as_deref();
        if let Some(dir) = cache_dir
            && let Some(component) = cache::load(&self.engine, dir, &digest)
        {
            return Ok((component, true));
        }
        let component = match &self.config.compile_worker {
            Some(worker) => compile::in_worker(
                worker,
                &self.engine,
                &self.limits,
                self.config.max_instances,
                bytes,
                &digest,
                cache_dir,
                &self.compiles_stopped,
            )?,
            None => {
                let component = compile::in_process(&self.engine, bytes, &self.limits)?;
                if let Some(dir) = cache_dir
                    && let Err(e) = cache::store(&self.engine, dir, &digest, &component)
                {
                    // Only costs a recompilation later.
                    tracing::warn!(error = %e, "could not cache compiled artefact");
                }
                component
            }
        };
        Ok((component, false))
    }

    /// What the bytes are, read without compiling: the cheap checks of size and format, then the
    /// component's own imports and exports.
    fn outline(&self, bytes: &[u8], digest: String) -> Result<Inspection, Rejection> {
        inspect::precheck(bytes, self.limits.max_component_bytes)?;
        let (mut imports, mut exports) = inspect::outer_names(bytes)?;
        imports.sort();
        exports.sort();
        Ok(Inspection {
            digest,
            size: bytes.len(),
            world: "kommune:sandkasse/adapter@0.1.0".to_owned(),
            imports,
            exports,
        })
    }

    /// Links a compiled component against the host: what its imports need must be what the host
    /// gives (the names passed the audit; here their types are checked too).
    fn link(&self, component: &Component) -> Result<AdapterPre<HostState>, Rejection> {
        let pre = self
            .linker
            .instantiate_pre(component)
            .map_err(|e| Rejection::Incompatible(format!("{e:#}")))?;
        AdapterPre::new(pre).map_err(|e| Rejection::Incompatible(format!("{e:#}")))
    }
}

/// The export check and the import audit, on the names of an outline.
fn audit_names(inspection: &Inspection) -> Result<(), Rejection> {
    inspect::check_exports(&inspection.exports)?;
    inspect::audit_imports(inspection.imports.iter().map(String::as_str))
}

//! Bounded compilation: compiling an uploaded component is the one step that runs before any check
//! can refuse it, and its cost is the uploader's to choose. It runs in a child process — the
//! compile worker — with a wall-clock limit, a memory limit and a limit on the compiled code.
//!
//! # Why a child process
//!
//! Cranelift's time and memory grow faster than linearly with some shapes of code: one function
//! with 50 000 locals in nested loops (a 1.4 MB component) took 205 s to compile, 60 MB of deeply
//! nested blocks kept 2.3 GB resident after the compile, 500 000 small functions made a 161 MB
//! artefact. wasmtime has no way to stop a compile in progress or to bound its memory:
//! `Component::new` runs to the end on the calling thread and its rayon pool, and a thread
//! cannot be killed. A process can, and its memory goes back to the system when it ends.
//!
//! # How
//!
//! [`CompileWorker`] names the program to run: the `sandkasse` binary re-runs itself with a hidden
//! subcommand; the `sandkasse-compile` binary of this crate does nothing else. The parent
//! ([`in_worker`]) writes a [`Job`] line and the component's bytes to the child's stdin; the
//! child ([`worker_main`]) builds an engine from the same [`wasmtime_config`] as the sandbox,
//! compiles, and writes the artefact with `cache::store` into the compile cache (or a private
//! temporary directory), then one [`Outcome`] line to stdout. The parent loads the artefact with
//! `cache::load`, which checks its SHA-256 first. Meanwhile the parent polls the child every
//! [`POLL`] and kills it:
//!
//! - after [`Limits::compile_timeout_seconds`] of wall clock → [`Rejection::CompileTimeout`];
//! - when its resident set (`VmRSS` in `/proc/<pid>/status`, Linux only) passes
//!   [`Limits::compile_memory_bytes`] → [`Rejection::CompileMemory`];
//! - when [`Sandbox::interrupt_compiles`](crate::Sandbox::interrupt_compiles) was called (the
//!   service is stopping) → [`Rejection::Interrupted`], so a shutdown never waits for a compile.
//!
//! The child refuses to store code over [`Limits::max_compiled_bytes`]
//! ([`Rejection::CompiledTooLarge`]). A child whose parent dies sees its stdin close (a thread reads
//! it to the end) and exits; the parent kills the child when it drops it, on every path.
//!
//! Polling the resident set was chosen over rlimits: `RLIMIT_AS` counts address space, not memory
//! (the sandbox's engine with the pooling allocator has a VmSize of ≈ 1 TiB at 33 MiB resident);
//! `RLIMIT_DATA` needs `unsafe` or a dependency to set, and a failed allocation aborts the child
//! without saying which limit it hit. The poll overshoots by what Cranelift allocates within one
//! [`POLL`]; its memory grows gradually (≈ 6 KiB per function, see docs/performance.md), so a
//! rejected compile costs about its limits.
//!
//! The worker's engine allocates on demand (it never instantiates): the allocation strategy is not
//! part of `precompile_compatibility_hash`, so its artefacts load in the sandbox's pooled engine
//! (a unit test checks the hashes are equal).
//!
//! # Without a worker
//!
//! When [`SandboxConfig::compile_worker`](crate::SandboxConfig::compile_worker) is `None` (library
//! users, in-process tests), [`in_process`] compiles on the calling thread as before: only the
//! artefact size is bounded; time and memory are not, and a compile cannot be interrupted.

use std::ffi::OsString;
use std::io::{BufRead as _, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use wasmtime::Engine;
use wasmtime::component::Component;

use crate::cache;
use crate::engine::{Allocation, wasmtime_config};
use crate::inspect::{self, Rejection};
use crate::limits::Limits;

/// How often the parent looks at a compile worker's clock and memory.
pub const POLL: Duration = Duration::from_millis(10);

/// The hidden subcommand with which `sandkasse` runs as its own compile worker.
pub const SUBCOMMAND: &str = "__compile-component";

/// The program that compiles components in a child process: `program args…`, reading a job on
/// stdin as [`worker_main`] does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileWorker {
    pub program: PathBuf,
    pub args: Vec<OsString>,
}

impl CompileWorker {
    /// This executable run with [`SUBCOMMAND`]: for binaries that call [`worker_main`] when their
    /// first argument is [`SUBCOMMAND`], as `sandkasse` does.
    pub fn current_exe() -> std::io::Result<CompileWorker> {
        Ok(CompileWorker {
            program: std::env::current_exe()?,
            args: vec![SUBCOMMAND.into()],
        })
    }
}

/// What the parent asks of the worker (the first line on its stdin; the component follows).
#[derive(Debug, Serialize, Deserialize)]
struct Job {
    /// The sandbox's limits and instance slots, from which the worker builds the same engine.
    limits: Limits,
    max_instances: u32,
    /// Where `cache::store` writes the artefact.
    out_dir: PathBuf,
    /// Bytes of the component after the line.
    component_bytes: usize,
}

/// What the worker answers (one line on its stdout).
#[derive(Debug, Serialize, Deserialize)]
enum Outcome {
    Stored { compiled_bytes: usize },
    Malformed(String),
    CompiledTooLarge { size: usize },
    Failed(String),
}

/// Compiles on the calling thread (no worker configured): only the artefact size is bounded.
pub(crate) fn in_process(
    engine: &Engine,
    bytes: &[u8],
    limits: &Limits,
) -> Result<Component, Rejection> {
    let component =
        Component::new(engine, bytes).map_err(|e| Rejection::Malformed(first_line(&e)))?;
    let range = component.image_range();
    let size = range.end.addr() - range.start.addr();
    if size > limits.max_compiled_bytes {
        return Err(Rejection::CompiledTooLarge {
            size,
            limit: limits.max_compiled_bytes,
        });
    }
    Ok(component)
}

/// A child that is killed and reaped whenever it is dropped.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The sandbox's side: compiles `bytes` in a `worker` within `limits`, into `cache_dir` (or a
/// temporary directory), and loads the result. `stop` turns true when compiles must end now.
#[allow(clippy::too_many_arguments)]
pub(crate) fn in_worker(
    worker: &CompileWorker,
    engine: &Engine,
    limits: &Limits,
    max_instances: u32,
    bytes: &[u8],
    digest: &str,
    cache_dir: Option<&Path>,
    stop: &AtomicBool,
) -> Result<Component, Rejection> {
    if stop.load(Ordering::Relaxed) {
        return Err(Rejection::Interrupted);
    }
    let scratch = match cache_dir {
        Some(_) => None,
        None => Some(tempfile::tempdir().map_err(|e| failed("a temporary directory", &e))?),
    };
    let dir = match (cache_dir, &scratch) {
        (Some(dir), _) => dir.to_owned(),
        (None, Some(t)) => t.path().to_owned(),
        (None, None) => unreachable!("a scratch directory without a cache"),
    };
    let started = Instant::now();
    let child = Command::new(&worker.program)
        .args(&worker.args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| failed(&format!("starting {}", worker.program.display()), &e))?;
    let mut child = KillOnDrop(child);
    let mut stdin = child.0.stdin.take().expect("piped stdin");
    let job = Job {
        limits: limits.clone(),
        max_instances,
        out_dir: dir.clone(),
        component_bytes: bytes.len(),
    };
    let mut header = serde_json::to_vec(&job).expect("a job serialises");
    header.push(b'\n');
    // A worker that dies before reading everything breaks the pipe; its exit status says why.
    let _ = stdin
        .write_all(&header)
        .and_then(|()| stdin.write_all(bytes))
        .and_then(|()| stdin.flush());
    let timeout = Duration::from_secs(limits.compile_timeout_seconds);
    let mut peak = 0;
    let status = loop {
        match child.0.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => {}
            Err(e) => return Err(failed("waiting for the compile worker", &e)),
        }
        if stop.load(Ordering::Relaxed) {
            return Err(Rejection::Interrupted);
        }
        if started.elapsed() > timeout {
            tracing::warn!(
                digest,
                seconds = limits.compile_timeout_seconds,
                "compile over its time limit; worker killed"
            );
            return Err(Rejection::CompileTimeout {
                seconds: limits.compile_timeout_seconds,
            });
        }
        if let Some(rss) = resident_bytes(child.0.id()) {
            peak = peak.max(rss);
            if rss > limits.compile_memory_bytes {
                tracing::warn!(
                    digest,
                    rss,
                    limit = limits.compile_memory_bytes,
                    "compile over its memory limit; worker killed"
                );
                return Err(Rejection::CompileMemory {
                    limit: limits.compile_memory_bytes,
                });
            }
        }
        std::thread::sleep(POLL);
    };
    drop(stdin);
    let mut answer = String::new();
    if let Some(mut out) = child.0.stdout.take() {
        let _ = out.read_to_string(&mut answer);
    }
    let outcome = serde_json::from_str::<Outcome>(answer.trim()).map_err(|_| {
        tracing::error!(digest, %status, "the compile worker ended without an answer");
        Rejection::CompileFailed(format!(
            "kompileringsprosessen / the compile worker: {status}"
        ))
    })?;
    tracing::debug!(
        digest,
        ms = started.elapsed().as_millis() as u64,
        peak_rss = peak,
        ?outcome,
        "compile worker done"
    );
    match outcome {
        Outcome::Stored { .. } => cache::load(engine, &dir, digest).ok_or_else(|| {
            tracing::error!(digest, "the compile worker's artefact did not load");
            Rejection::CompileFailed(
                "den kompilerte koden kunne ikke lastes / the compiled code could not be loaded"
                    .into(),
            )
        }),
        Outcome::Malformed(why) => Err(Rejection::Malformed(why)),
        Outcome::CompiledTooLarge { size } => Err(Rejection::CompiledTooLarge {
            size,
            limit: limits.max_compiled_bytes,
        }),
        Outcome::Failed(why) => {
            tracing::error!(digest, why, "the compile worker failed");
            Err(Rejection::CompileFailed(why))
        }
    }
}

fn failed(what: &str, e: &std::io::Error) -> Rejection {
    tracing::error!(error = %e, "{what}");
    Rejection::CompileFailed(format!("{what}: {e}"))
}

/// A process's resident set in bytes (`VmRSS`), where `/proc` tells it.
fn resident_bytes(pid: u32) -> Option<usize> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: usize = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// The worker's side: reads a job and a component from stdin, compiles, stores the artefact and
/// answers on stdout. Exits by itself when stdin closes (the parent died). Call it from `main`
/// when the process was started as a [`CompileWorker`].
pub fn worker_main() -> ExitCode {
    let stdin = std::io::stdin();
    let mut line = String::new();
    let job: Job = match stdin
        .lock()
        .read_line(&mut line)
        .map_err(|e| e.to_string())
        .and_then(|_| serde_json::from_str(&line).map_err(|e| e.to_string()))
    {
        Ok(job) => job,
        Err(e) => {
            eprintln!("sandkasse compile worker: no job on stdin: {e}");
            return ExitCode::from(2);
        }
    };
    let mut bytes = vec![0; job.component_bytes];
    if let Err(e) = stdin.lock().read_exact(&mut bytes) {
        eprintln!("sandkasse compile worker: the component did not arrive: {e}");
        return ExitCode::from(2);
    }
    std::thread::spawn(|| {
        let mut sink = [0u8; 64];
        loop {
            match std::io::stdin().read(&mut sink) {
                Ok(0) | Err(_) => std::process::exit(3),
                Ok(_) => {}
            }
        }
    });
    let outcome = compile_job(&job, &bytes);
    println!(
        "{}",
        serde_json::to_string(&outcome).expect("an outcome serialises")
    );
    ExitCode::SUCCESS
}

fn compile_job(job: &Job, bytes: &[u8]) -> Outcome {
    let config = wasmtime_config(&job.limits, job.max_instances, Allocation::OnDemand);
    let engine = match Engine::new(&config) {
        Ok(engine) => engine,
        Err(e) => return Outcome::Failed(format!("{e:#}")),
    };
    let component = match in_process(&engine, bytes, &job.limits) {
        Ok(c) => c,
        Err(Rejection::CompiledTooLarge { size, .. }) => return Outcome::CompiledTooLarge { size },
        Err(Rejection::Malformed(why)) => return Outcome::Malformed(why),
        Err(other) => return Outcome::Failed(other.to_string()),
    };
    match cache::store(&engine, &job.out_dir, &inspect::digest(bytes), &component) {
        Ok(compiled_bytes) => Outcome::Stored { compiled_bytes },
        Err(e) => Outcome::Failed(e),
    }
}

/// The first line of an error, at most 500 characters.
pub(crate) fn first_line(e: &wasmtime::Error) -> String {
    let text = format!("{e:#}");
    text.lines()
        .next()
        .unwrap_or_default()
        .chars()
        .take(500)
        .collect()
}

#[cfg(test)]
mod tests {
    use std::hash::{Hash as _, Hasher as _};

    use super::*;

    fn fingerprint(engine: &Engine) -> u64 {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut h);
        h.finish()
    }

    #[test]
    fn the_workers_engine_makes_code_the_sandboxs_engine_loads() {
        let limits = Limits::default();
        let pooled = Engine::new(&wasmtime_config(&limits, 64, Allocation::Pooling)).unwrap();
        let on_demand = Engine::new(&wasmtime_config(&limits, 64, Allocation::OnDemand)).unwrap();
        assert_eq!(fingerprint(&pooled), fingerprint(&on_demand));
        // A setting that changes the compiled code changes the fingerprint: the check can fail.
        let mut no_fuel = wasmtime_config(&limits, 64, Allocation::OnDemand);
        no_fuel.consume_fuel(false);
        let other = Engine::new(&no_fuel).unwrap();
        assert_ne!(fingerprint(&pooled), fingerprint(&other));
    }

    #[test]
    fn resident_memory_is_read_from_proc() {
        let rss = resident_bytes(std::process::id()).expect("Linux /proc");
        assert!(rss > 1 << 20, "{rss}");
        assert_eq!(resident_bytes(u32::MAX), None);
    }
}

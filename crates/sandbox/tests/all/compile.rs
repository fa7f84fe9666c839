//! Bounded compiles: a component whose compile would take too long, hold too much memory or make
//! too much code is refused naming the limit, within about the limit; an honest component compiles
//! in the worker and loads; a compile in flight ends when the sandbox is interrupted or its parent
//! goes away.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::bomb::{compile_bomb, compile_bomb_importing, many_functions, nested_blocks};
use super::{plugin, test_limits};
use sandkasse_sandbox::{CompileWorker, Limits, Rejection, Sandbox, SandboxConfig};

/// The worker binary of this crate.
fn worker() -> CompileWorker {
    CompileWorker {
        program: env!("CARGO_BIN_EXE_sandkasse-compile").into(),
        args: Vec::new(),
    }
}

fn sandbox_with(limits: Limits, cache_dir: Option<&Path>) -> Sandbox {
    Sandbox::new(SandboxConfig {
        limits,
        cache_dir: cache_dir.map(Path::to_owned),
        compile_worker: Some(worker()),
        max_instances: 4,
        ..SandboxConfig::default()
    })
    .expect("sandbox")
}

fn limits(timeout_seconds: u64, memory_bytes: usize) -> Limits {
    Limits {
        compile_timeout_seconds: timeout_seconds,
        compile_memory_bytes: memory_bytes,
        ..test_limits()
    }
}

#[test]
fn a_compile_bomb_is_refused_at_the_time_limit() {
    let sandbox = sandbox_with(limits(2, 4 << 30), None);
    let started = Instant::now();
    let err = sandbox.prepare(&compile_bomb(20_000, 4)).unwrap_err();
    let took = started.elapsed();
    assert!(
        matches!(err, Rejection::CompileTimeout { seconds: 2 }),
        "{err:?}"
    );
    assert!(err.to_string().contains("2 s"), "{err}");
    assert!(took < Duration::from_secs(5), "refused after {took:?}");
}

#[test]
fn a_compile_over_the_memory_limit_is_refused() {
    let sandbox = sandbox_with(limits(120, 96 << 20), None);
    let started = Instant::now();
    let err = sandbox.prepare(&many_functions(30_000)).unwrap_err();
    assert!(
        matches!(err, Rejection::CompileMemory { limit } if limit == 96 << 20),
        "{err:?}"
    );
    assert!(err.to_string().contains("96 MiB"), "{err}");
    // The whole compile takes ≈ 9 s and 200 MiB; the limit stops it on the way.
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
}

/// Deep nesting is cheap to compile: it passes the limits and is refused only when linked.
#[test]
fn deeply_nested_blocks_compile_within_the_limits_and_are_refused_when_linked() {
    let sandbox = sandbox_with(limits(60, 512 << 20), None);
    let err = sandbox.prepare(&nested_blocks(20_000)).unwrap_err();
    assert!(matches!(err, Rejection::Incompatible(_)), "{err:?}");
}

/// What the names already refuse is never compiled: a compile bomb with a disallowed import is
/// refused at once, not after the compile time limit.
#[test]
fn a_refusal_by_name_costs_no_compile() {
    let sandbox = sandbox_with(limits(300, 4 << 30), None);
    let started = Instant::now();
    let (inspection, verdict) =
        sandbox.inspect(&compile_bomb_importing("evil:host/spawn@1.0.0", 20_000, 4));
    assert_eq!(
        verdict,
        Err(Rejection::DisallowedImport {
            name: "evil:host/spawn@1.0.0".into()
        })
    );
    assert_eq!(
        inspection
            .expect("the inspection is shown with the refusal")
            .imports,
        ["evil:host/spawn@1.0.0"]
    );
    // Compiling it takes a minute or more (docs/performance.md).
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn compiled_code_over_the_limit_is_refused_and_not_stored() {
    let dir = tempfile::tempdir().unwrap();
    let small = Limits {
        max_compiled_bytes: 4096,
        ..test_limits()
    };
    let err = sandbox_with(small.clone(), Some(dir.path()))
        .prepare(&plugin("reference"))
        .unwrap_err();
    assert!(
        matches!(err, Rejection::CompiledTooLarge { size, limit: 4096 } if size > 4096),
        "{err:?}"
    );
    assert!(
        !std::fs::read_dir(dir.path()).unwrap().any(|e| e
            .unwrap()
            .path()
            .extension()
            .is_some_and(|x| x == "cwasm")),
        "nothing stored"
    );
    // The same limit holds without a worker.
    let in_process = Sandbox::new(SandboxConfig {
        limits: small,
        ..SandboxConfig::default()
    })
    .unwrap();
    assert!(matches!(
        in_process.prepare(&plugin("reference")).unwrap_err(),
        Rejection::CompiledTooLarge { limit: 4096, .. }
    ));
}

#[test]
fn the_reference_compiles_in_the_worker_and_loads() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = plugin("reference");
    let first = sandbox_with(test_limits(), Some(dir.path()))
        .prepare(&bytes)
        .unwrap();
    assert!(!first.cache_hit);
    let second = sandbox_with(test_limits(), Some(dir.path()))
        .prepare(&bytes)
        .unwrap();
    assert!(second.cache_hit, "the worker's artefact is in the cache");
    assert_eq!(first.inspection, second.inspection);
    // Without a cache directory the worker writes to a temporary one.
    let (inspection, verdict) = sandbox_with(test_limits(), None).inspect(&bytes);
    verdict.unwrap();
    assert_eq!(inspection.unwrap(), first.inspection);
    // What the worker compiled runs.
    let (evidence, _) = sandkasse_sandbox::block_on_virtual(async {
        let sandbox = sandbox_with(test_limits(), Some(dir.path()));
        let prepared = sandbox.prepare(&bytes).unwrap();
        let platform = super::platform(Default::default());
        let mut session = sandbox
            .session(
                &prepared,
                sandkasse_platform::app(platform),
                Default::default(),
            )
            .await;
        session.info().await
    });
    assert!(
        matches!(evidence.outcome, sandkasse_sandbox::Outcome::Ok { .. }),
        "{:?}",
        evidence.outcome
    );
}

#[test]
fn the_python_reference_compiles_within_the_default_limits() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../plugins/python-reference/target/python_reference.wasm");
    let bytes = std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; build it with `cargo xtask plugins`",
            path.display()
        )
    });
    let defaults = Limits {
        max_component_bytes: Limits::default().max_component_bytes,
        ..Limits::default()
    };
    let (_, verdict) = sandbox_with(defaults, None).inspect(&bytes);
    verdict.unwrap();
}

#[test]
fn interrupting_ends_a_compile_in_flight_and_refuses_new_ones() {
    let sandbox = std::sync::Arc::new(sandbox_with(limits(120, 4 << 30), None));
    let compiling = {
        let sandbox = sandbox.clone();
        std::thread::spawn(move || {
            let started = Instant::now();
            (sandbox.prepare(&compile_bomb(20_000, 4)), started.elapsed())
        })
    };
    std::thread::sleep(Duration::from_millis(500));
    let interrupted = Instant::now();
    sandbox.interrupt_compiles();
    let (result, _) = compiling.join().unwrap();
    assert_eq!(result.unwrap_err(), Rejection::Interrupted);
    assert!(
        interrupted.elapsed() < Duration::from_secs(2),
        "{:?}",
        interrupted.elapsed()
    );
    assert_eq!(
        sandbox.prepare(&plugin("reference")).unwrap_err(),
        Rejection::Interrupted
    );
}

#[test]
fn the_worker_exits_when_its_parent_goes_away() {
    let bomb = compile_bomb(20_000, 4);
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_sandkasse-compile"))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let job = serde_json::json!({
        "limits": {}, "max_instances": 4, "out_dir": dir.path(), "component_bytes": bomb.len(),
    });
    writeln!(stdin, "{job}").unwrap();
    stdin.write_all(&bomb).unwrap();
    std::thread::sleep(Duration::from_millis(500));
    assert!(child.try_wait().unwrap().is_none(), "still compiling");
    let gone = Instant::now();
    drop(stdin);
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        assert!(
            gone.elapsed() < Duration::from_secs(2),
            "the worker outlived its parent's pipe"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

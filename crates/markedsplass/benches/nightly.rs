//! A night over many listed components: `cargo bench -p sandkasse-markedsplass --bench nightly`.
//!
//! Sets up `SANDKASSE_BENCH_COMPONENTS` (default 200) listed products, each a copy of a sample
//! adapter with its own digest (a custom section names the copy), uploaded, tested and approved
//! through the service's own operations. Then ~10 % of the listings are swapped to flawed and
//! hostile components (as a regression would), and one night runs over all of them with the
//! configured worker pool: two nights, the first with the compile cache emptied (cold), the second
//! with the cache the first filled (warm, as every night after the first). Prints each night's
//! wall time and time per component and the process's peak memory.
//!
//! Not a criterion benchmark: one night is the measurement. Under `cargo test --all-targets` it
//! only prints how to run it.

use std::time::{Duration, Instant};

/// The `sandkasse` binary's allocator, so that the night costs what it costs in the service (its
/// purge delay is mimalloc's default here: that changes resident memory, not time).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use sandkasse_markedsplass::accounts::NewAccount;
use sandkasse_markedsplass::clock::Clock;
use sandkasse_markedsplass::http::AppState;
use sandkasse_markedsplass::nightly::NightSummary;
use sandkasse_markedsplass::policy::{Actor, Via};
use sandkasse_markedsplass::service::{self, DecisionInput, Upload};
use sandkasse_markedsplass::store::{Role, RunState, Stores};
use sandkasse_markedsplass::{Config, declarations, nightly};

fn plugin(name: &str) -> Vec<u8> {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!(
        "../../plugins/target/wasm32-wasip2/release/{name}.wasm"
    ));
    std::fs::read(&p).unwrap_or_else(|e| {
        panic!(
            "{}: {e}. Build the sample components first: cargo xtask plugins",
            p.display()
        )
    })
}

/// `bytes` with a custom section `sandkasse-bench-copy` holding `n`: a new digest, same behaviour.
fn copy(bytes: &[u8], n: usize) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let section = wasm_encoder::CustomSection {
        name: "sandkasse-bench-copy".into(),
        data: n.to_string().into_bytes().into(),
    };
    wasm_encoder::ComponentSection::append_to_component(&section, &mut out);
    out
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

async fn actor(state: &AppState, username: &str) -> Actor {
    Actor::User {
        user: state.accounts.user(username).await.unwrap(),
        via: Via::Token,
    }
}

async fn wait_all(state: &AppState, runs: &[i64]) {
    for &run in runs {
        loop {
            let r = state.stores.market.run(run).await.unwrap().unwrap();
            if matches!(r.state, RunState::Done | RunState::Error) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Runs the night of `date` over every listing; its wall time and summary.
async fn night(state: &AppState, date: jiff::civil::Date) -> (Duration, NightSummary, i64) {
    let started = Instant::now();
    let night = nightly::run_night(state, date, Duration::from_secs(4 * 3600))
        .await
        .unwrap();
    (started.elapsed(), night.summary.unwrap(), night.id)
}

/// Where a night's worker time went: per component kind (the uploaded file name), the number of
/// runs and their mean and total time from claim to finish, as the queue recorded them.
async fn worker_time(pool: &sqlx::SqlitePool, night_id: i64) -> Vec<(String, usize, f64)> {
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT s.file_name, r.started_at, r.finished_at FROM runs r \
         JOIN submissions s ON s.id = r.submission_id \
         WHERE r.night_id = ? AND r.finished_at IS NOT NULL",
    )
    .bind(night_id)
    .fetch_all(pool)
    .await
    .unwrap();
    let mut kinds: std::collections::BTreeMap<String, (usize, f64)> = Default::default();
    for (name, started, finished) in rows {
        let (s, f): (jiff::Timestamp, jiff::Timestamp) =
            (started.parse().unwrap(), finished.parse().unwrap());
        let k = kinds.entry(name).or_default();
        k.0 += 1;
        k.1 += (f - s).total(jiff::Unit::Second).unwrap();
    }
    kinds.into_iter().map(|(n, (c, t))| (n, c, t)).collect()
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!(
            "nightly: a one-night measurement; run it with `cargo bench -p sandkasse-markedsplass --bench nightly`"
        );
        return;
    }
    let n: usize = std::env::var("SANDKASSE_BENCH_COMPONENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            data_dir: dir.path().join("data"),
            ..Config::default()
        };
        let workers = config.workers;
        let stores = Stores::open(&config).await.unwrap();
        let state = AppState::new(config, stores, Clock::system()).unwrap();
        let a = &state.accounts;
        a.create_organisation("bench", "Benk AS").await.unwrap();
        for (user, role, org) in [
            ("v@benk.example", Role::Vendor, Some("Benk AS")),
            ("r1@p.example", Role::Reviewer, None),
            ("r2@p.example", Role::Reviewer, None),
        ] {
            a.create_user(
                "bench",
                NewAccount {
                    username: user.into(),
                    role,
                    organisation: org.map(Into::into),
                    password: "benk-passord-123".into(),
                },
            )
            .await
            .unwrap();
        }
        let (stop, stopped) = tokio::sync::watch::channel(false);
        state.runner.spawn(workers, stopped);
        let vendor = actor(&state, "v@benk.example").await;

        // Set-up: n listed copies of the reference adapter.
        let setup = Instant::now();
        let reference = plugin("reference");
        let mut uploaded = Vec::new();
        for i in 0..n {
            let upload = Upload {
                product: format!("Produkt {i:04}"),
                version: "1.0.0".into(),
                changelog: String::new(),
                file_name: "reference.wasm".into(),
                bytes: copy(&reference, i),
                ..Upload::default()
            };
            uploaded.push(service::submit(&state, &vendor, upload).await.unwrap());
        }
        wait_all(
            &state,
            &uploaded.iter().map(|s| s.run.id).collect::<Vec<_>>(),
        )
        .await;
        for s in &uploaded {
            let case = service::request_listing(
                &state,
                &vendor,
                s.product.id,
                s.submission.id,
                Ok(declarations::sample_answers(&state.runner.suite, "Benk AS")),
            )
            .await
            .unwrap();
            for r in ["r1@p.example", "r2@p.example"] {
                let input = DecisionInput {
                    decision: "approve".into(),
                    note: "benk".into(),
                    declarations: declarations::accept_all(&case, "benk"),
                };
                service::decide(&state, &actor(&state, r).await, case.id, &input)
                    .await
                    .unwrap();
            }
        }
        // ~10 % regress: flawed and hostile components behind their listings.
        let bad = [
            "flawed_drops_token",
            "flawed_greedy",
            "flawed_first_page_only",
            "hostile_infinite_loop",
            "hostile_memory_bomb",
            "hostile_request_flood",
        ];
        let mut swapped = Vec::new();
        for (k, s) in uploaded.iter().enumerate().filter(|(i, _)| i % 10 == 0) {
            let name = bad[k / 10 % bad.len()];
            let upload = Upload {
                product: s.product.name.clone(),
                version: "1.1.0".into(),
                changelog: String::new(),
                file_name: format!("{name}.wasm"),
                bytes: copy(&plugin(name), k),
                ..Upload::default()
            };
            let new = service::submit(&state, &vendor, upload).await.unwrap();
            swapped.push((s.product.id, new.submission.id, new.run.id));
        }
        wait_all(&state, &swapped.iter().map(|s| s.2).collect::<Vec<_>>()).await;
        let raw = sandkasse_markedsplass::store::sqlite::SqliteStore::open_file(
            &state.config.data_dir.join("sandkasse.db"),
        )
        .await
        .unwrap();
        for (product, submission, _) in &swapped {
            sqlx::query("UPDATE listings SET submission_id = ? WHERE product_id = ?")
                .bind(submission)
                .bind(product)
                .execute(raw.pool())
                .await
                .unwrap();
        }
        let setup = setup.elapsed();

        // Two nights over the same listings: a cold one, with no compiled artefact on disk (the
        // first night after a wasmtime upgrade or on a new worker), then a warm one, as every
        // night after the first (the cold night filled the cache).
        let first = nightly::tonight(&state).unwrap();
        let compiled = state.config.data_dir.join("compiled");
        std::fs::remove_dir_all(&compiled).unwrap();
        std::fs::create_dir_all(&compiled).unwrap();
        let cold = night(&state, first).await;
        let warm = night(&state, first.tomorrow().unwrap()).await;
        let split = [
            worker_time(raw.pool(), cold.2).await,
            worker_time(raw.pool(), warm.2).await,
        ];
        let _ = stop.send(true);
        println!(
            "nights over {n} listed components ({workers} workers, {} cores):",
            std::thread::available_parallelism().map_or(0, |p| p.get())
        );
        for ((label, (took, summary, _)), split) in
            [("cold cache", cold), ("warm cache", warm)].into_iter().zip(split)
        {
            println!(
                "  {label}: wall time {:.1} s, {:.3} s per component; tested {}, godkjent {}, ikke godkjent {}, errors {}, regressions {}",
                took.as_secs_f64(),
                took.as_secs_f64() / n as f64,
                summary.tested,
                summary.passed,
                summary.failed,
                summary.errors,
                summary.regressions
            );
            let total: f64 = split.iter().map(|k| k.2).sum();
            println!(
                "    worker time (claim to finish) {total:.1} s in all, {:.0} % of {workers} workers' wall time:",
                100.0 * total / (took.as_secs_f64() * workers as f64)
            );
            for (name, runs, secs) in split {
                println!(
                    "      {name}: {runs} runs, {:.3} s mean, {secs:.1} s in all ({:.0} %)",
                    secs / runs as f64,
                    100.0 * secs / total
                );
            }
        }
        println!(
            "  set-up (upload, test, list {n}; {} regressions swapped in): {:.1} s",
            swapped.len(),
            setup.as_secs_f64()
        );
        println!("  peak RSS of the process: {:.0} MiB", peak_rss_mib());
    });
}

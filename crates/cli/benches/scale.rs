//! Several worker processes on one PostgreSQL: `cargo bench -p sandkasse-cli --bench scale`
//! (after `cargo xtask plugins`; needs PostgreSQL's server binaries, as `cargo xtask test` does).
//!
//! 1. **Set-up**, in this process over a throw-away PostgreSQL: `SANDKASSE_BENCH_COMPONENTS`
//!    (default 300) listed copies of the reference adapter with every tenth regressed to a flawed
//!    or hostile version, as `cargo bench -p sandkasse-markedsplass --bench nightly` makes them.
//!    The set-up compiles every copy into the data directory every worker node then shares (one
//!    host), so every night below is warm.
//! 2. **Nights** over the same listings with 1, 2 and 3 worker processes (`sandkasse serve --role
//!    worker`, `workers = 1` each) next to one web node (`--role web`); this process starts each
//!    night and waits for it (`nightly::run_night`, no worker of its own). Meanwhile a reader asks
//!    the web node for the catalogue and the vendor's product list (its token) every 100 ms: the
//!    API's p50, p99 and slowest answer under that load.
//! 3. **Queue overhead**: the store's cost per run of queueing (an upload's record), claiming and
//!    finishing, with no suite, on SQLite and on PostgreSQL, `SANDKASSE_BENCH_QUEUE_RUNS` (default
//!    500) runs each.
//!
//! Cargo runs a `harness = false` bench's `main` under `cargo test --all-targets` too, without the
//! `--bench` argument that `cargo bench` passes; then this bench says so and returns at once.

#[path = "../../markedsplass/benches/support/listed.rs"]
mod listed;
mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use sandkasse_markedsplass::clock::Clock;
use sandkasse_markedsplass::http::AppState;
use sandkasse_markedsplass::store::{NewSubmission, RunOutcome, RunState, Stores};
use sandkasse_markedsplass::{Config, nightly};

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Latencies' p50, p99 and maximum, milliseconds.
fn percentiles(mut ms: Vec<f64>) -> (f64, f64, f64) {
    if ms.is_empty() {
        return (0.0, 0.0, 0.0);
    }
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| ms[((ms.len() - 1) as f64 * q).round() as usize];
    (at(0.5), at(0.99), ms[ms.len() - 1])
}

/// Reads the web node every 100 ms until stopped, as the vendor of `token`; the latencies in ms.
fn reader(addr: String, token: String, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<Vec<f64>> {
    std::thread::spawn(move || {
        let mut ms = Vec::new();
        while !stop.load(Ordering::Relaxed) {
            for path in ["/api/v1/catalogue", "/api/v1/products"] {
                let started = Instant::now();
                let (status, body) = support::http(&addr, "GET", path, &token, None)
                    .unwrap_or_else(|e| panic!("{path}: {e}"));
                assert_eq!(status, 200, "{path}: {body}");
                ms.push(started.elapsed().as_secs_f64() * 1000.0);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        ms
    })
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!(
            "scale: a measurement of several worker processes; run it with `cargo bench -p sandkasse-cli --bench scale`"
        );
        return;
    }
    let n = env_number("SANDKASSE_BENCH_COMPONENTS", 300);
    let queue_runs = env_number("SANDKASSE_BENCH_QUEUE_RUNS", 500);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let pg = sandkasse_pgtemp::PgTemp::start().expect("a throw-away PostgreSQL");
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("signing-key.pem");
    let pem = sandkasse_suite::sign::key_to_pem(&sandkasse_suite::sign::generate_key());
    std::fs::write(&key, pem.as_bytes()).unwrap();
    let url = pg.create_database("scale").unwrap();
    let shared_dir = dir.path().join("node");
    let config = Config {
        database_url: Some(url.clone()),
        signing_key_path: Some(key.clone()),
        data_dir: shared_dir.clone(),
        ..Config::default()
    };

    // 3 (measured first: it takes seconds). The queue's own cost, per run, on both backends.
    let queue = runtime.block_on(async {
        let sqlite = Config {
            data_dir: dir.path().join("sqlite"),
            ..Config::default()
        };
        let pg_config = Config {
            database_url: Some(pg.create_database("queue").unwrap()),
            ..Config::default()
        };
        let mut out = Vec::new();
        for (name, config) in [("SQLite", sqlite), ("PostgreSQL", pg_config)] {
            let stores = Stores::open(&config).await.unwrap();
            out.push((name, queue_cost(&stores, queue_runs).await));
        }
        out
    });

    println!("queue cost per run ({queue_runs} runs, no suite):");
    for (name, (queue_ms, claim_finish_ms)) in &queue {
        println!(
            "  {name}: queue (an upload's record) {queue_ms:.2} ms, claim + finish {claim_finish_ms:.2} ms"
        );
    }

    // 1. Set-up with this process's workers.
    let setup = Instant::now();
    let state = runtime.block_on(async {
        let stores = Stores::open(&config).await.unwrap();
        let state = AppState::new(config.clone(), stores, Clock::system()).unwrap();
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let workers = state.runner.spawn(2, stopped);
        let listed = listed::setup(&state, n).await;
        let pool = sqlx::PgPool::connect(&url).await.unwrap();
        for (product, submission) in &listed.swapped {
            sqlx::query("UPDATE listings SET submission_id = $1 WHERE product_id = $2")
                .bind(submission)
                .bind(product)
                .execute(&pool)
                .await
                .unwrap();
        }
        let _ = stop.send(true);
        for worker in workers {
            worker.abort();
        }
        state
    });
    let setup = setup.elapsed();
    let (_, token) = runtime
        .block_on(
            state
                .accounts
                .create_token("bench", "v@benk.example", "lesar"),
        )
        .unwrap();
    println!(
        "set-up (upload, test, list {n} on PostgreSQL): {:.1} s",
        setup.as_secs_f64()
    );
    let settings = |role: &'static str| {
        vec![
            ("ROLE", role.to_owned()),
            ("DATABASE_URL", url.clone()),
            ("SIGNING_KEY_PATH", key.display().to_string()),
            ("WORKERS", "1".to_owned()),
            ("NIGHTLY__ENABLED", "false".to_owned()),
            ("LIMITS__MAX_CONNECTIONS_PER_ADDRESS", "0".to_owned()),
        ]
    };
    let start = |role: &'static str| {
        let s = settings(role);
        let pairs: Vec<(&str, &str)> = s.iter().map(|(k, v)| (*k, v.as_str())).collect();
        support::Server::start_with(&shared_dir, &pairs)
    };
    let web = start("web");

    // 2. Nights with 1, 2 and 3 worker processes.
    let first = nightly::tonight(&state).unwrap();
    let mut rows = Vec::new();
    for (k, workers) in [1_usize, 2, 3].into_iter().enumerate() {
        let nodes: Vec<support::Server> = (0..workers).map(|_| start("worker")).collect();
        let stop = Arc::new(AtomicBool::new(false));
        let reads = reader(web.addr.clone(), token.clone(), stop.clone());
        let date = first
            .checked_add(jiff::Span::new().days(i64::try_from(k).unwrap() + 1))
            .unwrap();
        let started = Instant::now();
        let night = runtime
            .block_on(nightly::run_night(
                &state,
                date,
                Duration::from_secs(4 * 3600),
            ))
            .unwrap();
        let took = started.elapsed();
        stop.store(true, Ordering::Relaxed);
        let latencies = percentiles(reads.join().unwrap());
        let summary = night.summary.unwrap();
        assert_eq!(summary.tested, n, "every listing tested");
        let (p50, p99, max) = latencies;
        println!(
            "  night with {workers} worker process(es): wall time {:.1} s, {:.3} s per component; errors {}; API p50 {p50:.1} ms, p99 {p99:.1} ms, slowest {max:.1} ms",
            took.as_secs_f64(),
            took.as_secs_f64() / n as f64,
            summary.errors,
        );
        rows.push((workers, took));
        drop(nodes);
    }

    println!(
        "nights over {n} listed components on PostgreSQL, {} cores:",
        std::thread::available_parallelism().map_or(0, |p| p.get())
    );
    let one = rows[0].1.as_secs_f64();
    for (workers, took) in &rows {
        println!(
            "  {workers} worker process(es): {:.1} s, {:.2}× the throughput of one",
            took.as_secs_f64(),
            one / took.as_secs_f64()
        );
    }
}

/// Per run, milliseconds: recording `runs` uploads (each queues a run), then claiming and
/// finishing every run — the store's share of a run, with its audit events.
async fn queue_cost(stores: &Stores, runs: usize) -> (f64, f64) {
    let audit = sandkasse_markedsplass::audit::Audit::new(stores.audit.clone());
    let accounts =
        sandkasse_markedsplass::accounts::Accounts::new(stores.accounts.clone(), audit.clone());
    accounts
        .create_organisation("bench", "Kø AS")
        .await
        .unwrap();
    let user = accounts
        .create_user(
            "bench",
            sandkasse_markedsplass::accounts::NewAccount {
                username: "k@koe.example".into(),
                role: sandkasse_markedsplass::store::Role::Vendor,
                organisation: Some("Kø AS".into()),
                password: "benk-passord-123".into(),
            },
        )
        .await
        .unwrap();
    let organisation = user.organisation_id.unwrap();
    let started = Instant::now();
    for i in 0..runs {
        let new = NewSubmission {
            organisation_id: organisation,
            product_name: format!("Kø {i}"),
            version: "1.0.0".into(),
            changelog: String::new(),
            component_sha256: "0".repeat(64),
            component_size: 1,
            file_name: "k.wasm".into(),
            inspection: serde_json::json!({}),
            submitted_by: user.id,
            at: jiff::Timestamp::now(),
        };
        let a = audit.clone();
        stores
            .market
            .submit(
                new,
                Box::new(move |s| {
                    vec![a.event(
                        "bench",
                        "run.queue",
                        &format!("run:{}", s.run.id),
                        None,
                        serde_json::json!({}),
                    )]
                }),
            )
            .await
            .unwrap();
    }
    let queued = started.elapsed().as_secs_f64() * 1000.0 / runs as f64;
    let started = Instant::now();
    let mut finished = 0;
    loop {
        let now = jiff::Timestamp::now();
        let until = now + jiff::SignedDuration::from_secs(120);
        let a = audit.clone();
        let claimed = stores
            .queue
            .claim_run(
                "bench-claim",
                now,
                until,
                None,
                Box::new(move |c| {
                    vec![a.event(
                        "bench",
                        "run.start",
                        &format!("run:{}", c.run.id),
                        None,
                        serde_json::json!({}),
                    )]
                }),
            )
            .await
            .unwrap();
        let Some(claimed) = claimed else { break };
        let outcome = RunOutcome {
            state: RunState::Error,
            verdict: None,
            score: None,
            error: Some("benk".into()),
            capabilities: Vec::new(),
            report: None,
            figures: None,
            badge: None,
        };
        let a = audit.clone();
        let done = stores
            .queue
            .finish_run(
                claimed.run.id,
                "bench-claim",
                outcome,
                jiff::Timestamp::now(),
                Box::new(move |r| {
                    vec![a.event(
                        "bench",
                        "run.finish",
                        &format!("run:{}", r.id),
                        None,
                        serde_json::json!({}),
                    )]
                }),
            )
            .await
            .unwrap();
        assert!(done);
        finished += 1;
    }
    assert_eq!(finished, runs);
    let claim_finish = started.elapsed().as_secs_f64() * 1000.0 / runs as f64;
    (queued, claim_finish)
}

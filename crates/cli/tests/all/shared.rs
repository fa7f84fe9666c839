//! Several `sandkasse serve` processes on one PostgreSQL (`docs/deploy.md`): a web node and worker
//! nodes, as an operator runs them on several hosts, here on one machine over a throw-away server.
//!
//! What must hold under every fault: no run lost or done twice, no gap or fork in the audit chain,
//! and the web node answers while the workers are busy.

use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use sandkasse_markedsplass::store::{AuditQuery, RunState, Stores};

use super::markedsplass::{CREATE_VENDOR, Reap, http, plugin, spawn_serve, upload};

/// A throw-away PostgreSQL server and one database on it.
struct Database {
    server: sandkasse_pgtemp::PgTemp,
    url: String,
}

impl Database {
    fn new(name: &str) -> Database {
        let server = sandkasse_pgtemp::PgTemp::start()
            .unwrap_or_else(|e| panic!("starting a throw-away PostgreSQL: {e}"));
        let url = server
            .create_database(name)
            .unwrap_or_else(|e| panic!("creating database {name}: {e}"));
        Database { server, url }
    }
}

/// One `sandkasse serve` process of the service.
struct Node {
    process: Reap,
    _stdout: BufReader<std::process::ChildStdout>,
    addr: String,
}

/// What every node of one service shares: the database and the signing key; each node has its own
/// data directory (its compile cache).
struct Service {
    db: Database,
    key: PathBuf,
    dir: tempfile::TempDir,
    nodes: usize,
}

impl Service {
    fn new(name: &str) -> Service {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("signing-key.pem");
        let pem = sandkasse_suite::sign::key_to_pem(&sandkasse_suite::sign::generate_key());
        std::fs::write(&key, pem.as_bytes()).unwrap();
        Service {
            db: Database::new(name),
            key,
            dir,
            nodes: 0,
        }
    }

    fn env(&self, command: &mut Command) {
        command
            .env("SANDKASSE__DATABASE_URL", &self.db.url)
            .env("SANDKASSE__SIGNING_KEY_PATH", &self.key)
            .env("SANDKASSE__NIGHTLY__ENABLED", "false")
            .env_remove("SANDKASSE_SIGNING_KEY");
    }

    /// Starts a node with `role` and extra `SANDKASSE__*` settings.
    fn node(&mut self, role: &str, settings: &[(&str, &str)]) -> Node {
        self.nodes += 1;
        let data = self.dir.path().join(format!("node-{}", self.nodes));
        let mut command = Command::new(env!("CARGO_BIN_EXE_sandkasse"));
        command
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--role",
                role,
                "--data-dir",
            ])
            .arg(&data);
        self.env(&mut command);
        for (key, value) in settings {
            command.env(format!("SANDKASSE__{key}"), value);
        }
        let ((process, stdout, addr), first) = spawn_serve(command);
        assert!(first.contains(&format!("role: {role}")), "{first}");
        Node {
            process,
            _stdout: stdout,
            addr,
        }
    }

    /// `sandkasse admin ARGS` on the service's database; stdout.
    fn admin(&self, args: &[&str]) -> String {
        let mut command = Command::new(env!("CARGO_BIN_EXE_sandkasse"));
        command
            .arg("admin")
            .args(args)
            .arg("--data-dir")
            .arg(self.dir.path().join("admin"))
            .env("SANDKASSE_PASSWORD", "korrekt hest batteri stift");
        self.env(&mut command);
        let out = command.output().unwrap();
        assert!(
            out.status.success(),
            "admin {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// A vendor's API token.
    fn vendor(&self) -> String {
        self.admin(&["create-org", "Leverandør A AS"]);
        self.admin(&CREATE_VENDOR);
        self.admin(&["create-token", "--username", "kari@leverandor-a.no"])
    }

    /// The database's stores, opened from this test process.
    async fn stores(&self) -> Stores {
        let config = sandkasse_markedsplass::Config {
            database_url: Some(self.db.url.clone()),
            data_dir: self.dir.path().join("test"),
            ..sandkasse_markedsplass::Config::default()
        };
        Stores::open(&config).await.unwrap()
    }
}

/// The audit events about `subject` with `action`.
async fn events(stores: &Stores, action: &str, subject: &str) -> usize {
    let query = AuditQuery {
        kind: Some(action.into()),
        subject: Some(subject.into()),
        limit: 1000,
        ..AuditQuery::default()
    };
    stores.audit.search(&query).await.unwrap().len()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Polls until every run in `runs` is done or in error (at most `within`); their final states.
async fn wait_final(stores: &Stores, runs: &[i64], within: Duration) -> Vec<RunState> {
    let started = Instant::now();
    loop {
        let mut states = Vec::new();
        for &run in runs {
            states.push(stores.market.run(run).await.unwrap().unwrap().state);
        }
        if states
            .iter()
            .all(|s| matches!(s, RunState::Done | RunState::Error))
        {
            return states;
        }
        let pending = states
            .iter()
            .filter(|s| !matches!(s, RunState::Done | RunState::Error))
            .count();
        assert!(
            started.elapsed() < within,
            "{pending} of {} runs not final after {within:?}",
            runs.len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// 200 queued runs over three worker processes: each finishes exactly once (one claim, one
/// finish), the audit chain written by four processes at once verifies, and the web node answers
/// reads all along.
#[test]
fn two_hundred_runs_over_three_workers_finish_once_and_the_trail_stays_one_chain() {
    const RUNS: usize = 200;
    let mut service = Service::new("queue");
    let token = service.vendor();
    let web = service.node("web", &[]);
    // One upload through the web node stores the component where every node reads it; the other
    // submissions of the same bytes are recorded straight in the database, and every run is cut to
    // one scenario with SQL: the test is of the queue, not of the suite.
    let first = upload(
        &web.addr,
        &token,
        "Journal 000",
        "1.0.0",
        &plugin("reference"),
    );
    let rt = runtime();
    let stores = rt.block_on(service.stores());
    let mut runs = vec![first["run"]["id"].as_i64().unwrap()];
    rt.block_on(async {
        let submission = stores
            .market
            .submission(first["submission"]["id"].as_i64().unwrap())
            .await
            .unwrap()
            .unwrap();
        let submitter = stores
            .accounts
            .user_by_username(&submission.submitted_by)
            .await
            .unwrap()
            .unwrap();
        for i in 1..RUNS {
            let new = sandkasse_markedsplass::store::NewSubmission {
                product_name: format!("Journal {i:03}"),
                version: "1.0.0".into(),
                changelog: String::new(),
                component_sha256: submission.component_sha256.clone(),
                component_size: submission.component_size,
                file_name: submission.file_name.clone(),
                inspection: submission.inspection.clone(),
                organisation_id: submission.organisation_id,
                submitted_by: submitter.id,
                at: jiff::Timestamp::now(),
            };
            let done = stores.market.submit(new, Box::new(|_| Vec::new())).await;
            runs.push(done.unwrap().run.id);
        }
    });
    rt.block_on(async {
        let pool = sqlx::PgPool::connect(&service.db.url).await.unwrap();
        sqlx::query("UPDATE runs SET scenario = 'overview-basic' WHERE state = 'queued'")
            .execute(&pool)
            .await
            .unwrap();
    });

    let workers: Vec<Node> = (0..3)
        .map(|_| service.node("worker", &[("WORKERS", "1")]))
        .collect();
    // A worker node answers its probes and nothing else.
    let (status, _) = http(&workers[0].addr, "GET", "/ready", "", None);
    assert_eq!(status, 200);
    let (status, _) = http(&workers[0].addr, "GET", "/", "", None);
    assert_eq!(status, 404, "a worker node serves no pages");

    // Reads on the web node while the workers are saturated.
    let reader = {
        let addr = web.addr.clone();
        let token = token.clone();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let handle = std::thread::spawn(move || {
            let mut slowest = Duration::ZERO;
            let mut answered = 0;
            while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                for path in ["/", "/api/v1/products"] {
                    let started = Instant::now();
                    let (status, body) = http(&addr, "GET", path, &token, None);
                    assert_eq!(status, 200, "{path}: {body}");
                    slowest = slowest.max(started.elapsed());
                    answered += 1;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            (answered, slowest)
        });
        (stop, handle)
    };
    let states = rt.block_on(wait_final(&stores, &runs, Duration::from_secs(900)));
    reader.0.store(true, std::sync::atomic::Ordering::Relaxed);
    let (answered, slowest) = reader.1.join().unwrap();
    assert!(answered > 10, "the web node was read {answered} times");
    assert!(
        slowest < Duration::from_secs(5),
        "the web node took {slowest:?} to answer a read while the workers were busy"
    );
    assert!(
        states.iter().all(|s| *s == RunState::Done),
        "every run is done: {states:?}"
    );
    rt.block_on(async {
        for &run in &runs {
            let subject = format!("run:{run}");
            assert_eq!(
                events(&stores, "run.start", &subject).await,
                1,
                "{subject} claimed once"
            );
            assert_eq!(
                events(&stores, "run.finish", &subject).await,
                1,
                "{subject} finished once"
            );
        }
    });
    let verified = service.admin(&["verify-audit"]);
    assert!(verified.contains("intact"), "{verified}");
    drop((web, workers));
}

/// A worker killed with SIGKILL in the middle of a run: another worker takes the run over once
/// its lease lapses and finishes it once.
#[test]
fn a_worker_killed_mid_run_is_taken_over_after_its_lease() {
    let mut service = Service::new("takeover");
    let token = service.vendor();
    let web = service.node("web", &[]);
    let lease = [("RUN_LEASE_SECONDS", "3"), ("WORKERS", "1")];
    let mut first = service.node("worker", &lease);
    let uploaded = upload(
        &web.addr,
        &token,
        "Journal Nord",
        "1.0.0",
        &plugin("reference"),
    );
    let run = uploaded["run"]["id"].as_i64().unwrap();
    let rt = runtime();
    let stores = rt.block_on(service.stores());
    let started = Instant::now();
    rt.block_on(async {
        loop {
            let state = stores.market.run(run).await.unwrap().unwrap().state;
            if state == RunState::Running {
                break;
            }
            assert_eq!(
                state,
                RunState::Queued,
                "finished before it could be killed"
            );
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "never started"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    });
    first.process.0.kill().unwrap(); // SIGKILL
    first.process.0.wait().unwrap();
    let second = service.node("worker", &lease);
    let states = rt.block_on(wait_final(&stores, &[run], Duration::from_secs(300)));
    assert_eq!(states, [RunState::Done]);
    rt.block_on(async {
        let stored = stores.market.run(run).await.unwrap().unwrap();
        assert_eq!(
            stored.attempts, 2,
            "claimed by the killed worker, then the other"
        );
        let subject = format!("run:{run}");
        assert_eq!(events(&stores, "run.start", &subject).await, 2);
        assert_eq!(events(&stores, "run.finish", &subject).await, 1);
    });
    // The report was signed with the service's key: it verifies on the web node's terms.
    let (status, report) = http(
        &web.addr,
        "GET",
        &format!("/api/v1/runs/{run}/report.json"),
        &token,
        None,
    );
    assert_eq!(status, 200, "{report}");
    let public = sandkasse_suite::sign::public_key_hex(
        &sandkasse_suite::sign::key_from_pem_file(&service.key).unwrap(),
    );
    sandkasse_suite::sign::verify_json(report.as_bytes(), Some(&public)).unwrap();
    let verified = service.admin(&["verify-audit"]);
    assert!(verified.contains("intact"), "{verified}");
    drop((web, second));
}

/// A night interrupted twice: PostgreSQL restarts in the middle of it, then the node that
/// scheduled it is killed. The other node takes the nights' duty over, every run of the night
/// finishes once and the night completes; `sandkasse nightly` meanwhile refuses to run a second
/// evaluation of it.
#[test]
fn a_night_survives_a_database_restart_and_its_scheduler_being_killed() {
    use sandkasse_markedsplass::policy::{Actor, Via};
    use sandkasse_markedsplass::service::{self, DecisionInput, Upload};

    const EXTRA: usize = 8;
    let mut service = Service::new("night");
    let rt = runtime();
    let plugins =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../plugins/target/wasm32-wasip2/release");
    // Listed products, set up in this process with workers of its own: the demo's, and more
    // copies of the reference listed by the demo's reviewers.
    let config = sandkasse_markedsplass::Config {
        database_url: Some(service.db.url.clone()),
        signing_key_path: Some(service.key.clone()),
        data_dir: service.dir.path().join("setup"),
        ..sandkasse_markedsplass::Config::default()
    };
    let stores = rt.block_on(async {
        let market = sandkasse_markedsplass::market::Market::open(&config)
            .await
            .unwrap();
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let workers = market.runner.spawn(2, stopped);
        sandkasse_markedsplass::demo::seed(&market, &plugins)
            .await
            .unwrap();
        let as_user = |name: &str| {
            let market = &market;
            let name = name.to_owned();
            async move {
                Actor::User {
                    user: market.accounts.user(&name).await.unwrap(),
                    via: Via::Token,
                }
            }
        };
        let vendor = as_user(sandkasse_markedsplass::demo::ACCOUNTS[0].username).await;
        let reference = std::fs::read(plugins.join("reference.wasm")).unwrap();
        let mut submitted = Vec::new();
        for i in 0..EXTRA {
            let upload = Upload {
                product: format!("Natt {i}"),
                version: "1.0.0".into(),
                file_name: "reference.wasm".into(),
                bytes: reference.clone(),
                ..Upload::default()
            };
            submitted.push(service::submit(&market, &vendor, upload).await.unwrap());
        }
        let runs: Vec<i64> = submitted.iter().map(|s| s.run.id).collect();
        wait_final(&market.stores, &runs, Duration::from_secs(600)).await;
        for s in &submitted {
            let answers = sandkasse_markedsplass::declarations::sample_answers(
                &market.runner.suite,
                "Nordlys Helse AS",
            );
            let case = service::request_listing(
                &market,
                &vendor,
                s.product.id,
                s.submission.id,
                Ok(answers),
            )
            .await
            .unwrap();
            for reviewer in ["rita@prosjektet.example", "rune@prosjektet.example"] {
                let input = DecisionInput {
                    decision: "approve".into(),
                    note: "godkjent".into(),
                    declarations: sandkasse_markedsplass::declarations::accept_all(
                        &case, "godkjent",
                    ),
                };
                service::decide(&market, &as_user(reviewer).await, case.id, &input)
                    .await
                    .unwrap();
            }
        }
        let _ = stop.send(true);
        for worker in workers {
            worker.abort();
        }
        market.stores.clone()
    });

    // Two worker nodes that schedule nights; tonight's (from 00:00 UTC) is due at once.
    let nights = [
        ("RUN_LEASE_SECONDS", "6"),
        ("WORKERS", "1"),
        ("NIGHTLY__ENABLED", "true"),
        ("NIGHTLY__TIME", "00:00"),
        ("NIGHTLY__TIME_ZONE", "UTC"),
    ];
    let mut first = service.node("worker", &nights);
    let tonight = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
        .to_string();
    // Waits until the night has `at_least` runs final but not all; the night's id.
    let midway = |at_least: usize| {
        rt.block_on(async {
            let started = Instant::now();
            loop {
                if let Ok(Some(n)) = stores.nightly.night_by_date(&tonight).await
                    && let Ok(runs) = stores.nightly.night_runs(n.id).await
                {
                    let done = runs
                        .iter()
                        .filter(|r| matches!(r.state, RunState::Done | RunState::Error))
                        .count();
                    assert!(
                        done < runs.len() || runs.is_empty(),
                        "the night ended before it could be interrupted"
                    );
                    if done >= at_least {
                        return n.id;
                    }
                }
                assert!(
                    started.elapsed() < Duration::from_secs(300),
                    "the night never got going"
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    midway(0);
    let second = service.node("worker", &nights);

    // While a node holds the nights' duty, a stand-alone night refuses.
    let mut command = Command::new(env!("CARGO_BIN_EXE_sandkasse"));
    command
        .args(["nightly", "--date", &tonight, "--data-dir"])
        .arg(service.dir.path().join("nightly"));
    service.env(&mut command);
    let refused = command.output().unwrap();
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("nights' duty"), "{said}");

    midway(1);
    service.db.server.restart().unwrap();
    midway(2);
    first.process.0.kill().unwrap(); // SIGKILL the node that scheduled the night
    first.process.0.wait().unwrap();

    let night = rt.block_on(async {
        let started = Instant::now();
        loop {
            if let Ok(Some(n)) = stores.nightly.night_by_date(&tonight).await
                && n.summary.is_some()
            {
                return n;
            }
            assert!(
                started.elapsed() < Duration::from_secs(600),
                "the night did not complete"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    let summary = night.summary.expect("the night is evaluated");
    assert_eq!(summary.tested, EXTRA + 1, "{summary:?}");
    rt.block_on(async {
        for run in stores.nightly.night_runs(night.id).await.unwrap() {
            assert_eq!(run.state, RunState::Done, "run {}: {:?}", run.id, run.error);
            let subject = format!("run:{}", run.id);
            assert_eq!(
                events(&stores, "run.finish", &subject).await,
                1,
                "{subject}"
            );
        }
        let finished = events(&stores, "night.finish", &format!("night:{tonight}")).await;
        assert_eq!(finished, 1, "the night is evaluated once");
    });
    let verified = service.admin(&["verify-audit"]);
    assert!(verified.contains("intact"), "{verified}");
    drop(second);
}

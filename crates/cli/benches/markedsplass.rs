//! The markedsplass service end to end, measured from a second process on loopback:
//! `cargo bench -p sandkasse-cli --bench markedsplass` (after `cargo xtask plugins`).
//!
//! 1. **Upload → verdict** for the reference adapter: one upload at a time (a new version of one
//!    product each), from sending the `POST /api/v1/submissions` to observing the run's final
//!    state on its server-sent-events stream (`GET /api/v1/runs/{id}/events`). The first upload of
//!    a fresh server is reported apart (cold compile, data generation, schema compilation).
//! 2. **API reads under a bounded load**: 4 client threads alternate `GET /api/v1/catalogue` and
//!    `GET /api/v1/runs/{id}` (a finished reference run), 100 requests/s in total on a fixed
//!    schedule, each request a new connection (`Connection: close`). Each hostile component is
//!    uploaded once first (its POST compiles it). Then the phases: the server idle; a stream of
//!    hostile uploads keeping both workers busy (`WORKERS + 1` runs queued or running), of the
//!    same bytes, so only the runs load the server; the same stream where every upload is a new
//!    component (a distinct custom section), so each POST also compiles it cold; idle again once
//!    the hostile runs are over (if they end in time), to show the drift of a noisy machine.
//!
//! The server is the release `sandkasse serve` with the default configuration (2 workers) over a
//! temporary data directory; it is killed and the directory removed when the bench ends, also on
//! a panic. `SANDKASSE_BENCH_QUICK=1` runs fewer uploads and shorter phases.
//!
//! Cargo runs a `harness = false` bench's `main` under `cargo test --all-targets` too, without the
//! `--bench` argument that `cargo bench` passes; then this bench says so and returns at once.

mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::*;

const WORKERS: usize = 2; // the default of `workers`; the bench does not change it
const HOSTILE: &[&str] = &[
    "hostile_infinite_loop",
    "hostile_memory_bomb",
    "hostile_deep_recursion",
    "hostile_request_flood",
    "hostile_stdout_flood",
    "hostile_huge_result",
];
const CLIENT_THREADS: u32 = 4;
const REQUESTS_PER_SECOND: u32 = 100;

/// Sizes of one bench run.
#[derive(Debug, Clone, Copy)]
struct Plan {
    uploads: usize,
    load: Duration,
    /// How long to wait for workers to be busy, and for hostile runs to end after the load.
    settle: Duration,
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!(
            "markedsplass bench: not run (no --bench argument); run it with `cargo bench -p sandkasse-cli --bench markedsplass`"
        );
        return;
    }
    let quick = std::env::var("SANDKASSE_BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0");
    let plan = if quick {
        Plan {
            uploads: 5,
            load: Duration::from_secs(4),
            settle: Duration::from_secs(30),
        }
    } else {
        Plan {
            uploads: 20,
            load: Duration::from_secs(10),
            settle: Duration::from_secs(60),
        }
    };
    let started = Instant::now();
    println!(
        "markedsplass bench{}: {plan:?}",
        if quick {
            " (quick: SANDKASSE_BENCH_QUICK)"
        } else {
            ""
        }
    );
    println!(
        "machine: {} cores, loadavg {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        loadavg()
    );

    let tmp = tempfile::tempdir().expect("a temporary directory");
    let dir = tmp.path().join("data");
    let token = seed_accounts(&dir);
    let server = Server::start(&dir);
    let addr = server.addr.clone();
    println!(
        "server: pid {} on http://{addr}, data in {}",
        server.child.id(),
        dir.display()
    );

    // 1. Upload → verdict, one upload at a time.
    let reference = plugin("reference");
    let mut memory = vec![("started, before any upload".to_owned(), server.memory())];
    let cold = upload_to_verdict(&addr, &token, "Referanse", "0.0.0", &reference);
    memory.push((
        "after the first (cold) reference upload".to_owned(),
        server.memory(),
    ));
    let mut warm = Vec::new();
    for n in 1..=plan.uploads {
        warm.push(upload_to_verdict(
            &addr,
            &token,
            "Referanse",
            &format!("1.0.{n}"),
            &reference,
        ));
        if n == plan.uploads / 2 {
            memory.push((
                format!("after {} reference uploads", n + 1),
                server.memory(),
            ));
        }
    }
    let probe_run = warm.last().map_or(cold.run, |u| u.run);
    memory.push((
        format!("after {} reference uploads", plan.uploads + 1),
        server.memory(),
    ));

    // 2. API reads under a bounded load: idle; hostile runs of components compiled before;
    //    hostile runs while every upload is a new component (compiled cold by its POST); idle again.
    let components: Arc<Vec<(&'static str, Vec<u8>)>> =
        Arc::new(HOSTILE.iter().map(|n| (*n, plugin(n))).collect());
    let primed = prime(&addr, &token, &components, plan.settle);
    memory.push((
        "after one run of each hostile component".to_owned(),
        server.memory(),
    ));
    let idle = Phase::run("idle", &addr, &token, probe_run, plan.load);
    let feeder = Feeder::start(&addr, &token, components);
    let busy = feeder.wait_busy(plan.settle);
    let cached = Phase::run("hostile runs", &addr, &token, probe_run, plan.load);
    feeder.fresh.store(true, Ordering::Relaxed);
    let fresh = Phase::run("hostile + new uploads", &addr, &token, probe_run, plan.load);
    let busy_during = [feeder.busy_fraction(&cached), feeder.busy_fraction(&fresh)];
    let hostile = feeder.stop_and_settle(plan.settle);
    memory.push(("after the hostile stream".to_owned(), server.memory()));
    let all_over = hostile.iter().all(|h| h.is_final());
    let timelines = [
        timeline(&cached, &hostile),
        timeline(&fresh, &hostile),
        slowest(&[&cached, &fresh], &hostile, 8),
    ];
    let idle_again = if all_over {
        Some(Phase::run(
            "idle again",
            &addr,
            &token,
            probe_run,
            plan.load,
        ))
    } else {
        None
    };
    memory.push(("at the end".to_owned(), server.memory()));

    // Report.
    println!();
    println!(
        "## Upload → verdict, reference adapter ({} uploads one at a time, after 1 cold)",
        warm.len()
    );
    println!();
    print_uploads(&cold, &warm);
    println!();
    println!(
        "## API reads, {CLIENT_THREADS} client threads, {REQUESTS_PER_SECOND} req/s in total, {} s per phase (ms)",
        plan.load.as_secs()
    );
    println!();
    if busy.is_none() {
        println!(
            "WARNING: the workers were not both busy within {:?}; the hostile phases ran anyway",
            plan.settle
        );
    }
    for (phase, busy) in [&cached, &fresh].iter().zip(busy_during) {
        println!(
            "{}: both workers busy in {:.0} % of the feeder's samples",
            phase.name,
            busy * 100.0
        );
    }
    println!();
    let mut phases = vec![&idle, &cached, &fresh];
    phases.extend(idle_again.as_ref());
    print_phases(&phases, &idle);
    println!();
    for t in &timelines {
        println!("{t}");
    }
    if idle_again.is_none() {
        println!(
            "(no second idle phase: hostile runs were still unfinished after {:?})",
            plan.settle
        );
    }
    println!();
    println!("## Hostile uploads");
    println!();
    print_hostile(&primed.iter().chain(&hostile).cloned().collect::<Vec<_>>());
    println!();
    println!("## Server memory");
    println!();
    println!("| when | RSS (MiB) | peak RSS so far (MiB) |");
    println!("|---|---|---|");
    for (when, m) in &memory {
        match m {
            Some((rss, hwm)) => println!("| {when} | {rss:.0} | {hwm:.0} |"),
            None => println!("| {when} | ? | ? |"),
        }
    }
    println!();
    println!("loadavg at the end: {}", loadavg());
    println!("bench wall time: {:.1} s", started.elapsed().as_secs_f64());
    drop(server);
    drop(tmp);
}

// ---------------------------------------------------------------------------------------------
// 1. Upload → verdict

#[derive(Debug)]
struct Upload {
    run: i64,
    /// Sending the POST → its 201 (multipart read, inspection, storing, queueing).
    post: Duration,
    /// Sending the POST → the final state seen on the event stream.
    total: Duration,
    /// The server's own `queued_at` → `started_at` and `started_at` → `finished_at`, seconds.
    queued: Option<f64>,
    running: Option<f64>,
    state: String,
    verdict: String,
}

fn upload_to_verdict(
    addr: &str,
    token: &str,
    product: &str,
    version: &str,
    component: &[u8],
) -> Upload {
    let t0 = Instant::now();
    let run = upload(addr, token, product, version, component)
        .unwrap_or_else(|e| panic!("{product} {version}: {e}"));
    let post = t0.elapsed();
    let last =
        follow_to_final(addr, token, run).unwrap_or_else(|e| panic!("{product} {version}: {e}"));
    let total = t0.elapsed();
    let detail = get_run(addr, token, run).unwrap_or_else(|e| panic!("{e}"));
    let upload = Upload {
        run,
        post,
        total,
        queued: seconds_between(&detail["queued_at"], &detail["started_at"]),
        running: seconds_between(&detail["started_at"], &detail["finished_at"]),
        state: last["state"].as_str().unwrap_or("?").to_owned(),
        verdict: detail["verdict"].as_str().unwrap_or("-").to_owned(),
    };
    if upload.state != "done" || upload.verdict != "godkjent" {
        println!(
            "NOTE: reference upload {version} (run {run}) ended {} / {}: {}",
            upload.state, upload.verdict, detail["error"]
        );
    }
    upload
}

fn print_uploads(cold: &Upload, warm: &[Upload]) {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let totals: Vec<f64> = warm.iter().map(|u| ms(u.total)).collect();
    let posts: Vec<f64> = warm.iter().map(|u| ms(u.post)).collect();
    let queued: Vec<f64> = warm
        .iter()
        .filter_map(|u| u.queued)
        .map(|s| s * 1000.0)
        .collect();
    let running: Vec<f64> = warm
        .iter()
        .filter_map(|u| u.running)
        .map(|s| s * 1000.0)
        .collect();
    println!("| measure (ms) | first upload (cold) | p50 | p95 | min | max |");
    println!("|---|---|---|---|---|---|");
    let row = |name: &str, first: Option<f64>, v: &[f64]| {
        let f = first.map_or("-".into(), |x| format!("{x:.0}"));
        println!(
            "| {name} | {f} | {:.0} | {:.0} | {:.0} | {:.0} |",
            pct(v, 50.0),
            pct(v, 95.0),
            min(v),
            max(v)
        );
    };
    row("upload → verdict (client)", Some(ms(cold.total)), &totals);
    row("POST → 201 (client)", Some(ms(cold.post)), &posts);
    row(
        "queued → started (server)",
        cold.queued.map(|s| s * 1000.0),
        &queued,
    );
    row(
        "started → finished (server)",
        cold.running.map(|s| s * 1000.0),
        &running,
    );
    let verdicts = warm
        .iter()
        .filter(|u| u.state == "done" && u.verdict == "godkjent")
        .count();
    println!();
    println!(
        "verdicts: {verdicts}/{} godkjent (cold: {} {})",
        warm.len(),
        cold.state,
        cold.verdict
    );
    let list: Vec<String> = totals.iter().map(|t| format!("{t:.0}")).collect();
    println!("each upload → verdict, in order (ms): {}", list.join(" "));
}

// ---------------------------------------------------------------------------------------------
// 2. Bounded read load

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Catalogue,
    Run,
}

/// One read: (kind, latency ms, ok, seconds since the phase started).
type Sample = (Kind, f64, bool, f64);

#[derive(Debug)]
struct Phase {
    name: &'static str,
    started: Instant,
    /// `started` on the system clock, to compare with the server's timestamps.
    started_at: jiff::Timestamp,
    wall: Duration,
    samples: Vec<Sample>,
    late: usize,
    errors: Vec<String>,
}

impl Phase {
    /// `CLIENT_THREADS` threads on a fixed schedule of `REQUESTS_PER_SECOND` in total for `length`.
    fn run(name: &'static str, addr: &str, token: &str, run: i64, length: Duration) -> Phase {
        let period = Duration::from_secs(1) * CLIENT_THREADS / REQUESTS_PER_SECOND;
        let (started, started_at) = (Instant::now(), jiff::Timestamp::now());
        let threads: Vec<_> = (0..CLIENT_THREADS)
            .map(|i| {
                let (addr, token) = (addr.to_owned(), token.to_owned());
                std::thread::spawn(move || {
                    let (mut samples, mut errors, mut late) = (Vec::new(), Vec::new(), 0);
                    let mut next = started + period * i / CLIENT_THREADS;
                    let mut n = 0_u64;
                    while next < started + length {
                        let now = Instant::now();
                        if next > now {
                            std::thread::sleep(next - now);
                        } else if now - next > period {
                            late += 1; // behind schedule: the bound holds, no catching up in a burst
                            next = now;
                        }
                        let kind = if (n + u64::from(i)).is_multiple_of(2) {
                            Kind::Catalogue
                        } else {
                            Kind::Run
                        };
                        let path = match kind {
                            Kind::Catalogue => "/api/v1/catalogue".to_owned(),
                            Kind::Run => format!("/api/v1/runs/{run}"),
                        };
                        let t = Instant::now();
                        let result = http(&addr, "GET", &path, &token, None);
                        let ms = t.elapsed().as_secs_f64() * 1000.0;
                        let ok = matches!(result, Ok((200, _)));
                        if !ok && errors.len() < 5 {
                            errors.push(format!(
                                "{path}: {:?}",
                                result.map(|(s, b)| (s, b.chars().take(200).collect::<String>()))
                            ));
                        }
                        samples.push((kind, ms, ok, t.duration_since(started).as_secs_f64()));
                        n += 1;
                        next += period;
                    }
                    (samples, errors, late)
                })
            })
            .collect();
        let mut phase = Phase {
            name,
            started,
            started_at,
            wall: Duration::ZERO,
            samples: Vec::new(),
            late: 0,
            errors: Vec::new(),
        };
        for t in threads {
            let (samples, errors, late) = t.join().expect("a client thread");
            phase.samples.extend(samples);
            phase.errors.extend(errors);
            phase.late += late;
        }
        phase.wall = started.elapsed();
        phase
    }

    fn latencies(&self, kind: Option<Kind>) -> Vec<f64> {
        self.samples
            .iter()
            .filter(|s| s.2 && kind.is_none_or(|k| k == s.0))
            .map(|s| s.1)
            .collect()
    }
}

/// The slowest read of each second of a phase, and when the hostile uploads were sent.
/// The `n` slowest reads of the phases, each with the hostile runs running and the hostile POSTs
/// in flight at the time.
fn slowest(phases: &[&Phase], hostile: &[Hostile], n: usize) -> String {
    let mut all: Vec<(&Phase, &Sample)> = phases
        .iter()
        .flat_map(|p| p.samples.iter().map(move |s| (*p, s)))
        .collect();
    all.sort_by(|a, b| b.1.1.total_cmp(&a.1.1));
    let mut lines = vec![format!(
        "the {n} slowest reads of the hostile phases, with what the server was doing:"
    )];
    for (phase, s) in all.into_iter().take(n) {
        let at = phase.started_at + Duration::from_secs_f64(s.3);
        let end = at + Duration::from_secs_f64(s.1 / 1000.0);
        let mut running = Vec::new();
        for h in hostile {
            let Ok(v) = &h.last else { continue };
            let (Some(from), to) = (timestamp(&v["started_at"]), timestamp(&v["finished_at"]))
            else {
                continue;
            };
            if from <= end && to.is_none_or(|to| to >= at) {
                let phase_of = |t: jiff::Timestamp| {
                    format!("{:+.1}", t.duration_since(phase.started_at).as_secs_f64())
                };
                let to = to.map_or("…".into(), phase_of);
                running.push(format!(
                    "{} ({} s to {to} s)",
                    h.component.trim_start_matches("hostile_"),
                    phase_of(from)
                ));
            }
        }
        // Runs that started or ended within half a second of the read.
        let near = |t: jiff::Timestamp| {
            t >= at - Duration::from_millis(500) && t <= end + Duration::from_millis(500)
        };
        let mut transitions = Vec::new();
        for h in hostile {
            let Ok(v) = &h.last else { continue };
            let name = h.component.trim_start_matches("hostile_");
            for (event, key) in [("started", "started_at"), ("ended", "finished_at")] {
                if let Some(t) = timestamp(&v[key]).filter(|t| near(*t)) {
                    transitions.push(format!(
                        "{name} {event} {:+.2} s",
                        t.duration_since(phase.started_at).as_secs_f64()
                    ));
                }
            }
        }
        let posting: Vec<String> = hostile
            .iter()
            .filter(|h| {
                let sent = h
                    .sent
                    .checked_duration_since(phase.started)
                    .map_or(-1.0, |d| d.as_secs_f64());
                sent <= s.3 + s.1 / 1000.0 && sent + h.post_ms / 1000.0 >= s.3
            })
            .map(|h| {
                format!(
                    "{} {}",
                    h.component.trim_start_matches("hostile_"),
                    h.upload
                )
            })
            .collect();
        lines.push(format!(
            "- {}, +{:.2} s, {:?}: {:.0} ms; running: {}; starts/ends within 0.5 s: {}; POST in flight: {}",
            phase.name,
            s.3,
            s.0,
            s.1,
            if running.is_empty() { "none".into() } else { running.join(", ") },
            if transitions.is_empty() { "none".into() } else { transitions.join(", ") },
            if posting.is_empty() { "none".into() } else { posting.join(", ") },
        ));
    }
    lines.join("\n")
}

fn timeline(phase: &Phase, hostile: &[Hostile]) -> String {
    let seconds = phase.wall.as_secs_f64().ceil() as usize;
    let mut worst = vec![0.0_f64; seconds.max(1)];
    for s in &phase.samples {
        let i = (s.3 as usize).min(worst.len() - 1);
        worst[i] = worst[i].max(s.1);
    }
    let worst: Vec<String> = worst.iter().map(|w| format!("{w:.0}")).collect();
    let sent: Vec<String> = hostile
        .iter()
        .filter(|h| h.sent <= phase.started + phase.wall)
        .map(|h| {
            let at = match h.sent.checked_duration_since(phase.started) {
                Some(d) => d.as_secs_f64(),
                None => -phase.started.duration_since(h.sent).as_secs_f64(),
            };
            format!("{at:.1} s ({:.0} ms)", h.post_ms)
        })
        .collect();
    format!(
        "{}: slowest read in each second (ms): {}\n{}: hostile uploads sent at, from the phase start (their POST → 201): {}",
        phase.name,
        worst.join(" "),
        phase.name,
        if sent.is_empty() {
            "none".into()
        } else {
            sent.join(", ")
        }
    )
}

fn print_phases(phases: &[&Phase], idle: &Phase) {
    println!(
        "| phase | requests | req/s | errors | p50 | p95 | p99 | max | p50 / idle | p95 / idle | p99 / idle | max / idle |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for kind in [None, Some(Kind::Catalogue), Some(Kind::Run)] {
        let base = idle.latencies(kind);
        for phase in phases {
            let v = phase.latencies(kind);
            let errors = phase
                .samples
                .iter()
                .filter(|s| !s.2 && kind.is_none_or(|k| k == s.0))
                .count();
            let label = match kind {
                None => format!("{}: all", phase.name),
                Some(Kind::Catalogue) => format!("{}: catalogue", phase.name),
                Some(Kind::Run) => format!("{}: run", phase.name),
            };
            let ratio = |f: fn(&[f64]) -> f64| {
                let (a, b) = (f(&v), f(&base));
                if b > 0.0 {
                    format!("{:.2}×", a / b)
                } else {
                    "-".into()
                }
            };
            println!(
                "| {label} | {} | {:.0} | {errors} | {:.2} | {:.2} | {:.2} | {:.2} | {} | {} | {} | {} |",
                v.len() + errors,
                (v.len() + errors) as f64 / phase.wall.as_secs_f64(),
                pct(&v, 50.0),
                pct(&v, 95.0),
                pct(&v, 99.0),
                max(&v),
                ratio(|v| pct(v, 50.0)),
                ratio(|v| pct(v, 95.0)),
                ratio(|v| pct(v, 99.0)),
                ratio(max),
            );
        }
    }
    for phase in phases {
        if phase.late > 0 {
            println!(
                "{}: a client fell more than one period behind its schedule {} times",
                phase.name, phase.late
            );
        }
        for e in &phase.errors {
            println!("{}: error: {e}", phase.name);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The hostile stream

#[derive(Debug, Clone)]
struct Hostile {
    component: &'static str,
    /// How it was uploaded: `first` (before the idle phase), `same bytes` (compiled already),
    /// `new bytes` (a copy with a distinct custom section, so its POST compiles it cold).
    upload: &'static str,
    sent: Instant,
    post_ms: f64,
    run: Option<i64>,
    /// The last run JSON seen (or the upload's error).
    last: Result<Value, String>,
}

impl Hostile {
    fn is_final(&self) -> bool {
        match &self.last {
            Ok(v) => matches!(v["state"].as_str(), Some("done" | "error")),
            Err(_) => true,
        }
    }
}

#[derive(Debug, Default)]
struct FeederState {
    uploads: Vec<Hostile>,
    /// (when, runs in state `running`)
    samples: Vec<(Instant, usize)>,
}

/// A thread that keeps `WORKERS + 1` hostile runs queued or running until stopped; with `fresh`,
/// every upload is a new component.
struct Feeder {
    state: Arc<Mutex<FeederState>>,
    stop: Arc<AtomicBool>,
    fresh: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
    addr: String,
    token: String,
}

impl Feeder {
    fn start(addr: &str, token: &str, components: Arc<Vec<(&'static str, Vec<u8>)>>) -> Feeder {
        let state = Arc::new(Mutex::new(FeederState::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let fresh = Arc::new(AtomicBool::new(false));
        let thread = {
            let (state, stop, addr, token) = (
                state.clone(),
                stop.clone(),
                addr.to_owned(),
                token.to_owned(),
            );
            let fresh = fresh.clone();
            std::thread::spawn(move || {
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    refresh(&addr, &token, &state);
                    let unfinished = state
                        .lock()
                        .expect("feeder")
                        .uploads
                        .iter()
                        .filter(|h| !h.is_final())
                        .count();
                    if unfinished <= WORKERS {
                        let (name, bytes) = &components[n % components.len()];
                        let new = fresh.load(Ordering::Relaxed);
                        let bytes = if new {
                            with_custom_section(bytes, n)
                        } else {
                            bytes.clone()
                        };
                        let t = Instant::now();
                        let result = upload(&addr, &token, name, &format!("1.0.{n}"), &bytes);
                        let post_ms = t.elapsed().as_secs_f64() * 1000.0;
                        let (run, last) = match result {
                            Ok(run) => (Some(run), Ok(serde_json::json!({ "state": "queued" }))),
                            Err(e) => (None, Err(e)),
                        };
                        state.lock().expect("feeder").uploads.push(Hostile {
                            component: name,
                            upload: if new { "new bytes" } else { "same bytes" },
                            sent: t,
                            post_ms,
                            run,
                            last,
                        });
                        n += 1;
                        continue;
                    }
                    std::thread::sleep(Duration::from_millis(500));
                }
            })
        };
        Feeder {
            state,
            stop,
            fresh,
            thread: Some(thread),
            addr: addr.to_owned(),
            token: token.to_owned(),
        }
    }

    /// Waits until both workers run hostile components; how long that took.
    fn wait_busy(&self, limit: Duration) -> Option<Duration> {
        let t = Instant::now();
        while t.elapsed() < limit {
            if self
                .state
                .lock()
                .expect("feeder")
                .samples
                .last()
                .is_some_and(|s| s.1 >= WORKERS)
            {
                return Some(t.elapsed());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    fn busy_fraction(&self, phase: &Phase) -> f64 {
        let state = self.state.lock().expect("feeder");
        let samples: Vec<_> = state
            .samples
            .iter()
            .filter(|s| s.0 >= phase.started && s.0 <= phase.started + phase.wall)
            .collect();
        if samples.is_empty() {
            return 0.0;
        }
        samples.iter().filter(|s| s.1 >= WORKERS).count() as f64 / samples.len() as f64
    }

    /// Stops uploading; waits up to `limit` for the hostile runs to end; what each did.
    fn stop_and_settle(mut self, limit: Duration) -> Vec<Hostile> {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.join().expect("the feeder thread");
        }
        let t = Instant::now();
        loop {
            refresh(&self.addr, &self.token, &self.state);
            let all = self
                .state
                .lock()
                .expect("feeder")
                .uploads
                .iter()
                .all(Hostile::is_final);
            if all || t.elapsed() >= limit {
                break;
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        self.state.lock().expect("feeder").uploads.clone()
    }
}

impl Drop for Feeder {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Uploads each hostile component once (its POST compiles it) and waits up to `limit` for the runs.
fn prime(
    addr: &str,
    token: &str,
    components: &[(&'static str, Vec<u8>)],
    limit: Duration,
) -> Vec<Hostile> {
    let state = Mutex::new(FeederState::default());
    for (name, bytes) in components {
        let t = Instant::now();
        let result = upload(addr, token, name, "0.0.0", bytes);
        let post_ms = t.elapsed().as_secs_f64() * 1000.0;
        let (run, last) = match result {
            Ok(run) => (Some(run), Ok(serde_json::json!({ "state": "queued" }))),
            Err(e) => (None, Err(e)),
        };
        state.lock().expect("prime").uploads.push(Hostile {
            component: name,
            upload: "first",
            sent: t,
            post_ms,
            run,
            last,
        });
    }
    let t = Instant::now();
    loop {
        refresh(addr, token, &state);
        if state
            .lock()
            .expect("prime")
            .uploads
            .iter()
            .all(Hostile::is_final)
            || t.elapsed() >= limit
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    state.into_inner().expect("prime").uploads
}

/// A copy of a component with one more custom section (`sandkasse-bench`, `n`): the same code, a
/// new hash, so the service compiles it afresh.
fn with_custom_section(component: &[u8], n: usize) -> Vec<u8> {
    let mut out = component.to_vec();
    let section = wasm_encoder::CustomSection {
        name: "sandkasse-bench".into(),
        data: n.to_string().into_bytes().into(),
    };
    wasm_encoder::ComponentSection::append_to_component(&section, &mut out);
    out
}

/// Reads the state of every unfinished hostile run; records how many are running.
fn refresh(addr: &str, token: &str, state: &Mutex<FeederState>) {
    let open: Vec<(usize, i64)> = {
        let s = state.lock().expect("feeder");
        s.uploads
            .iter()
            .enumerate()
            .filter(|(_, h)| !h.is_final())
            .filter_map(|(i, h)| Some((i, h.run?)))
            .collect()
    };
    let mut running = 0;
    let mut seen = Vec::new();
    for (i, run) in open {
        let result = get_run(addr, token, run);
        if let Ok(v) = &result {
            running += usize::from(v["state"] == "running");
        }
        seen.push((i, result));
    }
    let mut s = state.lock().expect("feeder");
    for (i, result) in seen {
        if let Ok(v) = result {
            s.uploads[i].last = Ok(v);
        }
    }
    s.samples.push((Instant::now(), running));
}

fn print_hostile(hostile: &[Hostile]) {
    println!(
        "| component | upload | run | POST → 201 (ms) | state | verdict | started → finished (s) | error |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for h in hostile {
        let run = h.run.map_or("-".into(), |r| r.to_string());
        match &h.last {
            Ok(v) => {
                let secs = seconds_between(&v["started_at"], &v["finished_at"])
                    .map_or("-".into(), |s| format!("{s:.1}"));
                let error: String = v["error"]
                    .as_str()
                    .unwrap_or("")
                    .chars()
                    .take(100)
                    .collect();
                println!(
                    "| {} | {} | {run} | {:.0} | {} | {} | {secs} | {error} |",
                    h.component,
                    h.upload,
                    h.post_ms,
                    v["state"].as_str().unwrap_or("?"),
                    v["verdict"].as_str().unwrap_or("-"),
                );
            }
            Err(e) => println!(
                "| {} | {} | {run} | {:.0} | upload refused | - | - | {} |",
                h.component,
                h.upload,
                h.post_ms,
                e.chars().take(100).collect::<String>()
            ),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Statistics

/// Nearest-rank percentile of unsorted values; 0 when empty.
fn pct(values: &[f64], p: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

fn max(values: &[f64]) -> f64 {
    values.iter().copied().fold(0.0, f64::max)
}

fn min(values: &[f64]) -> f64 {
    if values.is_empty() {
        0.0
    } else {
        values.iter().copied().fold(f64::INFINITY, f64::min)
    }
}

//! The hostile soak: `cargo xtask soak [--runs N]`, or after `cargo xtask plugins`
//! `cargo bench -p sandkasse-cli --bench soak -- --runs N`.
//!
//! A release `sandkasse serve` over a fresh data directory (its defaults, except the shorter
//! limits in [`SETTINGS`], so that a compile bomb costs seconds, not minutes) is fed a corpus of
//! hostile kinds, each with the outcome it must have:
//! - **upload**: bytes and requests refused at the door — the status, the error code and the
//!   words that name the cause (compile bombs among them);
//! - **run**: components accepted and judged, not crashed on — the run ends `done`, the verdict
//!   is as stated, the report names the failure, and the report is within the report budget;
//! - **client**: connections and requests cut off, refused or slowed — idle, trickled and
//!   stalled clients, more connections from one address than allowed, a declared body over the
//!   limit, a cross-site post, password spraying — and 50 badge requests at once, all answered.
//!
//! `--runs N` hostile runs (default 1 000) cycle through the run kinds (with `--mixed`, also the
//! reference adapter and some flawed ones, as a day of uploads mixes them), at most [`IN_FLIGHT`]
//! queued or running at once. After every [`SAMPLE_EVERY`] runs, with the queue drained, the soak
//! samples the service — resident memory, open file descriptors, child processes, database size
//! with its WAL; after every 100 it also sends every upload and client kind again, so that the
//! refusals are soaked too. Password
//! spraying comes once, at the end (it slows logins from this address for minutes, by design).
//!
//! It prints a table of kinds (class, expected, observed, runs) and the samples, and fails (exit
//! code 1) when any kind ends otherwise than stated, the service stops answering, a compile
//! worker outlives its compile, or the service's memory at the end is more than
//! [`RSS_GROWTH_ALLOWED`] above its sample after the first [`SAMPLE_EVERY`] runs.
//!
//! Cargo runs a `harness = false` bench's `main` under `cargo test --all-targets` too, without the
//! `--bench` argument that `cargo bench` passes; then this bench says so and returns at once.

mod support;

// Compile bombs and an adapter with chosen imports, built in code (shared with the tests).
#[allow(dead_code)]
#[path = "../../sandbox/tests/all/bomb.rs"]
mod bomb;

use std::collections::BTreeMap;
use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::*;

/// `SANDKASSE__*` settings of the soaked service: short compile and read limits and a small upload
/// limit, so that every kind hits its limit quickly (the per-address connection cap keeps its
/// default, which the 50 badge requests at once stay under).
const SETTINGS: &[(&str, &str)] = &[
    ("LIMITS__COMPILE_TIMEOUT_SECONDS", "20"),
    ("LIMITS__COMPILE_MEMORY_BYTES", "134217728"),
    ("LIMITS__HEADER_READ_TIMEOUT_SECONDS", "2"),
    ("LIMITS__BODY_READ_TIMEOUT_SECONDS", "2"),
    ("MAX_UPLOAD_BYTES", "4194304"),
];
const MAX_UPLOAD_BYTES: usize = 4 << 20;
/// The default of `limits.max_connections_per_address`.
const CONNECTIONS_PER_ADDRESS: usize = 64;
/// The service's default report budget (`limits.max_report_bytes`).
const REPORT_BUDGET: usize = 1 << 20;
/// Hostile runs queued or running at once (the service has 2 workers).
const IN_FLIGHT: usize = 4;
/// How much the resident set may grow from the sample after the first 50 runs to the end.
const RSS_GROWTH_ALLOWED: f64 = 0.10;
/// Runs between two samples of the service.
const SAMPLE_EVERY: usize = 50;
/// A run that has not ended after this is reported as stuck.
const RUN_DEADLINE: Duration = Duration::from_secs(600);

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if !args.iter().any(|a| a == "--bench") {
        println!(
            "soak: not run (no --bench argument); run it with `cargo xtask soak` or `cargo bench -p sandkasse-cli --bench soak -- --runs N`"
        );
        return;
    }
    let runs: usize = args
        .iter()
        .position(|a| a == "--runs")
        .and_then(|i| args.get(i + 1))
        .map(|n| n.parse().expect("--runs takes a number"))
        .unwrap_or(1000);
    let mixed = args.iter().any(|a| a == "--mixed");
    let started = Instant::now();
    println!(
        "soak: {runs} {} runs; machine: {} cores, loadavg {}",
        if mixed {
            "mixed (hostile, reference, flawed)"
        } else {
            "hostile"
        },
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        loadavg()
    );

    let tmp = tempfile::tempdir().expect("a temporary directory");
    let dir = tmp.path().join("data");
    let token = seed_accounts(&dir);
    let server = Server::start_with(&dir, SETTINGS);
    let soak = Soak {
        addr: server.addr.clone(),
        token,
        pid: server.child.id(),
        dir: dir.clone(),
        cookie: login(&server.addr, "benk@benk.no", PASSWORD).expect("the vendor logs in"),
    };
    println!("server: pid {} on http://{}", soak.pid, soak.addr);

    let mut tally = Tally::default();
    let mut samples = vec![Sample::take(&soak, 0, started)];
    let mut badge_run = None;
    soak.doors(&mut tally, 0, badge_run);
    let kinds = run_kinds(mixed);
    let mut done = 0;
    let mut alive = true;
    while done < runs && alive {
        let end = (done + SAMPLE_EVERY).min(runs);
        alive = soak.hostile_runs(&kinds, done..end, &mut tally, &mut badge_run);
        done = end;
        if alive && (done % 100 == 0 || done == runs) {
            soak.doors(&mut tally, done, badge_run);
        }
        let sample = Sample::take(&soak, done, started);
        sample.print_row();
        samples.push(sample);
    }
    if alive {
        tally.record(
            "password-spraying",
            "client",
            "401 for the free tries from one address, then 429 naming the wait",
            soak.spraying(),
        );
    } else {
        println!("FAIL: the service stopped answering after {done} runs");
    }
    let flat = alive && rss_flat(&samples);
    drop(server);
    drop(tmp);
    finish(&tally, &samples, started, flat);
}

/// The soaked service and the vendor's credentials.
struct Soak {
    addr: String,
    token: String,
    pid: u32,
    dir: std::path::PathBuf,
    /// `sandkasse_session=…` of the vendor's password login.
    cookie: String,
}

// ---------------------------------------------------------------------------------------------
// Run kinds

/// A component that is accepted and must end judged as stated.
struct RunKind {
    name: &'static str,
    bytes: Vec<u8>,
    expected: &'static str,
    /// The verdict it must get; `None` for any (the report inflaters are judged on their output).
    verdict: Option<&'static str>,
    /// The report must name one of these (a failure class or the cut of its evidence); empty for
    /// an honest or flawed adapter, judged by its verdict alone.
    names_any: &'static [&'static str],
}

/// The run kinds: the hostile components, and with `mixed` also the honest references and some
/// flawed adapters, as a night or a day of uploads mixes them.
fn run_kinds(mixed: bool) -> Vec<RunKind> {
    let kind = |name, expected, verdict, names_any| RunKind {
        name,
        bytes: plugin(name),
        expected,
        verdict,
        names_any,
    };
    let not = Some("ikke-godkjent");
    let mut kinds = vec![
        kind(
            "hostile_deep_recursion",
            "ikke godkjent, stack-overflow",
            not,
            &["stack-overflow"],
        ),
        kind(
            "hostile_huge_result",
            "ikke godkjent, result or memory limit",
            not,
            &["result-limit", "memory-limit"],
        ),
        kind(
            "hostile_infinite_loop",
            "ikke godkjent, out of fuel or deadline",
            not,
            &["out-of-fuel", "deadline"],
        ),
        kind(
            "hostile_memory_bomb",
            "ikke godkjent, memory-limit",
            not,
            &["memory-limit"],
        ),
        kind(
            "hostile_non_json_result",
            "ikke godkjent, not a FHIR Bundle, report within budget",
            not,
            &["valid-bundle"],
        ),
        kind(
            "hostile_padded_overview",
            "judged, report within budget, evidence cut",
            None,
            &["truncated"],
        ),
        kind(
            "hostile_request_flood",
            "ikke godkjent, request-limit",
            not,
            &["request-limit"],
        ),
        kind(
            "hostile_stdout_flood",
            "ikke godkjent, output limit or cut",
            not,
            &["output-limit", "truncated"],
        ),
        kind("hostile_trap", "ikke godkjent, trap", not, &["trap"]),
        kind(
            "hostile_foreign_host",
            "ikke godkjent, refused-egress",
            not,
            &["refused-egress"],
        ),
    ];
    if mixed {
        kinds.extend([
            kind("reference", "godkjent", Some("godkjent"), &[]),
            kind("flawed_wrong_bundle", "ikke godkjent", not, &[]),
            kind("flawed_drops_token", "ikke godkjent", not, &[]),
            kind("flawed_first_page_only", "ikke godkjent", not, &[]),
            kind("flawed_ignores_sensitive", "ikke godkjent", not, &[]),
        ]);
    }
    kinds
}

impl Soak {
    /// Runs `numbers` (the run kinds in turn), at most [`IN_FLIGHT`] queued or running, until all
    /// have ended. False when the service stopped answering.
    fn hostile_runs(
        &self,
        kinds: &[RunKind],
        numbers: std::ops::Range<usize>,
        tally: &mut Tally,
        badge_run: &mut Option<i64>,
    ) -> bool {
        let mut waiting = numbers.peekable();
        let mut in_flight: Vec<(&RunKind, i64, Instant)> = Vec::new();
        while waiting.peek().is_some() || !in_flight.is_empty() {
            while in_flight.len() < IN_FLIGHT
                && let Some(n) = waiting.next()
            {
                let kind = &kinds[n % kinds.len()];
                let product = format!("Soak {}", kind.name);
                match upload(
                    &self.addr,
                    &self.token,
                    &product,
                    &format!("1.0.{n}"),
                    &kind.bytes,
                ) {
                    Ok(run) => in_flight.push((kind, run, Instant::now())),
                    Err(e) => {
                        tally.record(kind.name, "run", kind.expected, Err(format!("upload: {e}")))
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(250));
            let mut still = Vec::new();
            for (kind, run, since) in in_flight {
                match get_run(&self.addr, &self.token, run) {
                    Ok(v) if matches!(v["state"].as_str(), Some("done" | "error")) => {
                        let judged = judge_run(self, kind, run, &v);
                        if kind.name == "hostile_padded_overview" && judged.is_ok() {
                            *badge_run = Some(run);
                        }
                        tally.record(kind.name, "run", kind.expected, judged);
                    }
                    Ok(_) if since.elapsed() > RUN_DEADLINE => tally.record(
                        kind.name,
                        "run",
                        kind.expected,
                        Err(format!("run {run} not ended after {RUN_DEADLINE:?}")),
                    ),
                    Ok(_) => still.push((kind, run, since)),
                    Err(e) => {
                        tally.record(kind.name, "run", kind.expected, Err(e));
                        if !health(&self.addr) {
                            return false;
                        }
                    }
                }
            }
            in_flight = still;
        }
        true
    }
}

fn judge_run(soak: &Soak, kind: &RunKind, run: i64, v: &Value) -> Result<String, String> {
    let (state, verdict) = (
        v["state"].as_str().unwrap_or("?"),
        v["verdict"].as_str().unwrap_or("-"),
    );
    if state != "done" {
        return Err(format!("run {run} ended {state}: {}", v["error"]));
    }
    if let Some(want) = kind.verdict
        && verdict != want
    {
        return Err(format!("run {run}: verdict {verdict}, not {want}"));
    }
    let (status, report) = support::http(
        &soak.addr,
        "GET",
        &format!("/api/v1/runs/{run}/report.json"),
        &soak.token,
        None,
    )?;
    if status != 200 {
        return Err(format!("report of run {run}: {status}"));
    }
    let parsed: Value =
        serde_json::from_str(&report).map_err(|e| format!("report of run {run}: {e}"))?;
    let stored = serde_json::to_string(&parsed).map_or(usize::MAX, |s| s.len());
    if stored > REPORT_BUDGET {
        return Err(format!(
            "run {run}: report of {stored} bytes over the budget"
        ));
    }
    let named: Vec<&str> = kind
        .names_any
        .iter()
        .copied()
        .filter(|n| report.contains(n))
        .collect();
    if named.is_empty() && !kind.names_any.is_empty() {
        return Err(format!(
            "run {run}: the report names none of {:?}",
            kind.names_any
        ));
    }
    Ok(format!(
        "{verdict}, names {}, {} KiB",
        named.join("+"),
        stored >> 10
    ))
}

// ---------------------------------------------------------------------------------------------
// Upload and client kinds: refused at the door

impl Soak {
    /// Every upload and client kind once; `round` makes versions unique.
    fn doors(&self, tally: &mut Tally, round: usize, badge_run: Option<i64>) {
        let version = format!("{round}.0.0");
        for case in upload_cases() {
            let got = self.post_upload(case.content_type, &case.body(&version));
            tally.record(
                case.name,
                "upload",
                case.expected,
                refused(got, case.status, case.code, case.names),
            );
        }
        let dup = self.duplicate_version(round);
        tally.record("duplicate-version", "upload", "409 conflict", dup);
        let quoted = self.hostile_file_name(round);
        tally.record(
            "hostile-file-name",
            "upload",
            "accepted; every stored command quotes the name",
            quoted,
        );
        tally.record(
            "declared-length-over-limit",
            "client",
            "413 too_large before the body is read",
            self.declared_length(),
        );
        tally.record(
            "idle-connection",
            "client",
            "closed after the header timeout",
            self.cut_off(b"", 2),
        );
        tally.record(
            "trickled-headers",
            "client",
            "closed after the header timeout",
            self.cut_off(b"GET /api/v1/catalogue HTTP/1.1\r\nHost: x\r\nX-A: ", 2),
        );
        tally.record(
            "stalled-body",
            "client",
            "refused or closed after the body timeout",
            self.cut_off(b"POST /api/v1/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"user", 2),
        );
        tally.record(
            "connection-cap",
            "client",
            "503 with Retry-After past the per-address cap",
            self.connection_cap(),
        );
        tally.record(
            "cross-site-post",
            "client",
            "400 cross_origin, nothing stored",
            self.cross_site_post(round),
        );
        if let Some(run) = badge_run {
            tally.record(
                "badge-stampede",
                "client",
                "50 concurrent badge requests all 200 image/svg",
                self.badge_stampede(run),
            );
        }
    }

    /// `POST /api/v1/submissions` on a new connection (see [`raw`]).
    fn post_upload(&self, content_type: &str, body: &[u8]) -> Result<(u16, String), String> {
        let mut request = format!(
            "POST /api/v1/submissions HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            self.addr,
            self.token,
            body.len()
        )
        .into_bytes();
        request.extend_from_slice(body);
        raw(&self.addr, &request)
    }

    fn duplicate_version(&self, round: usize) -> Result<String, String> {
        let version = format!("{round}.0.0");
        let bytes = plugin("hostile_trap");
        let first = upload(&self.addr, &self.token, "Soak duplikat", &version, &bytes)?;
        // Its run ends before the sample, so that samples are taken with the queue drained.
        follow_to_final(&self.addr, &self.token, first)?;
        let body = multipart(&form("Soak duplikat", &version), "a.wasm", &bytes);
        let got = support::http(
            &self.addr,
            "POST",
            "/api/v1/submissions",
            &self.token,
            Some((MULTIPART, &body)),
        );
        refused(got, 409, "conflict", &[])
    }

    /// A file name that is a shell command: each command in the report, run through `sh`, gives
    /// the name back as one word and runs nothing.
    fn hostile_file_name(&self, round: usize) -> Result<String, String> {
        let name = "$(touch pwned).wasm; touch pwned2";
        let version = format!("{round}.0.0");
        let body = multipart(
            &form("Soak filnavn", &version),
            name,
            &plugin("hostile_trap"),
        );
        let (status, text) = support::http(
            &self.addr,
            "POST",
            "/api/v1/submissions",
            &self.token,
            Some((MULTIPART, &body)),
        )?;
        if status != 201 {
            return Err(format!("{status}: {text}"));
        }
        let run = serde_json::from_str::<Value>(&text).map_err(|e| e.to_string())?["run"]["id"]
            .as_i64()
            .ok_or("no run id")?;
        follow_to_final(&self.addr, &self.token, run)?;
        let (_, report) = support::http(
            &self.addr,
            "GET",
            &format!("/api/v1/runs/{run}/report.json"),
            &self.token,
            None,
        )?;
        let report: Value = serde_json::from_str(&report).map_err(|e| e.to_string())?;
        let mut commands: Vec<String> = vec![report["reproduce"].as_str().unwrap_or("").to_owned()];
        for v in report["vilkar"].as_array().into_iter().flatten() {
            for c in v["checks"].as_array().into_iter().flatten() {
                commands.extend(c["reproduce"].as_str().map(str::to_owned));
            }
        }
        let shell = tempfile::tempdir().map_err(|e| e.to_string())?;
        for command in &commands {
            let args = command
                .strip_prefix("sandkasse ")
                .ok_or(format!("not a sandkasse command: {command}"))?;
            let out = Command::new("sh")
                .arg("-c")
                .arg(format!("printf '%s\\n' {args}"))
                .current_dir(shell.path())
                .output()
                .map_err(|e| e.to_string())?;
            let words: Vec<String> = String::from_utf8_lossy(&out.stdout)
                .lines()
                .map(str::to_owned)
                .collect();
            if words.get(1).map(String::as_str) != Some(name) {
                return Err(format!("{command} expands to {words:?}"));
            }
        }
        let ran = std::fs::read_dir(shell.path()).map_or(0, |d| d.count());
        if ran > 0 {
            return Err(format!("the shell created {ran} files from the name"));
        }
        Ok(format!("{} commands, each one word", commands.len()))
    }

    fn declared_length(&self) -> Result<String, String> {
        let request = format!(
            "POST /api/v1/submissions HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\nContent-Type: {MULTIPART}\r\nContent-Length: 2147483648\r\nConnection: close\r\n\r\n--b\r\n",
            self.addr, self.token
        );
        let started = Instant::now();
        let (status, body) = raw(&self.addr, request.as_bytes())?;
        refused(Ok((status, body)), 413, "too_large", &[])
            .map(|s| format!("{s} in {} ms", started.elapsed().as_millis()))
    }

    /// Sends `prefix` and then nothing: the service must close the connection within
    /// `timeout_seconds` + 3 s (answering first or not).
    fn cut_off(&self, prefix: &[u8], timeout_seconds: u64) -> Result<String, String> {
        let mut stream = TcpStream::connect(&self.addr).map_err(|e| format!("connect: {e}"))?;
        let limit = Duration::from_secs(timeout_seconds + 3);
        stream
            .set_read_timeout(Some(limit))
            .map_err(|e| e.to_string())?;
        stream
            .write_all(prefix)
            .map_err(|e| format!("write: {e}"))?;
        let started = Instant::now();
        let mut answer = Vec::new();
        match stream.read_to_end(&mut answer) {
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return Err(format!("still open after {limit:?}"));
            }
            // A reset is a close too.
            Err(_) => {}
        }
        let status = String::from_utf8_lossy(&answer)
            .split(' ')
            .nth(1)
            .unwrap_or("none")
            .to_owned();
        if status.starts_with('2') {
            return Err(format!("answered {status}"));
        }
        Ok(format!(
            "closed after {:.1} s (status {status})",
            started.elapsed().as_secs_f64()
        ))
    }

    fn connection_cap(&self) -> Result<String, String> {
        let held: Vec<TcpStream> = (0..CONNECTIONS_PER_ADDRESS)
            .map(|_| TcpStream::connect(&self.addr))
            .collect::<Result<_, _>>()
            .map_err(|e| format!("connect: {e}"))?;
        let got = raw(
            &self.addr,
            b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        );
        drop(held);
        let (status, body) = got?;
        if status != 503 {
            return Err(format!(
                "connection {} answered {status}: {body}",
                CONNECTIONS_PER_ADDRESS + 1
            ));
        }
        // And the next connection, once those are gone, is served.
        std::thread::sleep(Duration::from_millis(200));
        let (again, _) = raw(
            &self.addr,
            b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )?;
        if again != 200 {
            return Err(format!("after the cap, /health answered {again}"));
        }
        Ok("503, then served".into())
    }

    fn cross_site_post(&self, round: usize) -> Result<String, String> {
        let version = format!("{round}.0.0");
        let body = multipart(
            &form("Soak forfalsket", &version),
            "a.wasm",
            &plugin("hostile_trap"),
        );
        let mut request = format!(
            "POST /api/v1/submissions HTTP/1.1\r\nHost: {}\r\nCookie: {}\r\nOrigin: https://angriper.example\r\nContent-Type: {MULTIPART}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            self.addr,
            self.cookie,
            body.len()
        )
        .into_bytes();
        request.extend_from_slice(&body);
        let answer = refused(raw(&self.addr, &request), 400, "cross_origin|csrf", &[])?;
        let (_, products) =
            support::http(&self.addr, "GET", "/api/v1/products", &self.token, None)?;
        if products.contains("Soak forfalsket") {
            return Err("the cross-site upload was stored".into());
        }
        Ok(answer)
    }

    fn badge_stampede(&self, run: i64) -> Result<String, String> {
        let started = Instant::now();
        let threads: Vec<_> = (0..50)
            .map(|_| {
                let (addr, token) = (self.addr.clone(), self.token.clone());
                std::thread::spawn(move || {
                    let t = Instant::now();
                    let got = support::http(
                        &addr,
                        "GET",
                        &format!("/api/v1/runs/{run}/badge.svg"),
                        &token,
                        None,
                    );
                    (got, t.elapsed())
                })
            })
            .collect();
        let mut slowest = Duration::ZERO;
        for t in threads {
            let (got, took) = t.join().map_err(|_| "a client thread panicked")?;
            let (status, body) = got?;
            if status != 200 || !body.contains("<svg") {
                return Err(format!("badge answered {status}"));
            }
            slowest = slowest.max(took);
        }
        Ok(format!(
            "all in {} ms, slowest {} ms",
            started.elapsed().as_millis(),
            slowest.as_millis()
        ))
    }

    /// Thirty usernames, one wrong password each, from this address.
    fn spraying(&self) -> Result<String, String> {
        let mut statuses = BTreeMap::<u16, usize>::new();
        let mut first_429 = None;
        for n in 0..30 {
            let body =
                format!("{{\"username\":\"spray{n}@example.no\",\"password\":\"Sommer2026!\"}}");
            let (status, text) = support::http(
                &self.addr,
                "POST",
                "/api/v1/session",
                "",
                Some(("application/json", body.as_bytes())),
            )?;
            if status == 429 && first_429.is_none() {
                first_429 = Some((n, text));
            }
            *statuses.entry(status).or_default() += 1;
        }
        let Some((n, text)) = first_429 else {
            return Err(format!("never slowed: {statuses:?}"));
        };
        if statuses.keys().any(|s| ![401, 429].contains(s)) {
            return Err(format!("unexpected answers: {statuses:?}"));
        }
        if !text.contains("prøv igjen om") {
            return Err(format!("the 429 does not name the wait: {text}"));
        }
        Ok(format!("429 from try {} on, {statuses:?}", n + 1))
    }
}

/// An upload the service must refuse: `status` and error `code`, its message naming all of `names`.
struct UploadCase {
    name: &'static str,
    expected: &'static str,
    bytes: Vec<u8>,
    product: Vec<u8>,
    version_suffix: &'static [u8],
    file_name: &'static str,
    content_type: &'static str,
    status: u16,
    code: &'static str,
    names: &'static [&'static str],
}

impl UploadCase {
    /// The form of this case for `version`.
    fn body(&self, version: &str) -> Vec<u8> {
        let mut v = version.as_bytes().to_vec();
        v.extend_from_slice(self.version_suffix);
        let fields: [(&str, &[u8]); 3] = [
            ("product", &self.product),
            ("version", &v),
            ("changelog", b"soak"),
        ];
        multipart(&fields, self.file_name, &self.bytes)
    }
}

const MULTIPART: &str = "multipart/form-data; boundary=b";

fn upload_cases() -> Vec<UploadCase> {
    let trap = plugin("hostile_trap");
    let rejected = |name, expected, bytes: Vec<u8>, names| UploadCase {
        name,
        expected,
        bytes,
        product: format!("Soak {name}").into_bytes(),
        version_suffix: b"",
        file_name: "a.wasm",
        content_type: MULTIPART,
        status: 422,
        code: "component_rejected",
        names,
    };
    let invalid = |name, expected, product: Vec<u8>, version_suffix| UploadCase {
        product,
        version_suffix,
        status: 400,
        code: "invalid_input",
        ..rejected(name, expected, trap.clone(), &[])
    };
    let mut future = trap.clone();
    future[4] = 0x7f; // the version field of the header
    // A stream of pseudo-random bytes after the magic (no `rand`: the same bytes every time).
    let mut noise = b"\0asm".to_vec();
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    noise.extend((0..65_536).map(|_| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x as u8
    }));
    vec![
        rejected(
            "empty-file",
            "422, the file is empty",
            Vec::new(),
            &["filen er tom"],
        ),
        rejected(
            "not-wasm",
            "422, not WebAssembly",
            b"MZ\x90\0 a Windows program".to_vec(),
            &["ikke WebAssembly"],
        ),
        rejected(
            "random-bytes",
            "422, invalid component",
            noise,
            &["ugyldig"],
        ),
        rejected(
            "truncated-component",
            "422, invalid or truncated",
            trap[..trap.len() / 2].to_vec(),
            &["avkuttet"],
        ),
        rejected(
            "future-wasm-version",
            "422, invalid component",
            future,
            &["ugyldig"],
        ),
        rejected(
            "core-module",
            "422, a core module",
            core_module(),
            &["kjernemodul"],
        ),
        rejected(
            "wrong-world",
            "422, does not export the contract",
            plugin("hostile_wrong_world"),
            &["eksporterer ikke"],
        ),
        rejected(
            "disallowed-import",
            "422, names evil:host/spawn",
            plugin("hostile_disallowed_import"),
            &["ikke tillatt import", "evil:host/spawn"],
        ),
        rejected(
            "nonexistent-wasi-interface",
            "422, names wasi:cli/x0",
            bomb::adapter_importing(&["wasi:cli/environment@0.2.0", "wasi:cli/x0@0.2.0"]),
            &["ikke tillatt import", "wasi:cli/x0@0.2.0"],
        ),
        rejected(
            "compile-bomb-locals",
            "422, stopped at a compile limit (time or memory)",
            // 20 000 locals took 86 s on a loaded machine but compile in under 20 s on a quiet
            // one in release; 50 000 is the size of the bomb that first took the service 205 s.
            bomb::compile_bomb(50_000, 4),
            &["og ble stoppet"],
        ),
        rejected(
            "compile-bomb-functions",
            "422, compile memory limit of 128 MiB",
            bomb::many_functions(100_000),
            &["grensen på 128 MiB"],
        ),
        rejected(
            "compile-bomb-nesting",
            "422, compiles, then does not link",
            bomb::nested_blocks(20_000),
            &["passer ikke kontrakten"],
        ),
        rejected(
            "compile-bomb-disallowed-import",
            "422 at once, naming the import (never compiled)",
            bomb::compile_bomb_importing("evil:host/spawn@1.0.0", 20_000, 4),
            &["ikke tillatt import", "evil:host/spawn@1.0.0"],
        ),
        UploadCase {
            status: 413,
            code: "too_large",
            ..rejected(
                "over-upload-limit",
                "413 naming 4 MiB",
                vec![0; MAX_UPLOAD_BYTES + 1],
                &["4 MiB"],
            )
        },
        invalid(
            "bidi-override-name",
            "400, names the character",
            "Soak \u{202e}exe.wasm".into(),
            b"",
        ),
        invalid(
            "control-character-version",
            "400, names the character",
            b"Soak kontroll".to_vec(),
            b"\x07",
        ),
        invalid(
            "non-utf8-name",
            "400, not UTF-8",
            b"Soak \xff\xfe".to_vec(),
            b"",
        ),
        UploadCase {
            content_type: "multipart/form-data; boundary=zz",
            ..invalid(
                "malformed-multipart",
                "400, malformed form",
                b"Soak form".to_vec(),
                b"",
            )
        },
        UploadCase {
            content_type: "application/json",
            status: 415,
            code: "unsupported_media_type",
            names: &["multipart/form-data"],
            ..invalid(
                "wrong-content-type",
                "415 naming multipart/form-data",
                b"Soak json".to_vec(),
                b"",
            )
        },
    ]
}

fn core_module() -> Vec<u8> {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../plugins/fixtures/core-module.wasm");
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A `multipart/form-data` body with boundary `b`: the fields, then the component.
fn multipart(fields: &[(&str, &[u8])], file_name: &str, component: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!("--b\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(value);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(
        format!("--b\r\nContent-Disposition: form-data; name=\"component\"; filename=\"{file_name}\"\r\n\r\n").as_bytes(),
    );
    body.extend_from_slice(component);
    body.extend_from_slice(b"\r\n--b--\r\n");
    body
}

/// The text fields of an upload.
fn form<'a>(product: &'a str, version: &'a str) -> [(&'static str, &'a [u8]); 3] {
    [
        ("product", product.as_bytes()),
        ("version", version.as_bytes()),
        ("changelog", b"soak"),
    ]
}

/// Whether an answer is the stated refusal: `status`, the error code (one of `code`'s `|`-separated
/// alternatives) and a message naming all of `names`.
fn refused(
    got: Result<(u16, String), String>,
    status: u16,
    code: &str,
    names: &[&str],
) -> Result<String, String> {
    let (s, text) = got?;
    let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    let (c, message) = (
        body["error"]["code"].as_str().unwrap_or(""),
        body["error"]["message"].as_str().unwrap_or(""),
    );
    if s != status || !code.split('|').any(|alternative| alternative == c) {
        return Err(format!("{s} {c}: {}", shorten(&text)));
    }
    if let Some(missing) = names.iter().find(|n| !message.contains(*n)) {
        return Err(format!(
            "{s} {c}, but the message does not name {missing:?}: {message}"
        ));
    }
    Ok(format!("{s} {c}"))
}

/// One raw request on a new connection: (status, body).
fn raw(addr: &str, request: &[u8]) -> Result<(u16, String), String> {
    let mut stream = TcpStream::connect(addr).map_err(|e| format!("connect: {e}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .map_err(|e| e.to_string())?;
    // The service may answer and close while a refused body is still being sent: what it
    // answered counts, so a failed write is a failure only when nothing came back.
    let written = stream.write_all(request);
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    if response.is_empty() {
        written.map_err(|e| format!("write: {e}"))?;
    }
    let text = String::from_utf8_lossy(&response).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Ok((status, body.to_owned()))
}

/// A password login: the `sandkasse_session=…` cookie.
fn login(addr: &str, username: &str, password: &str) -> Result<String, String> {
    let body = serde_json::json!({ "username": username, "password": password }).to_string();
    let request = format!(
        "POST /api/v1/session HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut stream = TcpStream::connect(addr).map_err(|e| format!("connect: {e}"))?;
    stream
        .write_all(request.as_bytes())
        .map_err(|e| e.to_string())?;
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .map_err(|e| e.to_string())?;
    response
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            (name.eq_ignore_ascii_case("set-cookie"))
                .then(|| value.trim().split(';').next().unwrap_or("").to_owned())
        })
        .filter(|c| c.starts_with("sandkasse_session="))
        .ok_or_else(|| format!("no session cookie: {}", shorten(&response)))
}

fn health(addr: &str) -> bool {
    matches!(
        raw(
            addr,
            b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        ),
        Ok((200, _))
    )
}

fn shorten(text: &str) -> String {
    text.chars().take(300).collect()
}

// ---------------------------------------------------------------------------------------------
// Tally and samples

#[derive(Default)]
struct Tally {
    /// kind → (class, expected, times as expected, first observation, failures)
    kinds: BTreeMap<&'static str, KindTally>,
}

struct KindTally {
    class: &'static str,
    expected: &'static str,
    passed: usize,
    observed: String,
    failures: Vec<String>,
}

impl Tally {
    fn record(
        &mut self,
        kind: &'static str,
        class: &'static str,
        expected: &'static str,
        outcome: Result<String, String>,
    ) {
        let t = self.kinds.entry(kind).or_insert_with(|| KindTally {
            class,
            expected,
            passed: 0,
            observed: String::new(),
            failures: Vec::new(),
        });
        match outcome {
            Ok(observed) => {
                t.passed += 1;
                if t.observed.is_empty() {
                    t.observed = observed;
                }
            }
            Err(e) => {
                println!("FAIL {kind}: {e}");
                t.failures.push(e);
            }
        }
    }
}

/// The service's state after a number of runs, with the queue drained.
struct Sample {
    runs: usize,
    seconds: f64,
    rss_mib: f64,
    hwm_mib: f64,
    fds: usize,
    children: usize,
    db_mib: f64,
}

impl Sample {
    fn take(soak: &Soak, runs: usize, started: Instant) -> Sample {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", soak.pid)).unwrap_or_default();
        let field = |name: &str| -> f64 {
            status
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
                .map_or(f64::NAN, |kib| kib / 1024.0)
        };
        let fds = std::fs::read_dir(format!("/proc/{}/fd", soak.pid)).map_or(0, |d| d.count());
        let children = std::fs::read_dir("/proc")
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| {
                std::fs::read_to_string(e.path().join("stat")).is_ok_and(|s| {
                    // `pid (comm) state ppid …`: the ppid is the second field after the `)`.
                    s.rsplit_once(") ")
                        .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                        .is_some_and(|ppid| ppid == soak.pid.to_string())
                })
            })
            .count();
        let db: u64 = ["sandkasse.db", "sandkasse.db-wal", "sandkasse.db-shm"]
            .iter()
            .filter_map(|f| std::fs::metadata(soak.dir.join(f)).ok())
            .map(|m| m.len())
            .sum();
        Sample {
            runs,
            seconds: started.elapsed().as_secs_f64(),
            rss_mib: field("VmRSS:"),
            hwm_mib: field("VmHWM:"),
            fds,
            children,
            db_mib: db as f64 / (1024.0 * 1024.0),
        }
    }

    fn print_row(&self) {
        println!(
            "| {} | {:.0} | {:.0} | {:.0} | {} | {} | {:.1} |",
            self.runs,
            self.seconds,
            self.rss_mib,
            self.hwm_mib,
            self.fds,
            self.children,
            self.db_mib
        );
    }
}

/// Whether memory stayed flat: the last sample within [`RSS_GROWTH_ALLOWED`] of the one after
/// the first 50 runs (the first runs warm the caches: the world, compiled components).
fn rss_flat(samples: &[Sample]) -> bool {
    let base = samples
        .iter()
        .find(|s| s.runs >= SAMPLE_EVERY)
        .or(samples.last());
    match (base, samples.last()) {
        (Some(b), Some(l)) => l.rss_mib <= b.rss_mib * (1.0 + RSS_GROWTH_ALLOWED),
        _ => false,
    }
}

fn finish(tally: &Tally, samples: &[Sample], started: Instant, rss_flat: bool) -> ! {
    println!();
    println!("## Kinds ({})", tally.kinds.len());
    println!();
    println!("| kind | class | expected | observed (first) | as expected | otherwise |");
    println!("|---|---|---|---|---|---|");
    let mut failed = 0;
    for (name, t) in &tally.kinds {
        println!(
            "| {name} | {} | {} | {} | {} | {} |",
            t.class,
            t.expected,
            t.observed,
            t.passed,
            t.failures.len()
        );
        failed += t.failures.len();
    }
    println!();
    println!("## The service, with the queue drained");
    println!();
    println!("| runs | s | RSS MiB | peak RSS MiB | open fds | child processes | database MiB |");
    println!("|---|---|---|---|---|---|---|");
    for s in samples {
        s.print_row();
    }
    let stray = samples.iter().filter(|s| s.children > 0).count();
    println!();
    println!(
        "memory {}; {failed} outcomes otherwise than stated; {stray} samples with child processes left; loadavg {}; {:.0} s",
        if rss_flat { "flat" } else { "GREW" },
        loadavg(),
        started.elapsed().as_secs_f64()
    );
    let ok = rss_flat && failed == 0 && stray == 0 && tally.kinds.len() >= 30;
    println!("soak: {}", if ok { "passed" } else { "FAILED" });
    std::process::exit(if ok { 0 } else { 1 });
}

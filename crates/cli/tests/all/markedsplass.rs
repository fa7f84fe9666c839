//! `sandkasse admin` and `sandkasse serve` over a temp data directory.

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::Path;
use std::process::{Command, Output, Stdio};

const PASSWORD: &str = "korrekt hest batteri stift";

/// `sandkasse admin ARGS --data-dir DIR`, with `stdin` piped in.
fn admin(dir: &Path, args: &[&str], password_env: bool, stdin: &str) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sandkasse"));
    cmd.arg("admin")
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .env_remove("SANDKASSE_PASSWORD");
    if password_env {
        cmd.env("SANDKASSE_PASSWORD", PASSWORD);
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn admin_creates_accounts_and_the_audit_trail_verifies() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");

    let o = admin(&dir, &["create-org", "Acme Helse AS"], false, "");
    assert!(o.status.success(), "{}", text(&o));
    let o = admin(
        &dir,
        &[
            "create-user",
            "--username",
            "admin@prosjekt.no",
            "--role",
            "admin",
        ],
        true,
        "",
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(!text(&o).contains(PASSWORD), "nothing secret printed");

    let o = admin(
        &dir,
        &[
            "create-user",
            "--username",
            "kari@acme.no",
            "--role",
            "vendor",
        ],
        true,
        "",
    );
    assert!(!o.status.success());
    assert!(
        text(&o).contains("must belong to an organisation"),
        "{}",
        text(&o)
    );
    let o = admin(
        &dir,
        &["create-user", "--username", "x@acme.no", "--role", "boss"],
        true,
        "",
    );
    assert!(
        !o.status.success() && text(&o).contains("beslutningsgruppe"),
        "{}",
        text(&o)
    );

    let stdin = format!("{PASSWORD}\n");
    let args = [
        "create-user",
        "--username",
        "kari@acme.no",
        "--role",
        "vendor",
        "--org",
        "Acme Helse AS",
    ];
    let o = admin(&dir, &args, false, &stdin);
    assert!(o.status.success(), "{}", text(&o));

    let o = admin(
        &dir,
        &["create-token", "--username", "kari@acme.no"],
        false,
        "",
    );
    assert!(o.status.success(), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    let token = stdout.trim();
    assert!(
        token.starts_with("sk_") && token.len() == 46,
        "the token alone on stdout: {stdout}"
    );

    // The last enabled admin keeps the role; a reset prints a temporary password alone on stdout.
    let o = admin(
        &dir,
        &[
            "set-role",
            "--username",
            "admin@prosjekt.no",
            "--role",
            "reviewer",
        ],
        false,
        "",
    );
    assert!(
        !o.status.success() && text(&o).contains("at least one enabled admin"),
        "{}",
        text(&o)
    );
    let o = admin(
        &dir,
        &["disable-user", "--username", "kari@acme.no"],
        false,
        "",
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = admin(
        &dir,
        &["enable-user", "--username", "kari@acme.no"],
        false,
        "",
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = admin(
        &dir,
        &["reset-password", "--username", "kari@acme.no"],
        false,
        "",
    );
    assert!(o.status.success(), "{}", text(&o));
    let temporary = String::from_utf8_lossy(&o.stdout).trim().to_owned();
    assert!(
        temporary.len() == 19 && temporary.matches('-').count() == 3,
        "{temporary}"
    );

    let o = admin(&dir, &["verify-audit"], false, "");
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("intact: 7 events"), "{}", text(&o));
    assert!(dir.join("sandkasse.db").is_file());
}

/// Kills the server if the test fails before it stops it.
pub(crate) struct Reap(pub(crate) std::process::Child);

impl Drop for Reap {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn serve_answers_health_and_stops_on_sigint() {
    let tmp = tempfile::tempdir().unwrap();
    // Keep stdout open while the server runs: a closed pipe would fail its next print.
    let (mut child, stdout, addr) = start(tmp.path());
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    write!(
        stream,
        "GET /health HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    std::io::Read::read_to_string(&mut stream, &mut response).unwrap();
    assert!(
        response.starts_with("HTTP/1.1 200") && response.ends_with(r#"{"status":"ok"}"#),
        "{response}"
    );

    let kill = Command::new("kill")
        .args(["-INT", &child.0.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = child.0.wait().unwrap();
    assert!(status.success(), "graceful shutdown exits 0: {status:?}");
    drop(stdout);
}

/// `sandkasse admin` arguments that create the vendor user of organisation "Leverandør A AS".
pub(crate) const CREATE_VENDOR: [&str; 7] = [
    "create-user",
    "--username",
    "kari@leverandor-a.no",
    "--role",
    "vendor",
    "--org",
    "Leverandør A AS",
];

/// A vendor organisation and user in `dir`; returns the user's API token.
fn vendor_token(dir: &Path) -> String {
    assert!(
        admin(dir, &["create-org", "Leverandør A AS"], false, "")
            .status
            .success()
    );
    let o = admin(dir, &CREATE_VENDOR, true, "");
    assert!(o.status.success(), "{}", text(&o));
    let o = admin(
        dir,
        &["create-token", "--username", "kari@leverandor-a.no"],
        false,
        "",
    );
    String::from_utf8_lossy(&o.stdout).trim().to_owned()
}

/// Starts `sandkasse serve` on a free port over `dir`; returns the process and its address.
fn start(dir: &Path) -> (Reap, BufReader<std::process::ChildStdout>, String) {
    start_with(dir, &[])
}

/// [`start`] with extra `SANDKASSE__*` variables.
fn start_with(
    dir: &Path,
    env: &[(&str, &str)],
) -> (Reap, BufReader<std::process::ChildStdout>, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sandkasse"));
    command
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .envs(env.iter().copied())
        .env("SANDKASSE__WORKERS", "1")
        .env_remove("SANDKASSE_SIGNING_KEY");
    spawn_serve(command).0
}

/// Spawns a `sandkasse serve` command and reads its first line: the process, its stdout (keep it
/// open while the server runs: a closed pipe would fail its next print), its address and the line.
pub(crate) fn spawn_serve(
    mut command: Command,
) -> ((Reap, BufReader<std::process::ChildStdout>, String), String) {
    let mut child = Reap(
        command
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut stdout = BufReader::new(child.0.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let addr = first
        .split("http://")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .unwrap_or_else(|| panic!("the server did not start: {first:?}"))
        .to_owned();
    ((child, stdout, addr), first)
}

/// One HTTP/1.1 request with a bearer token: (status, body).
pub(crate) fn http(
    addr: &str,
    method: &str,
    path: &str,
    token: &str,
    body: Option<(&str, &[u8])>,
) -> (u16, String) {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nAuthorization: Bearer {token}\r\n").into_bytes();
    match body {
        Some((content_type, bytes)) => {
            request.extend_from_slice(
                format!(
                    "Content-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
                    bytes.len()
                )
                .as_bytes(),
            );
            request.extend_from_slice(bytes);
        }
        None => request.extend_from_slice(b"\r\n"),
    }
    stream.write_all(&request).unwrap();
    let mut response = Vec::new();
    std::io::Read::read_to_end(&mut stream, &mut response).unwrap();
    let text = String::from_utf8_lossy(&response).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    (
        head.split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0),
        body.to_owned(),
    )
}

pub(crate) fn upload(
    addr: &str,
    token: &str,
    product: &str,
    version: &str,
    component: &[u8],
) -> serde_json::Value {
    let (status, text) = try_upload(addr, token, product, version, component);
    assert_eq!(status, 201, "{text}");
    serde_json::from_str(&text).unwrap()
}

/// `POST /api/v1/submissions`: (status, body).
fn try_upload(
    addr: &str,
    token: &str,
    product: &str,
    version: &str,
    component: &[u8],
) -> (u16, String) {
    let mut body = Vec::new();
    for (name, value) in [("product", product), ("version", version)] {
        body.extend_from_slice(
            format!("--b\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                .as_bytes(),
        );
    }
    body.extend_from_slice(
        b"--b\r\nContent-Disposition: form-data; name=\"component\"; filename=\"a.wasm\"\r\n\r\n",
    );
    body.extend_from_slice(component);
    body.extend_from_slice(b"\r\n--b--\r\n");
    http(
        addr,
        "POST",
        "/api/v1/submissions",
        token,
        Some(("multipart/form-data; boundary=b", &body)),
    )
}

fn run_state(addr: &str, token: &str, run: i64) -> serde_json::Value {
    let (status, text) = http(addr, "GET", &format!("/api/v1/runs/{run}"), token, None);
    assert_eq!(status, 200, "{text}");
    serde_json::from_str(&text).unwrap()
}

pub(crate) fn plugin(name: &str) -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!(
        "../../plugins/target/wasm32-wasip2/release/{name}.wasm"
    ));
    std::fs::read(&p).unwrap_or_else(|e| {
        panic!(
            "{}: {e}. Build the sample components first: cargo xtask plugins",
            p.display()
        )
    })
}

/// SIGKILL during a run: after a restart the run is run again and finishes once; no submission,
/// run or audit event is lost or doubled, and the audit chain is intact.
#[test]
fn a_run_interrupted_by_sigkill_completes_once_after_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let token = vendor_token(&dir);

    let (mut server, stdout, addr) = start(&dir);
    let first = upload(&addr, &token, "Journal Nord", "1.0.0", &plugin("reference"));
    let second = upload(
        &addr,
        &token,
        "Journal Sør",
        "1.0.0",
        &plugin("flawed_drops_token"),
    );
    let (run1, run2) = (
        first["run"]["id"].as_i64().unwrap(),
        second["run"]["id"].as_i64().unwrap(),
    );
    // Kill the moment the first run is running.
    let started = std::time::Instant::now();
    loop {
        let state = run_state(&addr, &token, run1);
        if state["state"] == "running" {
            break;
        }
        assert_eq!(
            state["state"], "queued",
            "the run finished before it could be interrupted: {state}"
        );
        assert!(started.elapsed().as_secs() < 60, "the run never started");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    server.0.kill().unwrap(); // SIGKILL
    server.0.wait().unwrap();
    drop(stdout);

    let (_server, _stdout, addr) = start(&dir);
    let started = std::time::Instant::now();
    let finished = loop {
        let (a, b) = (
            run_state(&addr, &token, run1),
            run_state(&addr, &token, run2),
        );
        if a["state"] == "done" && b["state"] == "done" {
            break (a, b);
        }
        assert!(
            started.elapsed().as_secs() < 300,
            "runs did not finish after the restart: {a} {b}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert_eq!(
        (
            finished.0["verdict"].as_str(),
            finished.0["attempts"].as_i64()
        ),
        (Some("godkjent"), Some(2)),
        "{}",
        finished.0
    );
    assert_eq!(finished.1["verdict"], "ikke-godkjent", "{}", finished.1);

    // Nothing lost, nothing doubled.
    let (_, products) = http(&addr, "GET", "/api/v1/products", &token, None);
    let products: serde_json::Value = serde_json::from_str(&products).unwrap();
    assert_eq!(
        products["products"].as_array().unwrap().len(),
        2,
        "{products}"
    );
    for submission in [&first["submission"]["id"], &second["submission"]["id"]] {
        let (_, s) = http(
            &addr,
            "GET",
            &format!("/api/v1/submissions/{submission}"),
            &token,
            None,
        );
        let s: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(
            s["runs"].as_array().unwrap().len(),
            1,
            "one run per submission: {s}"
        );
    }
    let o = admin(&dir, &["verify-audit"], false, "");
    assert!(o.status.success(), "{}", text(&o));
    // The audit trail tells the story: started, requeued by the restart, started again, finished once.
    let events = audit_actions(&dir, run1);
    assert_eq!(
        events,
        [
            "run.queue",
            "run.start",
            "run.requeue",
            "run.start",
            "run.finish"
        ],
        "run {run1}"
    );
    assert_eq!(
        audit_actions(&dir, run2)
            .iter()
            .filter(|a| *a == "run.finish")
            .count(),
        1
    );
}

/// The audit actions about `run:ID`, in order, read with the markedsplass library.
fn audit_actions(dir: &Path, run: i64) -> Vec<String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let config = sandkasse_markedsplass::Config {
            data_dir: dir.to_owned(),
            ..Default::default()
        };
        let stores = sandkasse_markedsplass::store::Stores::open(&config)
            .await
            .unwrap();
        let events = stores.audit.events_after(0, 100_000).await.unwrap();
        stores.health.close().await;
        events
            .into_iter()
            .filter(|e| e.subject == format!("run:{run}"))
            .map(|e| e.action)
            .collect()
    })
}

/// `sandkasse demo` into a data directory, then `sandkasse nightly` on it (as cron would): the
/// listed product is re-tested with the night's seed and the summary and JUnit come out.
#[test]
fn demo_then_a_nightly_batch_from_the_command_line() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let mut demo = Reap(
        Command::new(env!("CARGO_BIN_EXE_sandkasse"))
            .args(["demo", "--port", "0", "--data-dir"])
            .arg(&dir)
            .env("SANDKASSE__NIGHTLY__ENABLED", "false")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let stdout = BufReader::new(demo.0.stdout.take().unwrap());
    let mut lines = Vec::new();
    for line in stdout.lines() {
        let line = line.unwrap();
        let done = line.starts_with("Klart") || line.starts_with("Demo-innholdet kunne ikke");
        lines.push(line);
        if done {
            break;
        }
    }
    assert!(lines.last().unwrap().starts_with("Klart"), "{lines:#?}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("kari@nordlys-helse.example")),
        "demo accounts printed: {lines:#?}"
    );
    // The listed product has nights of history before tonight: its public page shows the trend.
    let addr = lines[0]
        .split("http://")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .expect("the address is printed first")
        .to_owned();
    let public_get = |path: &str| {
        let mut stream = std::net::TcpStream::connect(&addr).unwrap();
        let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).unwrap();
        let mut response = String::new();
        std::io::Read::read_to_string(&mut stream, &mut response).unwrap();
        response
    };
    let catalogue = public_get("/api/v1/catalogue");
    let body = catalogue.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    let entries: serde_json::Value = serde_json::from_str(body).expect(&catalogue);
    let listed = entries["entries"]
        .as_array()
        .and_then(|e| e.iter().find(|e| e["product"] == "Nordlys Journal"))
        .expect(&catalogue);
    let page = public_get(&format!("/produkter/{}", listed["product_id"]));
    assert!(
        page.contains("id=\"trend\""),
        "the listed product has a trend"
    );
    let history = page.split("id=\"history\"").nth(1).unwrap_or_default();
    let nights = history
        .split("</table>")
        .next()
        .unwrap_or_default()
        .matches("<tr><th scope=\"row\">")
        .count();
    assert!(
        nights >= sandkasse_markedsplass::demo::NIGHTS as usize,
        "{nights} nights in the history"
    );
    let kill = Command::new("kill")
        .args(["-TERM", &demo.0.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    assert!(
        demo.0.wait().unwrap().success(),
        "the demo stops gracefully"
    );

    let junit = tmp.path().join("night.xml");
    let o = Command::new(env!("CARGO_BIN_EXE_sandkasse"))
        .args(["nightly", "--date", "2026-11-24", "--data-dir"])
        .arg(&dir)
        .arg("--junit")
        .arg(&junit)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("2026-11-24") && out.contains("1 testet / tested, 1 godkjent"),
        "{out}"
    );
    assert!(out.contains("Nordlys Journal"), "{out}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains("<testcase classname=\"Nordlys Helse AS\" name=\"Nordlys Journal 1.0.0\">"),
        "{xml}"
    );
    // Again: the night is done, nothing is re-run.
    let o = Command::new(env!("CARGO_BIN_EXE_sandkasse"))
        .args(["nightly", "--date", "2026-11-24", "--data-dir"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        o.status.success() && String::from_utf8_lossy(&o.stdout).contains("1 testet"),
        "{}",
        text(&o)
    );
    let o = admin(&dir, &["verify-audit"], false, "");
    assert!(o.status.success(), "{}", text(&o));
}

/// The service keeps answering while an upload's compile runs (in its worker process), and
/// SIGTERM stops it within seconds although the compile would go on for most of a minute: the
/// worker is killed, the upload refused with 503, nothing stored.
#[test]
fn serve_answers_during_a_compile_bomb_and_sigterm_does_not_wait_for_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let token = vendor_token(&dir);
    let (mut server, stdout, addr) = start_with(
        &dir,
        &[("SANDKASSE__LIMITS__COMPILE_TIMEOUT_SECONDS", "60")],
    );
    let uploading = {
        let (addr, token) = (addr.clone(), token.clone());
        std::thread::spawn(move || {
            try_upload(
                &addr,
                &token,
                "Bombe",
                "1.0.0",
                &crate::bomb::compile_bomb(20_000, 4),
            )
        })
    };
    let pid = server.0.id();
    let started = std::time::Instant::now();
    let workers = loop {
        let workers = compile_workers(pid);
        if !workers.is_empty() {
            break workers;
        }
        assert!(
            started.elapsed().as_secs() < 30,
            "no compile worker started"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    for _ in 0..3 {
        let asked = std::time::Instant::now();
        let (status, body) = http(&addr, "GET", "/health", "", None);
        assert_eq!((status, body.as_str()), (200, r#"{"status":"ok"}"#));
        assert!(asked.elapsed().as_millis() < 1_000, "{:?}", asked.elapsed());
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert!(!uploading.is_finished(), "the compile is still in flight");

    let term = std::time::Instant::now();
    let kill = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = server.0.wait().unwrap();
    let took = term.elapsed();
    assert!(status.success(), "{status:?}");
    assert!(took.as_secs() < 4, "SIGTERM took {took:?}");
    drop(stdout);
    let (status, body) = uploading.join().unwrap();
    assert_eq!(status, 503, "{body}");
    for worker in workers {
        assert!(
            !Path::new(&format!("/proc/{worker}")).exists(),
            "compile worker {worker} outlived the service"
        );
    }
    let stored = std::fs::read_dir(dir.join("components"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(stored, 0, "nothing stored");
}

/// The children of `pid` that run as compile workers.
fn compile_workers(pid: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|child| {
            let stat = std::fs::read_to_string(format!("/proc/{child}/stat")).unwrap_or_default();
            let cmdline = std::fs::read(format!("/proc/{child}/cmdline")).unwrap_or_default();
            // Fields after the command name in parentheses: state, ppid, ...
            let ppid = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse::<u32>().ok());
            ppid == Some(pid)
                && String::from_utf8_lossy(&cmdline)
                    .contains(sandkasse_sandbox::compile::SUBCOMMAND)
        })
        .collect()
}

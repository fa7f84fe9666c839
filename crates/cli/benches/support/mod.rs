//! What the service benches share: a release `sandkasse serve` over a temporary data directory,
//! accounts made with `sandkasse admin`, the sample components, and HTTP/1.1 over `std` (each
//! request on a new connection, so a bench measures the server, not a client's pool).
#![allow(dead_code)] // each bench uses a part

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

/// The password of the accounts the benches make.
pub const PASSWORD: &str = "korrekt hest batteri stift";
// ---------------------------------------------------------------------------------------------
// The server and the accounts

/// `sandkasse serve` over a data directory; killed when dropped.
pub struct Server {
    pub child: Child,
    pub addr: String,
}

impl Server {
    pub fn start(dir: &Path) -> Server {
        Server::start_with(dir, &[])
    }

    /// The server with `SANDKASSE__*` settings (`("LIMITS__MAX_REPORT_BYTES", "…")`) over the
    /// defaults.
    pub fn start_with(dir: &Path, settings: &[(&str, &str)]) -> Server {
        let mut command = Command::new(binary());
        command
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir);
        clean_env(&mut command);
        for (key, value) in settings {
            command.env(format!("SANDKASSE__{key}"), value);
        }
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start sandkasse serve");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut first = String::new();
        let read = stdout.read_line(&mut first);
        let addr = first
            .split("http://")
            .nth(1)
            .and_then(|s| s.split_whitespace().next())
            .map(str::to_owned);
        let server = Server {
            child,
            addr: addr.clone().unwrap_or_default(),
        };
        if read.is_err() || addr.is_none() {
            panic!("sandkasse serve did not print its address: {first:?}");
        }
        // Keep the pipe drained and open while the server runs (a closed pipe fails its next print).
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        server
    }

    /// The server's resident set now and at its peak (`VmRSS`, `VmHWM`), MiB.
    pub fn memory(&self) -> Option<(f64, f64)> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let field = |name: &str| -> Option<f64> {
            let line = status.lines().find(|l| l.starts_with(name))?;
            Some(line.split_whitespace().nth(1)?.parse::<f64>().ok()? / 1024.0)
        };
        Some((field("VmRSS:")?, field("VmHWM:")?))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The release binary built for this bench.
pub fn binary() -> PathBuf {
    let path = PathBuf::from(env!("CARGO_BIN_EXE_sandkasse"));
    assert!(
        path.is_file(),
        "{} is missing; build it: cargo build --release -p sandkasse-cli",
        path.display()
    );
    path
}

/// The service's defaults: no `SANDKASSE__*` override and no signing key from the environment.
pub fn clean_env(command: &mut Command) {
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("SANDKASSE_") {
            command.env_remove(key);
        }
    }
}

/// One organisation, one vendor; returns the vendor's API token.
pub fn seed_accounts(dir: &Path) -> String {
    let admin = |args: &[&str]| {
        let mut command = Command::new(binary());
        command.arg("admin").args(args).arg("--data-dir").arg(dir);
        clean_env(&mut command);
        let out = command
            .env("SANDKASSE_PASSWORD", PASSWORD)
            .stdin(Stdio::null())
            .output()
            .expect("sandkasse admin");
        assert!(
            out.status.success(),
            "sandkasse admin {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    admin(&["create-org", "Benk Helse AS"]);
    admin(&[
        "create-user",
        "--username",
        "benk@benk.no",
        "--role",
        "vendor",
        "--org",
        "Benk Helse AS",
    ]);
    admin(&["create-token", "--username", "benk@benk.no"])
}

pub fn plugin(name: &str) -> Vec<u8> {
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

pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

// ---------------------------------------------------------------------------------------------
// HTTP/1.1 over std

/// One request on a new connection: (status, body).
pub fn http(
    addr: &str,
    method: &str,
    path: &str,
    token: &str,
    body: Option<(&str, &[u8])>,
) -> Result<(u16, String), String> {
    let mut stream = TcpStream::connect(addr).map_err(|e| format!("connect: {e}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(120)))
        .map_err(|e| e.to_string())?;
    let mut request =
        format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nAuthorization: Bearer {token}\r\n").into_bytes();
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
    stream
        .write_all(&request)
        .map_err(|e| format!("write: {e}"))?;
    let mut response = Vec::new();
    stream
        .read_to_end(&mut response)
        .map_err(|e| format!("read: {e}"))?;
    let text = String::from_utf8_lossy(&response).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Ok((status, body.to_owned()))
}

/// `POST /api/v1/submissions`: the created run's id.
pub fn upload(
    addr: &str,
    token: &str,
    product: &str,
    version: &str,
    component: &[u8],
) -> Result<i64, String> {
    let mut body = Vec::new();
    for (name, value) in [
        ("product", product),
        ("version", version),
        ("changelog", "benk"),
    ] {
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
    let (status, text) = http(
        addr,
        "POST",
        "/api/v1/submissions",
        token,
        Some(("multipart/form-data; boundary=b", &body)),
    )?;
    if status != 201 {
        return Err(format!("upload answered {status}: {text}"));
    }
    let created: Value =
        serde_json::from_str(&text).map_err(|e| format!("upload answer: {e}: {text}"))?;
    created["run"]["id"]
        .as_i64()
        .ok_or_else(|| format!("no run id in {text}"))
}

pub fn get_run(addr: &str, token: &str, run: i64) -> Result<Value, String> {
    let (status, text) = http(addr, "GET", &format!("/api/v1/runs/{run}"), token, None)?;
    if status != 200 {
        return Err(format!("GET /api/v1/runs/{run} answered {status}: {text}"));
    }
    serde_json::from_str(&text).map_err(|e| format!("run {run}: {e}"))
}

/// Follows `GET /api/v1/runs/{id}/events` until a `done` or `error` progress event; returns it.
pub fn follow_to_final(addr: &str, token: &str, run: i64) -> Result<Value, String> {
    let mut stream = TcpStream::connect(addr).map_err(|e| format!("connect: {e}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(900)))
        .map_err(|e| e.to_string())?;
    let request = format!(
        "GET /api/v1/runs/{run}/events HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nAccept: text/event-stream\r\nAuthorization: Bearer {token}\r\n\r\n"
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|e| format!("write: {e}"))?;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader
        .read_line(&mut line)
        .map_err(|e| format!("read: {e}"))?;
    if !line.starts_with("HTTP/1.1 200") {
        return Err(format!("events of run {run}: {}", line.trim()));
    }
    let mut chunked = false;
    loop {
        line.clear();
        reader
            .read_line(&mut line)
            .map_err(|e| format!("read: {e}"))?;
        if line.trim().is_empty() {
            break;
        }
        let lower = line.to_ascii_lowercase();
        chunked |= lower.starts_with("transfer-encoding:") && lower.contains("chunked");
    }
    // The decoded body, consumed line by line.
    let mut pending = String::new();
    loop {
        let piece = if chunked {
            line.clear();
            reader
                .read_line(&mut line)
                .map_err(|e| format!("read: {e}"))?;
            let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)
                .map_err(|_| format!("bad chunk size {line:?}"))?;
            if size == 0 {
                return Err(format!(
                    "the event stream of run {run} ended before a final state"
                ));
            }
            let mut chunk = vec![0; size + 2];
            reader
                .read_exact(&mut chunk)
                .map_err(|e| format!("read: {e}"))?;
            chunk.truncate(size);
            chunk
        } else {
            let mut buf = vec![0; 4096];
            let n = reader.read(&mut buf).map_err(|e| format!("read: {e}"))?;
            if n == 0 {
                return Err(format!(
                    "the event stream of run {run} ended before a final state"
                ));
            }
            buf.truncate(n);
            buf
        };
        pending.push_str(&String::from_utf8_lossy(&piece));
        while let Some(end) = pending.find('\n') {
            let l: String = pending.drain(..=end).collect();
            if let Some(data) = l.trim_end().strip_prefix("data:") {
                let progress: Value =
                    serde_json::from_str(data.trim()).map_err(|e| format!("event {data}: {e}"))?;
                if matches!(progress["state"].as_str(), Some("done" | "error")) {
                    return Ok(progress);
                }
            }
        }
    }
}

pub fn timestamp(v: &Value) -> Option<jiff::Timestamp> {
    v.as_str()?.parse().ok()
}

pub fn seconds_between(from: &Value, to: &Value) -> Option<f64> {
    Some(
        timestamp(to)?
            .duration_since(timestamp(from)?)
            .as_secs_f64(),
    )
}

//! `sandkasse admin` and `sandkasse serve` over a temp data directory.

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::Path;
use std::process::{Command, Output, Stdio};

const PASSWORD: &str = "korrekt hest batteri stift";

/// `sandkasse admin ARGS --data-dir DIR`, with `stdin` piped in.
fn admin(dir: &Path, args: &[&str], password_env: bool, stdin: &str) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sandkasse"));
    cmd.arg("admin").args(args).arg("--data-dir").arg(dir).env_remove("SANDKASSE_PASSWORD");
    if password_env {
        cmd.env("SANDKASSE_PASSWORD", PASSWORD);
    }
    let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[test]
fn admin_creates_accounts_and_the_audit_trail_verifies() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");

    let o = admin(&dir, &["create-org", "Acme Helse AS"], false, "");
    assert!(o.status.success(), "{}", text(&o));
    let o = admin(&dir, &["create-user", "--username", "admin@prosjekt.no", "--role", "admin"], true, "");
    assert!(o.status.success(), "{}", text(&o));
    assert!(!text(&o).contains(PASSWORD), "nothing secret printed");

    let o = admin(&dir, &["create-user", "--username", "kari@acme.no", "--role", "vendor"], true, "");
    assert!(!o.status.success());
    assert!(text(&o).contains("must belong to an organisation"), "{}", text(&o));
    let o = admin(&dir, &["create-user", "--username", "x@acme.no", "--role", "boss"], true, "");
    assert!(!o.status.success() && text(&o).contains("beslutningsgruppe"), "{}", text(&o));

    let stdin = format!("{PASSWORD}\n");
    let args = ["create-user", "--username", "kari@acme.no", "--role", "vendor", "--org", "Acme Helse AS"];
    let o = admin(&dir, &args, false, &stdin);
    assert!(o.status.success(), "{}", text(&o));

    let o = admin(&dir, &["create-token", "--username", "kari@acme.no"], false, "");
    assert!(o.status.success(), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    let token = stdout.trim();
    assert!(token.starts_with("sk_") && token.len() == 46, "the token alone on stdout: {stdout}");

    let o = admin(&dir, &["verify-audit"], false, "");
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("intact: 4 events"), "{}", text(&o));
    assert!(dir.join("sandkasse.db").is_file());
}

/// Kills the server if the test fails before it stops it.
struct Reap(std::process::Child);

impl Drop for Reap {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn serve_answers_health_and_stops_on_sigint() {
    let tmp = tempfile::tempdir().unwrap();
    let mut child = Reap(
        Command::new(env!("CARGO_BIN_EXE_sandkasse"))
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(tmp.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    // Keep stdout open while the server runs: a closed pipe would fail its next print.
    let mut stdout = BufReader::new(child.0.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let addr = first.split("http://").nth(1).and_then(|s| s.split_whitespace().next()).expect(&first).to_owned();

    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    write!(stream, "GET /health HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
    let mut response = String::new();
    std::io::Read::read_to_string(&mut stream, &mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200") && response.ends_with(r#"{"status":"ok"}"#), "{response}");

    let kill = Command::new("kill").args(["-INT", &child.0.id().to_string()]).status().unwrap();
    assert!(kill.success());
    let status = child.0.wait().unwrap();
    assert!(status.success(), "graceful shutdown exits 0: {status:?}");
    drop(stdout);
}

//! `docs/platform.md` is tested: every `curl` command in its `sh` blocks is replayed in-process
//! against the dataset the docs describe (`GenConfig::default()`), in order, and must answer the
//! status in the `# expect NNN` comment above it. Shell variables are supported as the docs use
//! them: `NAME=value`, `NAME=$(curl … | jq -r PATH)` (PATH like `.a.b` or `.link[1].url`), and
//! `$NAME` / `"$NAME"` in later commands. Options understood: `-s`, `-X`, `-H`, `-d`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use sandkasse_kommune::GenConfig;
use sandkasse_platform::clock::FixedClock;
use sandkasse_platform::{Base, Platform, app};
use serde_json::Value;
use tower::ServiceExt as _;

/// Splits a shell command line into words (single and double quotes; no escapes needed here).
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut in_word = false;
    for c in line.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => cur.push(c),
            None if c == '\'' || c == '"' => {
                quote = Some(c);
                in_word = true;
            }
            None if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            None => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        out.push(cur);
    }
    out
}

fn substitute(text: &str, vars: &HashMap<String, String>) -> String {
    let mut names: Vec<&String> = vars.keys().collect();
    names.sort_by_key(|n| std::cmp::Reverse(n.len()));
    let mut out = text.to_owned();
    for n in names {
        out = out
            .replace(&format!("${{{n}}}"), &vars[n])
            .replace(&format!("${n}"), &vars[n]);
    }
    out
}

fn jq(v: &Value, path: &str) -> Option<String> {
    let mut cur = v;
    for part in path.trim_start_matches('.').split('.') {
        let (key, index) = match part.split_once('[') {
            Some((k, i)) => (k, Some(i.trim_end_matches(']').parse::<usize>().ok()?)),
            None => (part, None),
        };
        if !key.is_empty() {
            cur = cur.get(key)?;
        }
        if let Some(i) = index {
            cur = cur.get(i)?;
        }
    }
    cur.as_str()
        .map(str::to_owned)
        .or_else(|| (!cur.is_null()).then(|| cur.to_string()))
}

/// One command from the docs.
#[derive(Debug)]
struct Command {
    expect: u16,
    assign: Option<(String, String)>,
    curl: String,
}

fn commands(markdown: &str) -> (Vec<(String, String)>, Vec<Command>) {
    let mut plain_vars = Vec::new();
    let mut cmds = Vec::new();
    let mut in_sh = false;
    let mut expect: Option<u16> = None;
    let mut lines = markdown.lines().peekable();
    while let Some(line) = lines.next() {
        let t = line.trim();
        if t.starts_with("```") {
            in_sh = t == "```sh";
            continue;
        }
        if !in_sh {
            continue;
        }
        if let Some(code) = t.strip_prefix("# expect ") {
            expect = Some(code.trim().parse().expect("status after # expect"));
            continue;
        }
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        // Join continuation lines and a multi-line single-quoted body.
        let mut full = t.to_owned();
        while full.ends_with('\\') || full.matches('\'').count() % 2 == 1 {
            full = full.trim_end_matches('\\').to_owned();
            full.push(' ');
            full.push_str(lines.next().expect("continued line").trim());
        }
        let (assign, curl) = match full.split_once("=$(") {
            Some((name, rest)) if !name.contains(' ') => {
                let inner = rest.strip_suffix(')').expect("closing paren");
                let (curl, pipe) = inner.rsplit_once("| jq -r").expect("assignment via jq -r");
                (
                    Some((name.to_owned(), words(pipe)[0].clone())),
                    curl.trim().to_owned(),
                )
            }
            _ => {
                if let Some((name, value)) = full.split_once('=')
                    && !name.contains(' ')
                    && !full.starts_with("curl")
                {
                    plain_vars.push((name.to_owned(), value.to_owned()));
                    continue;
                }
                (None, full)
            }
        };
        assert!(
            curl.starts_with("curl "),
            "only curl commands in sh blocks: {curl}"
        );
        cmds.push(Command {
            expect: expect
                .take()
                .unwrap_or_else(|| panic!("no # expect before {curl}")),
            assign,
            curl,
        });
    }
    (plain_vars, cmds)
}

#[tokio::test]
async fn curl_examples_in_docs_platform_md_work() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/platform.md");
    let markdown = std::fs::read_to_string(path).expect("docs/platform.md");
    let (plain, cmds) = commands(&markdown);
    assert!(cmds.len() >= 15, "found {} commands", cmds.len());

    let base = Arc::new(Base::new(&sandkasse_kommune::generate(
        &GenConfig::default(),
    )));
    let platform = Arc::new(Platform::new(
        base.clone(),
        Arc::new(FixedClock::new(base.reference_time())),
    ));
    let router = app(platform.clone());
    let mut vars: HashMap<String, String> = plain.into_iter().collect();
    let origin = "http://127.0.0.1:8080";
    for cmd in &cmds {
        let w = words(&substitute(&cmd.curl, &vars));
        let mut method = "GET".to_owned();
        let mut headers = Vec::new();
        let mut body = None;
        let mut url = None;
        let mut i = 1;
        while i < w.len() {
            match w[i].as_str() {
                "-s" | "-i" => {}
                "-X" => {
                    i += 1;
                    method = w[i].clone();
                }
                "-H" => {
                    i += 1;
                    let (k, v) = w[i].split_once(':').expect("header");
                    headers.push((k.trim().to_owned(), v.trim().to_owned()));
                }
                "-d" => {
                    i += 1;
                    body = Some(w[i].clone());
                    if method == "GET" {
                        method = "POST".into();
                    }
                }
                other if other.starts_with('-') => {
                    panic!("unsupported curl option {other} in {}", cmd.curl)
                }
                other => url = Some(other.to_owned()),
            }
            i += 1;
        }
        let url = url.expect("a URL");
        let uri = url
            .strip_prefix(origin)
            .or_else(|| url.strip_prefix("https://plattform.sandkasse.test"))
            .unwrap_or_else(|| panic!("URL outside the platform: {url}"));
        let mut req = http::Request::builder().method(method.as_str()).uri(uri);
        for (k, v) in &headers {
            req = req.header(k, v);
        }
        let req = req
            .body(body.map(Body::from).unwrap_or_else(Body::empty))
            .unwrap();
        let resp = router.clone().oneshot(req).await.unwrap();
        let status = resp.status().as_u16();
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap();
        assert_eq!(
            status,
            cmd.expect,
            "{}\n→ {}",
            cmd.curl,
            String::from_utf8_lossy(&bytes)
        );
        if let Some((name, path)) = &cmd.assign {
            let json: Value = serde_json::from_slice(&bytes).unwrap();
            let value =
                jq(&json, path).unwrap_or_else(|| panic!("jq {path} found nothing in {json}"));
            vars.insert(name.clone(), value);
        }
    }
    // The emergency read was flagged, and the withheld note left a notice.
    let events = platform.audit_events();
    assert!(
        events
            .iter()
            .any(|e| e.emergency && e.reason.as_deref() == Some("Bevisstløs pasient"))
    );
    assert!(events.iter().any(|e| !e.withheld.is_empty()));
}

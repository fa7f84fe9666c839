//! What a hostile vendor or client tries against the service, and the bound that holds.

use std::net::SocketAddr;
use std::process::Command;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};

use crate::market::*;

/// The vendor's file name reaches the reproduce commands of `report.json` and `report.xml` as one
/// quoted word: a reviewer who pastes the command into a shell runs nothing the vendor wrote.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_file_name_is_quoted_in_every_stored_command() {
    let market = Market::start().await;
    let kari = market.login(VENDOR_A).await;
    // Harmless if the quoting failed: the test would find the files, not lose a home directory.
    let name = "$(touch pwned).wasm; touch pwned2";
    let (s, up) = kari
        .upload("Skummel", "1.0.0", name, &plugin("reference"))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{up}");
    let run = up["run"]["id"].as_i64().unwrap();
    kari.follow(run).await;

    let (_, report) = kari
        .get_json(&format!("/api/v1/runs/{run}/report.json"))
        .await;
    let mut commands = vec![report["reproduce"].as_str().unwrap().to_owned()];
    for v in report["vilkar"].as_array().unwrap() {
        for c in v["checks"].as_array().unwrap() {
            commands.push(c["reproduce"].as_str().unwrap().to_owned());
        }
    }
    assert!(commands.len() > 1, "{report}");
    let (_, xml) = kari.get(&format!("/api/v1/runs/{run}/report.xml")).await;
    let shell_dir = tempfile::tempdir().unwrap();
    // report.xml names the report's command and the failing checks' ones, each quoted.
    assert!(xml.contains(&sandkasse_suite::markup::escape(&commands[0])));
    let quoted = sandkasse_suite::markup::escape(&format!("sandkasse test '{name}' "));
    assert_eq!(
        xml.matches("sandkasse test ").count(),
        xml.matches(&quoted).count(),
        "{xml}"
    );
    for command in &commands {
        // Let a real shell expand the arguments and print them, one per line.
        let args = command
            .strip_prefix("sandkasse ")
            .expect("a sandkasse command");
        let out = Command::new("sh")
            .arg("-c")
            .arg(format!("printf '%s\\n' {args}"))
            .current_dir(shell_dir.path())
            .output()
            .unwrap();
        let words: Vec<&str> = std::str::from_utf8(&out.stdout).unwrap().lines().collect();
        assert_eq!(words[..2], ["test", name], "{command}");
    }
    assert_eq!(
        std::fs::read_dir(shell_dir.path()).unwrap().count(),
        0,
        "the shell ran nothing from the file name"
    );
}

/// Pages escape with the report's policy (`sandkasse_suite::markup`): a bidirectional override
/// and a C1 control in the vendor's file name — which the upload keeps as sent, though the
/// reproduce commands leave it out — are shown by code point on the run page, never as
/// characters that reorder or hide what follows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hidden_characters_in_a_file_name_are_shown_on_the_run_page() {
    let market = Market::start().await;
    let kari = market.login(VENDOR_A).await;
    let name = "rapport\u{202e}gnp.exe\u{85}.wasm";
    let (s, up) = kari
        .upload("Synlig", "1.0.0", name, &plugin("reference"))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{up}");
    let run = up["run"]["id"].as_i64().unwrap();
    kari.follow(run).await;

    let (s, page) = kari.get(&format!("/kjoringer/{run}")).await;
    assert_eq!(s, StatusCode::OK, "{page}");
    assert!(
        page.contains("<code>rapport⟨U+202E⟩gnp.exe⟨U+0085⟩.wasm</code>"),
        "the file name, visibly: {page}"
    );
    let (s, report) = kari.get(&format!("/kjoringer/{run}/rapport")).await;
    assert_eq!(s, StatusCode::OK);
    for (which, html) in [("run page", &page), ("report page", &report)] {
        assert!(!html.contains(['\u{202e}', '\u{85}']), "{which}");
    }
}

/// Bytes of a run's stored report and badge, read with raw SQL.
async fn stored_sizes(market: &Market, run: i64) -> (i64, i64) {
    let raw = crate::Raw::open(&market.state.config).await;
    let sql = raw.sql(
        "SELECT length(CAST(report AS BLOB)), length(badge) FROM runs WHERE id = ?",
        "SELECT octet_length(report)::BIGINT, length(badge)::BIGINT FROM runs WHERE id = ?",
    );
    match raw.fetch_ints(sql, &[run.into()]).await[..] {
        [Some(report), Some(badge)] => (report, badge),
        ref other => panic!("run {run}: report and badge sizes {other:?}"),
    }
}

/// Components that return and log as much as the sandbox lets them are stored within the
/// report budget, their cut evidence counted; the badge is what was stored when the run
/// finished, so fifty anonymous requests for it read no report.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inflating_components_are_stored_within_the_report_budget() {
    let budget = 256 << 10;
    let market = Market::start_with(|c| c.limits.max_report_bytes = budget).await;
    let kari = market.login(VENDOR_A).await;
    let mut runs: Vec<i64> = Vec::new();
    for (n, component) in ["hostile_padded_overview", "hostile_non_json_result"]
        .into_iter()
        .enumerate()
    {
        let (_, _, run) = market
            .tested(&kari, "Oppblåst", &format!("1.0.{n}"), component)
            .await;
        let (report_bytes, badge_bytes) = stored_sizes(&market, run).await;
        assert!(
            report_bytes > 0 && report_bytes as usize <= budget,
            "{component}: {report_bytes} bytes stored"
        );
        assert!(badge_bytes > 0 && badge_bytes < 2048, "{component}");
        let (s, report) = kari.get(&format!("/api/v1/runs/{run}/report.json")).await;
        assert_eq!(s, StatusCode::OK);
        let verified = sandkasse_suite::sign::verify_json(report.as_bytes(), None)
            .expect("a cut report is signed like any other");
        let cut: Vec<_> = verified
            .scenarios
            .iter()
            .flat_map(|s| &s.calls)
            .filter_map(|c| c.truncated())
            .collect();
        assert!(!cut.is_empty(), "{component}: the cut calls say so");
        let (_, html) = kari.get(&format!("/api/v1/runs/{run}/report.html")).await;
        assert!(
            html.contains("size budget"),
            "{component}: the page says so"
        );
        runs.push(run);
    }
    // Fifty badge requests at once: each reads the stored SVG.
    let badges = (0..50).map(|_| {
        let (kari, run) = (kari.clone(), runs[0]);
        async move { kari.get(&format!("/api/v1/runs/{run}/badge.svg")).await }
    });
    for (s, body) in futures_util::future::join_all(badges).await {
        assert!(s == StatusCode::OK && body.contains("<svg"), "{s}: {body}");
    }
}

/// A password login as `username` from the client address `ip`.
async fn login_from(
    market: &Market,
    ip: [u8; 4],
    username: &str,
    password: &str,
) -> (StatusCode, Value) {
    // In English: the API's messages are in the language `Accept-Language` asks for.
    let request = Request::post("/api/v1/session")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ACCEPT_LANGUAGE, "en-GB, nb;q=0.5")
        .extension(ConnectInfo(SocketAddr::from((ip, 40_000))));
    let body = json!({ "username": username, "password": password }).to_string();
    let (s, b, _) = market.anonymous().send(request, Body::from(body)).await;
    (s, serde_json::from_str(&b).unwrap_or(Value::Null))
}

/// One password against many usernames from one address is slowed down by that address's
/// backoff, not by anyone's lock-out; many wrong passwords for a reviewer from elsewhere do not
/// keep the reviewer out where they logged in before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spraying_is_slowed_per_address_and_nobody_is_locked_out() {
    let clock =
        sandkasse_markedsplass::clock::Clock::manual("2026-11-30T10:00:00Z".parse().unwrap());
    let market = Market::start_with_clock(|_| {}, clock.clone()).await;
    let limits = market.state.config.limits.clone();
    let sprayer = [203, 0, 113, 7];
    for n in 0..limits.login_free_failures_per_address {
        let (s, _) = login_from(
            &market,
            sprayer,
            &format!("bruker{n}@example.no"),
            "Sommer2026!",
        )
        .await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "try {n}");
    }
    let (s, body) = login_from(&market, sprayer, "enda.en@example.no", "Sommer2026!").await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("try again in 1 s"),
        "{body}"
    );
    // Another address is not slowed by the sprayer.
    let (s, _) = login_from(&market, [198, 51, 100, 1], REVIEWER_1, PASSWORD).await;
    assert_eq!(s, StatusCode::OK);

    // Someone types wrong passwords for the reviewer from many addresses, as fast as allowed.
    let mut last_wait = 0;
    for n in 0..12_u8 {
        let (s, body) = login_from(&market, [192, 0, 2, n], REVIEWER_1, "feil").await;
        if s == StatusCode::TOO_MANY_REQUESTS {
            let message = body["error"]["message"].as_str().unwrap();
            let secs: u64 = message
                .rsplit("try again in ")
                .next()
                .and_then(|t| t.trim_end_matches(" s").parse().ok())
                .unwrap();
            assert!(
                secs <= limits.login_backoff_max_username_seconds,
                "{message}"
            );
            last_wait = secs;
            clock.advance(jiff::SignedDuration::from_secs(secs as i64));
        } else {
            assert_eq!(s, StatusCode::UNAUTHORIZED);
        }
    }
    assert!(last_wait > 1, "the username's wait grew: {last_wait}");
    // One more wrong password: either it is refused (a wait is on) or counted (one starts).
    let (s, _) = login_from(&market, [192, 0, 2, 100], REVIEWER_1, "feil").await;
    assert!(s == StatusCode::TOO_MANY_REQUESTS || s == StatusCode::UNAUTHORIZED);
    // From an unknown address the reviewer waits a bounded time; from where they logged in
    // before, not at all.
    let (s, _) = login_from(&market, [192, 0, 2, 200], REVIEWER_1, PASSWORD).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
    let (s, _) = login_from(&market, [198, 51, 100, 1], REVIEWER_1, PASSWORD).await;
    assert_eq!(s, StatusCode::OK, "the reviewer is not locked out");
}

/// Uploads are compiled a few at a time: while every permit is taken, an upload waits (it neither
/// compiles nor fails), and it goes on when one is free.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_wait_for_a_compile_permit() {
    let market = Market::start_with(|c| c.limits.upload_compile_concurrency = 1).await;
    let kari = market.login(VENDOR_A).await;
    let taken = market
        .state
        .upload_compiles
        .clone()
        .acquire_owned()
        .await
        .unwrap();
    let upload = tokio::spawn({
        let kari = kari.clone();
        async move {
            kari.upload("Venter", "1.0.0", "a.wasm", &plugin("reference"))
                .await
        }
    });
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(
        !upload.is_finished(),
        "the upload compiled without a permit"
    );
    drop(taken);
    let (s, body) = upload.await.unwrap();
    assert_eq!(s, StatusCode::CREATED, "{body}");
}

/// An upload that is not a form is refused with 415 and told how to send one, in bokmål unless
/// `Accept-Language` asks for English;
/// a form without its boundary is a 400 that says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_that_is_not_a_form_is_told_what_to_send() {
    let market = Market::start().await;
    let kari = market.login(VENDOR_A).await;
    for (content_type, status, code, words) in [
        (
            "application/json",
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "En opplasting sendes som multipart/form-data",
        ),
        (
            "multipart/form-data",
            StatusCode::BAD_REQUEST,
            "invalid_input",
            "Skjemaet mangler sin boundary",
        ),
    ] {
        let request =
            Request::post("/api/v1/submissions").header(header::CONTENT_TYPE, content_type);
        let (s, body, _) = kari.send(request, Body::from("{}")).await;
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            (s, body["error"]["code"].as_str()),
            (status, Some(code)),
            "{content_type}: {body}"
        );
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.contains(words) && !message.contains(" / "),
            "{message}"
        );
    }
}

/// A body declared larger than the upload limit is refused before it is read, naming the limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declared_length_over_the_limit_is_refused_unread() {
    let market = Market::start_with(|c| c.max_upload_bytes = 1 << 20).await;
    let kari = market.login(VENDOR_A).await;
    let request = Request::post("/api/v1/submissions")
        .header(header::CONTENT_TYPE, "multipart/form-data; boundary=x")
        .header(header::CONTENT_LENGTH, (2_u64 << 30).to_string());
    let (s, body, _) = kari.send(request, Body::from("--x--\r\n")).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["error"]["code"], "too_large");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("grensen på 1 MiB"),
        "{body}"
    );
}

/// A multipart body with the given raw fields and a `component` file: (content type, body).
fn multipart(fields: &[(&str, &[u8])], component: &[u8]) -> (String, Vec<u8>) {
    let mut parts: Vec<Part<'_>> = fields
        .iter()
        .map(|&(name, bytes)| Part {
            name,
            file: None,
            bytes,
        })
        .collect();
    parts.push(Part::file(
        "component",
        "a.wasm",
        "application/wasm",
        component,
    ));
    crate::market::multipart(&parts)
}

/// The probe's names: a product name that is not UTF-8 (once stored with U+FFFD), and names and
/// versions with a right-to-left override, an isolate, a zero-width space or a control
/// character are refused through the API with a 400 that names the field and the code point in
/// both languages; plain names in any script pass the check. Nothing refused is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_that_do_not_show_as_they_are_are_refused() {
    let market = Market::start().await;
    let kari = market.login(VENDOR_A).await;
    let cases: [(&[u8], &[u8], &str); 7] = [
        (
            b"Journal \xff\xfe Pluss",
            b"1.0.0",
            "Feltet product er ikke gyldig UTF-8",
        ),
        (
            b"Journal",
            b"1.0.0\xc3",
            "Feltet version er ikke gyldig UTF-8",
        ),
        (
            "Journal\u{202e}ssulP".as_bytes(),
            b"1.0.0",
            "Produkt: det usynlige eller retningsendrende tegnet U+202E er ikke tillatt",
        ),
        (
            "Journal \u{2067}Pluss\u{2069}".as_bytes(),
            b"1.0.0",
            "U+2067",
        ),
        ("Journal\u{200b}Pluss".as_bytes(), b"1.0.0", "U+200B"),
        (
            "Journal\u{1b}[31mPluss".as_bytes(),
            b"1.0.0",
            "Produkt: kontrolltegnet U+001B er ikke tillatt",
        ),
        (
            b"Journal",
            "1.0.0\u{200e}".as_bytes(),
            "Versjon: det usynlige",
        ),
    ];
    for (product, version, message) in cases {
        let (content_type, body) = multipart(
            &[
                ("product", product),
                ("version", version),
                ("changelog", b"Ny."),
            ],
            b"\0asm not really",
        );
        let request =
            Request::post("/api/v1/submissions").header(header::CONTENT_TYPE, content_type);
        let (s, b, _) = kari.send(request, Body::from(body)).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{message}: {b}");
        let b: Value = serde_json::from_str(&b).unwrap();
        assert_eq!(b["error"]["code"], "invalid_input", "{b}");
        assert!(
            b["error"]["message"].as_str().unwrap().contains(message),
            "{message}: {b}"
        );
    }
    // A changelog may have lines, not overrides.
    let (content_type, body) = multipart(
        &[
            ("product", b"Journal"),
            ("version", b"1.0.0"),
            ("changelog", "Linje 1\n\u{202e}Linje 2".as_bytes()),
        ],
        b"\0asm not really",
    );
    let request = Request::post("/api/v1/submissions").header(header::CONTENT_TYPE, content_type);
    let (s, b, _) = kari.send(request, Body::from(body)).await;
    assert!(
        s == StatusCode::BAD_REQUEST && b.contains("U+202E"),
        "{s}: {b}"
    );
    // Plain names in any script get past the names to the component (which is not one: 422).
    for product in ["Leverandør Journal", "محمد للرعاية", "日本語ジャーナル 👍"]
    {
        let (s, b) = kari
            .upload(product, "2.0.0-rc.1", "a.wasm", b"\0asm not really")
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{product}: {b}");
    }
    let (_, products) = kari.get_json("/api/v1/products").await;
    assert_eq!(products["products"], json!([]), "nothing refused is stored");
}

/// The web form says the same as the API, on the upload page with a 400.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_upload_form_refuses_hidden_characters_too() {
    let market = Market::start().await;
    let kari = market.login(VENDOR_A).await;
    let csrf = kari.csrf.clone();
    let mut form = kari.clone();
    form.csrf.clear(); // the form carries its token as a field, as a browser sends it
    for (product, needle) in [
        ("Journal\u{202e}ssulP".as_bytes(), "U+202E"),
        (b"Journal \xff".as_slice(), "ikke gyldig UTF-8"),
    ] {
        let (content_type, body) = multipart(
            &[
                ("csrf", csrf.as_bytes()),
                ("product", product),
                ("version", b"1.0.0"),
            ],
            &plugin("reference"),
        );
        let request =
            Request::post("/leverandor/last-opp").header(header::CONTENT_TYPE, content_type);
        let (s, page, _) = form.send(request, Body::from(body)).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{page}");
        assert!(
            page.contains("id=\"upload-form\""),
            "the form again: {page}"
        );
        assert!(page.contains(needle), "{needle}: {page}");
    }
    let (_, products) = kari.get_json("/api/v1/products").await;
    assert_eq!(products["products"], json!([]));
}

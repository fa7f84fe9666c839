//! The main journeys through the JSON API: upload → run → report → listing request → review with
//! consensus or escalation → catalogue → suspension, with a second vendor kept out throughout and
//! every step in an intact audit trail.

use axum::http::StatusCode;
use sandkasse_markedsplass::audit::Verification;
use serde_json::json;

use crate::market::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_run_review_escalate_list_and_suspend() {
    let market = Market::start().await;
    let anon = market.anonymous();
    let (s, catalogue) = anon.get_json("/api/v1/catalogue").await;
    assert_eq!(
        (s, catalogue["entries"].as_array().unwrap().len()),
        (StatusCode::OK, 0)
    );

    let kari = market.login(VENDOR_A).await;
    // Not a component: the sandbox's exact reason, nothing stored.
    let (s, body) = kari
        .upload("Journal Nord", "0.9.0", "notes.txt", b"hello")
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], "component_rejected");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Ikke WebAssembly"),
        "{body}"
    );
    assert!(
        kari.get_json("/api/v1/products").await.1["products"]
            .as_array()
            .unwrap()
            .is_empty(),
        "a rejected upload creates nothing"
    );
    // A malformed form names the missing field.
    let (s, body) = kari
        .upload("", "1.0.0", "reference.wasm", &plugin("reference"))
        .await;
    assert_eq!(
        (s, body["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_input")),
        "{body}"
    );

    let (s, up) = kari
        .upload(
            "Journal Nord",
            "1.0.0",
            "reference.wasm",
            &plugin("reference"),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{up}");
    let (product, submission, run) = (
        up["product"]["id"].as_i64().unwrap(),
        up["submission"]["id"].as_i64().unwrap(),
        up["run"]["id"].as_i64().unwrap(),
    );
    // The same version again is refused, and says so.
    let (s, dup) = kari
        .upload(
            "Journal Nord",
            "1.0.0",
            "reference.wasm",
            &plugin("reference"),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{dup}");
    assert!(
        dup["error"]["message"].as_str().unwrap().contains("1.0.0"),
        "{dup}"
    );

    let events = kari.follow(run).await;
    let last = events.last().unwrap();
    assert_eq!(
        (last["state"].as_str(), last["verdict"].as_str()),
        (Some("done"), Some("godkjent")),
        "{events:?}"
    );
    assert_eq!(last["done"], last["total"]);
    let (_, r) = kari.get_json(&format!("/api/v1/runs/{run}")).await;
    assert_eq!(
        (r["state"].as_str(), r["attempts"].as_i64()),
        (Some("done"), Some(1)),
        "{r}"
    );
    // The report in every rendering; the JSON one verifies with the service's signature.
    let (s, report) = kari.get(&format!("/api/v1/runs/{run}/report.json")).await;
    assert_eq!(s, StatusCode::OK);
    let verified =
        sandkasse_suite::sign::verify_json(report.as_bytes(), None).expect("a signed report");
    assert!(verified.godkjent());
    for (rendering, needle) in [
        ("report.xml", "<testsuites"),
        ("report.html", "<html"),
        ("badge.svg", "<svg"),
    ] {
        let (s, body) = kari.get(&format!("/api/v1/runs/{run}/{rendering}")).await;
        assert!(
            s == StatusCode::OK && body.contains(needle),
            "{rendering}: {s}"
        );
    }

    // The pages render for the vendor.
    for (path, needle) in [
        ("/leverandor".to_owned(), "id=\"products\""),
        ("/leverandor/last-opp".to_owned(), "id=\"upload-form\""),
        (format!("/kjoringer/{run}"), "data-verdict=\"godkjent\""),
        (format!("/kjoringer/{run}/rapport"), "<html"),
        (format!("/produkter/{product}"), "id=\"listing-status\""),
        ("/?lang=en".to_owned(), "lang=\"en\""),
    ] {
        let (s, body) = kari.get(&path).await;
        assert!(
            s == StatusCode::OK && body.contains(needle),
            "{path}: {s}: {needle} not in {body}"
        );
    }
    assert!(
        kari.get(&format!("/kjoringer/{run}"))
            .await
            .1
            .contains("id=\"request-listing\""),
        "a godkjent run offers the listing request"
    );

    // Vendor B sees none of it, by any URL.
    let ola = market.login(VENDOR_B).await;
    for path in [
        format!("/api/v1/products/{product}"),
        format!("/api/v1/submissions/{submission}"),
        format!("/api/v1/runs/{run}"),
        format!("/api/v1/runs/{run}/events"),
        format!("/api/v1/runs/{run}/report.json"),
        format!("/api/v1/runs/{run}/badge.svg"),
        format!("/kjoringer/{run}"),
        format!("/kjoringer/{run}/rapport"),
        format!("/produkter/{product}"),
    ] {
        let (s, body) = ola.get(&path).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "vendor B reached {path}: {body}");
    }
    assert!(
        ola.get_json("/api/v1/products").await.1["products"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let (s, _) = ola
        .post_json(
            &format!("/api/v1/products/{product}/listing-requests"),
            json!({ "submission_id": submission, "declarations": declarations() }),
        )
        .await;
    assert_eq!(
        s,
        StatusCode::NOT_FOUND,
        "vendor B cannot request A's listing"
    );

    // Listing request: two reviewers assigned.
    let (s, case) = kari
        .post_json(
            &format!("/api/v1/products/{product}/listing-requests"),
            json!({ "submission_id": submission, "declarations": declarations() }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{case}");
    let case_id = case["case"]["id"].as_i64().unwrap();
    let assigned: Vec<_> = case["case"]["reviews"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["reviewer"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(assigned, [REVIEWER_1, REVIEWER_2]);
    let (s, _) = kari
        .post_json(
            &format!("/api/v1/products/{product}/listing-requests"),
            json!({ "submission_id": submission, "declarations": declarations() }),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "one open case per product");

    // Disagreement escalates; no single reviewer settles it.
    let rita = market.login(REVIEWER_1).await;
    let rune = market.login(REVIEWER_2).await;
    let berit = market.login(BESLUTNING).await;
    let decide = |who: &Client, decision: &str, note: &str| {
        let who = who.clone();
        let body = json!({ "decision": decision, "note": note, "declarations": accept_all() });
        async move {
            who.post_json(&format!("/api/v1/cases/{case_id}/decisions"), body)
                .await
        }
    };
    let (s, body) = decide(&rita, "approve", "").await;
    assert_eq!(
        s,
        StatusCode::BAD_REQUEST,
        "a decision needs a note: {body}"
    );
    let (s, d) = decide(&berit, "approve", "for tidlig").await;
    assert_eq!(
        s,
        StatusCode::CONFLICT,
        "the beslutningsgruppe decides only escalated cases: {d}"
    );
    let (s, d) = decide(&rita, "approve", "Alle skal-vilkår bestått.").await;
    assert_eq!(
        (s, d["case"]["state"].as_str()),
        (StatusCode::OK, Some("in_review")),
        "{d}"
    );
    let (s, _) = decide(&rita, "reject", "ombestemt").await;
    assert_eq!(s, StatusCode::CONFLICT, "one decision per reviewer");
    let (s, d) = decide(
        &rune,
        "reject",
        "Mangler dokumentasjon av hendelsesabonnement.",
    )
    .await;
    assert_eq!(
        (s, d["case"]["state"].as_str()),
        (StatusCode::OK, Some("escalated")),
        "{d}"
    );
    assert!(
        anon.get_json("/api/v1/catalogue").await.1["entries"]
            .as_array()
            .unwrap()
            .is_empty(),
        "nothing listed on a split"
    );
    let (s, d) = decide(
        &berit,
        "approve",
        "Beslutningsgruppen godkjenner; dokumentasjon ettersendes.",
    )
    .await;
    assert_eq!(
        (
            s,
            d["case"]["state"].as_str(),
            d["listing"]["state"].as_str()
        ),
        (StatusCode::OK, Some("approved"), Some("listed")),
        "{d}"
    );

    // The reviewers' pages.
    for (path, needle) in [
        ("/vurdering".to_owned(), "data-case-id"),
        (format!("/vurdering/{case_id}"), "data-state=\"approved\""),
        ("/revisjon".to_owned(), "data-seq"),
        ("/leverandor".to_owned(), "Journal Nord"),
    ] {
        let (s, body) = rita.get(&path).await;
        assert!(
            s == StatusCode::OK && body.contains(needle),
            "{path}: {s}: {needle} not in {body}"
        );
    }
    let (s, page) = anon.get("/").await;
    assert!(
        s == StatusCode::OK && page.contains("data-product-id"),
        "{page}"
    );

    // The catalogue, public.
    let (_, catalogue) = anon.get_json("/api/v1/catalogue").await;
    let entry = &catalogue["entries"][0];
    assert_eq!(
        (
            entry["product"].as_str(),
            entry["vendor"].as_str(),
            entry["version"].as_str()
        ),
        (Some("Journal Nord"), Some("Leverandør A AS"), Some("1.0.0"))
    );
    assert_eq!(
        (entry["verdict"].as_str(), entry["score"].as_f64()),
        (Some("godkjent"), Some(1.0))
    );
    assert!(!entry["capabilities"].as_array().unwrap().is_empty());
    assert_eq!(
        anon.get(&format!("/api/v1/catalogue/{product}/badge.svg"))
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        anon.get(&format!("/produkter/{product}")).await.0,
        StatusCode::OK,
        "a listed product's page is public"
    );
    assert_eq!(
        anon.get(&format!("/api/v1/runs/{run}")).await.0,
        StatusCode::NOT_FOUND,
        "runs stay private"
    );
    let (_, filtered) = anon
        .get_json("/api/v1/catalogue?q=nord&capability=read")
        .await;
    assert_eq!(filtered["entries"].as_array().unwrap().len(), 1);
    let (_, filtered) = anon.get_json("/api/v1/catalogue?q=legevakt").await;
    assert!(filtered["entries"].as_array().unwrap().is_empty());

    // Suspend (with a reason), reinstate, delist.
    let (s, _) = rita
        .post_json(
            &format!("/api/v1/listings/{product}/suspend"),
            json!({ "reason": "" }),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "a suspension needs a reason");
    let (s, l) = rita
        .post_json(
            &format!("/api/v1/listings/{product}/suspend"),
            json!({ "reason": "Regresjon i nattlig kjøring." }),
        )
        .await;
    assert_eq!(
        (s, l["listing"]["state"].as_str()),
        (StatusCode::OK, Some("suspended")),
        "{l}"
    );
    assert!(
        anon.get_json("/api/v1/catalogue").await.1["entries"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        anon.get_json("/api/v1/catalogue?state=all").await.1["entries"][0]["state"],
        "suspended"
    );
    let (s, _) = kari
        .post_json(
            &format!("/api/v1/listings/{product}/reinstate"),
            json!({ "reason": "jeg vil" }),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "vendors do not manage listings");
    let (s, _) = rita
        .post_json(
            &format!("/api/v1/listings/{product}/reinstate"),
            json!({ "reason": "Rettet." }),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, l) = market
        .login(ADMIN)
        .await
        .post_json(
            &format!("/api/v1/listings/{product}/delist"),
            json!({ "reason": "Leverandøren har trukket produktet." }),
        )
        .await;
    assert_eq!(
        (s, l["listing"]["state"].as_str()),
        (StatusCode::OK, Some("delisted"))
    );
    let (s, _) = rita
        .post_json(
            &format!("/api/v1/listings/{product}/suspend"),
            json!({ "reason": "x" }),
        )
        .await;
    assert_eq!(
        s,
        StatusCode::CONFLICT,
        "a delisted product cannot be suspended"
    );

    // Everything is in the audit trail, in order, and the chain is intact.
    let (s, audit) = rita.get_json("/api/v1/audit?limit=500").await;
    assert_eq!(s, StatusCode::OK);
    let actions: Vec<&str> = audit["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    let expected = [
        "product.create",
        "submission.create",
        "run.queue",
        "run.start",
        "run.finish",
        "listing.request",
        "review.decide",
        "review.decide",
        "review.escalate",
        "review.decide",
        "listing.list",
        "listing.suspend",
        "listing.reinstate",
        "listing.delist",
    ];
    let mut rest = actions.iter();
    for want in expected {
        assert!(
            rest.any(|a| *a == want),
            "audit trail lacks {want} in order: {actions:?}"
        );
    }
    assert_eq!(kari.get("/api/v1/audit").await.0, StatusCode::FORBIDDEN);
    assert!(matches!(
        market.state.audit.verify_chain().await.unwrap(),
        Verification::Intact { .. }
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consensus_lists_and_a_failing_version_cannot_be_submitted() {
    let market = Market::start().await;
    let kari = market.login(VENDOR_A).await;
    let (_, flawed) = kari
        .upload(
            "Hjemmetjeneste",
            "2.0.0",
            "flawed.wasm",
            &plugin("flawed_drops_token"),
        )
        .await;
    let (_, good) = kari
        .upload(
            "Legevakt Sør",
            "1.0.0",
            "reference.wasm",
            &plugin("reference"),
        )
        .await;
    let flawed_run = flawed["run"]["id"].as_i64().unwrap();
    let last = kari.follow(flawed_run).await.pop().unwrap();
    assert_eq!(last["verdict"], "ikke-godkjent", "{last}");
    let (s, body) = kari
        .post_json(
            &format!(
                "/api/v1/products/{}/listing-requests",
                flawed["product"]["id"]
            ),
            json!({ "submission_id": flawed["submission"]["id"], "declarations": declarations() }),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("godkjent"),
        "{body}"
    );

    kari.follow(good["run"]["id"].as_i64().unwrap()).await;
    let product = good["product"]["id"].as_i64().unwrap();
    let (_, case) = kari
        .post_json(
            &format!("/api/v1/products/{product}/listing-requests"),
            json!({ "submission_id": good["submission"]["id"], "declarations": declarations() }),
        )
        .await;
    let case_id = case["case"]["id"].as_i64().unwrap();
    for reviewer in [REVIEWER_1, REVIEWER_2] {
        let (s, d) = market
            .login(reviewer)
            .await
            .post_json(
                &format!("/api/v1/cases/{case_id}/decisions"),
                json!({ "decision": "approve", "note": "OK", "declarations": accept_all() }),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{d}");
    }
    let (_, d) = market
        .login(REVIEWER_1)
        .await
        .get_json(&format!("/api/v1/cases/{case_id}"))
        .await;
    assert_eq!(d["case"]["state"], "approved");
    let (_, catalogue) = market.anonymous().get_json("/api/v1/catalogue").await;
    assert_eq!(catalogue["entries"][0]["product"], "Legevakt Sør");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_uploads_are_refused_clearly_and_a_hostile_component_does_not_stall_the_service() {
    let market = Market::start_with(|c| c.max_upload_bytes = 1 << 20).await;
    let kari = market.login(VENDOR_A).await;
    // Over the upload limit: 413 naming the limit.
    let (s, body) = kari
        .upload("Stor", "1.0.0", "big.wasm", &vec![0_u8; 2 << 20])
        .await;
    assert_eq!(
        (s, body["error"]["code"].as_str()),
        (axum::http::StatusCode::PAYLOAD_TOO_LARGE, Some("too_large")),
        "{body}"
    );
    assert!(
        body["error"]["message"].as_str().unwrap().contains("1 MiB"),
        "{body}"
    );
    // A core module, a disallowed import, the wrong world: the sandbox's exact reasons.
    for (name, needle) in [
        ("core-module", "kjernemodul"),
        ("hostile_disallowed_import", "Ikke tillatt import"),
        ("hostile_wrong_world", "eksporterer ikke"),
    ] {
        let bytes = if name == "core-module" {
            std::fs::read(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../plugins/fixtures/core-module.wasm"
            ))
            .unwrap()
        } else {
            plugin(name)
        };
        let (s, body) = kari
            .upload("Feil", "1.0.0", &format!("{name}.wasm"), &bytes)
            .await;
        assert_eq!(
            s,
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "{name}: {body}"
        );
        assert!(
            body["error"]["message"].as_str().unwrap().contains(needle),
            "{name}: {body}"
        );
    }
    // A malformed multipart body.
    let request = axum::http::Request::post("/api/v1/submissions")
        .header("content-type", "multipart/form-data; boundary=x");
    let (s, body, _) = kari
        .send(request, axum::body::Body::from("--x\r\nnot a part"))
        .await;
    assert_eq!(s, axum::http::StatusCode::BAD_REQUEST, "{body}");
    assert!(
        kari.get_json("/api/v1/products").await.1["products"]
            .as_array()
            .unwrap()
            .is_empty(),
        "no refused upload left anything"
    );

    // A hostile component burns its budget; meanwhile the service answers.
    let (s, up) = kari
        .upload(
            "Evig",
            "1.0.0",
            "loop.wasm",
            &plugin("hostile_infinite_loop"),
        )
        .await;
    assert_eq!(s, axum::http::StatusCode::CREATED, "{up}");
    let run = up["run"]["id"].as_i64().unwrap();
    let mut answered_while_running = 0;
    loop {
        let (_, r) = kari.get_json(&format!("/api/v1/runs/{run}")).await;
        if r["state"] == "done" || r["state"] == "error" {
            assert_eq!(
                r["verdict"], "ikke-godkjent",
                "a hostile component is judged, not crashed on: {r}"
            );
            break;
        }
        if r["state"] == "running" {
            let (s, _) = market.anonymous().get_json("/api/v1/catalogue").await;
            assert_eq!(s, axum::http::StatusCode::OK);
            answered_while_running += 1;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(
        answered_while_running > 0,
        "the catalogue was read while the hostile run ran"
    );
    let report = kari.get(&format!("/api/v1/runs/{run}/report.json")).await.1;
    assert!(
        report.contains("fuel") || report.contains("timeout") || report.contains("drivstoff"),
        "the failure is classified in the report"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_refused_before_a_handler_still_get_the_error_shape() {
    let market = Market::start().await;
    let rita = market.login(REVIEWER_1).await;
    for (method, path, content_type, body, status) in [
        ("GET", "/api/v1/runs/abc", None, "", 400),
        ("GET", "/api/v1/cases?all=yes", None, "", 400),
        (
            "POST",
            "/api/v1/cases/1/decisions",
            Some("application/json"),
            "not json",
            400,
        ),
        (
            "POST",
            "/api/v1/cases/1/decisions",
            Some("application/json"),
            "{}",
            400,
        ),
        (
            "POST",
            "/api/v1/cases/1/decisions",
            Some("text/plain"),
            "{}",
            415,
        ),
        ("PUT", "/api/v1/catalogue", None, "", 405),
    ] {
        let mut request = axum::http::Request::builder().method(method).uri(path);
        if let Some(ct) = content_type {
            request = request.header("content-type", ct);
        }
        let (s, body, _) = rita.send(request, axum::body::Body::from(body)).await;
        let json: serde_json::Value = serde_json::from_str(&body)
            .unwrap_or_else(|_| panic!("{method} {path}: not JSON: {body}"));
        assert_eq!(s.as_u16(), status, "{method} {path}: {body}");
        assert!(
            json["error"]["code"].is_string() && json["error"]["message"].is_string(),
            "{method} {path}: {body}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_is_not_opened_without_enough_reviewers_for_consensus() {
    let market = Market::start_with(|c| c.reviewers_per_case = 3).await;
    let kari = market.login(VENDOR_A).await;
    let (product, submission, _) = market
        .tested(&kari, "Journal Nord", "1.0.0", "reference")
        .await;
    let (s, body) = kari
        .post_json(
            &format!("/api/v1/products/{product}/listing-requests"),
            serde_json::json!({ "submission_id": submission, "declarations": declarations() }),
        )
        .await;
    assert_eq!(s, axum::http::StatusCode::CONFLICT, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Saken trenger 3 fagpersoner, men det finnes 2"),
        "{body}"
    );
    assert!(
        market
            .state
            .stores
            .market
            .cases(&[], None)
            .await
            .unwrap()
            .is_empty(),
        "nothing half-opened"
    );
}

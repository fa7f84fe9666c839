//! Every endpoint × every role, with the status each must get (policy.rs has the table in words).
//!
//! The data: vendor A's product with a finished godkjent run and an open review case. State-
//! changing requests carry input that is invalid *after* the access check (an unknown decision,
//! an empty reason, an empty upload), so an allowed caller gets the validation error (400) or the
//! state's refusal (409) and a refused caller gets 401 / 403 / 404 — and nothing changes.
//! A route without a row here fails the test.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::json;

use crate::market::*;

/// Callers, in the order of the expectation columns.
const ROLES: [&str; 6] = [
    "anonymous",
    "vendor A",
    "vendor B",
    "reviewer",
    "beslutningsgruppe",
    "admin",
];

enum Send {
    Get,
    Json(serde_json::Value),
    Form(String),
    EmptyUpload,
    Delete,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_for_every_role() {
    let market = Market::start().await;
    let a = market.login(VENDOR_A).await;
    let (_, up) = a
        .upload(
            "Journal Nord",
            "1.0.0",
            "reference.wasm",
            &plugin("reference"),
        )
        .await;
    let (product, submission, run) = (
        up["product"]["id"].as_i64().unwrap(),
        up["submission"]["id"].as_i64().unwrap(),
        up["run"]["id"].as_i64().unwrap(),
    );
    a.follow(run).await;
    let (s, case) = a
        .post_json(
            &format!("/api/v1/products/{product}/listing-requests"),
            json!({ "submission_id": submission, "declarations": declarations() }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{case}");
    let attachment = case["case"]["declarations"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|d| d["attachments"][0]["id"].as_i64())
        .expect("a declaration with an attachment");
    let case = case["case"]["id"].as_i64().unwrap();

    // A revoked token of vendor A's (revoking it again changes nothing) and a user to administer.
    let (token, _) = market
        .state
        .accounts
        .create_token("test", VENDOR_A, "ci")
        .await
        .unwrap();
    market
        .state
        .accounts
        .revoke_token("test", token.id)
        .await
        .unwrap();
    let token = token.id;
    let user = market.state.accounts.user(REVIEWER_2).await.unwrap().id;

    // Vendor A's sandbox, for the hosted FHIR endpoint's row.
    let org_a = a.get_json("/api/v1/sandbox").await.1["organisation_id"]
        .as_i64()
        .unwrap();

    let clients = [
        market.anonymous(),
        a.clone(),
        market.login(VENDOR_B).await,
        market.login(REVIEWER_1).await,
        market.login(BESLUTNING).await,
        market.login(ADMIN).await,
    ];

    use Send::*;
    // (route as in the router, concrete path, request, expected status per role in ROLES order)
    let rows: Vec<(&str, &str, String, Send, [u16; 6])> = vec![
        (
            "GET",
            "/api/v1/openapi.json",
            "/api/v1/openapi.json".into(),
            Get,
            [200; 6],
        ),
        // A wrong password (for a username per caller: five failures lock a username, tested below).
        (
            "POST",
            "/api/v1/session",
            "/api/v1/session".into(),
            Json(json!({ "username": "nobody-api-ROLE@x.no", "password": "wrong password!" })),
            [401; 6],
        ),
        (
            "GET",
            "/api/v1/me",
            "/api/v1/me".into(),
            Get,
            [401, 200, 200, 200, 200, 200],
        ),
        (
            "GET",
            "/api/v1/catalogue",
            "/api/v1/catalogue".into(),
            Get,
            [200; 6],
        ),
        (
            "GET",
            "/api/v1/catalogue/{product_id}/badge.svg",
            format!("/api/v1/catalogue/{product}/badge.svg"),
            Get,
            [404; 6],
        ),
        (
            "GET",
            "/api/v1/products",
            "/api/v1/products".into(),
            Get,
            [401, 200, 200, 200, 200, 200],
        ),
        (
            "GET",
            "/api/v1/products/{id}",
            format!("/api/v1/products/{product}"),
            Get,
            [404, 200, 404, 200, 200, 200],
        ),
        (
            "POST",
            "/api/v1/products/{id}/listing-requests",
            format!("/api/v1/products/{product}/listing-requests"),
            Json(json!({ "submission_id": submission, "declarations": declarations() })),
            [401, 409, 404, 403, 403, 403],
        ),
        (
            "POST",
            "/api/v1/submissions",
            "/api/v1/submissions".into(),
            EmptyUpload,
            [401, 400, 400, 403, 403, 403],
        ),
        (
            "GET",
            "/api/v1/submissions/{id}",
            format!("/api/v1/submissions/{submission}"),
            Get,
            [404, 200, 404, 200, 200, 200],
        ),
        (
            "GET",
            "/api/v1/runs/{id}",
            format!("/api/v1/runs/{run}"),
            Get,
            [404, 200, 404, 200, 200, 200],
        ),
        (
            "GET",
            "/api/v1/runs/{id}/events",
            format!("/api/v1/runs/{run}/events"),
            Get,
            [404, 200, 404, 200, 200, 200],
        ),
        (
            "POST",
            "/api/v1/runs/{id}/reruns",
            format!("/api/v1/runs/{run}/reruns"),
            Json(json!({ "scenario": "no-such-scenario" })),
            [401, 400, 404, 403, 403, 403],
        ),
        (
            "GET",
            "/api/v1/runs/{id}/report.json",
            format!("/api/v1/runs/{run}/report.json"),
            Get,
            [404, 200, 404, 200, 200, 200],
        ),
        (
            "GET",
            "/api/v1/runs/{id}/report.xml",
            format!("/api/v1/runs/{run}/report.xml"),
            Get,
            [404, 200, 404, 200, 200, 200],
        ),
        (
            "GET",
            "/api/v1/runs/{id}/report.html",
            format!("/api/v1/runs/{run}/report.html"),
            Get,
            [404, 200, 404, 200, 200, 200],
        ),
        (
            "GET",
            "/api/v1/runs/{id}/badge.svg",
            format!("/api/v1/runs/{run}/badge.svg"),
            Get,
            [404, 200, 404, 200, 200, 200],
        ),
        (
            "GET",
            "/api/v1/runs/{id}/evidence.zip",
            format!("/api/v1/runs/{run}/evidence.zip"),
            Get,
            [404, 200, 404, 200, 200, 200],
        ),
        (
            "GET",
            "/api/v1/cases",
            "/api/v1/cases".into(),
            Get,
            [401, 403, 403, 200, 200, 200],
        ),
        (
            "GET",
            "/api/v1/cases/{id}",
            format!("/api/v1/cases/{case}"),
            Get,
            [401, 403, 403, 200, 200, 200],
        ),
        (
            "POST",
            "/api/v1/cases/{id}/decisions",
            format!("/api/v1/cases/{case}/decisions"),
            Json(json!({ "decision": "maybe", "note": "x" })),
            [401, 403, 403, 400, 400, 403],
        ),
        // The vendor's own and the project's; another vendor learns nothing (404).
        (
            "GET",
            "/api/v1/attachments/{id}",
            format!("/api/v1/attachments/{attachment}"),
            Get,
            [401, 200, 404, 200, 200, 200],
        ),
        (
            "POST",
            "/api/v1/listings/{product_id}/{action}",
            format!("/api/v1/listings/{product}/suspend"),
            Json(json!({ "reason": "" })),
            [401, 403, 403, 400, 400, 400],
        ),
        (
            "GET",
            "/api/v1/audit",
            "/api/v1/audit".into(),
            Get,
            [401, 403, 403, 200, 200, 200],
        ),
        (
            "GET",
            "/api/v1/notifications",
            "/api/v1/notifications".into(),
            Get,
            [401, 200, 200, 200, 200, 200],
        ),
        (
            "GET",
            "/api/v1/nights",
            "/api/v1/nights".into(),
            Get,
            [401, 403, 403, 200, 200, 200],
        ),
        (
            "GET",
            "/api/v1/nights/{night}",
            "/api/v1/nights/2026-01-01".into(),
            Get,
            [401, 403, 403, 404, 404, 404],
        ),
        (
            "GET",
            "/api/v1/nights/{night}/junit.xml",
            "/api/v1/nights/2026-01-01/junit.xml".into(),
            Get,
            [401, 403, 403, 404, 404, 404],
        ),
        (
            "GET",
            "/api/v1/tokens",
            "/api/v1/tokens".into(),
            Get,
            [401, 200, 200, 403, 403, 403],
        ),
        (
            "POST",
            "/api/v1/tokens",
            "/api/v1/tokens".into(),
            Json(json!({ "name": "" })),
            [401, 400, 400, 403, 403, 403],
        ),
        (
            "DELETE",
            "/api/v1/tokens/{id}",
            format!("/api/v1/tokens/{token}"),
            Delete,
            [401, 204, 404, 403, 403, 403],
        ),
        (
            "GET",
            "/leverandor/nokler",
            "/leverandor/nokler".into(),
            Get,
            [303, 200, 200, 403, 403, 403],
        ),
        (
            "POST",
            "/leverandor/nokler",
            "/leverandor/nokler".into(),
            Form("name=".into()),
            [303, 400, 400, 403, 403, 403],
        ),
        (
            "POST",
            "/leverandor/nokler/{id}/tilbakekall",
            format!("/leverandor/nokler/{token}/tilbakekall"),
            Form("confirm=ja".into()),
            [303, 303, 404, 403, 403, 403],
        ),
        (
            "GET",
            "/admin",
            "/admin".into(),
            Get,
            [303, 403, 403, 403, 403, 200],
        ),
        (
            "POST",
            "/admin/organisasjoner",
            "/admin/organisasjoner".into(),
            Form("name=".into()),
            [303, 403, 403, 403, 403, 400],
        ),
        (
            "POST",
            "/admin/brukere",
            "/admin/brukere".into(),
            Form("username=ny-ROLE@x.no&role=nope".into()),
            [303, 403, 403, 403, 403, 400],
        ),
        (
            "GET",
            "/admin/brukere/{id}",
            format!("/admin/brukere/{user}"),
            Get,
            [303, 403, 403, 403, 403, 200],
        ),
        (
            "POST",
            "/admin/brukere/{id}/rolle",
            format!("/admin/brukere/{user}/rolle"),
            Form("role=nope".into()),
            [303, 403, 403, 403, 403, 400],
        ),
        (
            "POST",
            "/admin/brukere/{id}/status",
            format!("/admin/brukere/{user}/status"),
            Form("enabled=kanskje".into()),
            [303, 403, 403, 403, 403, 400],
        ),
        (
            "POST",
            "/admin/brukere/{id}/passord",
            format!("/admin/brukere/{user}/passord"),
            Form(String::new()),
            [303, 403, 403, 403, 403, 400],
        ),
        (
            "GET",
            "/admin/webhook",
            "/admin/webhook".into(),
            Get,
            [303, 403, 403, 403, 403, 200],
        ),
        (
            "GET",
            "/passord",
            "/passord".into(),
            Get,
            [303, 200, 200, 200, 200, 200],
        ),
        (
            "POST",
            "/passord",
            "/passord".into(),
            Form("current=feil&new=ett+nytt+passord&repeat=et+annet+passord".into()),
            [303, 400, 400, 400, 400, 400],
        ),
        ("GET", "/", "/".into(), Get, [200; 6]),
        (
            "GET",
            "/static/{file}",
            "/static/style.css".into(),
            Get,
            [200; 6],
        ),
        ("GET", "/logg-inn", "/logg-inn".into(), Get, [200; 6]),
        (
            "POST",
            "/logg-inn",
            "/logg-inn".into(),
            Form("username=nobody-web-ROLE@x.no&password=wrong".into()),
            [401; 6],
        ),
        (
            "GET",
            "/leverandor",
            "/leverandor".into(),
            Get,
            [303, 200, 200, 200, 200, 200],
        ),
        (
            "GET",
            "/leverandor/last-opp",
            "/leverandor/last-opp".into(),
            Get,
            [303, 200, 200, 403, 403, 403],
        ),
        (
            "POST",
            "/leverandor/last-opp",
            "/leverandor/last-opp".into(),
            EmptyUpload,
            [303, 400, 400, 403, 403, 403],
        ),
        (
            "GET",
            "/kjoringer/{id}",
            format!("/kjoringer/{run}"),
            Get,
            [404, 200, 404, 200, 200, 200],
        ),
        (
            "GET",
            "/kjoringer/{id}/rapport",
            format!("/kjoringer/{run}/rapport"),
            Get,
            [404, 200, 404, 200, 200, 200],
        ),
        (
            "POST",
            "/kjoringer/{id}/ny",
            format!("/kjoringer/{run}/ny"),
            Form("scenario=no-such-scenario".into()),
            [303, 400, 404, 403, 403, 403],
        ),
        (
            "GET",
            "/produkter/{id}",
            format!("/produkter/{product}"),
            Get,
            [404, 200, 404, 200, 200, 200],
        ),
        (
            "GET",
            "/produkter/{id}/sammenlign",
            format!("/produkter/{product}/sammenlign?a={run}&b={run}"),
            Get,
            [404, 200, 404, 200, 200, 200],
        ),
        (
            "POST",
            "/produkter/{id}/oppforing",
            format!("/produkter/{product}/oppforing"),
            // The form is multipart (it carries attachments): urlencoded is 415 for the owner.
            Form(format!("submission_id={submission}&confirm=ja")),
            [303, 415, 404, 403, 403, 403],
        ),
        (
            "POST",
            "/produkter/{id}/oppforing/{action}",
            format!("/produkter/{product}/oppforing/suspend"),
            Form("reason=&confirm=ja".into()),
            [303, 403, 403, 400, 400, 400],
        ),
        (
            "GET",
            "/vurdering",
            "/vurdering".into(),
            Get,
            [303, 403, 403, 200, 200, 200],
        ),
        (
            "GET",
            "/vurdering/{id}",
            format!("/vurdering/{case}"),
            Get,
            [303, 403, 403, 200, 200, 200],
        ),
        (
            "POST",
            "/vurdering/{id}",
            format!("/vurdering/{case}"),
            Form("decision=maybe&note=x&confirm=ja".into()),
            [303, 403, 403, 400, 400, 403],
        ),
        (
            "GET",
            "/revisjon",
            "/revisjon".into(),
            Get,
            [303, 403, 403, 200, 200, 200],
        ),
        (
            "GET",
            "/natt",
            "/natt".into(),
            Get,
            [303, 403, 403, 200, 200, 200],
        ),
        (
            "GET",
            "/natt/{night}",
            "/natt/2026-01-01".into(),
            Get,
            [303, 403, 403, 404, 404, 404],
        ),
        (
            "GET",
            "/api/v1/sandbox",
            "/api/v1/sandbox".into(),
            Get,
            [401, 200, 200, 403, 403, 403],
        ),
        (
            "POST",
            "/api/v1/sandbox/launch",
            "/api/v1/sandbox/launch".into(),
            Json(json!({ "kommune": "9999" })),
            [401, 400, 400, 403, 403, 403],
        ),
        (
            "GET",
            "/api/v1/sandbox/person-kinds",
            "/api/v1/sandbox/person-kinds?kommune=4601".into(),
            Get,
            [401, 200, 200, 403, 403, 403],
        ),
        (
            "GET",
            "/leverandor/sandkasse",
            "/leverandor/sandkasse".into(),
            Get,
            [303, 200, 200, 403, 403, 403],
        ),
        (
            "POST",
            "/leverandor/sandkasse/start",
            "/leverandor/sandkasse/start".into(),
            Form("kommune=4601&who=".into()),
            [303, 400, 400, 403, 403, 403],
        ),
        (
            "POST",
            "/leverandor/sandkasse/feil",
            "/leverandor/sandkasse/feil".into(),
            Form("faults=nope".into()),
            [303, 400, 400, 403, 403, 403],
        ),
        (
            "POST",
            "/leverandor/sandkasse/nullstill",
            "/leverandor/sandkasse/nullstill".into(),
            Form(String::new()),
            [303, 400, 400, 403, 403, 403],
        ),
        (
            "GET",
            "/leverandor/sandkasse/persontyper",
            "/leverandor/sandkasse/persontyper".into(),
            Get,
            [303, 200, 200, 403, 403, 403],
        ),
        (
            "GET",
            "/leverandor/sandkasse/utvekslinger",
            "/leverandor/sandkasse/utvekslinger".into(),
            Get,
            [303, 200, 200, 403, 403, 403],
        ),
        (
            "GET",
            "/leverandor/sandkasse/testdata.zip",
            "/leverandor/sandkasse/testdata.zip".into(),
            Get,
            [303, 200, 200, 403, 403, 403],
        ),
        // Vendor A's hosted sandbox: only A's people (and A's sandbox tokens) get in; everyone
        // else gets the same 401, another vendor included.
        (
            "ANY",
            "/sandkasse/{org}/{*rest}",
            format!("/sandkasse/{org_a}/4601/fhir/metadata"),
            Get,
            [401, 200, 401, 401, 401, 401],
        ),
    ];

    // Every route of the service has a row (logout is tested on its own below).
    let covered: Vec<(&str, &str)> = rows.iter().map(|r| (r.0, r.1)).collect();
    for route in sandkasse_markedsplass::http::api::ROUTES
        .iter()
        .chain(sandkasse_markedsplass::http::web::ROUTES)
        .chain(sandkasse_markedsplass::http::hosted::ROUTES)
    {
        let logout = route.1 == "/logg-ut" || (route.0 == "DELETE" && route.1 == "/api/v1/session");
        assert!(
            logout || covered.contains(route),
            "no authorisation row for {} {}",
            route.0,
            route.1
        );
    }

    let audit_before = market
        .state
        .audit
        .events_after(0, 10_000)
        .await
        .unwrap()
        .len();
    let mut wrong = Vec::new();
    for (method, route, path, send, expected) in &rows {
        for (i, client) in clients.iter().enumerate() {
            let (builder, body) = match send {
                Get => (Request::get(path.as_str()), Body::empty()),
                Json(v) => (
                    Request::post(path.as_str()).header(header::CONTENT_TYPE, "application/json"),
                    Body::from(v.to_string().replace("ROLE", &i.to_string())),
                ),
                // Forms carry the session's CSRF token like our pages do.
                Form(f) => (
                    Request::post(path.as_str())
                        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded"),
                    Body::from(format!(
                        "{}&csrf={}",
                        f.replace("ROLE", &i.to_string()),
                        client.csrf
                    )),
                ),
                Delete => (Request::delete(path.as_str()), Body::empty()),
                EmptyUpload => (
                    Request::post(path.as_str())
                        .header(header::CONTENT_TYPE, "multipart/form-data; boundary=b"),
                    Body::from(format!(
                        "--b\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{}\r\n--b--\r\n",
                        client.csrf
                    )),
                ),
            };
            let (status, body, _) = client.send(builder, body).await;
            if status.as_u16() != expected[i] {
                wrong.push(format!(
                    "{method} {route} as {}: {} (expected {}): {}",
                    ROLES[i],
                    status.as_u16(),
                    expected[i],
                    body.chars().take(160).collect::<String>()
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} cells wrong:\n{}",
        wrong.len(),
        rows.len() * ROLES.len(),
        wrong.join("\n")
    );
    // The answers to the declarations and their downloads: on the product page (and its JSON)
    // for vendor A and the project, for nobody else — whatever status the page itself answers.
    let (answer, download) = (
        "Vi oppfyller ERK-01.",
        format!("/api/v1/attachments/{attachment}"),
    );
    let mut shown = Vec::new();
    for (i, client) in clients.iter().enumerate() {
        let may = ROLES[i] != "anonymous" && ROLES[i] != "vendor B";
        for path in [
            format!("/produkter/{product}"),
            format!("/api/v1/products/{product}"),
        ] {
            let (status, body) = client.get(&path).await;
            let sees = (body.contains(answer), body.contains(&download));
            if sees != (may, may && path.starts_with("/produkter")) {
                shown.push(format!(
                    "GET {path} as {}: {status}, answer {}, download link {}",
                    ROLES[i], sees.0, sees.1
                ));
            }
        }
    }
    assert!(shown.is_empty(), "{}", shown.join("\n"));
    // Refused and invalid requests changed nothing (logins are recorded; nothing else).
    let after = market.state.audit.events_after(0, 10_000).await.unwrap();
    let changes: Vec<_> = after[audit_before..]
        .iter()
        .filter(|e| e.action != "session.login")
        .map(|e| e.action.clone())
        .collect();
    assert!(changes.is_empty(), "the matrix changed state: {changes:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csrf_and_cross_origin_requests_are_refused_and_tokens_need_no_csrf() {
    let market = Market::start().await;
    let mut rita = market.login(REVIEWER_1).await;
    let csrf = std::mem::take(&mut rita.csrf);
    // Session without the token.
    let (s, body) = rita
        .post_json("/api/v1/listings/1/suspend", json!({ "reason": "x" }))
        .await;
    assert_eq!(
        (s, body["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("csrf")),
        "{body}"
    );
    // With the token but from another site.
    rita.csrf = csrf;
    let request = Request::post("/api/v1/listings/1/suspend")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ORIGIN, "https://evil.example");
    let (s, body, _) = rita
        .send(request, Body::from(json!({ "reason": "x" }).to_string()))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.contains("cross_origin"), "{body}");
    // Logging in from another site is refused too (login CSRF).
    let request = Request::post("/api/v1/session")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ORIGIN, "https://evil.example");
    let (s, body, cookie) = market
        .anonymous()
        .send(
            request,
            Body::from(json!({ "username": VENDOR_A, "password": PASSWORD }).to_string()),
        )
        .await;
    assert!(
        s == StatusCode::BAD_REQUEST && body.contains("cross_origin") && cookie.is_empty(),
        "{s} {body}"
    );
    // With the token from our own pages: allowed (404: no such listing).
    let (s, _) = rita
        .post_json("/api/v1/listings/1/suspend", json!({ "reason": "x" }))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // An API token needs no CSRF token; a revoked or malformed one is a 401, never anonymous.
    let (record, token) = market
        .state
        .accounts
        .create_token("test", REVIEWER_1, "ci")
        .await
        .unwrap();
    let machine = Client {
        bearer: Some(token),
        cookie: None,
        csrf: String::new(),
        app: market.app.clone(),
    };
    assert_eq!(
        machine
            .post_json("/api/v1/listings/1/suspend", json!({ "reason": "x" }))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        machine.get_json("/api/v1/me").await.1["username"],
        REVIEWER_1
    );
    market
        .state
        .accounts
        .revoke_token("test", record.id)
        .await
        .unwrap();
    assert_eq!(
        machine.get("/api/v1/products").await.0,
        StatusCode::UNAUTHORIZED
    );
    let forged = Client {
        bearer: Some("sk_forged".into()),
        ..machine.clone()
    };
    assert_eq!(forged.get("/api/v1/me").await.0, StatusCode::UNAUTHORIZED);

    // Logout ends the session server-side: the old cookie no longer works.
    let kari = market.login(VENDOR_A).await;
    let (s, _, cleared) = kari
        .send(Request::delete("/api/v1/session"), Body::empty())
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert!(
        cleared.contains("Max-Age=0") && cleared.contains("HttpOnly"),
        "{cleared}"
    );
    assert_eq!(kari.get("/api/v1/me").await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_cookies_are_http_only_same_site_and_expire() {
    let market = Market::start_with(|c| c.session_hours = 1).await;
    let client = market.anonymous();
    let body = json!({ "username": VENDOR_A, "password": PASSWORD }).to_string();
    let (s, _, cookie) = client
        .send(
            Request::post("/api/v1/session").header(header::CONTENT_TYPE, "application/json"),
            body.into(),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=3600"] {
        assert!(cookie.contains(attribute), "{attribute} missing: {cookie}");
    }
    assert!(!cookie.contains("Secure"), "Secure only when configured");
    // Stored only as a hash, and dead after its hours.
    let id = cookie.split(';').next().unwrap().split_once('=').unwrap().1;
    let sha = sandkasse_markedsplass::accounts::token_sha256(id);
    let sessions = &market.state.stores.accounts;
    let now = jiff::Timestamp::now();
    assert!(
        sessions.session(id, now).await.unwrap().is_none(),
        "the raw id is not a key"
    );
    assert!(sessions.session(&sha, now).await.unwrap().is_some());
    let later = now
        .checked_add(jiff::SignedDuration::from_mins(61))
        .unwrap();
    assert!(
        sessions.session(&sha, later).await.unwrap().is_none(),
        "expired after session_hours"
    );
    let secure = Market::start_with(|c| c.secure_cookies = true).await;
    let (_, _, cookie) = secure
        .anonymous()
        .send(
            Request::post("/api/v1/session").header(header::CONTENT_TYPE, "application/json"),
            json!({ "username": VENDOR_A, "password": PASSWORD })
                .to_string()
                .into(),
        )
        .await;
    assert!(cookie.contains("; Secure"), "{cookie}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_wrong_passwords_make_the_username_wait_longer_each_time() {
    let clock =
        sandkasse_markedsplass::clock::Clock::manual("2026-11-20T10:00:00Z".parse().unwrap());
    let market = Market::start_with_clock(|_| {}, clock.clone()).await;
    let anon = market.anonymous();
    let login = |password: &str| json!({ "username": VENDOR_A, "password": password });
    let free = market.state.config.limits.login_free_failures_per_username;
    for _ in 0..free {
        assert_eq!(
            anon.post_json("/api/v1/session", login("gjetter feil passord"))
                .await
                .0,
            StatusCode::UNAUTHORIZED
        );
    }
    // Waiting: even the right password is refused, with the time to wait; another user is not
    // affected.
    let (s, body) = anon.post_json("/api/v1/session", login(PASSWORD)).await;
    assert_eq!(
        (s, body["error"]["code"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("too_many_requests")),
        "{body}"
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("prøv igjen om 1 s"),
        "{body}"
    );
    let (s, _) = anon
        .post_json(
            "/api/v1/session",
            json!({ "username": VENDOR_B, "password": PASSWORD }),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    // The login page says the same.
    let form = Request::post("/logg-inn")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    let (s, page, _) = anon
        .send(form, Body::from(format!("username={VENDOR_A}&password=x")))
        .await;
    assert!(
        s == StatusCode::TOO_MANY_REQUESTS && page.contains("id=\"login-error\""),
        "{s}"
    );
    // After the wait, one more wrong password doubles it.
    clock.advance(jiff::SignedDuration::from_secs(1));
    assert_eq!(
        anon.post_json("/api/v1/session", login("feil igjen"))
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
    let (s, body) = anon.post_json("/api/v1/session", login(PASSWORD)).await;
    assert!(
        s == StatusCode::TOO_MANY_REQUESTS
            && body["error"]["message"].as_str().unwrap().contains("2 s"),
        "{body}"
    );
    // After that wait, the right password works and clears the count.
    clock.advance(jiff::SignedDuration::from_secs(2));
    assert_eq!(
        anon.post_json("/api/v1/session", login(PASSWORD)).await.0,
        StatusCode::OK
    );
    assert_eq!(
        anon.post_json("/api/v1/session", login("en feil")).await.0,
        StatusCode::UNAUTHORIZED,
        "counted from one again"
    );
}

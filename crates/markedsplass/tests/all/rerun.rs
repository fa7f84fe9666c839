//! Testing a version again: on the current suite, or one scenario only — which never counts.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::json;

use crate::market::{Market, VENDOR_A, VENDOR_B};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_of_one_scenario_runs_only_it_and_never_counts_for_a_listing() {
    let market = Market::start().await;
    let kari = market.login(VENDOR_A).await;
    let (product, submission, whole) = market
        .tested(&kari, "Journal Nord", "1.0.0", "reference")
        .await;

    // Only one scenario, through the API.
    let (s, body) = kari
        .post_json(
            &format!("/api/v1/runs/{whole}/reruns"),
            json!({ "scenario": "overview-basic" }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    assert_eq!(body["run"]["scenario"], "overview-basic");
    assert_eq!(body["run"]["submission_id"], submission);
    let partial = body["run"]["id"].as_i64().unwrap();
    // A second one while the first waits or runs is refused.
    let (s, again) = kari
        .post_json(&format!("/api/v1/runs/{whole}/reruns"), json!({}))
        .await;
    assert_eq!(
        (s, again["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("refused")),
        "{again}"
    );
    kari.follow(partial).await;
    let (_, report) = kari
        .get_json(&format!("/api/v1/runs/{partial}/report.json"))
        .await;
    let ran: Vec<&str> = report["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| !s["calls"].as_array().unwrap().is_empty())
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ran, ["overview-basic"], "only the chosen scenario ran");
    let (_, page) = kari.get(&format!("/kjoringer/{partial}")).await;
    assert!(
        page.contains("id=\"partial-run\""),
        "the page says it is partial"
    );
    assert!(
        !page.contains("id=\"request-listing\""),
        "a partial run offers no listing"
    );

    // The listing request and the dashboard use the whole run, not the newer partial one.
    let (s, case) = kari
        .post_json(
            &format!("/api/v1/products/{product}/listing-requests"),
            json!({ "submission_id": submission, "declarations": crate::market::declarations() }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{case}");
    assert_eq!(
        case["case"]["run_id"], whole,
        "the case is about the whole run"
    );
    let (_, products) = kari.get_json("/api/v1/products").await;
    let latest = &products["products"][0]["latest_run"]["id"];
    assert_eq!(*latest, json!(whole), "{products}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_version_is_tested_again_from_the_run_page_by_its_vendor_only() {
    let market = Market::start().await;
    let kari = market.login(VENDOR_A).await;
    let (_, submission, first) = market
        .tested(&kari, "Uten token", "1.0.0", "flawed_drops_token")
        .await;
    let (_, page) = kari.get(&format!("/kjoringer/{first}")).await;
    assert!(page.contains("id=\"rerun-all\"") && page.contains("id=\"rerun-scenario\""));
    let (_, report) = kari
        .get_json(&format!("/api/v1/runs/{first}/report.json"))
        .await;
    let focus = report["vilkar"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|v| v["checks"].as_array().unwrap())
        .find(|c| c["outcome"] == "fail" || c["outcome"] == "error")
        .and_then(|c| c["scenario"].as_str())
        .unwrap()
        .to_owned();
    assert!(
        page.contains(&format!("<option value=\"{focus}\" selected>")),
        "the scenario of the first failed check, {focus}, is chosen"
    );
    assert_eq!(page.matches(" selected>").count(), 1);
    let form = |body: String| {
        (
            Request::post(format!("/kjoringer/{first}/ny"))
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded"),
            Body::from(body),
        )
    };
    // Another organisation's vendor: not found; an unknown scenario: refused, nothing queued.
    let ola = market.login(VENDOR_B).await;
    let (request, body) = form(format!("csrf={}", ola.csrf));
    assert_eq!(ola.send(request, body).await.0, StatusCode::NOT_FOUND);
    let (request, body) = form(format!("scenario=nope&csrf={}", kari.csrf));
    assert_eq!(kari.send(request, body).await.0, StatusCode::BAD_REQUEST);
    // Every scenario again.
    let (request, body) = form(format!("scenario=&csrf={}", kari.csrf));
    let (s, _, _) = kari.send(request, body).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, runs) = kari
        .get_json(&format!("/api/v1/submissions/{submission}"))
        .await;
    let ids: Vec<i64> = runs["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids.len(), 2, "{runs}");
    let second = *ids.iter().max().unwrap();
    kari.follow(second).await;
    let (_, run) = kari.get_json(&format!("/api/v1/runs/{second}")).await;
    assert_eq!(run["scenario"], serde_json::Value::Null, "every scenario");
    assert_eq!(
        run["verdict"], "ikke-godkjent",
        "the same verdict as before"
    );
}

//! A listing's status, the same everywhere: the catalogue badge says it for each state (listed, at
//! risk, suspended, delisted) with sane cache headers, and the catalogue, the product page, the
//! run page, the vendor's dashboard and the API show the status the one function decides — the
//! dashboard with the listing apart from the newest upload.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use sandkasse_markedsplass::store::RiskChange;
use serde_json::json;

use crate::market::*;

/// The badge's message text and its response headers.
async fn badge(client: &Client, product: i64) -> (StatusCode, String, axum::http::HeaderMap) {
    let response = tower::ServiceExt::oneshot(
        client.app.clone(),
        Request::get(format!("/api/v1/catalogue/{product}/badge.svg"))
            .header(header::HOST, "markedsplass.test")
            .body(Body::empty())
            .unwrap(),
    )
    .await
    .unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    let bytes = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    let svg = String::from_utf8_lossy(&bytes).into_owned();
    // The second <text> is the message.
    let message = svg
        .split("<text ")
        .nth(2)
        .and_then(|t| t.split('>').nth(1))
        .and_then(|t| t.split('<').next())
        .unwrap_or_default()
        .to_owned();
    (status, message, headers)
}

/// The `data-status` of the first element with it after `marker` in `html`.
fn status_after(html: &str, marker: &str) -> String {
    let from = html
        .find(marker)
        .unwrap_or_else(|| panic!("no {marker} in the page"));
    html[from..]
        .split("data-status=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_listing_state_is_said_the_same_by_the_badge_and_every_page() {
    let market = Market::start().await;
    let kari = market.login(VENDOR_A).await;
    let rita = market.login(REVIEWER_1).await;
    let anon = market.anonymous();
    let (product, listed, _) = market
        .tested(&kari, "Journal Nord", "1.0.0", "reference")
        .await;
    assert_eq!(
        badge(&anon, product).await.0,
        StatusCode::NOT_FOUND,
        "never listed: no badge"
    );
    market.list(&kari, product, listed).await;
    // A newer upload that fails: the vendor's work, not the listing.
    let (_, _, flawed_run) = market
        .tested(&kari, "Journal Nord", "1.2.0-rc1", "flawed_drops_token")
        .await;

    // Listed: status and verdict on the badge, revalidated cheaply.
    let (s, message, headers) = badge(&anon, product).await;
    assert_eq!(
        (s, message.as_str()),
        (StatusCode::OK, "oppført · godkjent 100 %")
    );
    assert_eq!(headers[header::CACHE_CONTROL], "no-cache");
    assert_eq!(headers[header::CONTENT_TYPE], "image/svg+xml");
    let etag = headers[header::ETAG].to_str().unwrap().to_owned();
    let (s, body, _) = anon
        .send(
            Request::get(format!("/api/v1/catalogue/{product}/badge.svg"))
                .header(header::IF_NONE_MATCH, &etag),
            Body::empty(),
        )
        .await;
    assert_eq!((s, body.as_str()), (StatusCode::NOT_MODIFIED, ""));

    // The dashboard keeps the listing and the newest upload apart.
    let (_, dashboard) = kari.get("/leverandor").await;
    let row = &dashboard[dashboard
        .find(&format!("data-product-id=\"{product}\""))
        .unwrap()..];
    let row = &row[..row.find("</tr>").unwrap()];
    let cell = |class: &str| {
        let from = row.find(&format!("class=\"{class}\"")).unwrap();
        row[from..row[from..].find("</td>").unwrap() + from].to_owned()
    };
    assert!(row.contains("data-status=\"listed\""), "{row}");
    assert!(
        cell("listing").contains("oppført") && cell("listing").contains("1.0.0"),
        "{row}"
    );
    assert!(
        !cell("listing").contains("ikke godkjent"),
        "the listing cell says nothing of the upload: {row}"
    );
    assert!(
        cell("upload").contains("1.2.0-rc1")
            && cell("upload").contains("ikke godkjent")
            && cell("upload").contains(&format!("/kjoringer/{flawed_run}")),
        "{row}"
    );
    assert!(cell("review").contains("godkjent for oppføring"), "{row}");
    // The run page of the new upload says the listing is another version's.
    let (_, run_page) = kari.get(&format!("/kjoringer/{flawed_run}")).await;
    assert_eq!(status_after(&run_page, "id=\"run-listing\""), "listed");
    assert!(
        run_page.contains("(en annen versjon)"),
        "the listing is not this run's"
    );
    let (_, products) = kari.get_json("/api/v1/products").await;
    let summary = &products["products"][0];
    assert_eq!(
        (
            summary["status"].as_str(),
            summary["listed_version"].as_str(),
            summary["latest_submission"]["version"].as_str(),
            summary["latest_case"]["state"].as_str(),
        ),
        (
            Some("listed"),
            Some("1.0.0"),
            Some("1.2.0-rc1"),
            Some("approved")
        ),
        "{summary}"
    );

    // At risk (a nightly run failed): amber, the verdict of the listed version's last run.
    market
        .state
        .stores
        .nightly
        .change_risk(
            product,
            RiskChange::AtRisk { run_id: flawed_run },
            None,
            jiff::Timestamp::now(),
            Box::new(|_| Vec::new()),
        )
        .await
        .unwrap();
    assert_eq!(
        badge(&anon, product).await.1,
        "i faresonen · godkjent 100 %"
    );
    let (_, catalogue) = anon.get("/").await;
    assert_eq!(
        status_after(&catalogue, &format!("data-product-id=\"{product}\"")),
        "at_risk"
    );
    assert!(
        catalogue.contains(">i faresonen</span>"),
        "the status is worded"
    );
    let (_, page) = anon.get(&format!("/produkter/{product}")).await;
    assert_eq!(status_after(&page, "id=\"listing-status\""), "at_risk");
    assert_eq!(
        anon.get_json("/api/v1/catalogue").await.1["entries"][0]["status"],
        "at_risk"
    );

    // Suspended: the badge no longer speaks of godkjent.
    let (s, _) = rita
        .post_json(
            &format!("/api/v1/listings/{product}/suspend"),
            json!({ "reason": "SIK-01 feiler i natt." }),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (_, message, headers) = badge(&anon, product).await;
    assert_eq!(message, "suspendert");
    assert_ne!(
        headers[header::ETAG].to_str().unwrap(),
        etag,
        "a new state, a new ETag"
    );
    let (_, all) = anon.get_json("/api/v1/catalogue?state=all").await;
    assert_eq!(all["entries"][0]["status"], "suspended");
    let (_, page) = anon.get(&format!("/produkter/{product}?lang=en")).await;
    assert_eq!(status_after(&page, "id=\"listing-status\""), "suspended");
    assert!(
        page.contains(">suspended</span> – SIK-01 feiler i natt."),
        "the reason follows the status"
    );
    let (_, product_json) = kari.get_json(&format!("/api/v1/products/{product}")).await;
    assert_eq!(product_json["status"], "suspended");

    // Delisted: grey, public as a badge only.
    let (s, _) = rita
        .post_json(
            &format!("/api/v1/listings/{product}/delist"),
            json!({ "reason": "Trukket av leverandøren." }),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, message, _) = badge(&anon, product).await;
    assert_eq!((s, message.as_str()), (StatusCode::OK, "fjernet"));
    assert_eq!(
        anon.get(&format!("/produkter/{product}")).await.0,
        StatusCode::NOT_FOUND
    );
    let (_, dashboard) = kari.get("/leverandor").await;
    assert_eq!(
        status_after(&dashboard, &format!("data-product-id=\"{product}\"")),
        "delisted"
    );
}

//! Where the CSRF token of a session-authenticated, state-changing request may travel, and what a
//! refused one answers: the `X-CSRF-Token` header or the JSON body's `csrf` field for the API, the
//! form's `csrf` field for the pages; a stale decision form shows the case again with its note, a
//! stale upload form shows the form again with its fields.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::json;

use crate::market::*;

const STALE: &str = "Skjemaet er utløpt eller kom ikke fra sandkasse";

/// A form POST, with `csrf` as a field when given (the client sends no header).
async fn post_form(client: &Client, path: &str, form: &str) -> (StatusCode, String) {
    let request =
        Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    let (s, b, _) = client.send(request, Body::from(form.to_owned())).await;
    (s, b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_takes_the_header_else_the_body_field() {
    let market = Market::start().await;
    let mut rita = market.login(REVIEWER_1).await;
    let token = std::mem::take(&mut rita.csrf);
    // In the body, without the header: admitted (404: no such listing).
    let (s, body) = rita
        .post_json(
            "/api/v1/listings/1/suspend",
            json!({ "reason": "x", "csrf": token }),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{body}");
    // A wrong one in the body.
    let (s, body) = rita
        .post_json(
            "/api/v1/listings/1/suspend",
            json!({ "reason": "x", "csrf": "feil" }),
        )
        .await;
    assert_eq!(
        (s, body["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("csrf")),
        "{body}"
    );
    // The header wins when both are there.
    rita.csrf = "feil".into();
    let (s, body) = rita
        .post_json(
            "/api/v1/listings/1/suspend",
            json!({ "reason": "x", "csrf": token }),
        )
        .await;
    assert_eq!(
        (s, body["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("csrf")),
        "{body}"
    );
    // A token field that is not text is a malformed body.
    rita.csrf = token.clone();
    let (s, body) = rita
        .post_json(
            "/api/v1/listings/1/suspend",
            json!({ "reason": "x", "csrf": 5 }),
        )
        .await;
    assert_eq!(
        (s, body["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_input")),
        "{body}"
    );
    // Logout takes the header only.
    rita.csrf.clear();
    let request = Request::delete("/api/v1/session");
    let (s, body, _) = rita.send(request, Body::empty()).await;
    assert!(
        s == StatusCode::BAD_REQUEST && body.contains("\"csrf\""),
        "{s} {body}"
    );
    rita.csrf = token;
    let (s, _, cookie) = rita
        .send(Request::delete("/api/v1/session"), Body::empty())
        .await;
    assert!(
        s == StatusCode::NO_CONTENT && cookie.contains("Max-Age=0"),
        "{s}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_take_the_form_field_and_a_stale_form_keeps_what_was_typed() {
    let market = Market::start().await;
    let kari = market.login(VENDOR_A).await;
    let (product, submission, _) = market
        .tested(&kari, "Journal Nord", "1.0.0", "reference")
        .await;
    let (s, case) = kari
        .post_json(
            &format!("/api/v1/products/{product}/listing-requests"),
            json!({ "submission_id": submission, "declarations": declarations() }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{case}");
    let case = case["case"]["id"].as_i64().unwrap();

    // A page form is read for its field, never the header.
    let mut rita = market.login(REVIEWER_1).await;
    let token = std::mem::take(&mut rita.csrf);
    let (s, page) = post_form(
        &rita,
        &format!("/produkter/{product}/oppforing/suspend"),
        "reason=x",
    )
    .await;
    assert!(
        s == StatusCode::BAD_REQUEST && page.contains(STALE) && page.contains("<html"),
        "{s} {page}"
    );
    let mut with_header = rita.clone();
    with_header.csrf = token.clone();
    let (s, page) = post_form(
        &with_header,
        &format!("/produkter/{product}/oppforing/suspend"),
        "reason=x",
    )
    .await;
    assert!(s == StatusCode::BAD_REQUEST && page.contains(STALE), "{s}");

    // A stale decision form: the case again, with the reason and the note kept; nothing decided.
    let (s, page) = post_form(
        &rita,
        &format!("/vurdering/{case}"),
        "decision=approve&note=Min+begrunnelse&csrf=gammel",
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{page}");
    assert!(
        page.contains("id=\"decision-error\"")
            && page.contains(STALE)
            && page.contains(">Min begrunnelse</textarea>"),
        "{page}"
    );
    // Who may not decide learns that first, token or not.
    let mut admin = market.login(ADMIN).await;
    admin.csrf.clear();
    let (s, _) = post_form(
        &admin,
        &format!("/vurdering/{case}"),
        "decision=approve&note=x&csrf=gammel",
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // With the token, the decision is recorded.
    let (s, _) = post_form(
        &rita,
        &format!("/vurdering/{case}"),
        &format!(
            "decision=approve&note=Min+begrunnelse&confirm=ja&csrf={token}&{}",
            ["ERK-01", "ERK-02", "ERK-03", "ERK-04", "ERK-05"]
                .map(|id| format!("verdict_{id}=accept&comment_{id}="))
                .join("&")
        ),
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);

    // A stale upload form: the form again with its fields; nothing stored.
    let mut kari = kari;
    kari.csrf.clear();
    let boundary = "csrf-test-boundary";
    let mut body = Vec::new();
    for (name, value) in [
        ("csrf", "gammel"),
        ("product", "Mobil Nord"),
        ("version", "2.0.0"),
    ] {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"component\"; filename=\"a.wasm\"\r\n\r\n")
            .as_bytes(),
    );
    body.extend_from_slice(&plugin("reference"));
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let request = Request::post("/leverandor/last-opp").header(
        header::CONTENT_TYPE,
        format!("multipart/form-data; boundary={boundary}"),
    );
    let (s, page, _) = kari.send(request, Body::from(body)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{page}");
    assert!(
        page.contains("id=\"upload-form\"") && page.contains(STALE) && page.contains("Mobil Nord"),
        "{page}"
    );
    let (_, products) = kari.get_json("/api/v1/products").await;
    assert_eq!(
        products["products"].as_array().map(Vec::len),
        Some(1),
        "only the first product: {products}"
    );
}

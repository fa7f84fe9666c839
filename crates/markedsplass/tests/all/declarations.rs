//! Declarations (egenerklæringer) in a listing request: required ones answered before a case
//! opens, attachments only for the vendor and the project, a verdict on each with the decision,
//! approval only with every one accepted, and the catalogue naming them without the answers.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::market::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declarations_are_answered_reviewed_and_shown_by_id_only() {
    let market = Market::start().await;
    let kari = market.login(VENDOR_A).await;
    let (product, submission, _) = market
        .tested(&kari, "Journal Nord", "1.0.0", "reference")
        .await;
    let path = format!("/api/v1/products/{product}/listing-requests");

    // A required declaration left out: refused, named, in the request's language; no case.
    let mut missing = declarations();
    missing.as_array_mut().unwrap().remove(1);
    let (s, body) = kari
        .post_json(
            &path,
            json!({ "submission_id": submission, "declarations": missing }),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("ERK-02") && message.contains("må besvares"),
        "{message}"
    );
    // An attachment whose content is not its type: refused.
    let mut lying = declarations();
    lying[0]["attachments"][0]["content_type"] = json!("image/png");
    let (s, body) = kari
        .post_json(
            &path,
            json!({ "submission_id": submission, "declarations": lying }),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");

    let (s, case) = kari
        .post_json(
            &path,
            json!({ "submission_id": submission, "declarations": declarations() }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{case}");
    let case_id = case["case"]["id"].as_i64().unwrap();
    let erk01 = &case["case"]["declarations"][0];
    assert_eq!(erk01["declaration_id"], "ERK-01");
    assert_eq!(erk01["answer"], "Vi oppfyller ERK-01.");
    let attachment = erk01["attachments"][0]["id"].as_i64().unwrap();

    // The attachment: the vendor and the project download it; vendor B and the public cannot.
    let url = format!("/api/v1/attachments/{attachment}");
    let (s, headers, bytes) = kari.get_bytes(&url).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(bytes, b"%PDF-1.4 syntetisk dokumentasjon");
    assert_eq!(headers["content-type"], "application/pdf");
    assert!(
        headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment;")
    );
    let rita = market.login(REVIEWER_1).await;
    assert_eq!(rita.get_bytes(&url).await.0, StatusCode::OK);
    let ola = market.login(VENDOR_B).await;
    assert_eq!(ola.get_bytes(&url).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        market.anonymous().get_bytes(&url).await.0,
        StatusCode::UNAUTHORIZED
    );
    let (s, _) = ola.get(&format!("/api/v1/cases/{case_id}")).await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // The case page shows the answers to the reviewer.
    let (s, html) = rita.get(&format!("/vurdering/{case_id}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains("Vi oppfyller ERK-03.") && html.contains(&url),
        "{html}"
    );

    // Approving without a verdict on each, or with one rejected, is refused; nothing is decided.
    let decide = |who: &Client, body: Value| {
        let who = who.clone();
        async move {
            who.post_json(&format!("/api/v1/cases/{case_id}/decisions"), body)
                .await
        }
    };
    let (s, body) = decide(&rita, json!({ "decision": "approve", "note": "ok" })).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("ERK-01"),
        "{body}"
    );
    let mut one_rejected = accept_all();
    one_rejected[1] = json!({ "id": "ERK-02", "verdict": "reject", "comment": "Mangler liste over underdatabehandlere" });
    let (s, body) = decide(
        &rita,
        json!({ "decision": "approve", "note": "ok", "declarations": one_rejected.clone() }),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("ERK-02"),
        "{body}"
    );
    let mut no_comment = one_rejected.clone();
    no_comment[1]["comment"] = json!("");
    let (s, _) = decide(
        &rita,
        json!({ "decision": "reject", "note": "nei", "declarations": no_comment }),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    // Rita rejects with ERK-02 rejected, rune approves with all accepted: escalated; the
    // beslutningsgruppe cannot approve while rejecting ERK-02 either.
    let (s, d) = decide(
        &rita,
        json!({ "decision": "reject", "note": "nei", "declarations": one_rejected.clone() }),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{d}");
    let rune = market.login(REVIEWER_2).await;
    let (s, d) = decide(
        &rune,
        json!({ "decision": "approve", "note": "ja", "declarations": accept_all() }),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{d}");
    assert_eq!(d["case"]["state"], "escalated");
    let verdicts = &d["case"]["declarations"][1]["verdicts"];
    assert_eq!(verdicts.as_array().unwrap().len(), 2, "{verdicts}");
    let berit = market.login(BESLUTNING).await;
    let (s, _) = decide(
        &berit,
        json!({ "decision": "approve", "note": "ja", "declarations": one_rejected }),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, d) = decide(
        &berit,
        json!({ "decision": "approve", "note": "Listen er ettersendt", "declarations": accept_all() }),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{d}");
    assert_eq!(d["case"]["state"], "approved");

    // The audit trail has each verdict with its comment.
    let admin = market.login(ADMIN).await;
    let (_, trail) = admin.get_json("/api/v1/audit?action=review.decide").await;
    let text = trail.to_string();
    assert!(
        text.contains("Mangler liste over underdatabehandlere"),
        "{text}"
    );

    // The catalogue names the declarations, never the answers or the attachments.
    let anon = market.anonymous();
    let (_, catalogue) = anon.get_json("/api/v1/catalogue").await;
    assert_eq!(
        catalogue["entries"][0]["declarations"],
        json!(["ERK-01", "ERK-02", "ERK-03", "ERK-04", "ERK-05"])
    );
    let (_, page) = anon.get("/").await;
    assert!(page.contains("data-declaration=\"ERK-04\""), "{page}");
    assert!(!page.contains("Vi oppfyller"), "{page}");
    let (_, product_page) = anon.get(&format!("/produkter/{product}")).await;
    assert!(
        product_page.contains("Universell utforming"),
        "{product_page}"
    );
    assert!(
        !product_page.contains("Vi oppfyller") && !product_page.contains("/api/v1/attachments/")
    );
}

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

/// Asserts that `html` contains every one of `needles`.
fn shows(html: &str, needles: &[&str]) {
    for n in needles {
        assert!(html.contains(n), "no {n:?} in {html}");
    }
}

/// The run page's multipart listing form: csrf, submission, confirmation, `answers` as typed and
/// `files` as (declaration, file name, media type, content).
fn listing_form<'a>(
    csrf: &'a str,
    submission: &'a str,
    answers: &'a [(String, String)],
    files: &'a [(String, &'a str, &'a str, &'a [u8])],
) -> Vec<Part<'a>> {
    let mut parts = vec![
        Part::text("csrf", csrf),
        Part::text("submission_id", submission),
        Part::text("confirm", "ja"),
    ];
    parts.extend(answers.iter().map(|(n, v)| Part::text(n, v)));
    parts.extend(files.iter().map(|(n, f, t, b)| Part::file(n, f, t, b)));
    parts
}

/// A refused web listing request is the run page's form again — in the page's language, with the
/// answers as typed, the reason beside the field it is about and the status of the refusal (400
/// for an answer missing, 415 for a file of a type not taken, 413 for one too large); once right,
/// the case opens and the vendor reads its own answers and downloads its own files on the product
/// page, which another vendor cannot.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_listing_form_comes_back_as_typed_with_the_reason_at_its_field() {
    let market = Market::start_with(|c| c.declarations.max_attachment_bytes = 64).await;
    let kari = market.login(VENDOR_A).await;
    let (product, submission, _) = market
        .tested(&kari, "Journal Nord", "1.0.0", "reference")
        .await;
    let path = format!("/produkter/{product}/oppforing");
    let submission = submission.to_string();
    let answer = |id: &str| {
        (
            format!("answer_{id}"),
            format!("Svar om {id} fra Leverandør A."),
        )
    };
    let pdf: &[u8] = b"%PDF-1.4 syntetisk";
    let file = |id: &str| {
        (
            format!("file_{id}"),
            "dokumentasjon.pdf",
            "application/pdf",
            pdf,
        )
    };
    let all_files = [file("ERK-01"), file("ERK-02"), file("ERK-04")];
    let ids = ["ERK-01", "ERK-02", "ERK-03", "ERK-04", "ERK-05"];

    // ERK-03 left blank, in English: 400, the form again with the others' answers, the reason
    // beside ERK-03's answer, the files to be chosen again.
    let answers: Vec<_> = ids
        .iter()
        .filter(|id| **id != "ERK-03")
        .map(|id| answer(id))
        .collect();
    let (s, html) = kari
        .post_multipart(
            &format!("{path}?lang=en"),
            &listing_form(&kari.csrf, &submission, &answers, &all_files),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{html}");
    shows(
        &html,
        &[
            "id=\"listing-form\"",
            "id=\"answer-ERK-03-error\"",
            "aria-describedby=\"answer-ERK-03-error\"",
            ">Svar om ERK-05 fra Leverandør A.</textarea>",
            "Declaration ERK-03 must be answered",
        ],
    );
    assert!(
        !html.contains("må besvares"),
        "one language per page: {html}"
    );
    assert!(html.contains("choose the attachments again"), "{html}");

    // A file of a type not taken beside ERK-02's file field: 415, in bokmål.
    let all: Vec<_> = ids.iter().map(|id| answer(id)).collect();
    let exe = [
        file("ERK-01"),
        (
            "file_ERK-02".to_owned(),
            "avtale.exe",
            "application/x-msdownload",
            b"MZ".as_slice(),
        ),
        file("ERK-04"),
    ];
    let (s, html) = kari
        .post_multipart(&path, &listing_form(&kari.csrf, &submission, &all, &exe))
        .await;
    assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{html}");
    shows(
        &html,
        &[
            "id=\"file-ERK-02-error\"",
            "avtale.exe",
            ">Svar om ERK-01 fra Leverandør A.</textarea>",
        ],
    );

    // Over the configured size (64 bytes here): 413 beside ERK-04's file field.
    let big = [0x25_u8; 100];
    let mut large = big.to_vec();
    large[..5].copy_from_slice(b"%PDF-");
    let too_large = [
        file("ERK-01"),
        file("ERK-02"),
        (
            "file_ERK-04".to_owned(),
            "wcag.pdf",
            "application/pdf",
            large.as_slice(),
        ),
    ];
    let (s, html) = kari
        .post_multipart(
            &path,
            &listing_form(&kari.csrf, &submission, &all, &too_large),
        )
        .await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{html}");
    assert!(html.contains("id=\"file-ERK-04-error\""), "{html}");
    // Nothing was requested by any of them.
    assert!(
        market
            .state
            .stores
            .market
            .cases(&[], Some(product))
            .await
            .unwrap()
            .is_empty()
    );

    // Right: the case opens; the product page shows kari her answers and her files.
    let (s, _) = kari
        .post_multipart(
            &path,
            &listing_form(&kari.csrf, &submission, &all, &all_files),
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (s, page) = kari.get(&format!("/produkter/{product}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("Svar om ERK-02 fra Leverandør A."), "{page}");
    assert!(page.contains("Egenerklæringene dere sendte"), "{page}");
    let case = &market
        .state
        .stores
        .market
        .cases(&[], Some(product))
        .await
        .unwrap()[0];
    let attachment = case.declarations[0].attachments[0].id;
    let url = format!("/api/v1/attachments/{attachment}");
    assert!(page.contains(&url), "{page}");
    let (s, _, bytes) = kari.get_bytes(&url).await;
    assert_eq!((s, bytes.as_slice()), (StatusCode::OK, pdf));

    // A reviewer's decision refused (approval with ERK-02 rejected) is the case page again with
    // the note, each verdict and each comment as chosen.
    let rita = market.login(REVIEWER_1).await;
    let fields: Vec<String> = ids
        .iter()
        .map(|id| match *id {
            "ERK-02" => format!("verdict_{id}=reject&comment_{id}=Mangler+underleverand%C3%B8rer"),
            _ => format!("verdict_{id}=accept&comment_{id}="),
        })
        .collect();
    let body = format!(
        "decision=approve&note=Min+vurdering&confirm=ja&csrf={}&{}",
        rita.csrf,
        fields.join("&")
    );
    let request = axum::http::Request::post(format!("/vurdering/{}", case.id)).header(
        axum::http::header::CONTENT_TYPE,
        "application/x-www-form-urlencoded",
    );
    let (s, html, _) = rita.send(request, body.into()).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{html}");
    assert!(html.contains("id=\"decision-error\""), "{html}");
    assert!(
        html.contains("value=\"reject\" checked")
            && html.contains("value=\"accept\" required checked"),
        "{html}"
    );
    shows(
        &html,
        &[
            ">Mangler underleverandører</textarea>",
            ">Min vurdering</textarea>",
        ],
    );

    // Vendor B: the product page is not found while unlisted; once listed, the public page has
    // no answers and no attachments; the download is not found.
    let ola = market.login(VENDOR_B).await;
    assert_eq!(
        ola.get(&format!("/produkter/{product}")).await.0,
        StatusCode::NOT_FOUND
    );
    market.approve(case.id).await;
    let (s, page) = ola.get(&format!("/produkter/{product}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        !page.contains("Svar om") && !page.contains("/api/v1/attachments/"),
        "{page}"
    );
    let (_, api) = ola.get_json(&format!("/api/v1/products/{product}")).await;
    assert!(!api.to_string().contains("Svar om"), "{api}");
    assert_eq!(ola.get_bytes(&url).await.0, StatusCode::NOT_FOUND);
}

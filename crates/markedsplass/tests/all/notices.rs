//! Vendors hear of what the project decides: a listing request approved or rejected (with the
//! note), a listing suspended, reinstated or delisted (with the reason) — on the dashboard, in the
//! API, and by the signed webhook, at once; another vendor hears nothing of it.

use std::time::Duration;

use axum::http::StatusCode;
use sandkasse_markedsplass::nightly::sign_webhook;
use serde_json::{Value, json};

use crate::market::*;
use crate::nightly::{Received, SECRET, receiver};

/// Waits until the webhook has received `n` bodies; returns them, parsed.
async fn hooks(received: &Received, n: usize) -> Vec<Value> {
    for _ in 0..100 {
        let got = received.lock().unwrap().clone();
        if got.len() >= n {
            for (timestamp, signature, body) in &got {
                assert_eq!(signature, &sign_webhook(SECRET, timestamp, body));
            }
            return got
                .iter()
                .map(|(_, _, b)| serde_json::from_str(b).unwrap())
                .collect();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "the webhook got {} of {n} deliveries",
        received.lock().unwrap().len()
    );
}

async fn decide(market: &Market, who: &str, case: i64, decision: &str, note: &str) {
    let (s, body) = market
        .login(who)
        .await
        .post_json(
            &format!("/api/v1/cases/{case}/decisions"),
            json!({ "decision": decision, "note": note, "declarations": accept_all() }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
}

fn kinds(notes: &Value) -> Vec<&str> {
    notes["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decisions_and_listing_changes_reach_the_vendor_in_the_ui_the_api_and_the_webhook() {
    let (hook, received) = receiver().await;
    let market = Market::start_with(|c| {
        c.nightly.webhook_url = Some(hook.clone());
        c.nightly.webhook_secret = Some(SECRET.into());
    })
    .await;
    let kari = market.login(VENDOR_A).await;
    let (product, submission, run) = market
        .tested(&kari, "Journal Nord", "1.0.0", "reference")
        .await;
    // The reviewers disagree: escalated, which is not yet a decision for the vendor.
    let first = kari.request_listing(product, submission).await;
    decide(&market, REVIEWER_1, first, "approve", "Ser bra ut.").await;
    decide(&market, REVIEWER_2, first, "reject", "Mangler logging.").await;
    assert!(kinds(&kari.get_json("/api/v1/notifications").await.1).is_empty());
    // The beslutningsgruppe rejects: the vendor is told, with the note.
    decide(
        &market,
        BESLUTNING,
        first,
        "reject",
        "Revisjonslogg mangler for skrivinger.",
    )
    .await;
    let (_, notes) = kari.get_json("/api/v1/notifications").await;
    let rejected = &notes["notifications"][0];
    assert_eq!(
        (
            rejected["kind"].as_str(),
            rejected["case_id"].as_i64(),
            rejected["run_id"].as_i64(),
            rejected["version"].as_str(),
            rejected["note"].as_str(),
        ),
        (
            Some("rejected"),
            Some(first),
            Some(run),
            Some("1.0.0"),
            Some("Revisjonslogg mangler for skrivinger.")
        ),
        "{notes}"
    );
    let delivered = hooks(&received, 1).await;
    assert_eq!(
        (
            delivered[0]["kind"].as_str(),
            delivered[0]["product_id"].as_i64(),
            delivered[0]["case_id"].as_i64(),
            delivered[0]["note"].as_str(),
            delivered[0]["vendor"].as_str(),
        ),
        (
            Some("rejected"),
            Some(product),
            Some(first),
            Some("Revisjonslogg mangler for skrivinger."),
            Some("Leverandør A AS")
        ),
        "{delivered:?}"
    );
    // On the dashboard: the review column and the notification, in one language.
    let (_, dashboard) = kari.get("/leverandor").await;
    assert!(
        dashboard.contains("data-case-state=\"rejected\"")
            && dashboard.contains("<q class=\"note\">Revisjonslogg mangler for skrivinger.</q>"),
        "the decision and its note on the dashboard"
    );
    assert!(
        dashboard.contains("data-kind=\"rejected\"><strong>Avslått</strong>"),
        "{dashboard}"
    );
    let (_, english) = kari.get("/leverandor?lang=en").await;
    assert!(english.contains("data-kind=\"rejected\"><strong>Rejected</strong>"));

    // Asked again and approved: listed, and told so.
    let second = kari.request_listing(product, submission).await;
    decide(&market, REVIEWER_1, second, "approve", "Rettet.").await;
    decide(&market, REVIEWER_2, second, "approve", "Enig.").await;
    // Changed by the project: suspended, reinstated, delisted — each told with its reason.
    let rita = market.login(REVIEWER_1).await;
    for (action, reason) in [
        ("suspend", "Regresjon rapportert av en kommune."),
        ("reinstate", "Rettet i samme versjon."),
        ("delist", "Leverandøren har trukket produktet."),
    ] {
        let (s, body) = rita
            .post_json(
                &format!("/api/v1/listings/{product}/{action}"),
                json!({ "reason": reason }),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
    }
    let (_, notes) = kari.get_json("/api/v1/notifications").await;
    assert_eq!(
        kinds(&notes),
        [
            "delisted",
            "reinstated",
            "suspended",
            "approved",
            "rejected"
        ],
        "newest first"
    );
    assert_eq!(
        notes["notifications"][0]["note"],
        "Leverandøren har trukket produktet."
    );
    let delivered = hooks(&received, 5).await;
    let told: Vec<&str> = delivered
        .iter()
        .map(|d| d["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        told,
        [
            "rejected",
            "approved",
            "suspended",
            "reinstated",
            "delisted"
        ]
    );
    assert_eq!(delivered[2]["note"], "Regresjon rapportert av en kommune.");
    // The sender records each delivery just after the receiver has answered.
    let mut pending = usize::MAX;
    for _ in 0..50 {
        pending = market
            .state
            .stores
            .nightly
            .undelivered(10)
            .await
            .unwrap()
            .len();
        if pending == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(pending, 0, "every notification is recorded as delivered");

    // Another vendor hears nothing; the project sees all.
    let ola = market.login(VENDOR_B).await;
    assert!(kinds(&ola.get_json("/api/v1/notifications").await.1).is_empty());
    assert!(!ola.get("/leverandor").await.1.contains("Journal Nord"));
    assert_eq!(
        kinds(&rita.get_json("/api/v1/notifications").await.1).len(),
        5
    );
}

//! Several nights on a manual clock: a listed product whose component is swapped for a flawed one
//! becomes at risk, then is suspended when the grace period runs out; a hostile component is
//! classified while the other products still get their results; a fix clears the risk; the audit
//! trail, the UI and a signed webhook show each step.

use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, StatusCode};
use jiff::{SignedDuration, Timestamp};
use sandkasse_markedsplass::clock::Clock;
use sandkasse_markedsplass::nightly::{self, run_night, sign_webhook, start_night};
use sandkasse_markedsplass::store::Notification;
use serde_json::Value;

use crate::market::*;

pub const SECRET: &str = "hemmelig-webhook-nøkkel";

/// What a webhook receiver got: every (timestamp, signature, body).
pub type Received = Arc<Mutex<Vec<(String, String, String)>>>;

/// A webhook receiver: its URL and what it got.
pub async fn receiver() -> (String, Received) {
    let got: Received = Arc::default();
    let store = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let store = store.clone();
            async move {
                let h = |n: &str| {
                    headers
                        .get(n)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned()
                };
                store.lock().unwrap().push((
                    h("x-sandkasse-timestamp"),
                    h("x-sandkasse-signature"),
                    body,
                ));
                StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/hook"), got)
}

/// Points a product's listing at another submission: the component behind the listing changed.
async fn swap(market: &Market, product: i64, submission: i64) {
    crate::Raw::open(&market.state.config)
        .await
        .execute(
            "UPDATE listings SET submission_id = ? WHERE product_id = ?",
            &[submission.into(), product.into()],
        )
        .await
        .unwrap();
}

/// The notifications of nights (not those of the approvals that listed the products).
fn of_nights(notes: Vec<Notification>) -> Vec<Notification> {
    notes.into_iter().filter(|n| n.night_id.is_some()).collect()
}

/// Every organisation's notifications of nights, newest first.
async fn night_notifications(market: &Market) -> Vec<Notification> {
    of_nights(
        market
            .state
            .stores
            .nightly
            .notifications(None, 10)
            .await
            .unwrap(),
    )
}

fn entry(night: &Value, product: i64) -> &Value {
    night["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["product_id"] == product)
        .unwrap_or_else(|| panic!("no entry for {product}: {night}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn regression_at_risk_then_suspended_hostile_classified_fix_clears() {
    let (hook, received) = receiver().await;
    let clock = Clock::manual("2026-11-20T01:00:00Z".parse().unwrap());
    let market = Market::start_with_clock(
        |c| {
            c.nightly.grace_days = 2;
            c.nightly.webhook_url = Some(hook.clone());
            c.nightly.webhook_secret = Some(SECRET.into());
            c.workers = 2;
        },
        clock.clone(),
    )
    .await;
    let kari = market.login(VENDOR_A).await;
    let (journal, journal_ok, _) = market
        .tested(&kari, "Journal Nord", "1.0.0", "reference")
        .await;
    let (legevakt, legevakt_ok, _) = market.tested(&kari, "Legevakt", "1.0.0", "reference").await;
    let (mobil, mobil_ok, _) = market.tested(&kari, "Mobil", "1.0.0", "reference").await;
    for (p, s) in [
        (journal, journal_ok),
        (legevakt, legevakt_ok),
        (mobil, mobil_ok),
    ] {
        market.list(&kari, p, s).await;
    }
    // Behind two listings, the component changes: a regression and a hostile component.
    let (_, journal_flawed, _) = market
        .tested(&kari, "Journal Nord", "1.1.0", "flawed_drops_token")
        .await;
    let (_, mobil_hostile, _) = market
        .tested(&kari, "Mobil", "1.1.0", "hostile_infinite_loop")
        .await;
    swap(&market, journal, journal_flawed).await;
    swap(&market, mobil, mobil_hostile).await;

    let wait = std::time::Duration::from_secs(600);
    let day = SignedDuration::from_hours(24);
    // Night 1: both at risk; the hostile run is classified, the others have their results.
    let n1 = run_night(&market.state, "2026-11-20".parse().unwrap(), wait)
        .await
        .unwrap();
    let s1 = n1
        .summary
        .clone()
        .map(serde_json::to_value)
        .unwrap()
        .unwrap();
    assert_eq!(
        (s1["tested"].as_u64(), s1["passed"].as_u64()),
        (Some(3), Some(1)),
        "{s1}"
    );
    assert_eq!(n1.seed, nightly::seed_for("2026-11-20".parse().unwrap()));
    assert_eq!(entry(&s1, legevakt)["verdict"], "godkjent");
    assert_eq!(entry(&s1, journal)["listing_change"], "at_risk");
    // Its DocumentReference search fails with 401, and the notices it carried with it (as
    // crates/suite/tests/all/both_sides.rs has it).
    assert_eq!(
        entry(&s1, journal)["failing_skal"],
        serde_json::json!(["PER-01", "SIK-01"]),
        "{s1}"
    );
    assert!(
        entry(&s1, journal)["diff"]["newly_failing"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v == "SIK-01"),
        "{s1}"
    );
    let hostile = entry(&s1, mobil);
    assert_eq!(
        (
            hostile["verdict"].as_str(),
            hostile["listing_change"].as_str()
        ),
        (Some("ikke-godkjent"), Some("at_risk")),
        "{hostile}"
    );
    let hostile_report = kari
        .get(&format!("/api/v1/runs/{}/report.json", hostile["run_id"]))
        .await
        .1;
    assert!(
        hostile_report.contains("fuel") || hostile_report.contains("timeout"),
        "the hostile failure is classified in its report"
    );
    let report: Value = serde_json::from_str(
        &kari
            .get(&format!(
                "/api/v1/runs/{}/report.json",
                entry(&s1, legevakt)["run_id"]
            ))
            .await
            .1,
    )
    .unwrap();
    assert_eq!(
        report["data"]["seed"].as_i64(),
        Some(n1.seed),
        "the night's seed is the run's seed"
    );
    // The same night again: nothing new is queued (resume, not restart).
    let again = start_night(&market.state, "2026-11-20".parse().unwrap())
        .await
        .unwrap();
    assert_eq!(again.id, n1.id);
    assert_eq!(
        market
            .state
            .stores
            .nightly
            .night_runs(n1.id)
            .await
            .unwrap()
            .len(),
        3
    );
    assert_eq!(
        market
            .state
            .stores
            .nightly
            .night_pending(n1.id)
            .await
            .unwrap(),
        0,
        "a finished night has no pending run"
    );

    // Night 2: Mobil is fixed (back to its godkjent version) and cleared; Journal stays at risk.
    clock.advance(day);
    swap(&market, mobil, mobil_ok).await;
    let n2 = run_night(&market.state, "2026-11-21".parse().unwrap(), wait)
        .await
        .unwrap();
    let s2 = n2
        .summary
        .clone()
        .map(serde_json::to_value)
        .unwrap()
        .unwrap();
    assert_ne!(n2.seed, n1.seed, "fresh data every night");
    assert_eq!(entry(&s2, mobil)["listing_change"], "cleared", "{s2}");
    assert!(
        entry(&s2, journal)["listing_change"].is_null(),
        "still within the grace period: {s2}"
    );
    let listing = market
        .state
        .stores
        .market
        .listing(journal)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(listing.state.as_str(), "listed");
    assert!(listing.at_risk_since.is_some());

    // Night 3: the grace period (2 days) is over: suspended, naming the run.
    clock.advance(day);
    let n3 = run_night(&market.state, "2026-11-22".parse().unwrap(), wait)
        .await
        .unwrap();
    let s3 = n3
        .summary
        .clone()
        .map(serde_json::to_value)
        .unwrap()
        .unwrap();
    let suspended_by = entry(&s3, journal)["run_id"].as_i64().unwrap();
    assert_eq!(entry(&s3, journal)["listing_change"], "suspended", "{s3}");
    let listing = market
        .state
        .stores
        .market
        .listing(journal)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(listing.state.as_str(), "suspended");
    assert!(
        listing
            .reason
            .as_deref()
            .unwrap()
            .contains(&suspended_by.to_string()),
        "{:?}",
        listing.reason
    );
    let anon = market.anonymous();
    let catalogue = anon.get_json("/api/v1/catalogue").await.1;
    let listed: Vec<&str> = catalogue["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["product"].as_str().unwrap())
        .collect();
    assert_eq!(
        listed,
        ["Legevakt", "Mobil"],
        "the suspended product leaves the catalogue"
    );

    // The audit trail names each step and the run behind it.
    let events = market.state.audit.events_after(0, 10_000).await.unwrap();
    let about_journal: Vec<(String, Value)> = events
        .iter()
        .filter(|e| e.subject == format!("product:{journal}") && e.actor == nightly::ACTOR)
        .map(|e| (e.action.clone(), e.details.clone()))
        .collect();
    let actions: Vec<&str> = about_journal.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(
        actions,
        ["listing.at_risk", "listing.suspend"],
        "{about_journal:?}"
    );
    assert_eq!(about_journal[1].1["run_id"].as_i64(), Some(suspended_by));
    assert!(
        events
            .iter()
            .any(|e| e.action == "listing.cleared" && e.subject == format!("product:{mobil}"))
    );
    assert_eq!(
        events.iter().filter(|e| e.action == "night.finish").count(),
        3
    );

    // Notifications: in the vendor's UI and API, and delivered by signed webhook. (Two days have
    // passed on the clock: the morning's session is long expired.)
    let kari = market.login(VENDOR_A).await;
    let (s, notes) = kari.get_json("/api/v1/notifications").await;
    assert_eq!(s, StatusCode::OK);
    // (The three approvals told the vendor too, before the nights: `notices.rs`.)
    let kinds: Vec<&str> = notes["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| !n["night_id"].is_null())
        .map(|n| n["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["suspended", "cleared", "at_risk", "at_risk"],
        "newest first: {notes}"
    );
    assert!(
        market
            .login(VENDOR_B)
            .await
            .get_json("/api/v1/notifications")
            .await
            .1["notifications"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert!(
        kari.get("/leverandor")
            .await
            .1
            .contains("id=\"notifications\"")
    );
    let hooks = received.lock().unwrap().clone();
    assert_eq!(
        hooks.len(),
        3 + 4,
        "three approvals, four nightly changes: {hooks:?}"
    );
    for (timestamp, signature, body) in &hooks {
        assert_eq!(
            signature,
            &sign_webhook(SECRET, timestamp, body),
            "a verifiable signature"
        );
        assert_ne!(signature, &sign_webhook("feil nøkkel", timestamp, body));
    }
    let kinds: Vec<String> = hooks
        .iter()
        .map(|(_, _, b)| serde_json::from_str::<Value>(b).unwrap())
        .filter(|b| b.get("night").is_some())
        .map(|b| b["kind"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(kinds, ["at_risk", "at_risk", "cleared", "suspended"]);

    // The summary as a page, JSON and JUnit; the trend on the product page.
    let rita = market.login(REVIEWER_1).await;
    let (s, json) = rita.get_json("/api/v1/nights/2026-11-22").await;
    assert_eq!(
        (s, json["night"]["summary"]["suspended"].as_u64()),
        (StatusCode::OK, Some(1)),
        "{json}"
    );
    let (s, junit) = rita.get("/api/v1/nights/2026-11-22/junit.xml").await;
    assert!(
        s == StatusCode::OK && junit.contains("<testsuites") && junit.contains("<failure"),
        "{junit}"
    );
    let (s, page) = rita.get("/natt/2026-11-22").await;
    assert!(
        s == StatusCode::OK && page.contains("id=\"night-summary\""),
        "{s}"
    );
    let (s, list) = rita.get("/natt").await;
    assert!(s == StatusCode::OK && list.contains("2026-11-20"), "{s}");
    let (s, product) = kari.get(&format!("/produkter/{legevakt}")).await;
    assert!(
        s == StatusCode::OK && product.contains("<svg") && product.contains("id=\"trend\""),
        "{s}"
    );
    // Each in one language: the trend's texts, the suspension's reason, the notifications.
    for (q, nb) in [("", true), ("?lang=en", false)] {
        let (_, product) = kari.get(&format!("/produkter/{journal}{q}")).await;
        let (_, dashboard) = kari.get(&format!("/leverandor{q}")).await;
        for (page, bokmal, english) in [
            (&product, "nattlige kjøringer", "nightly runs"),
            (&product, "feilet fortsatt etter", "still failed after"),
            (&dashboard, "etter nattens kjøring", "after nightly run"),
        ] {
            let (own, foreign) = if nb {
                (bokmal, english)
            } else {
                (english, bokmal)
            };
            assert!(
                page.contains(own) && !page.contains(foreign),
                "{q}: {own:?} without {foreign:?}"
            );
        }
    }
    assert_eq!(
        kari.get("/api/v1/nights").await.0,
        StatusCode::FORBIDDEN,
        "nightly summaries are for the project"
    );
    let _ = Timestamp::now();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missed_or_interrupted_night_is_caught_up_at_start() {
    // 03:00 in Oslo: tonight's 02:00 start has passed.
    let clock = Clock::manual("2026-11-20T02:00:00Z".parse().unwrap());
    let market = Market::start_with_clock(|_| {}, clock.clone()).await;
    assert_eq!(
        nightly::missed_night(&market.state)
            .await
            .unwrap()
            .map(|d| d.to_string())
            .as_deref(),
        Some("2026-11-20")
    );
    // Started but not finished (the service stopped): still to catch up.
    start_night(&market.state, "2026-11-20".parse().unwrap())
        .await
        .unwrap();
    assert!(
        nightly::missed_night(&market.state)
            .await
            .unwrap()
            .is_some()
    );
    run_night(
        &market.state,
        "2026-11-20".parse().unwrap(),
        std::time::Duration::from_secs(60),
    )
    .await
    .unwrap();
    assert!(
        nightly::missed_night(&market.state)
            .await
            .unwrap()
            .is_none(),
        "done: nothing to catch up"
    );
    // 01:00 in Oslo the next day: before the start time, nothing is missed.
    clock.set("2026-11-21T00:00:00Z".parse().unwrap());
    assert!(
        nightly::missed_night(&market.state)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latest_godkjent_versions_can_be_tested_too_and_a_failed_webhook_is_recorded() {
    let clock = Clock::manual("2026-11-20T01:00:00Z".parse().unwrap());
    let market = Market::start_with_clock(
        |c| {
            c.nightly.include_latest_godkjent = true;
            // Nothing listens here: deliveries fail and are recorded for a retry.
            c.nightly.webhook_url = Some("http://127.0.0.1:9/hook".into());
            c.nightly.webhook_secret = Some(SECRET.into());
        },
        clock.clone(),
    )
    .await;
    let kari = market.login(VENDOR_A).await;
    let (listed, listed_ok, _) = market
        .tested(&kari, "Journal Nord", "1.0.0", "reference")
        .await;
    market.list(&kari, listed, listed_ok).await;
    let (unlisted, _, _) = market.tested(&kari, "Legevakt", "1.0.0", "reference").await;
    let (_, flawed, _) = market
        .tested(&kari, "Journal Nord", "1.1.0", "flawed_drops_token")
        .await;
    swap(&market, listed, flawed).await;
    let night = run_night(
        &market.state,
        "2026-11-20".parse().unwrap(),
        std::time::Duration::from_secs(300),
    )
    .await
    .unwrap();
    let summary = serde_json::to_value(night.summary.unwrap()).unwrap();
    let tested: Vec<i64> = summary["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["product_id"].as_i64().unwrap())
        .collect();
    assert!(
        tested.contains(&listed) && tested.contains(&unlisted),
        "listed and latest godkjent: {summary}"
    );
    assert!(
        entry(&summary, unlisted)["listing_change"].is_null(),
        "an unlisted product has no listing to put at risk"
    );
    let notes = night_notifications(&market).await;
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(
        notes[0].delivered_at.is_none()
            && notes[0].delivery_error.is_some()
            && notes[0].attempts == 1,
        "{:?}",
        notes[0]
    );
    assert_eq!(
        of_nights(market.state.stores.nightly.undelivered(10).await.unwrap()).len(),
        1,
        "kept for the next attempt"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_night_evaluated_twice_at_once_changes_and_notifies_once() {
    let clock = Clock::manual("2026-11-20T01:00:00Z".parse().unwrap());
    let market = Market::start_with_clock(|_| {}, clock).await;
    let kari = market.login(VENDOR_A).await;
    let (product, ok, _) = market
        .tested(&kari, "Journal Nord", "1.0.0", "reference")
        .await;
    market.list(&kari, product, ok).await;
    let (_, flawed, _) = market
        .tested(&kari, "Journal Nord", "1.1.0", "flawed_drops_token")
        .await;
    swap(&market, product, flawed).await;
    let night = start_night(&market.state, "2026-11-20".parse().unwrap())
        .await
        .unwrap();
    while market
        .state
        .stores
        .nightly
        .night_runs(night.id)
        .await
        .unwrap()
        .iter()
        .any(|r| r.finished_at.is_none())
    {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        market
            .state
            .stores
            .nightly
            .night_pending(night.id)
            .await
            .unwrap(),
        0
    );
    // The scheduler and `sandkasse nightly` evaluate the same night at the same moment.
    let (a, b) = tokio::join!(
        nightly::finish_night(&market.state, night.id),
        nightly::finish_night(&market.state, night.id)
    );
    assert!(a.unwrap().is_some() && b.unwrap().is_some());
    assert_eq!(
        night_notifications(&market).await.len(),
        1,
        "one notification"
    );
    let events = market.state.audit.events_after(0, 10_000).await.unwrap();
    assert_eq!(
        events
            .iter()
            .filter(|e| e.action == "listing.at_risk")
            .count(),
        1
    );
    assert_eq!(
        events.iter().filter(|e| e.action == "night.finish").count(),
        1
    );
}

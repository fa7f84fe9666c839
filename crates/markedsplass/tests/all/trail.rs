//! The audit trail read through its filters: the store selects by kind (an action or an area),
//! actor, subject and time and pages both ways; the page shows what each event decided, links its
//! subject and the ids it names, keeps the filter while paging, and answers a malformed filter
//! with the form and a 400; the API takes the same filters.

use axum::http::StatusCode;
use jiff::SignedDuration;
use sandkasse_markedsplass::audit::Audit;
use sandkasse_markedsplass::clock::Clock;
use sandkasse_markedsplass::store::AuditQuery;
use sandkasse_markedsplass::trail::{Cursor, TrailFilter};
use serde_json::json;

use crate::TestDb;
use crate::market::*;

fn seqs(events: &[sandkasse_markedsplass::store::AuditEvent]) -> Vec<i64> {
    events.iter().map(|e| e.seq).collect()
}

#[tokio::test]
async fn the_store_selects_by_kind_actor_subject_and_time_and_pages_both_ways() {
    let db = TestDb::new().await;
    let clock = Clock::manual("2026-11-20T23:59:59.5Z".parse().unwrap());
    let audit = Audit::with_clock(db.stores.audit.clone(), clock.clone());
    let events = [
        ("user:rita@prosjektet.no", "review.decide", "case:3"),
        ("user:rune@prosjektet.no", "review.decide", "case:3"),
        ("system:governance", "review.escalate", "case:3"),
        ("user:Rita@prosjektet.no", "listing.suspend", "product:7"),
        ("system:nightly", "listing.at_risk", "product:7"),
        ("system:runner", "run.finish", "run:5"),
        ("user:berit@prosjektet.no", "reviewer.note", "case:30"),
    ];
    for (i, (actor, action, subject)) in events.iter().enumerate() {
        // 23:59:59.5 on the 20th, then half a second later each: the 21st from the second on.
        if i > 0 {
            clock.advance(SignedDuration::from_millis(500));
        }
        audit
            .record(actor, action, subject, None, json!({}))
            .await
            .unwrap();
    }
    let search = |query: AuditQuery| {
        let store = db.stores.audit.clone();
        async move { seqs(&store.search(&query).await.unwrap()) }
    };
    let q = |f: fn(&mut AuditQuery)| {
        let mut query = AuditQuery {
            limit: 100,
            after: Some(0),
            ..AuditQuery::default()
        };
        f(&mut query);
        query
    };
    assert_eq!(
        search(q(|q| q.kind = Some("review.decide".into()))).await,
        [1, 2]
    );
    assert_eq!(
        search(q(|q| q.kind = Some("review".into()))).await,
        [1, 2, 3],
        "an area is its actions, not `reviewer.*`"
    );
    assert_eq!(
        search(q(|q| q.actor = Some("rita@".into()))).await,
        [1, 4],
        "part of the actor, case-insensitively"
    );
    assert_eq!(
        search(q(|q| q.subject = Some("case:3".into()))).await,
        [1, 2, 3],
        "the subject exactly (not case:30)"
    );
    let (filter, _) = TrailFilter::parse([("to".to_owned(), "2026-11-20".to_owned())]).unwrap();
    assert_eq!(
        search(filter.to_query(Cursor::After(0), 100)).await,
        [1],
        "the 20th ends at midnight, to the fraction"
    );
    let (filter, _) = TrailFilter::parse([("from".to_owned(), "2026-11-21".to_owned())]).unwrap();
    assert_eq!(
        search(filter.to_query(Cursor::After(0), 100)).await,
        [2, 3, 4, 5, 6, 7]
    );
    // Paging: newest first from the top, both ways from a cursor.
    assert_eq!(
        search(q(|q| {
            q.after = None;
            q.limit = 3
        }))
        .await,
        [7, 6, 5]
    );
    assert_eq!(
        search(q(|q| {
            q.after = None;
            q.before = Some(5);
            q.limit = 3
        }))
        .await,
        [4, 3, 2]
    );
    assert_eq!(
        search(q(|q| {
            q.after = Some(5);
        }))
        .await,
        [6, 7]
    );
    assert_eq!(
        db.stores.audit.actions().await.unwrap(),
        [
            "listing.at_risk",
            "listing.suspend",
            "review.decide",
            "review.escalate",
            "reviewer.note",
            "run.finish"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_page_shows_decisions_links_subjects_and_keeps_its_filters() {
    let market = Market::start().await;
    let audit = &market.state.audit;
    audit
        .record(
            "user:rita@prosjektet.no",
            "review.decide",
            "case:3",
            Some("Mangler logging."),
            json!({ "decision": "reject", "level": "reviewer", "case_state": "escalated" }),
        )
        .await
        .unwrap();
    audit
        .record(
            "user:berit@prosjektet.no",
            "listing.list",
            "product:7",
            Some("OK"),
            json!({ "case_id": 3, "submission_id": 4, "version": "1.0.0" }),
        )
        .await
        .unwrap();
    audit
        .record(
            "system:runner",
            "run.finish",
            "run:5",
            None,
            json!({ "state": "done", "verdict": "godkjent", "score": 1.0, "error": null }),
        )
        .await
        .unwrap();
    audit
        .record(
            "system:nightly",
            "night.finish",
            "night:2026-11-20",
            None,
            json!({ "tested": 1 }),
        )
        .await
        .unwrap();
    for i in 0..130 {
        audit
            .record(
                "system:test",
                "test.tick",
                &format!("tick:{i}"),
                None,
                json!({}),
            )
            .await
            .unwrap();
    }
    let rita = market.login(REVIEWER_1).await;

    // A decision says what was decided and links its case and the filters.
    let (s, page) = rita.get("/revisjon?kind=review.decide").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        page.matches("<tr data-seq=").count(),
        1,
        "only the decision"
    );
    assert!(page.contains("data-decision=\"reject\""), "{page}");
    assert!(page.contains("<strong class=\"decision reject\">avslo</strong>"));
    assert!(page.contains("<a class=\"subject\" href=\"/vurdering/3\">case:3</a>"));
    assert!(page.contains("href=\"/revisjon?subject=case%3A3\""));
    assert!(page.contains("href=\"/revisjon?actor=user%3Arita%40prosjektet.no\""));
    assert!(
        page.contains("value=\"review.decide\""),
        "the form keeps the filter"
    );
    assert!(
        page.contains("nivå: fagperson"),
        "details are worded: {page}"
    );
    let (_, english) = rita.get("/revisjon?kind=review.decide&lang=en").await;
    assert!(english.contains("<strong class=\"decision reject\">rejected</strong>"));

    // Every subject with a page links to it, and the ids in the details too.
    let (_, page) = rita.get("/revisjon?kind=listing").await;
    assert!(page.contains("href=\"/produkter/7\">product:7</a>"));
    assert!(
        page.contains("<a href=\"/vurdering/3\">3</a>"),
        "the case of a listing"
    );
    let (_, page) = rita.get("/revisjon?subject=run:5").await;
    assert!(page.contains("href=\"/kjoringer/5\">run:5</a>"));
    let (_, page) = rita.get("/revisjon?actor=NIGHTLY").await;
    assert!(page.contains("href=\"/natt/2026-11-20\">night:2026-11-20</a>"));

    // Paging keeps the filter both ways.
    let (_, first) = rita.get("/revisjon?kind=test.tick").await;
    assert_eq!(first.matches("<tr data-seq=").count(), 100);
    let older = first
        .split("id=\"audit-older\" href=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a link to the older events")
        .replace("&amp;", "&");
    assert!(
        older.starts_with("/revisjon?kind=test.tick&before="),
        "{older}"
    );
    assert!(!first.contains("id=\"audit-newer\""), "the newest page");
    let (_, second) = rita.get(&older).await;
    assert_eq!(second.matches("data-action=\"test.tick\"").count(), 30);
    assert_eq!(second.matches("<tr data-seq=").count(), 30);
    let newer = second
        .split("id=\"audit-newer\" href=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a link back to the newer events")
        .replace("&amp;", "&");
    assert!(
        newer.starts_with("/revisjon?kind=test.tick&after="),
        "{newer}"
    );
    assert!(!second.contains("id=\"audit-older\""));
    let (_, empty) = rita.get("/revisjon?subject=case:999").await;
    assert!(empty.contains("id=\"audit-empty\""));

    // A malformed filter is the page again, with the form as sent and the reason: a 400.
    for (query, parameter) in [
        ("from=abc", "from"),
        ("after=abc", "after"),
        ("kind=Review%20decide", "kind"),
        ("from=2026-11-21&to=2026-11-20", "from"),
        ("before=1&after=2", "before"),
        ("subject=%E2%80%AEcase", "subject"),
    ] {
        let (s, page) = rita.get(&format!("/revisjon?{query}")).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{query}");
        assert!(
            page.contains(&format!(
                "id=\"audit-filter-error\" class=\"error\" role=\"alert\" data-parameter=\"{parameter}\""
            )),
            "{query}: {page}"
        );
        assert!(
            page.contains("id=\"audit-filter\""),
            "{query}: the form is there"
        );
    }
    let (_, page) = rita.get("/revisjon?from=abc&actor=rita").await;
    assert!(page.contains("value=\"abc\"") && page.contains("value=\"rita\""));
    // Who may not read the trail learns only that.
    assert_eq!(
        market
            .login(VENDOR_A)
            .await
            .get("/revisjon?from=abc")
            .await
            .0,
        StatusCode::FORBIDDEN
    );

    // The API takes the same filters.
    let (s, body) = rita
        .get_json("/api/v1/audit?kind=review&subject=case:3")
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(body["events"].as_array().unwrap().len(), 1, "{body}");
    assert_eq!(body["events"][0]["details"]["decision"], "reject");
    assert_eq!(body["filter"]["subject"], "case:3");
    let (s, body) = rita.get_json("/api/v1/audit?to=2026-13-01").await;
    assert_eq!(
        (s, body["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_input"))
    );
    assert!(body["error"]["message"].as_str().unwrap().contains("to"));
    let (s, body) = rita
        .get_json("/api/v1/audit?kind=test.tick&limit=20&after=0")
        .await;
    assert_eq!(
        (s, body["events"].as_array().unwrap().len()),
        (StatusCode::OK, 20)
    );
    let (_, vendor) = market
        .login(VENDOR_A)
        .await
        .get_json("/api/v1/audit?to=nope")
        .await;
    assert_eq!(vendor["error"]["code"], "forbidden");
}

use sandkasse_markedsplass::audit::{Break, GENESIS_HASH, Verification};
use serde_json::json;

use super::TestDb;

async fn five_events(db: &TestDb) {
    for i in 1..=5 {
        let reason = (i % 2 == 0).then_some("godkjent av begge");
        db.audit
            .record(
                "user:a@b.no",
                "listing.review",
                &format!("product:{i}"),
                reason,
                json!({"n": i, "z": [1, {"b": 2, "a": 1}]}),
            )
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn an_untouched_chain_verifies() {
    let db = TestDb::new().await;
    assert_eq!(
        db.audit.verify_chain().await.unwrap(),
        Verification::Intact {
            events: 0,
            head: None
        }
    );
    five_events(&db).await;
    let events = db.audit.events_after(0, 10).await.unwrap();
    assert_eq!(
        events.iter().map(|e| e.seq).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5]
    );
    assert_eq!(events[0].prev_hash, GENESIS_HASH);
    assert!(events.windows(2).all(|w| w[1].prev_hash == w[0].hash));
    let head = Some(events[4].hash.clone());
    assert_eq!(
        db.audit.verify_chain().await.unwrap(),
        Verification::Intact { events: 5, head }
    );
}

#[tokio::test]
async fn the_database_refuses_updates_and_deletes() {
    let db = TestDb::new().await;
    five_events(&db).await;
    let update = db
        .raw
        .execute("UPDATE audit_events SET reason = 'x' WHERE seq = 2", &[])
        .await;
    assert!(update.is_err());
    let delete = db
        .raw
        .execute("DELETE FROM audit_events WHERE seq = 2", &[])
        .await;
    assert!(delete.is_err());
}

async fn drop_guards(db: &TestDb) {
    // Someone with write access to the file can remove the triggers; the chain must still tell.
    for t in ["audit_events_no_update", "audit_events_no_delete"] {
        let on = db.raw.sql("", " ON audit_events");
        db.raw
            .execute(&format!("DROP TRIGGER {t}{on}"), &[])
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn a_changed_reason_is_found_at_its_event() {
    let db = TestDb::new().await;
    five_events(&db).await;
    drop_guards(&db).await;
    db.raw
        .execute(
            "UPDATE audit_events SET reason = 'avvist' WHERE seq = 4",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(
        db.audit.verify_chain().await.unwrap(),
        Verification::Broken {
            seq: 4,
            problem: Break::Content
        }
    );
}

#[tokio::test]
async fn a_rehashed_event_breaks_the_link_to_the_next() {
    let db = TestDb::new().await;
    five_events(&db).await;
    drop_guards(&db).await;
    // A careful forger recomputes event 2's hash too: then event 3 no longer points at it.
    let mut e2 = db.audit.events_after(1, 1).await.unwrap().remove(0);
    e2.actor = "user:someone@else.no".into();
    let hash = sandkasse_markedsplass::audit::event_hash(&e2);
    db.raw
        .execute(
            "UPDATE audit_events SET actor = ?, hash = ? WHERE seq = 2",
            &[e2.actor.as_str().into(), hash.as_str().into()],
        )
        .await
        .unwrap();
    assert_eq!(
        db.audit.verify_chain().await.unwrap(),
        Verification::Broken {
            seq: 3,
            problem: Break::PrevHash
        }
    );
}

#[tokio::test]
async fn a_deleted_middle_event_is_named() {
    let db = TestDb::new().await;
    five_events(&db).await;
    drop_guards(&db).await;
    db.raw
        .execute("DELETE FROM audit_events WHERE seq = 3", &[])
        .await
        .unwrap();
    assert_eq!(
        db.audit.verify_chain().await.unwrap(),
        Verification::Broken {
            seq: 3,
            problem: Break::Missing {
                expected: 3,
                found: 4
            }
        }
    );
}

#[tokio::test]
async fn concurrent_appends_keep_one_chain() {
    let db = TestDb::new().await;
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let audit = db.audit.clone();
            tokio::spawn(async move {
                audit
                    .record("t", "x", &i.to_string(), None, json!({}))
                    .await
                    .unwrap()
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert!(matches!(
        db.audit.verify_chain().await.unwrap(),
        Verification::Intact { events: 20, .. }
    ));
}

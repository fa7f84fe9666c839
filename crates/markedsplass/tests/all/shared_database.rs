//! Several processes on one database — each a `Stores` opened on it, as another `sandkasse serve`
//! or `sandkasse nightly` would: the audit trail stays one chain and no run is claimed twice. On
//! PostgreSQL a run that becomes queued is announced on `RUNS_CHANNEL`, and a restart puts back only
//! the runs whose lease ran out.

use jiff::{SignedDuration, Timestamp};
use sandkasse_markedsplass::audit::{Audit, Verification};
use sandkasse_markedsplass::store::{NewSubmission, NewUser, Role, Stores};
use serde_json::json;

use super::{Raw, TestDb};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn appends_from_several_processes_form_one_chain() {
    let db = TestDb::new().await;
    let mut audits = vec![db.audit.clone()];
    for _ in 0..2 {
        audits.push(Audit::new(db.reopen().await.audit));
    }
    let tasks: Vec<_> = audits
        .into_iter()
        .enumerate()
        .flat_map(|(process, audit)| {
            (0..20).map(move |i| {
                let audit = audit.clone();
                tokio::spawn(async move {
                    audit
                        .record(
                            &format!("process:{process}"),
                            "test.append",
                            &i.to_string(),
                            None,
                            json!({ "i": i }),
                        )
                        .await
                        .unwrap()
                })
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    assert!(matches!(
        db.audit.verify_chain().await.unwrap(),
        Verification::Intact { events: 60, .. }
    ));
}

/// `n` submissions by one vendor, each with its queued run; the runs' ids.
async fn queued_runs(stores: &Stores, n: usize) -> Vec<i64> {
    let org = stores
        .accounts
        .insert_organisation("Acme AS", Box::new(|_| Vec::new()))
        .await
        .unwrap();
    let user = stores
        .accounts
        .insert_user(
            NewUser {
                username: "kari@acme.no".into(),
                role: Role::Vendor,
                organisation_id: Some(org.id),
                password_hash: "x".into(),
                must_change_password: false,
            },
            Box::new(|_| Vec::new()),
        )
        .await
        .unwrap();
    let mut runs = Vec::new();
    for i in 0..n {
        let submitted = stores
            .market
            .submit(
                NewSubmission {
                    organisation_id: org.id,
                    product_name: format!("Journal {i}"),
                    version: "1.0.0".into(),
                    changelog: String::new(),
                    component_sha256: format!("{i:064x}"),
                    component_size: 1,
                    file_name: "a.wasm".into(),
                    inspection: json!({}),
                    submitted_by: user.id,
                    at: Timestamp::now(),
                },
                Box::new(|_| Vec::new()),
            )
            .await
            .unwrap();
        runs.push(submitted.run.id);
    }
    runs
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn workers_of_several_processes_never_claim_the_same_run() {
    let db = TestDb::new().await;
    let mut listener = match &db.raw {
        Raw::Postgres(pool) => {
            let mut listener = sqlx::postgres::PgListener::connect_with(pool)
                .await
                .unwrap();
            listener
                .listen(sandkasse_markedsplass::store::postgres::RUNS_CHANNEL)
                .await
                .unwrap();
            Some(listener)
        }
        Raw::Sqlite(_) => None,
    };
    let mut expected = queued_runs(&db.stores, 30).await;
    if let Some(listener) = &mut listener {
        let mut announced = Vec::new();
        for _ in &expected {
            let note = listener.recv().await.unwrap();
            announced.push(note.payload().parse::<i64>().unwrap());
        }
        assert_eq!(
            announced, expected,
            "every queued run announced once, in order"
        );
    }

    let now = Timestamp::now();
    let mut processes = vec![db.stores.clone()];
    for _ in 0..2 {
        processes.push(db.reopen().await);
    }
    let tasks: Vec<_> = processes
        .iter()
        .enumerate()
        .flat_map(|(process, stores)| {
            (0..3).map(move |worker| {
                let stores = stores.clone();
                let audit = Audit::new(stores.audit.clone());
                tokio::spawn(async move {
                    let claim = format!("p{process}w{worker}");
                    let mut claimed = Vec::new();
                    loop {
                        let audit = audit.clone();
                        let run = stores
                            .queue
                            .claim_run(
                                &claim,
                                now,
                                now + SignedDuration::from_secs(60),
                                None,
                                Box::new(move |c| {
                                    vec![audit.event(
                                        "test",
                                        "run.claim",
                                        &format!("run:{}", c.run.id),
                                        None,
                                        json!({}),
                                    )]
                                }),
                            )
                            .await
                            .unwrap();
                        match run {
                            Some(run) => claimed.push(run.run.id),
                            None => break claimed,
                        }
                    }
                })
            })
        })
        .collect();
    let mut claimed = Vec::new();
    for task in tasks {
        claimed.extend(task.await.unwrap());
    }
    claimed.sort_unstable();
    expected.sort_unstable();
    assert_eq!(claimed, expected, "each run claimed exactly once");
    assert!(matches!(
        db.audit.verify_chain().await.unwrap(),
        Verification::Intact { events: 30, .. }
    ));

    // A process starting now: on SQLite no other process can be running the runs; on PostgreSQL
    // the others' leases are live, and only expired ones come back.
    let requeued = db
        .stores
        .queue
        .requeue_running(now, Box::new(|_| Vec::new()))
        .await
        .unwrap();
    let later = now + SignedDuration::from_secs(120);
    let requeued_later = db
        .stores
        .queue
        .requeue_running(later, Box::new(|_| Vec::new()))
        .await
        .unwrap();
    let (now_n, later_n) = match db.raw {
        Raw::Sqlite(_) => (30, 0),
        Raw::Postgres(_) => (0, 30),
    };
    assert_eq!((requeued.len(), requeued_later.len()), (now_n, later_n));
    if let Some(listener) = &mut listener {
        let note = listener.recv().await.unwrap();
        assert!(
            expected.contains(&note.payload().parse::<i64>().unwrap()),
            "a requeued run is announced"
        );
    }
}

//! In-process platform throughput: reads and paged searches through the axum router
//! (`tower::ServiceExt::oneshot`), as the sandbox calls it.
//!
//! `cargo bench -p sandkasse-platform` — results feed `docs/performance.md`.

use std::sync::Arc;

use axum::body::Body;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sandkasse_kommune::{GenConfig, UnitKind};
use sandkasse_platform::clock::FixedClock;
use sandkasse_platform::{Base, LaunchContext, Platform, Purpose, app};
use tower::ServiceExt as _;

fn bench(c: &mut Criterion) {
    let data = sandkasse_kommune::generate(&GenConfig::new(42, 20_000));
    let k = "4601";
    let tenant = data.tenant(k).unwrap();
    let base = Arc::new(Base::new(&data));
    let clock = Arc::new(FixedClock::new(base.reference_time()));
    let platform = Arc::new(Platform::new(base.clone(), clock));
    let router = app(platform.clone());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();

    // A legevakt doctor with emergency access reads anything (the access checks still run).
    let lv = tenant
        .truth
        .units
        .iter()
        .find(|u| u.kind == UnitKind::Legevakt)
        .unwrap();
    let doctor = tenant
        .truth
        .practitioners
        .iter()
        .find(|p| p.category == "LE" && p.units.contains(&lv.id))
        .unwrap();
    let token = platform
        .issue_token(&LaunchContext {
            kommunenummer: k.into(),
            practitioner: doctor.hpr.clone(),
            role: "LE".into(),
            unit: lv.orgnr.clone(),
            patient: None,
            purpose: Purpose::Emergency,
            reason: Some("benchmark".into()),
            scope: None,
        })
        .unwrap();
    let auth = format!("Bearer {token}");
    let observations: Vec<String> = tenant
        .resources
        .iter()
        .filter(|r| r.resource_type == "Observation")
        .map(|r| format!("/{k}/fhir/Observation/{}", r.id))
        .collect();
    // Patients with at least 50 observations, so every search fills a page and has a next link.
    let patients: Vec<String> = tenant
        .truth
        .patients
        .iter()
        .filter(|p| {
            tenant
                .resources
                .iter()
                .filter(|r| r.resource_type == "Observation" && r.patient.as_deref() == Some(&p.id))
                .count()
                >= 50
        })
        .map(|p| p.id.clone())
        .collect();
    assert!(!patients.is_empty());

    let get = |path: &str| {
        let req = http::Request::get(path)
            .header("authorization", &auth)
            .body(Body::empty())
            .unwrap();
        rt.block_on(async {
            let resp = router.clone().oneshot(req).await.unwrap();
            assert_eq!(resp.status(), 200);
            axum::body::to_bytes(resp.into_body(), usize::MAX)
                .await
                .unwrap()
                .len()
        })
    };

    let mut g = c.benchmark_group("platform");
    g.throughput(Throughput::Elements(1));
    let mut i = 0usize;
    g.bench_function("read Observation", |b| {
        b.iter(|| {
            i = (i + 7919) % observations.len();
            get(&observations[i])
        })
    });
    let mut j = 0usize;
    g.bench_function("search Observation?patient (full page of 50)", |b| {
        b.iter(|| {
            j = (j + 31) % patients.len();
            get(&format!("/{k}/fhir/Observation?patient={}", patients[j]))
        })
    });
    g.bench_function("platform per scenario (Platform::new)", |b| {
        b.iter(|| {
            Platform::new(
                base.clone(),
                Arc::new(FixedClock::new(base.reference_time())),
            )
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! Many listed components, set up through the service's own operations — what the night benches
//! share (`benches/nightly.rs` here, `crates/cli/benches/scale.rs`).
//!
//! `n` listed products, each a copy of the reference adapter with its own digest (a custom section
//! names the copy), uploaded, tested and approved; then every tenth gets a flawed or hostile
//! version (1.1.0), uploaded and tested, whose submission the bench puts behind the listing with
//! SQL of its backend (as a regression would be) — [`Listed::swapped`].
#![allow(dead_code)] // each bench uses a part

use std::time::Duration;

use sandkasse_markedsplass::accounts::NewAccount;
use sandkasse_markedsplass::http::AppState;
use sandkasse_markedsplass::policy::{Actor, Via};
use sandkasse_markedsplass::service::{self, DecisionInput, Upload};
use sandkasse_markedsplass::store::{Role, RunState};

/// The flawed and hostile versions swapped in behind every tenth listing.
pub const BAD: [&str; 6] = [
    "flawed_drops_token",
    "flawed_greedy",
    "flawed_first_page_only",
    "hostile_infinite_loop",
    "hostile_memory_bomb",
    "hostile_request_flood",
];

/// A sample component from `cargo xtask plugins`.
pub fn plugin(name: &str) -> Vec<u8> {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!(
        "../../plugins/target/wasm32-wasip2/release/{name}.wasm"
    ));
    std::fs::read(&p).unwrap_or_else(|e| {
        panic!(
            "{}: {e}. Build the sample components first: cargo xtask plugins",
            p.display()
        )
    })
}

/// `bytes` with a custom section `sandkasse-bench-copy` holding `n`: a new digest, same behaviour.
pub fn copy(bytes: &[u8], n: usize) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let section = wasm_encoder::CustomSection {
        name: "sandkasse-bench-copy".into(),
        data: n.to_string().into_bytes().into(),
    };
    wasm_encoder::ComponentSection::append_to_component(&section, &mut out);
    out
}

async fn actor(state: &AppState, username: &str) -> Actor {
    Actor::User {
        user: state.accounts.user(username).await.unwrap(),
        via: Via::Token,
    }
}

/// Waits until every run in `runs` is done or in error.
pub async fn wait_all(state: &AppState, runs: &[i64]) {
    for &run in runs {
        loop {
            let r = state.stores.market.run(run).await.unwrap().unwrap();
            if matches!(r.state, RunState::Done | RunState::Error) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// What [`setup`] made.
pub struct Listed {
    /// `(product id, submission id)` of the flawed and hostile versions to put behind listings.
    pub swapped: Vec<(i64, i64)>,
}

/// Sets up `n` listed copies in `state`, whose workers must be running.
pub async fn setup(state: &AppState, n: usize) -> Listed {
    let a = &state.accounts;
    a.create_organisation("bench", "Benk AS").await.unwrap();
    for (user, role, org) in [
        ("v@benk.example", Role::Vendor, Some("Benk AS")),
        ("r1@p.example", Role::Reviewer, None),
        ("r2@p.example", Role::Reviewer, None),
    ] {
        a.create_user(
            "bench",
            NewAccount {
                username: user.into(),
                role,
                organisation: org.map(Into::into),
                password: "benk-passord-123".into(),
            },
        )
        .await
        .unwrap();
    }
    let vendor = actor(state, "v@benk.example").await;
    let reference = plugin("reference");
    let mut uploaded = Vec::new();
    for i in 0..n {
        let upload = Upload {
            product: format!("Produkt {i:04}"),
            version: "1.0.0".into(),
            changelog: String::new(),
            file_name: "reference.wasm".into(),
            bytes: copy(&reference, i),
            ..Upload::default()
        };
        uploaded.push(service::submit(state, &vendor, upload).await.unwrap());
    }
    wait_all(
        state,
        &uploaded.iter().map(|s| s.run.id).collect::<Vec<_>>(),
    )
    .await;
    for s in &uploaded {
        let case = service::request_listing(
            state,
            &vendor,
            s.product.id,
            s.submission.id,
            Ok(sandkasse_markedsplass::declarations::sample_answers(
                &state.runner.suite,
                "Benk AS",
            )),
        )
        .await
        .unwrap();
        for r in ["r1@p.example", "r2@p.example"] {
            let input = DecisionInput {
                decision: "approve".into(),
                note: "benk".into(),
                declarations: sandkasse_markedsplass::declarations::accept_all(&case, "benk"),
            };
            service::decide(state, &actor(state, r).await, case.id, &input)
                .await
                .unwrap();
        }
    }
    // ~10 % regress: flawed and hostile components behind their listings.
    let mut swapped = Vec::new();
    let mut runs = Vec::new();
    for (k, s) in uploaded.iter().enumerate().filter(|(i, _)| i % 10 == 0) {
        let name = BAD[k / 10 % BAD.len()];
        let upload = Upload {
            product: s.product.name.clone(),
            version: "1.1.0".into(),
            changelog: String::new(),
            file_name: format!("{name}.wasm"),
            bytes: copy(&plugin(name), k),
            ..Upload::default()
        };
        let new = service::submit(state, &vendor, upload).await.unwrap();
        swapped.push((s.product.id, new.submission.id));
        runs.push(new.run.id);
    }
    wait_all(state, &runs).await;
    Listed { swapped }
}

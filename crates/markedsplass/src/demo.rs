//! Demo content for `sandkasse demo` (`cargo xtask demo`): two synthetic vendors, the project's
//! people, the sample adapters uploaded and tested, one product approved by two reviewers and
//! listed, one waiting in the review queue, and [`NIGHTS`] nights before tonight that re-test the
//! listed version (its page shows a trend, the nights pages a history) — so a newcomer sees the
//! whole product at once.
//!
//! Every name is made up and every address is under `.example` (RFC 2606).

use std::path::Path;
use std::time::Duration;

use crate::accounts::NewAccount;
use crate::error::AppError;
use crate::market::Market;
use crate::policy::{Actor, Via};
use crate::service::{self, DecisionInput, Upload};
use crate::store::{Role, RunState};

/// The password of every demo account (printed at start; demo data only).
pub const PASSWORD: &str = "sandkasse-demo";

/// A demo account.
#[derive(Debug, Clone, Copy)]
pub struct Account {
    pub username: &'static str,
    pub role: Role,
    pub organisation: Option<&'static str>,
}

pub const ACCOUNTS: &[Account] = &[
    Account {
        username: "kari@nordlys-helse.example",
        role: Role::Vendor,
        organisation: Some("Nordlys Helse AS"),
    },
    Account {
        username: "ola@fjordsoft.example",
        role: Role::Vendor,
        organisation: Some("Fjordsoft AS"),
    },
    Account {
        username: "rita@prosjektet.example",
        role: Role::Reviewer,
        organisation: None,
    },
    Account {
        username: "rune@prosjektet.example",
        role: Role::Reviewer,
        organisation: None,
    },
    Account {
        username: "berit@prosjektet.example",
        role: Role::Beslutningsgruppe,
        organisation: None,
    },
    Account {
        username: "admin@prosjektet.example",
        role: Role::Admin,
        organisation: None,
    },
];

/// The uploads: (vendor, product, version, component file, changelog).
const UPLOADS: &[(&str, &str, &str, &str, &str)] = &[
    (
        "kari@nordlys-helse.example",
        "Nordlys Journal",
        "1.0.0",
        "reference.wasm",
        "Første versjon: pasientoversikt, dokumenter og hendelser.",
    ),
    (
        "kari@nordlys-helse.example",
        "Nordlys Hjemmetjeneste",
        "0.9.0",
        "flawed_logs_fnr.wasm",
        "Beta: logger for mye.",
    ),
    (
        "ola@fjordsoft.example",
        "Fjord Legevakt",
        "2.1.0",
        "reference.wasm",
        "Ny integrasjon mot plattformen.",
    ),
    (
        "ola@fjordsoft.example",
        "Fjord Mobil",
        "0.3.0",
        "flawed_first_page_only.wasm",
        "Tidlig versjon: leser bare første side.",
    ),
];

/// Why the demo could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("{0}: the sample adapters are missing; run: cargo xtask plugins")]
    MissingPlugin(String),
    #[error("a demo run did not finish: {0}")]
    Run(String),
    #[error(transparent)]
    App(#[from] AppError),
    #[error(transparent)]
    Account(#[from] crate::accounts::AccountError),
    #[error(transparent)]
    Nightly(#[from] crate::nightly::NightlyError),
}

/// Nights the demo runs after the listing, ending with last night, so the listed product's page
/// shows a trend and the nights pages have history.
pub const NIGHTS: i64 = 3;

async fn actor(market: &Market, username: &str) -> Result<Actor, DemoError> {
    let user = market.accounts.user(username).await?;
    Ok(Actor::User {
        user,
        via: Via::Token,
    })
}

/// Seeds the demo into a running service (its workers must be running: the uploads are tested).
/// `plugins` is the folder with the built sample adapters.
pub async fn seed(market: &Market, plugins: &Path) -> Result<(), DemoError> {
    const ACTOR: &str = "system:demo";
    for org in ["Nordlys Helse AS", "Fjordsoft AS"] {
        market.accounts.create_organisation(ACTOR, org).await?;
    }
    for a in ACCOUNTS {
        let new = NewAccount {
            username: a.username.into(),
            role: a.role,
            organisation: a.organisation.map(Into::into),
            password: PASSWORD.into(),
        };
        market.accounts.create_user(ACTOR, new).await?;
    }
    let mut runs = Vec::new();
    for (vendor, product, version, file, changelog) in UPLOADS {
        let path = plugins.join(file);
        let bytes = std::fs::read(&path)
            .map_err(|e| DemoError::MissingPlugin(format!("{}: {e}", path.display())))?;
        let upload = Upload {
            product: (*product).into(),
            version: (*version).into(),
            changelog: (*changelog).into(),
            file_name: (*file).into(),
            bytes,
            ..Upload::default()
        };
        let submitted = service::submit(market, &actor(market, vendor).await?, upload).await?;
        runs.push((*vendor, submitted));
    }
    // Wait for the runs (seconds), then ask for listing of the godkjent ones.
    for (_, submitted) in &runs {
        let run = wait(market, submitted.run.id).await?;
        if run.state != RunState::Done {
            return Err(DemoError::Run(format!(
                "run {} ended as {}: {}",
                run.id,
                run.state,
                run.error.unwrap_or_default()
            )));
        }
    }
    let mut cases = Vec::new();
    for (vendor, submitted) in runs
        .iter()
        .filter(|(_, s)| s.submission.file_name == "reference.wasm")
    {
        // Every declaration answered, with a synthetic attachment where one is required.
        let answers =
            crate::declarations::sample_answers(&market.runner.suite, &submitted.product.vendor);
        cases.push(
            service::request_listing(
                market,
                &actor(market, vendor).await?,
                submitted.product.id,
                submitted.submission.id,
                Ok(answers),
            )
            .await
            .map_err(AppError::from)?,
        );
    }
    // The first is approved by both reviewers and listed; the second waits in the queue.
    if let Some(case) = cases.first() {
        for reviewer in ["rita@prosjektet.example", "rune@prosjektet.example"] {
            let input = DecisionInput {
                decision: "approve".into(),
                note: "Alle skal-vilkår bestått; dokumentasjonen er i orden.".into(),
                declarations: crate::declarations::accept_all(
                    case,
                    "Dokumentasjonen dekker erklæringen.",
                ),
            };
            service::decide(market, &actor(market, reviewer).await?, case.id, &input).await?;
        }
    }
    // A few nights before tonight re-test the listed version, each with its own seed.
    let tonight = crate::nightly::tonight(market)?;
    for back in (1..=NIGHTS).rev() {
        if let Ok(date) = tonight.checked_sub(jiff::Span::new().days(back)) {
            crate::nightly::run_night(market, date, Duration::from_secs(300)).await?;
        }
    }
    Ok(())
}

async fn wait(market: &Market, run: i64) -> Result<crate::store::Run, DemoError> {
    for _ in 0..1200 {
        if let Some(r) = market
            .stores
            .market
            .run(run)
            .await
            .map_err(AppError::from)?
            && matches!(r.state, RunState::Done | RunState::Error)
        {
            return Ok(r);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    Err(DemoError::Run(format!(
        "run {run} did not finish within 5 minutes"
    )))
}

//! The markedsplass service behind `sandkasse serve`: vendors certify their adapters, the project
//! approves listings, and everyone sees the catalogue (`docs/markedsplass.md`).
//!
//! This crate is the library; the `sandkasse` binary is glue over it. Two layers: a core that
//! knows nothing of HTTP, and the HTTP server over it.
//!
//! The core:
//!
//! - [`market`] — [`market::Market`], what every operation takes: the stores, accounts, audit
//!   trail, clock, run queue and the configuration the domain reads;
//! - [`service`] — the operations (upload, review, listing, catalogue, …), each checking
//!   [`policy`] (who may see and do what, and the [`policy::Actor`] asking) and writing its change
//!   with its audit events; [`governance`] — the consensus rule of listing decisions;
//! - [`listing`] — a listing's status as every page, the API and the badge show it (one
//!   function); [`notices`] — what a vendor is told of decisions and listing changes;
//!   [`trail`] — the audit trail's filters and what each event says;
//! - [`picker`] — an upload names an existing product or, explicitly, a new one (never a near
//!   miss of an existing name);
//! - [`runner`] — the durable run queue and its workers; [`figures`] — what a run measured;
//! - [`nightly`] — the nightly re-tests, one file per stage (schedule, night, evaluation, webhook,
//!   renderings); [`nightly::run_night_alone`] runs one night on its own;
//! - [`config`] — the typed [`Config`]: defaults → TOML file → `SANDKASSE__*` env → flags;
//!   [`limits`] — what one component or client can make the service store, render or hold;
//! - [`workbench`] — the vendors' hosted development sandboxes: one synthetic platform per
//!   organisation, the launch simulator, its fault presets, exchanges and person kinds;
//! - [`store`] — storage behind narrow traits (`Arc<dyn AccountStore>`, `Arc<dyn RunQueue>`, …),
//!   with the SQLite (embedded) and PostgreSQL (several processes) backends and numbered
//!   migrations in `migrations/{sqlite,postgres}/`;
//! - [`accounts`] — organisations, users and roles, argon2id passwords, API tokens shown once;
//!   [`admin`] — the admin area's operations over them (users, roles, resets, webhook status);
//!   [`tokens`] — a vendor's own API tokens;
//! - [`audit`] — the append-only, hash-chained audit trail and its verification;
//! - [`error`] — [`AppError`], the one error of every operation; [`i18n`] — the languages and the
//!   texts of `web/i18n.toml`, and [`i18n::Msg`], a text an error carries until the language of
//!   the answer is known.
//!
//! The HTTP layer, [`http`] (the only part that knows axum; the core never imports it):
//!
//! - [`http::server`] — the axum `Router` over [`http::AppState`] (a [`market::Market`] and the
//!   templates and throttle only HTTP needs), health and readiness, graceful shutdown;
//!   [`http::connections`] — the accept loop and its limits;
//! - [`http::api`] — the JSON API; [`http::web`] — the pages, over [`http::page`] (the `Page`
//!   extractor and `PageError`, a page's error view); [`http::auth`] — sessions and tokens;
//!   [`http::csrf`] — the extractors that admit state-changing requests; [`http::error`] — the
//!   one JSON error shape; [`http::refusals`] — every refusal answered in the request's language,
//!   as that JSON or as the error page.
//!
//! ```no_run
//! # async fn f() -> Result<(), Box<dyn std::error::Error>> {
//! use sandkasse_markedsplass::config::{Config, Overrides};
//! let config = Config::load(Some("sandkasse.toml".as_ref()), &Overrides::default())?;
//! sandkasse_markedsplass::serve(config, async { let _ = tokio::signal::ctrl_c().await; }).await?;
//! # Ok(()) }
//! ```

#![forbid(unsafe_code)]

pub mod accounts;
pub mod admin;
pub mod audit;
pub mod clock;
pub mod components;
pub mod config;
pub mod declarations;
pub mod demo;
pub mod error;
pub mod evidence;
pub mod figures;
pub mod governance;
pub mod http;
pub mod i18n;
pub mod limits;
pub mod listing;
pub mod market;
pub mod nightly;
pub mod notices;
pub mod picker;
pub mod policy;
pub mod rerun;
pub mod results;
pub mod runner;
pub mod service;
pub mod store;
pub mod throttle;
pub mod tokens;
pub mod trail;
pub mod workbench;

pub use config::Config;
pub use error::AppError;
pub use http::{ServeError, Server, app, serve};

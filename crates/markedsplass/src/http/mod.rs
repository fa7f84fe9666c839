//! The HTTP layer: the only part of the markedsplass that knows axum. It turns requests into calls
//! of the core ([`crate::service`] over a [`crate::market::Market`]) and answers back; the core
//! never imports it.
//!
//! - [`server`] — [`AppState`] (the market and what only HTTP needs: the whole configuration, the
//!   pages' templates, the login throttle), the `Router` ([`app`]), health and readiness, and
//!   [`Server`], which binds, runs the workers and the nightly scheduler, and shuts down gracefully;
//! - [`api`] — the JSON API under `/api/v1` (and the upload's multipart reading);
//! - [`web`] — the server-rendered pages; [`listing_form`] — the listing request's form with the
//!   answers to the declarations, shown again when refused; [`self_service`] — a vendor's API tokens, the admin
//!   area and one's own password;
//! - [`auth`] — who is asking ([`crate::policy::Actor`] from a session cookie or an API token),
//!   sessions, and the origin check; [`csrf`] — the extractors that admit a state-changing request
//!   only with the session's CSRF token;
//! - [`page`] — what every page needs, and `PageError`, the error a page handler returns;
//! - [`error`] — [`crate::AppError`]'s status, stable code and one JSON shape;
//! - [`refusals`] — the middleware over every route that answers every refusal (a handler's
//!   error, an extractor's rejection, 404, 405, 413, a panic) in the request's language and its
//!   side's shape: the JSON error under `/api/`, the error page elsewhere;
//! - [`workbench`] — the vendor's workbench (launch simulator, faults, reset, person kinds,
//!   exchanges) as pages and API; [`hosted`] — the hosted sandboxes' FHIR endpoint;
//! - [`connections`] — the accept loop: timeouts, connection caps, bounded draining.

pub mod api;
pub mod auth;
pub mod connections;
pub mod csrf;
pub mod error;
pub mod hosted;
pub mod listing_form;
pub mod page;
pub mod refusals;
pub mod self_service;
pub mod server;
pub mod web;
pub mod workbench;

pub use server::{AppState, ServeError, Server, app, serve};

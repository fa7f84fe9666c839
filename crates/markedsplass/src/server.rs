//! The HTTP service: [`app`] builds the axum `Router`, [`Server`] binds it and serves it until a
//! shutdown signal, then drains requests and closes the database.
//!
//! ```no_run
//! # async fn f() -> Result<(), Box<dyn std::error::Error>> {
//! use sandkasse_markedsplass::{Config, server::Server};
//! let server = Server::bind(Config::default()).await?;   // opens the database, runs migrations
//! println!("listening on http://{}", server.local_addr());
//! server.run(async { let _ = tokio::signal::ctrl_c().await; }).await?;
//! # Ok(()) }
//! ```
//!
//! Routes live next to their handlers, one module per area as the service grows. Today:
//!
//! | route | answer |
//! |---|---|
//! | `GET /health` | 200 `{"status":"ok"}` while the process serves |
//! | `GET /ready`  | 200 `{"status":"ready"}` when the database answers, else 503 in the [`AppError`] shape |
//!
//! Every request is logged as a `tracing` event (method, path, status, milliseconds) by a small
//! middleware; request bodies are capped at `max_upload_bytes`.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::accounts::Accounts;
use crate::audit::Audit;
use crate::error::AppError;
use crate::store::{StoreError, Stores};
use crate::Config;

/// What every handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub stores: Stores,
    pub accounts: Accounts,
    pub audit: Audit,
}

impl AppState {
    pub fn new(config: Config, stores: Stores) -> AppState {
        let audit = Audit::new(stores.audit.clone());
        let accounts = Accounts::new(stores.accounts.clone(), audit.clone());
        AppState { config: Arc::new(config), stores, accounts, audit }
    }
}

/// Why the service could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("listening on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("serving: {0}")]
    Io(#[from] std::io::Error),
}

/// The service's routes over `state`.
pub fn app(state: AppState) -> Router {
    let limit = usize::try_from(state.config.max_upload_bytes).unwrap_or(usize::MAX);
    Router::new()
        .route("/health", get(health))
        .route("/ready", get(ready))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(limit))
        .layer(middleware::from_fn(log_request))
        .with_state(state)
}

/// Unknown paths get the one error shape too.
async fn not_found() -> AppError {
    AppError::NotFound
}

async fn health() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

async fn ready(State(state): State<AppState>) -> Result<Json<Value>, AppError> {
    match state.stores.health.ping().await {
        Ok(()) => Ok(Json(json!({ "status": "ready" }))),
        Err(e) => {
            tracing::warn!(error = %e, "database does not answer");
            Err(AppError::NotReady)
        }
    }
}

async fn log_request(request: Request, next: Next) -> Response {
    let (method, path, started) = (request.method().clone(), request.uri().path().to_owned(), Instant::now());
    let response = next.run(request).await;
    tracing::info!(
        %method,
        path,
        status = response.status().as_u16(),
        ms = started.elapsed().as_secs_f64() * 1e3,
        "request"
    );
    response
}

/// A bound, ready-to-run service.
#[derive(Debug)]
pub struct Server {
    listener: tokio::net::TcpListener,
    state: AppState,
}

impl Server {
    /// Creates `data_dir`, opens and migrates the database, and binds `config.listen`
    /// (port 0 picks a free port; see [`Server::local_addr`]).
    pub async fn bind(config: Config) -> Result<Server, ServeError> {
        let stores = Stores::open(&config).await?;
        let addr = config.listen;
        let listener =
            tokio::net::TcpListener::bind(addr).await.map_err(|source| ServeError::Bind { addr, source })?;
        Ok(Server { listener, state: AppState::new(config, stores) })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().unwrap_or_else(|_| self.state.config.listen)
    }

    /// The shared state, e.g. to seed data before serving.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes, lets running requests finish, then closes the database.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<(), ServeError> {
        let Server { listener, state } = self;
        let stores = state.stores.clone();
        tracing::info!(addr = %listener.local_addr()?, "markedsplass serving");
        axum::serve(listener, app(state)).with_graceful_shutdown(shutdown).await?;
        stores.health.close().await;
        tracing::info!("markedsplass stopped");
        Ok(())
    }
}

/// Opens the database and serves `config` until `shutdown` completes.
pub async fn serve(config: Config, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<(), ServeError> {
    Server::bind(config).await?.run(shutdown).await
}

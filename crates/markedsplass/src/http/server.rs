//! The HTTP service: [`app`] builds the axum `Router`, [`Server`] binds it and serves it until a
//! shutdown signal, then drains requests and closes the database.
//!
//! ```no_run
//! # async fn f() -> Result<(), Box<dyn std::error::Error>> {
//! use sandkasse_markedsplass::{Config, http::Server};
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
//! Every request is logged by tower-http's `TraceLayer` (method and path — never the query —,
//! status, milliseconds); a handler that panics is answered with 500 (`CatchPanicLayer`);
//! request bodies are capped at `max_upload_bytes`. Every refusal — a handler's error, an
//! extractor's rejection, an unknown path or method, a panic — is answered by
//! [`super::refusals::answer`] in the request's language, as JSON under `/api/` and as the error
//! page elsewhere.

use std::any::Any;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse as _, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};
use tower_http::LatencyUnit;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use super::web::Templates;
use crate::Config;
use crate::clock::Clock;
use crate::error::AppError;
use crate::market::{Market, StartError};
use crate::store::{StoreError, Stores};
use crate::throttle::LoginThrottle;

/// What every handler can reach: the core ([`Market`], also reached through `Deref`, so
/// `state.stores` is the market's) and what only the HTTP layer needs.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The core every operation takes.
    pub market: Arc<Market>,
    /// The whole configuration: the listener, body and connection limits, sessions.
    pub config: Arc<Config>,
    /// The pages' templates and texts.
    pub templates: Arc<Templates>,
    /// Failed logins per username and address.
    pub throttle: Arc<LoginThrottle>,
}

impl std::ops::Deref for AppState {
    type Target = Market;

    fn deref(&self) -> &Market {
        &self.market
    }
}

impl AppState {
    /// The state over opened `stores`: builds the core ([`Market::new`]: the suite, the sandbox,
    /// the signing key) and the pages' templates. `clock` is [`Clock::system`] except in tests.
    pub fn new(config: Config, stores: Stores, clock: Clock) -> Result<AppState, ServeError> {
        let market = Market::new(&config, stores, clock)?;
        let throttle = Arc::new(LoginThrottle::new(&config.limits));
        Ok(AppState {
            market: Arc::new(market),
            config: Arc::new(config),
            templates: Arc::new(Templates::new()),
            throttle,
        })
    }

    /// Opens the database `config` names and builds the state on the system clock.
    pub async fn open(config: Config) -> Result<AppState, ServeError> {
        let stores = Stores::open(&config).await?;
        AppState::new(config, stores, Clock::system())
    }
}

/// Why the service could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The suite, the sandbox or the signing key.
    #[error(transparent)]
    Start(#[from] StartError),
    #[error("listening on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("serving: {0}")]
    Io(#[from] std::io::Error),
}

/// The service's routes over `state`.
pub fn app(state: AppState) -> Router {
    let limit = usize::try_from(state.config.max_upload_bytes).unwrap_or(usize::MAX);
    Router::new()
        .route("/health", get(health))
        .route("/ready", get(ready))
        .merge(crate::http::api::routes())
        .merge(crate::http::web::routes())
        .merge(crate::http::workbench::routes())
        .merge(crate::http::hosted::routes())
        .fallback(not_found)
        .layer(catch_panics())
        .layer(DefaultBodyLimit::max(limit))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            refuse_oversized,
        ))
        .layer(middleware::from_fn(crate::http::auth::check_origin))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::http::refusals::answer,
        ))
        .layer(middleware::from_fn(crate::http::web::security_headers))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request| {
                    // The path only: a query may hold what a person searched for.
                    tracing::info_span!("request", method = %request.method(), path = request.uri().path())
                })
                .on_request(())
                .on_response(DefaultOnResponse::new().level(Level::INFO).latency_unit(LatencyUnit::Millis)),
        )
        .with_state(state)
}

/// A worker node's routes: `/health` and `/ready` only, for the load balancer or orchestrator;
/// everything else is a 404 in the API's JSON shape.
pub fn probes(state: AppState) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/ready", get(ready))
        .fallback(not_found)
        .layer(catch_panics())
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::http::refusals::answer,
        ))
        .with_state(state)
}

/// How a handler's panic is answered; the cause is logged, never sent.
pub type PanicAnswer = fn(Box<dyn Any + Send + 'static>) -> Response;

fn panic_cause(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic payload".to_owned())
}

/// The layer that answers a handler's panic with a 500 (the cause logged, never sent), for
/// [`super::refusals::answer`] to show as its side does.
pub fn catch_panics() -> CatchPanicLayer<PanicAnswer> {
    CatchPanicLayer::custom(panicked as PanicAnswer)
}

/// A handler's panic: an internal error (its cause logged), which
/// [`super::refusals::answer`] shows as its side does.
fn panicked(payload: Box<dyn Any + Send + 'static>) -> Response {
    AppError::Internal(format!("panic: {}", panic_cause(payload.as_ref())).into()).into_response()
}

/// An API request that declares a body over `max_upload_bytes` is refused with 413 before any of
/// it is read (the body limit alone stops reading only once the limit is passed). The pages keep
/// their own handling, which answers with the upload form and the same message.
async fn refuse_oversized(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let declared = request
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match declared {
        Some(length)
            if length > state.config.max_upload_bytes
                && request.uri().path().starts_with("/api/") =>
        {
            crate::http::api::too_large(state.config.max_upload_bytes).into_response()
        }
        _ => next.run(request).await,
    }
}

/// Unknown paths: a 404, in the JSON error shape under `/api/` and as the error page elsewhere
/// ([`super::refusals::answer`]).
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
        let addr = config.listen;
        let state = AppState::open(config).await?;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| ServeError::Bind { addr, source })?;
        if let Ok(bound) = listener.local_addr() {
            state.workbench.set_listen_addr(bound);
        }
        Ok(Server { listener, state })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| self.state.config.listen)
    }

    /// The shared state, e.g. to seed data before serving.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Queues again the runs a previous process left running, starts the workers, serves until
    /// `shutdown` completes, lets running requests finish (for at most
    /// `limits.shutdown_grace_seconds`), then closes the database. A run still
    /// executing at shutdown stays `running` in the database and is run again at the next start.
    /// Compiles in flight are interrupted at `shutdown` ([`Sandbox::interrupt_compiles`]): an
    /// upload being compiled is refused (503, nothing stored), a run being compiled stays queued.
    ///
    /// [`Sandbox::interrupt_compiles`]: sandkasse_sandbox::Sandbox::interrupt_compiles
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        let Server { listener, state } = self;
        let stores = state.stores.clone();
        let role = state.config.role;
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let mut workers = Vec::new();
        if role.runs_tests() {
            if let Err(e) = state.runner.recover().await {
                // The workers retry the queue; /ready reports the database.
                tracing::error!(error = %e, "could not requeue interrupted runs at start");
            }
            workers = state.runner.spawn(state.config.workers, stopped.clone());
        }
        // Signals of the other processes of a shared database: queued runs wake the workers
        // here, progress reaches the watchers here.
        let follower = state
            .runner
            .follow_signals(role.runs_tests(), stopped.clone());
        let sender = crate::nightly::spawn_sender(state.market.clone(), stopped.clone());
        let scheduler = state
            .config
            .nightly
            .enabled
            .then(|| crate::nightly::spawn_scheduler(state.market.clone(), stopped));
        tracing::info!(addr = %listener.local_addr()?, ?role, workers = workers.len(), "markedsplass serving");
        // At the signal, compiles in flight are killed (their uploads refused, their runs left to
        // the next start), so the drain below never waits for a compile.
        let sandbox = state.runner.sandbox.clone();
        let shutdown = async move {
            shutdown.await;
            sandbox.interrupt_compiles();
        };
        // Timeouts, caps and bounded draining (`connections`); the peer address reaches handlers
        // as `ConnectInfo` (the login throttle keys on it).
        let hygiene = crate::http::connections::Hygiene::from_limits(&state.config.limits);
        let router = if role.serves_web() {
            app(state)
        } else {
            probes(state)
        };
        let served = crate::http::connections::serve(listener, router, hygiene, shutdown).await;
        let _ = stop.send(true);
        for worker in workers
            .into_iter()
            .chain(scheduler)
            .chain(follower)
            .chain([sender])
        {
            worker.abort();
        }
        stores.health.close().await;
        tracing::info!("markedsplass stopped");
        Ok(served?)
    }
}

/// Opens the database and serves `config` until `shutdown` completes.
pub async fn serve(
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    Server::bind(config).await?.run(shutdown).await
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::StatusCode;
    use tower::ServiceExt as _;

    use super::*;

    #[tokio::test]
    async fn a_panic_is_an_internal_error_that_keeps_its_cause() {
        async fn boom() -> Response {
            panic!("secret cause")
        }
        let router: Router = Router::new().route("/x", get(boom)).layer(catch_panics());
        let response = router
            .oneshot(axum::http::Request::get("/x").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let failure = response.extensions().get::<crate::http::error::Failure>();
        assert!(
            failure.is_some_and(|f| matches!(*f.0, AppError::Internal(_))),
            "the error travels to the middleware that answers it"
        );
        let body = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        let body = String::from_utf8_lossy(&body);
        assert!(body.contains("\"code\":\"internal\""), "{body}");
        assert!(!body.contains("secret cause"), "{body}");
    }
}

//! The synthetic platform: a strict FHIR R4 REST API over a synthetic kommune.
//!
//! One implementation, served two ways: in-process (the sandbox routes adapters' `wasi:http`
//! requests into [`app`] through `tower::ServiceExt::oneshot`) and over real HTTP ([`serve`],
//! `sandkasse platform --listen ADDR`). `docs/platform.md` is the user guide.
//!
//! - [`Base`]: the immutable dataset, built once from a generated
//!   [`Dataset`](sandkasse_kommune::Dataset), compactly stored and indexed, shared by `Arc`.
//! - [`Platform`]: one scenario's world — the base plus its own write overlay, audit log, token
//!   table, [`FaultPlan`](faults::FaultPlan) and [`Clock`](clock::Clock). Cheap to create.
//! - [`access::decide`]: the access rules (tjenstlig behov, emergency access, shielding) as one
//!   pure function.
//! - [`audit`]: an `AuditEvent` for every access, the basis of innsyn.
//!
//! ```
//! use std::sync::Arc;
//! use sandkasse_platform::{Base, Platform, app, clock::FixedClock};
//! use tower::ServiceExt as _;
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let data = sandkasse_kommune::generate(&sandkasse_kommune::GenConfig::new(42, 200));
//! let base = Arc::new(Base::new(&data));
//! let clock = Arc::new(FixedClock::new(base.reference_time()));
//! let platform = Arc::new(Platform::new(base, clock));
//! let response = app(platform)
//!     .oneshot(http::Request::get("/4601/fhir/metadata").body(axum::body::Body::empty()).unwrap())
//!     .await
//!     .unwrap();
//! assert_eq!(response.status(), 200);
//! # });
//! ```

pub mod access;
pub mod audit;
pub mod capability;
pub mod clock;
pub mod dates;
pub mod error;
pub mod faults;
mod platform;
mod profile;
mod route;
pub mod search;
mod store;
pub mod token;
pub mod types;

use std::any::Any;
use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use tower_http::catch_panic::CatchPanicLayer;

pub use audit::{AuditEntry, AuditOutcome, Interaction};
pub use error::ApiError;
pub use faults::{FaultAction, FaultPlan, FaultRule};
pub use platform::{DEFAULT_BASE_URL, DEFAULT_BODY_LIMIT, Platform, PlatformConfig};
pub use store::Base;
pub use token::{Grant, LaunchContext, Purpose, TokenError};

/// The API as an axum `Router` (every path; unknown ones get a 404 `OperationOutcome`), with
/// the last-resort panic layer.
pub fn app(platform: Arc<Platform>) -> Router {
    Router::new()
        .fallback(handle)
        .with_state(platform)
        .layer(catch_panic())
}

async fn handle(State(platform): State<Arc<Platform>>, req: Request) -> Response {
    platform.handle(req).await
}

/// Serves [`app`] on `listener` until `shutdown` completes.
///
/// Set [`PlatformConfig::base_url`] to the address clients use (e.g. `http://127.0.0.1:8080`)
/// so `fullUrl`, `Location` and `next` links point back at this server.
pub async fn serve(
    listener: tokio::net::TcpListener,
    platform: Arc<Platform>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app(platform))
        .with_graceful_shutdown(shutdown)
        .await
}

/// The last-resort layer: a panic anywhere below becomes a generic 500 `OperationOutcome`; the
/// cause is logged (never sent).
pub fn catch_panic() -> CatchPanicLayer<fn(Box<dyn Any + Send + 'static>) -> Response> {
    CatchPanicLayer::custom(panic_response)
}

fn panic_response(payload: Box<dyn Any + Send + 'static>) -> Response {
    let cause = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic payload".to_owned());
    tracing::error!(%cause, "panic while handling a request");
    ApiError::internal().into_response()
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use tower::ServiceExt as _;

    use super::*;

    #[tokio::test]
    async fn panics_become_a_generic_500_outcome() {
        async fn boom() -> Response {
            panic!("secret cause")
        }
        let router = Router::new().fallback(boom).layer(catch_panic());
        let resp = router
            .oneshot(http::Request::get("/x").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(resp.status(), 500);
        let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap();
        let text = String::from_utf8(body.to_vec()).unwrap();
        assert!(
            text.contains("OperationOutcome") && !text.contains("secret cause"),
            "{text}"
        );
    }
}

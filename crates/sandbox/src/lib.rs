//! The wasmtime host: runs a vendor's adapter component in isolation against the synthetic
//! platform, within limits, and records everything the suite needs as evidence.
//!
//! - [`Sandbox`]: one per process — the `Engine` (async, fuel, epoch interruption, pooling
//!   allocator), the linker with every WASI capability denied and `wasi:http` routed to the
//!   platform, the compile cache ([`cache`](SandboxConfig::cache_dir)) and the epoch ticker.
//! - [`Sandbox::prepare`]: inspect, audit and link a component once (`InstancePre`);
//!   [`Sandbox::inspect`] shows what it is and why it would be rejected ([`Rejection`]).
//! - [`Sandbox::session`]: a fresh `Store` per scenario; several calls in one instance, each
//!   giving a [`CallEvidence`]. Run it inside [`block_on_virtual`] so time is virtual.
//! - [`Limits`]: every bound, with documented defaults; hitting one is a classified outcome
//!   ([`FailureClass`]), never a host failure.
//! - [`compile`]: compiling a component in a child process ([`CompileWorker`]) within a time,
//!   memory and code-size limit; [`Sandbox::interrupt_compiles`] ends them at shutdown.
//!
//! ```no_run
//! use sandkasse_sandbox::{Sandbox, SandboxConfig, SessionOptions, block_on_virtual};
//! # fn router() -> axum::Router { axum::Router::new() }
//! let sandbox = Sandbox::new(SandboxConfig::default()).unwrap();
//! let prepared = sandbox.prepare(&std::fs::read("adapter.wasm").unwrap()).unwrap();
//! let evidence = block_on_virtual(async {
//!     let mut session = sandbox.session(&prepared, router(), SessionOptions::default()).await;
//!     session.info().await.0
//! });
//! println!("{}", serde_json::to_string_pretty(&evidence).unwrap());
//! ```

mod cache;
pub mod compile;
mod engine;
pub mod evidence;
mod host;
pub mod inspect;
pub mod launch;
pub mod limits;
mod session;

pub use compile::CompileWorker;
pub use engine::{Prepared, Sandbox, SandboxConfig, SandboxError};
pub use evidence::{CallEvidence, Disposition, Exchange, FailureClass, LogLine, Outcome};
pub use host::types;
pub use inspect::{Inspection, Rejection};
pub use launch::{LaunchError, LaunchSpec, launch};
pub use limits::Limits;
pub use session::{Session, SessionOptions, block_on_virtual, context_json};

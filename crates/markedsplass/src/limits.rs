//! The service's own limits against hostile uploads and clients: what one vendor's component or
//! one client can make the service store, render or hold. Every field states its default and
//! what happens when it is hit; a vendor who hits one is told which, in the language of the page
//! (or of the API request's `Accept-Language`).
//!
//! They are the `[limits]` table of the configuration (`SANDKASSE__LIMITS__MAX_REPORT_BYTES=…`).
//! The sandbox's limits on a component's run (fuel, memory, time, output) are
//! `sandkasse_sandbox::Limits`; these bound what the service does around it.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Limits of the service. See the field docs for defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServiceLimits {
    /// Bytes of a stored report (compact JSON). A report over it has its evidence cut by the rule
    /// of `sandkasse_suite::bound` before it is signed and stored: the verdict, score and reasons
    /// stay whole, each cut call says what was cut, and the report page says the report was cut.
    /// At least 64 KiB. Default: 1 MiB.
    pub max_report_bytes: usize,
    /// Failed logins for one username before each further one makes that username wait
    /// (`crate::throttle`). Default: 5.
    pub login_free_failures_per_username: u32,
    /// Failed logins from one client address (IPv6: its /64) before each further one makes the
    /// address wait. Default: 20.
    pub login_free_failures_per_address: u32,
    /// The first wait after the free failures, milliseconds; each further failure doubles it.
    /// Default: 1 000.
    pub login_backoff_base_ms: u64,
    /// The longest wait of a username, seconds. Short, so that typing wrong passwords for someone
    /// cannot lock them out; it does not apply from an address they logged in from before.
    /// Default: 60.
    pub login_backoff_max_username_seconds: u64,
    /// The longest wait of a client address, seconds. Default: 900.
    pub login_backoff_max_address_seconds: u64,
    /// Password hashes (argon2id, 19 MiB and ~50 ms each) computed at once, on blocking threads;
    /// further logins wait their turn. Default: 2.
    pub password_hash_concurrency: usize,
    /// Seconds a client has to send a request's headers, counted from when the connection is
    /// ready for a request (so a kept-alive connection left idle is closed after it too).
    /// Default: 10.
    pub header_read_timeout_seconds: u64,
    /// Seconds a request body may go without a chunk; after the same time from its start, it must
    /// also average `min_body_bytes_per_second`. A body that misses either is refused (400) and
    /// its connection closed. Default: 10.
    pub body_read_timeout_seconds: u64,
    /// The slowest average a request body may arrive at, bytes per second (0: no minimum).
    /// Default: 1 024 (a 64 MiB upload then takes at most about 18 hours; any real client is
    /// orders of magnitude faster).
    pub min_body_bytes_per_second: u64,
    /// Connections open at once, in all. One more is answered `503` with `Retry-After` and closed
    /// unread. Keep it under the process's open-file limit (`ulimit -n`). Default: 1 000.
    pub max_connections: usize,
    /// Connections open at once from one client address (IPv6: its /64), 0 for no cap. Behind a
    /// reverse proxy every connection comes from the proxy: raise it or set 0 there.
    /// Default: 64.
    pub max_connections_per_address: usize,
    /// Seconds the service waits at shutdown for open connections (event streams, uploads) to
    /// finish before it closes them. Default: 10.
    pub shutdown_grace_seconds: u64,
    /// Seconds compiling an uploaded component may take; the compile is stopped after it and the
    /// upload refused, naming the limit. Default: 300 (`sandkasse_sandbox::Limits`).
    pub compile_timeout_seconds: u64,
    /// Bytes of memory compiling a component may use (the compile worker process's resident set);
    /// the compile is stopped above it and the upload refused, naming the limit. Default: 2 GiB.
    pub compile_memory_bytes: usize,
    /// Bytes of compiled code a component may produce; more is refused, naming the limit, and
    /// never stored. Default: 128 MiB.
    pub max_compiled_bytes: usize,
    /// Uploads compiled at once, each in its own child process of up to `compile_memory_bytes`;
    /// further uploads wait their turn (runs compile in their worker, bounded by `workers`).
    /// Default: 2.
    pub upload_compile_concurrency: usize,
}

impl Default for ServiceLimits {
    fn default() -> Self {
        let compile = sandkasse_sandbox::Limits::default();
        ServiceLimits {
            max_report_bytes: 1 << 20,
            login_free_failures_per_username: 5,
            login_free_failures_per_address: 20,
            login_backoff_base_ms: 1_000,
            login_backoff_max_username_seconds: 60,
            login_backoff_max_address_seconds: 900,
            password_hash_concurrency: 2,
            header_read_timeout_seconds: 10,
            body_read_timeout_seconds: 10,
            min_body_bytes_per_second: 1024,
            max_connections: 1_000,
            max_connections_per_address: 64,
            shutdown_grace_seconds: 10,
            compile_timeout_seconds: compile.compile_timeout_seconds,
            compile_memory_bytes: compile.compile_memory_bytes,
            max_compiled_bytes: compile.max_compiled_bytes,
            upload_compile_concurrency: 2,
        }
    }
}

/// The smallest report budget accepted: a report's own structure (every vilkår with its reasons)
/// must fit with room for some evidence.
pub const MIN_REPORT_BYTES: usize = 64 << 10;

impl ServiceLimits {
    /// Checks values the types alone do not: `(field, problem)`.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        if self.max_report_bytes < MIN_REPORT_BYTES {
            return Err((
                "limits.max_report_bytes",
                format!("must be at least {MIN_REPORT_BYTES}"),
            ));
        }
        for (field, value) in [
            ("limits.login_backoff_base_ms", self.login_backoff_base_ms),
            (
                "limits.login_backoff_max_username_seconds",
                self.login_backoff_max_username_seconds,
            ),
            (
                "limits.login_backoff_max_address_seconds",
                self.login_backoff_max_address_seconds,
            ),
            (
                "limits.password_hash_concurrency",
                self.password_hash_concurrency as u64,
            ),
            (
                "limits.header_read_timeout_seconds",
                self.header_read_timeout_seconds,
            ),
            (
                "limits.body_read_timeout_seconds",
                self.body_read_timeout_seconds,
            ),
            ("limits.max_connections", self.max_connections as u64),
            (
                "limits.compile_timeout_seconds",
                self.compile_timeout_seconds,
            ),
            (
                "limits.compile_memory_bytes",
                self.compile_memory_bytes as u64,
            ),
            ("limits.max_compiled_bytes", self.max_compiled_bytes as u64),
            (
                "limits.upload_compile_concurrency",
                self.upload_compile_concurrency as u64,
            ),
        ] {
            if value == 0 {
                return Err((field, "must be at least 1".into()));
            }
        }
        Ok(())
    }

    /// The sandbox's limits: its defaults with the compile limits of this table.
    pub fn sandbox(&self) -> sandkasse_sandbox::Limits {
        sandkasse_sandbox::Limits {
            compile_timeout_seconds: self.compile_timeout_seconds,
            compile_memory_bytes: self.compile_memory_bytes,
            max_compiled_bytes: self.max_compiled_bytes,
            ..sandkasse_sandbox::Limits::default()
        }
    }

    /// The backoff of usernames.
    pub fn username_backoff(&self) -> crate::throttle::Backoff {
        crate::throttle::Backoff {
            free: self.login_free_failures_per_username,
            base: Duration::from_millis(self.login_backoff_base_ms),
            max: Duration::from_secs(self.login_backoff_max_username_seconds),
        }
    }

    /// The backoff of client addresses.
    pub fn address_backoff(&self) -> crate::throttle::Backoff {
        crate::throttle::Backoff {
            free: self.login_free_failures_per_address,
            base: Duration::from_millis(self.login_backoff_base_ms),
            max: Duration::from_secs(self.login_backoff_max_address_seconds),
        }
    }
}

//! The host side of one instance: WASI with every capability denied, `wasi:http` routed into the
//! platform router, the `logging` import, resource limits and the evidence recorder.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, Limited};
use tower::ServiceExt as _;
use wasmtime::ResourceLimiter;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{HostMonotonicClock, HostWallClock, WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiBody, WasiHttpCtx, WasiHttpCtxView, WasiHttpHooks, WasiHttpView};

use crate::evidence::{Disposition, Exchange, LogLine};
use crate::limits::Limits;

wasmtime::component::bindgen!({
    path: "../../conformance/wit",
    world: "kommune:sandkasse/adapter",
    exports: { default: async },
    additional_derives: [serde::Serialize, serde::Deserialize],
    with: {
        "wasi:http": wasmtime_wasi_http::p2::bindings::http,
        "wasi:io": wasmtime_wasi::p2::bindings::io,
        "wasi:clocks": wasmtime_wasi::p2::bindings::clocks,
    },
});

pub use kommune::sandkasse::logging::Level;
pub use kommune::sandkasse::types;

/// Virtual time of a session: tokio's clock, which a paused runtime advances instantly.
#[derive(Debug, Clone, Copy)]
pub struct VirtualTime {
    origin: tokio::time::Instant,
    /// Wall-clock time at the origin (the scenario's "now").
    wall_origin: Duration,
}

impl VirtualTime {
    pub fn new(wall_origin: Duration) -> VirtualTime {
        VirtualTime {
            origin: tokio::time::Instant::now(),
            wall_origin,
        }
    }

    /// Elapsed virtual time.
    pub fn elapsed(&self) -> Duration {
        self.origin.elapsed()
    }

    pub fn elapsed_ms(&self) -> u64 {
        self.elapsed().as_millis() as u64
    }
}

impl HostMonotonicClock for VirtualTime {
    fn resolution(&self) -> u64 {
        1_000
    }

    fn now(&self) -> u64 {
        self.elapsed().as_nanos() as u64
    }
}

impl HostWallClock for VirtualTime {
    fn resolution(&self) -> Duration {
        Duration::from_micros(1)
    }

    fn now(&self) -> Duration {
        self.wall_origin + self.elapsed()
    }
}

/// Everything recorded during the current call, shared with the HTTP hook's futures.
#[derive(Debug, Default)]
pub struct Recorder {
    pub exchanges: Vec<Exchange>,
    pub logs: Vec<LogLine>,
    pub logs_dropped: usize,
    /// Requests refused after the request limit beyond the first (counted, not recorded).
    pub requests_unrecorded: usize,
    pub requests: u32,
    /// Strings that never appear in evidence (the call's access token).
    pub secrets: Vec<String>,
}

impl Recorder {
    pub fn begin(&mut self, secrets: Vec<String>) {
        *self = Recorder {
            secrets: secrets.into_iter().filter(|s| !s.is_empty()).collect(),
            ..Recorder::default()
        };
    }
}

/// Replaces every secret in `text` with `<redacted>`.
pub fn redact_secrets(text: String, secrets: &[String]) -> String {
    secrets.iter().fold(text, |t, s| {
        if t.contains(s.as_str()) {
            t.replace(s.as_str(), "<redacted>")
        } else {
            t
        }
    })
}

/// Memory and table limits that remember why growth was denied and the peak reached.
#[derive(Debug)]
pub struct Limiter {
    max_memory: usize,
    max_table: usize,
    memory_total: usize,
    pub peak_memory: usize,
    pub denied: Option<String>,
}

impl Limiter {
    fn new(limits: &Limits) -> Limiter {
        Limiter {
            max_memory: limits.max_memory_bytes,
            max_table: limits.max_table_elements,
            memory_total: 0,
            peak_memory: 0,
            denied: None,
        }
    }
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let total = self.memory_total - current.min(self.memory_total) + desired;
        if total > self.max_memory {
            let why = format!(
                "minnet ville vokse til {total} byte, grensen er {} / memory would grow to {total} bytes, the limit is {}",
                self.max_memory, self.max_memory
            );
            self.denied = Some(why.clone());
            wasmtime::bail!(why);
        }
        self.memory_total = total;
        self.peak_memory = self.peak_memory.max(total);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.max_table {
            let why = format!(
                "tabellen ville vokse til {desired} elementer, grensen er {} / table would grow to {desired} elements, the limit is {}",
                self.max_table, self.max_table
            );
            self.denied = Some(why.clone());
            wasmtime::bail!(why);
        }
        Ok(true)
    }
}

/// Routes `wasi:http` into the platform router; refuses every other authority.
pub struct PlatformHooks {
    router: Router,
    authority: String,
    limits: Arc<Limits>,
    time: VirtualTime,
    recorder: Arc<Mutex<Recorder>>,
}

fn redact(name: &str, value: &str) -> String {
    if name.eq_ignore_ascii_case("authorization") {
        match value.split_once(' ') {
            Some((scheme, _)) => format!("{scheme} <redacted>"),
            None => "<redacted>".to_owned(),
        }
    } else {
        value.to_owned()
    }
}

fn headers_of(map: &http::HeaderMap) -> Vec<(String, String)> {
    map.iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                redact(k.as_str(), &String::from_utf8_lossy(v.as_bytes())),
            )
        })
        .collect()
}

/// The exchange with every secret replaced, wherever the component put it (URL, header, body).
fn scrub(mut x: Exchange, secrets: &[String]) -> Exchange {
    if secrets.is_empty() {
        return x;
    }
    x.request_line = redact_secrets(x.request_line, secrets);
    for (_, v) in x
        .request_headers
        .iter_mut()
        .chain(x.response_headers.iter_mut())
    {
        *v = redact_secrets(std::mem::take(v), secrets);
    }
    x.request_body = x.request_body.map(|b| redact_secrets(b, secrets));
    x.response_body = x.response_body.map(|b| redact_secrets(b, secrets));
    x
}

fn capped(bytes: &[u8], cap: usize) -> Option<String> {
    if bytes.is_empty() {
        return None;
    }
    let cut = &bytes[..bytes.len().min(cap)];
    let mut s = String::from_utf8_lossy(cut).into_owned();
    if bytes.len() > cap {
        s.push_str(&format!(
            "… [{} byte til / {} more bytes]",
            bytes.len() - cap,
            bytes.len() - cap
        ));
    }
    Some(s)
}

type SendFuture = Box<
    dyn std::future::Future<
            Output = wasmtime_wasi_http::Result<(
                http::Response<WasiBody>,
                Box<dyn std::future::Future<Output = wasmtime_wasi_http::Result<()>> + Send>,
            )>,
        > + Send,
>;

fn full(bytes: Bytes) -> WasiBody {
    Full::new(bytes)
        .map_err(|e: Infallible| match e {})
        .boxed_unsync()
}

impl WasiHttpHooks for PlatformHooks {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        _options: Option<wasmtime_wasi_http::RequestOptions>,
        _fut: Box<dyn std::future::Future<Output = wasmtime_wasi_http::Result<()>> + Send>,
    ) -> SendFuture {
        let router = self.router.clone();
        let platform_authority = self.authority.clone();
        let limits = self.limits.clone();
        let time = self.time;
        let recorder = self.recorder.clone();
        Box::new(async move {
            let (parts, body) = request.into_parts();
            let authority = parts
                .uri
                .authority()
                .map(|a| a.as_str().to_owned())
                .unwrap_or_default();
            let mut exchange = Exchange {
                request_line: format!("{} {}", parts.method, parts.uri),
                request_headers: headers_of(&parts.headers),
                request_body: None,
                request_body_bytes: 0,
                disposition: Disposition::Platform,
                status: None,
                response_headers: Vec::new(),
                response_body: None,
                response_body_bytes: 0,
                sent_ms: time.elapsed_ms(),
                received_ms: time.elapsed_ms(),
            };
            let record = |exchange: Exchange| {
                let mut r = recorder.lock().expect("recorder");
                let secrets = r.secrets.clone();
                r.exchanges.push(scrub(exchange, &secrets));
            };
            let refuse = |mut exchange: Exchange,
                          disposition: Disposition,
                          error: wasmtime_wasi_http::Error| {
                exchange.disposition = disposition;
                record(exchange);
                Err(error)
            };
            {
                let mut r = recorder.lock().expect("recorder");
                r.requests = r.requests.saturating_add(1);
                if r.requests > limits.max_requests_per_call {
                    // The first refusal is the evidence; a component that keeps trying is counted,
                    // so a flood cannot grow the evidence (and the report) without bound.
                    if r.requests > limits.max_requests_per_call.saturating_add(1) {
                        r.requests_unrecorded += 1;
                        return Err(wasmtime_wasi_http::Error::ConnectionLimitReached);
                    }
                    drop(r);
                    return refuse(
                        exchange,
                        Disposition::RefusedRequestLimit,
                        wasmtime_wasi_http::Error::ConnectionLimitReached,
                    );
                }
            }
            if !authority.eq_ignore_ascii_case(&platform_authority) {
                return refuse(
                    exchange,
                    Disposition::RefusedEgress { authority },
                    wasmtime_wasi_http::Error::HttpRequestDenied,
                );
            }
            let body = match Limited::new(body, limits.max_body_bytes).collect().await {
                Ok(collected) => collected.to_bytes(),
                Err(_) => {
                    return refuse(
                        exchange,
                        Disposition::RefusedBodyLimit,
                        wasmtime_wasi_http::Error::HttpRequestBodySize(None),
                    );
                }
            };
            exchange.request_body = capped(&body, limits.evidence_body_bytes);
            exchange.request_body_bytes = body.len();
            let path = parts
                .uri
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/")
                .to_owned();
            let mut builder = http::Request::builder()
                .method(parts.method.clone())
                .uri(path);
            for (k, v) in &parts.headers {
                builder = builder.header(k, v);
            }
            let inner = builder
                .body(axum::body::Body::from(body))
                .map_err(|e| wasmtime_wasi_http::Error::InternalError(Some(e.to_string())))?;
            let response = match router.oneshot(inner).await {
                Ok(r) => r,
                Err(never) => match never {},
            };
            let (rparts, rbody) = response.into_parts();
            exchange.status = Some(rparts.status.as_u16());
            exchange.response_headers = headers_of(&rparts.headers);
            let rbytes = match Limited::new(rbody, limits.max_body_bytes).collect().await {
                Ok(c) => c.to_bytes(),
                Err(_) => {
                    exchange.received_ms = time.elapsed_ms();
                    return refuse(
                        exchange,
                        Disposition::RefusedBodyLimit,
                        wasmtime_wasi_http::Error::HttpResponseBodySize(None),
                    );
                }
            };
            exchange.response_body = capped(&rbytes, limits.evidence_body_bytes);
            exchange.response_body_bytes = rbytes.len();
            exchange.received_ms = time.elapsed_ms();
            record(exchange);
            let response = http::Response::from_parts(rparts, full(rbytes));
            let io: Box<dyn std::future::Future<Output = wasmtime_wasi_http::Result<()>> + Send> =
                Box::new(async { Ok(()) });
            Ok((response, io))
        })
    }
}

/// The data of a `Store`: one instance's world.
pub struct HostState {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    hooks: PlatformHooks,
    pub limiter: Limiter,
    pub recorder: Arc<Mutex<Recorder>>,
    pub stdout: MemoryOutputPipe,
    pub stderr: MemoryOutputPipe,
    pub time: VirtualTime,
    max_log_lines: usize,
}

impl HostState {
    /// A fresh world for one scenario. `seed` seeds the component's randomness.
    pub fn new(
        router: Router,
        authority: &str,
        limits: Arc<Limits>,
        time: VirtualTime,
        seed: u64,
    ) -> HostState {
        use rand::SeedableRng as _;
        let stdout = MemoryOutputPipe::new(limits.max_stdio_bytes);
        let stderr = MemoryOutputPipe::new(limits.max_stdio_bytes);
        let mut builder = WasiCtx::builder();
        builder
            .stdout(stdout.clone())
            .stderr(stderr.clone())
            .wall_clock(time)
            .monotonic_clock(time)
            .secure_random(rand::rngs::StdRng::seed_from_u64(seed))
            .insecure_random(rand::rngs::StdRng::seed_from_u64(seed ^ 0x5a5a_5a5a))
            .insecure_random_seed(u128::from(seed))
            .max_random_size(1 << 20)
            .allow_ip_name_lookup(false)
            .allow_tcp(false)
            .allow_udp(false);
        let recorder = Arc::new(Mutex::new(Recorder::default()));
        HostState {
            wasi: builder.build(),
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            hooks: PlatformHooks {
                router,
                authority: authority.to_owned(),
                limits: limits.clone(),
                time,
                recorder: recorder.clone(),
            },
            limiter: Limiter::new(&limits),
            recorder,
            stdout,
            stderr,
            time,
            max_log_lines: limits.max_log_lines,
        }
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for HostState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.hooks,
        }
    }
}

impl kommune::sandkasse::logging::Host for HostState {
    fn log(&mut self, level: Level, message: String) {
        let level = match level {
            Level::Trace => "trace",
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        };
        let at_ms = self.time.elapsed_ms();
        let mut r = self.recorder.lock().expect("recorder");
        if r.logs.len() >= self.max_log_lines {
            r.logs_dropped += 1;
        } else {
            let message: String = message.chars().take(4096).collect();
            r.logs.push(LogLine {
                level: level.to_owned(),
                message,
                at_ms,
            });
        }
    }
}

impl kommune::sandkasse::types::Host for HostState {}

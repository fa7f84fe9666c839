//! A markedsplass in-process for tests: its own data directory and database (of the backend under
//! test, see `crate::backend`), the seeded people of every role,
//! one worker, and clients that keep a session cookie and its CSRF token.

use std::path::PathBuf;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt as _;
use sandkasse_markedsplass::accounts::NewAccount;
use sandkasse_markedsplass::clock::Clock;
use sandkasse_markedsplass::http::AppState;
use sandkasse_markedsplass::store::Role;
use sandkasse_markedsplass::{Config, app};
use serde_json::{Value, json};
use tower::ServiceExt as _;

pub const PASSWORD: &str = "korrekt hest batteri stift";
pub const VENDOR_A: &str = "kari@leverandor-a.no";
pub const VENDOR_B: &str = "ola@leverandor-b.no";
pub const REVIEWER_1: &str = "rita@prosjektet.no";
pub const REVIEWER_2: &str = "rune@prosjektet.no";
pub const BESLUTNING: &str = "berit@prosjektet.no";
pub const ADMIN: &str = "admin@prosjektet.no";

/// The answers to every declaration of the repository's suite, as the API takes them: a text,
/// and a small synthetic PDF where the declaration asks for an attachment.
pub fn declarations() -> Value {
    use base64::Engine as _;
    let suite = sandkasse_suite::load::load(&sandkasse_suite::load::default_root()).unwrap();
    let pdf = base64::engine::general_purpose::STANDARD.encode(b"%PDF-1.4 syntetisk dokumentasjon");
    Value::Array(
        suite
            .erklaeringer
            .iter()
            .map(|e| {
                let attachments = if e.attachment_required {
                    json!([{ "file_name": format!("{}.pdf", e.id), "content_type": "application/pdf", "content_base64": pdf }])
                } else {
                    json!([])
                };
                json!({ "id": e.id, "answer": format!("Vi oppfyller {}.", e.id), "attachments": attachments })
            })
            .collect(),
    )
}

/// A verdict accepting every declaration of the repository's suite.
pub fn accept_all() -> Value {
    let suite = sandkasse_suite::load::load(&sandkasse_suite::load::default_root()).unwrap();
    Value::Array(
        suite
            .erklaeringer
            .iter()
            .map(|e| json!({ "id": e.id, "verdict": "accept", "comment": "" }))
            .collect(),
    )
}

/// A sample component built by `cargo xtask plugins`.
pub fn plugin(name: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!(
        "../../plugins/target/wasm32-wasip2/release/{name}.wasm"
    ));
    std::fs::read(&p).unwrap_or_else(|e| {
        panic!(
            "{}: {e}. Build the sample components first: cargo xtask plugins",
            p.display()
        )
    })
}

pub struct Market {
    pub _dir: tempfile::TempDir,
    pub state: AppState,
    pub app: Router,
    stop: tokio::sync::watch::Sender<bool>,
}

impl Market {
    /// A fresh service with its people, its workers running.
    pub async fn start() -> Market {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(configure: impl FnOnce(&mut Config)) -> Market {
        Self::start_with_clock(configure, Clock::system()).await
    }

    /// A service on `clock` (a manual clock lets tests move through nights).
    pub async fn start_with_clock(configure: impl FnOnce(&mut Config), clock: Clock) -> Market {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config {
            data_dir: dir.path().join("data"),
            workers: 1,
            ..crate::backend_config()
        };
        configure(&mut config);
        let stores = sandkasse_markedsplass::store::Stores::open(&config)
            .await
            .unwrap();
        let state = AppState::new(config, stores, clock).unwrap();
        let accounts = &state.accounts;
        for org in ["Leverandør A AS", "Leverandør B AS"] {
            accounts.create_organisation("test", org).await.unwrap();
        }
        for (username, role, org) in [
            (VENDOR_A, Role::Vendor, Some("Leverandør A AS")),
            (VENDOR_B, Role::Vendor, Some("Leverandør B AS")),
            (REVIEWER_1, Role::Reviewer, None),
            (REVIEWER_2, Role::Reviewer, None),
            (BESLUTNING, Role::Beslutningsgruppe, None),
            (ADMIN, Role::Admin, None),
        ] {
            let new = NewAccount {
                username: username.into(),
                role,
                organisation: org.map(Into::into),
                password: PASSWORD.into(),
            };
            accounts.create_user("test", new).await.unwrap();
        }
        state.runner.recover().await.unwrap();
        let (stop, stopped) = tokio::sync::watch::channel(false);
        state.runner.spawn(state.config.workers, stopped.clone());
        sandkasse_markedsplass::nightly::spawn_sender(state.market.clone(), stopped);
        let app = app(state.clone());
        Market {
            _dir: dir,
            state,
            app,
            stop,
        }
    }

    pub fn anonymous(&self) -> Client {
        Client {
            app: self.app.clone(),
            cookie: None,
            csrf: String::new(),
            bearer: None,
        }
    }

    /// A client logged in through the JSON API, with its session cookie and CSRF token.
    /// Uploads a sample component as vendor A and waits for its run: (product, submission, run).
    pub async fn tested(
        &self,
        client: &Client,
        product: &str,
        version: &str,
        component: &str,
    ) -> (i64, i64, i64) {
        let (s, up) = client
            .upload(
                product,
                version,
                &format!("{component}.wasm"),
                &plugin(component),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{up}");
        let run = up["run"]["id"].as_i64().unwrap();
        client.follow(run).await;
        (
            up["product"]["id"].as_i64().unwrap(),
            up["submission"]["id"].as_i64().unwrap(),
            run,
        )
    }

    /// Lists a tested godkjent submission: the vendor asks, both reviewers approve.
    pub async fn list(&self, vendor: &Client, product: i64, submission: i64) {
        let case = vendor.request_listing(product, submission).await;
        self.approve(case).await;
    }

    /// Both reviewers approve a case through the API.
    pub async fn approve(&self, case: i64) {
        for reviewer in [REVIEWER_1, REVIEWER_2] {
            let (s, d) = self
                .login(reviewer)
                .await
                .post_json(
                    &format!("/api/v1/cases/{case}/decisions"),
                    json!({ "decision": "approve", "note": "OK", "declarations": accept_all() }),
                )
                .await;
            assert_eq!(s, StatusCode::OK, "{d}");
        }
    }

    pub async fn login(&self, username: &str) -> Client {
        let mut client = self.anonymous();
        let response = client
            .send(
                Request::post("/api/v1/session").header(header::CONTENT_TYPE, "application/json"),
                json!({ "username": username, "password": PASSWORD })
                    .to_string()
                    .into(),
            )
            .await;
        assert_eq!(
            response.0,
            StatusCode::OK,
            "login {username}: {}",
            response.1
        );
        client.cookie = Some(response.2.split(';').next().unwrap().to_owned());
        let me = client.get_json("/api/v1/me").await;
        client.csrf = me.1["csrf"].as_str().unwrap().to_owned();
        client
    }
}

impl Drop for Market {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// A caller of the in-process service.
#[derive(Clone)]
pub struct Client {
    pub app: Router,
    pub cookie: Option<String>,
    pub csrf: String,
    pub bearer: Option<String>,
}

impl Client {
    /// Sends a request with the client's credentials: (status, body text, Set-Cookie).
    pub async fn send(
        &self,
        builder: axum::http::request::Builder,
        body: Body,
    ) -> (StatusCode, String, String) {
        let (status, headers, bytes) = self.send_raw(builder, body).await;
        let cookie = headers
            .get(header::SET_COOKIE)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        (status, String::from_utf8_lossy(&bytes).into_owned(), cookie)
    }

    /// A GET with the client's credentials: (status, headers, body bytes).
    pub async fn raw(
        &self,
        builder: axum::http::request::Builder,
    ) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
        self.send_raw(builder, Body::empty()).await
    }

    async fn send_raw(
        &self,
        builder: axum::http::request::Builder,
        body: Body,
    ) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
        let mut builder = builder.header(header::HOST, "markedsplass.test");
        if let Some(cookie) = &self.cookie {
            builder = builder.header(header::COOKIE, cookie);
        }
        if let Some(token) = &self.bearer {
            builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        if !self.csrf.is_empty() {
            builder = builder.header("x-csrf-token", &self.csrf);
        }
        let response = self
            .app
            .clone()
            .oneshot(builder.body(body).unwrap())
            .await
            .unwrap();
        let (status, headers) = (response.status(), response.headers().clone());
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (status, headers, bytes.to_vec())
    }

    /// Asks (as a vendor) for `submission` of `product` to be listed; returns the case's id.
    pub async fn request_listing(&self, product: i64, submission: i64) -> i64 {
        let (s, case) = self
            .post_json(
                &format!("/api/v1/products/{product}/listing-requests"),
                json!({ "submission_id": submission, "declarations": declarations() }),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{case}");
        case["case"]["id"].as_i64().unwrap()
    }

    /// A GET with the response's headers and bytes as they are.
    pub async fn get_bytes(&self, path: &str) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
        self.send_raw(Request::get(path), Body::empty()).await
    }

    pub async fn get(&self, path: &str) -> (StatusCode, String) {
        let (s, b, _) = self.send(Request::get(path), Body::empty()).await;
        (s, b)
    }

    pub async fn get_json(&self, path: &str) -> (StatusCode, Value) {
        let (s, b) = self.get(path).await;
        (
            s,
            serde_json::from_str(&b)
                .unwrap_or_else(|e| panic!("GET {path} ({s}): not JSON: {e}: {b}")),
        )
    }

    pub async fn post_json(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let (s, b, _) = self
            .send(
                Request::post(path).header(header::CONTENT_TYPE, "application/json"),
                body.to_string().into(),
            )
            .await;
        (s, serde_json::from_str(&b).unwrap_or(Value::Null))
    }

    /// Uploads a component through the multipart API.
    pub async fn upload(
        &self,
        product: &str,
        version: &str,
        file_name: &str,
        bytes: &[u8],
    ) -> (StatusCode, Value) {
        let (content_type, body) = multipart(&[
            Part::text("product", product),
            Part::text("version", version),
            Part::text("changelog", "Første versjon."),
            Part::file("component", file_name, "application/wasm", bytes),
        ]);
        let request =
            Request::post("/api/v1/submissions").header(header::CONTENT_TYPE, content_type);
        let (s, b, _) = self.send(request, body.into()).await;
        (
            s,
            serde_json::from_str(&b).unwrap_or_else(|_| json!({ "raw": b })),
        )
    }

    /// Posts a multipart form (a page's, or the API's upload): (status, body text).
    pub async fn post_multipart(&self, path: &str, parts: &[Part<'_>]) -> (StatusCode, String) {
        let (content_type, body) = multipart(parts);
        let request = Request::post(path).header(header::CONTENT_TYPE, content_type);
        let (s, b, _) = self.send(request, body.into()).await;
        (s, b)
    }

    /// Follows a run's server-sent events to the end; returns every progress event.
    ///
    /// The bound says "not stuck", not "fast": an honest run takes seconds, but the inflating
    /// hostile components take minutes in a debug build, and a loaded CI machine once stretched
    /// one past five.
    pub async fn follow(&self, run: i64) -> Vec<Value> {
        let (status, body) = tokio::time::timeout(
            Duration::from_secs(20 * 60),
            self.get(&format!("/api/v1/runs/{run}/events")),
        )
        .await
        .expect("the run finishes within 20 minutes");
        assert_eq!(status, StatusCode::OK, "{body}");
        body.lines()
            .filter_map(|l| l.strip_prefix("data: "))
            .map(|d| serde_json::from_str(d).unwrap())
            .collect()
    }
}

/// One part of a multipart body: a field, or a file with its name and media type.
pub struct Part<'a> {
    pub name: &'a str,
    pub file: Option<(&'a str, &'a str)>,
    pub bytes: &'a [u8],
}

impl<'a> Part<'a> {
    pub fn text(name: &'a str, value: &'a str) -> Part<'a> {
        Part {
            name,
            file: None,
            bytes: value.as_bytes(),
        }
    }

    pub fn file(
        name: &'a str,
        file_name: &'a str,
        content_type: &'a str,
        bytes: &'a [u8],
    ) -> Part<'a> {
        Part {
            name,
            file: Some((file_name, content_type)),
            bytes,
        }
    }
}

/// A multipart body of `parts`: (content type, body).
pub fn multipart(parts: &[Part<'_>]) -> (String, Vec<u8>) {
    let boundary = "sandkasse-test-boundary-7d1f";
    let mut body = Vec::new();
    for p in parts {
        let head = match p.file {
            Some((file_name, content_type)) => format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{}\"; filename=\"{file_name}\"\r\nContent-Type: {content_type}\r\n\r\n",
                p.name
            ),
            None => format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{}\"\r\n\r\n",
                p.name
            ),
        };
        body.extend_from_slice(head.as_bytes());
        body.extend_from_slice(p.bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

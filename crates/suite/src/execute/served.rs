//! Recording what the platform served: a layer around the platform's router keeps every
//! successful JSON answer whole (resources, withheld-information notices, search pages) and every
//! host other than the platform's that an answer points to, step by step, for the fidelity
//! checks. Recorded beside the router, so not capped like the exchanges' evidence.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde_json::Value;

/// One page of a search the platform served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchPage {
    /// The resource type searched.
    pub resource_type: String,
    /// Whether the page had a `next` link (more to come).
    pub next: bool,
}

/// An `OperationOutcome` that tells of withheld information (an issue of code `suppressed`).
pub fn is_notice(r: &Value) -> bool {
    r["resourceType"] == "OperationOutcome"
        && r["issue"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|i| i["code"] == "suppressed")
}

/// What the platform served, recorded beside the router for the fidelity checks.
#[derive(Debug, Default)]
pub(super) struct Served {
    pub(super) resources: Vec<Value>,
    pub(super) notices: Vec<Value>,
    pub(super) pages: Vec<SearchPage>,
    /// Hosts other than the platform's that its answers pointed to.
    pub(super) elsewhere: BTreeSet<String>,
}

impl Served {
    /// Notes `url` if it points to a host other than `own`.
    fn point(&mut self, url: &str, own: &str) {
        if let Some(a) = authority_of(url).filter(|a| !a.eq_ignore_ascii_case(own)) {
            self.elsewhere.insert(a.to_ascii_lowercase());
        }
    }

    fn record(&mut self, path: &str, mut body: Value, own: &str) {
        match body["resourceType"].as_str() {
            Some("Bundle") => {
                for url in body["link"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|l| l["url"].as_str())
                {
                    self.point(url, own);
                }
                if body["type"] == "searchset" {
                    let rtype = path
                        .trim_end_matches("/_search")
                        .rsplit('/')
                        .next()
                        .unwrap_or_default()
                        .to_owned();
                    let next = body["link"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .any(|l| l["relation"] == "next");
                    self.pages.push(SearchPage {
                        resource_type: rtype,
                        next,
                    });
                }
                // Taken, not cloned: the body is dropped after this.
                for e in body["entry"].as_array_mut().into_iter().flatten() {
                    if let Some(url) = e["fullUrl"].as_str() {
                        self.point(url, own);
                    }
                    let r = e["resource"].take();
                    if r["resourceType"] == "OperationOutcome" {
                        if is_notice(&r) {
                            self.notices.push(r);
                        }
                    } else if r.is_object() {
                        self.resources.push(r);
                    }
                }
            }
            Some("OperationOutcome") | None => {}
            Some(_) => self.resources.push(body),
        }
    }
}

/// The capture layer's state: what was served, and the platform's own authority.
#[derive(Clone)]
pub(super) struct Capture {
    served: Arc<Mutex<Served>>,
    authority: String,
}

impl Capture {
    /// A capture for the platform at `base_url`: hosts other than its own are "elsewhere".
    pub(super) fn new(base_url: &str) -> Capture {
        Capture {
            served: Arc::default(),
            authority: authority_of(base_url).unwrap_or_default().to_owned(),
        }
    }

    /// `router` with this capture recording its answers.
    pub(super) fn around(&self, router: axum::Router) -> axum::Router {
        router.layer(axum::middleware::from_fn_with_state(self.clone(), capture))
    }

    /// What was served since the last call (the step's record), leaving an empty record.
    pub(super) fn take(&self) -> Served {
        std::mem::take(&mut *self.lock())
    }

    fn lock(&self) -> MutexGuard<'_, Served> {
        self.served.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The authority (`host[:port]`) of an absolute `http(s)` URL. By hand on purpose: it reads every
/// link an answer holds, also one `http::Uri` would refuse (spaces, non-ASCII), so that no link
/// to another host escapes the check for being malformed.
fn authority_of(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    Some(rest.split(['/', '?', '#']).next().unwrap_or(rest))
}

/// Records every successful JSON answer of the platform, whole, into `served`, and every host
/// other than the platform's that an answer points to (links, `fullUrl`, `Location`).
async fn capture(
    axum::extract::State(capture): axum::extract::State<Capture>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    if let Some(location) = response
        .headers()
        .get(http::header::LOCATION)
        .and_then(|v| v.to_str().ok())
    {
        capture.lock().point(location, &capture.authority);
    }
    if !response.status().is_success() {
        return response;
    }
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    if let Ok(value) = serde_json::from_slice::<Value>(&bytes) {
        capture.lock().record(&path, value, &capture.authority);
    }
    axum::response::Response::from_parts(parts, axum::body::Body::from(bytes))
}

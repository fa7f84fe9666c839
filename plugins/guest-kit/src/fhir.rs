//! FHIR-over-HTTP helpers: a [`Client`] bound to one launch context, bundle paging and
//! `OperationOutcome` handling.
//!
//! The client sends `Authorization: Bearer <token>` and `Accept: application/fhir+json` on every
//! request, retries 429 and 503 a bounded number of times honouring `Retry-After` (seconds), and
//! maps refusals to the contract's `adapter-error` (401 → unauthorized, 403 → forbidden,
//! 404 → not-found, 422 → invalid-input, exhausted retries → unavailable). Messages carry the
//! platform's `OperationOutcome` diagnostics, which describe rules, never patients.
//!
//! Resources are handled as `serde_json::Value`: unknown elements and extensions are kept, never
//! rejected.
//!
//! ```text
//! let client = Client::new(&ctx)?;
//! let patient = client.read("Patient", "p1")?;
//! let page = client.search_all("Observation", &[("patient", "p1"), ("_count", "50")], 20)?;
//! ```

use std::time::Duration;

use serde_json::{Value, json};

use crate::http::{self, Request, Response, Url};
use crate::types::{AdapterError, LaunchContext};
use crate::{Level, log};

/// FHIR JSON media type.
pub const FHIR_JSON: &str = "application/fhir+json";

/// How a [`Client`] retries throttled or unavailable answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per request, the first included. Default 3.
    pub max_attempts: u32,
    /// Longest single wait; a larger `Retry-After` gives up at once. Default 10 s.
    pub max_wait: Duration,
    /// Budget for all waits of one client (one call). Default 20 s.
    pub total_wait: Duration,
    /// Wait when the answer has no usable `Retry-After`. Default 1 s.
    pub default_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            max_wait: Duration::from_secs(10),
            total_wait: Duration::from_secs(20),
            default_wait: Duration::from_secs(1),
        }
    }
}

/// What sends one HTTP request for a [`Client`] (each attempt, after the client has added the
/// token and `Accept`). Default: [`http::send`]. Replaced with [`Client::with_transport`] by
/// adapters that wrap the exchange — the flawed sample adapters use it to model a vendor's own
/// HTTP layer (and its mistakes).
pub type Transport = Box<dyn Fn(&Request) -> Result<Response, http::HttpError>>;

/// A FHIR client for one call: the launch context's base URL and token.
pub struct Client {
    base: Url,
    token: String,
    /// Retry behaviour; see [`RetryPolicy::default`].
    pub retry: RetryPolicy,
    /// Texts scrubbed from error messages: the patient in context and the token.
    redact: Vec<String>,
    waited: std::cell::Cell<Duration>,
    requests: std::cell::Cell<u32>,
    /// `None`: [`http::send`].
    transport: Option<Transport>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base)
            .field("retry", &self.retry)
            .field("requests", &self.requests.get())
            .field("custom_transport", &self.transport.is_some())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client for `ctx.fhir-base-url` with `ctx.access-token`.
    pub fn new(ctx: &LaunchContext) -> Result<Client, AdapterError> {
        let base = Url::parse(&ctx.fhir_base_url)
            .map_err(|e| AdapterError::Internal(format!("fhir-base-url is not usable: {e}")))?;
        Ok(Client {
            base,
            token: ctx.access_token.clone(),
            retry: RetryPolicy::default(),
            redact: [ctx.patient.clone(), Some(ctx.access_token.clone())]
                .into_iter()
                .flatten()
                .filter(|s| !s.is_empty())
                .collect(),
            waited: Default::default(),
            requests: Default::default(),
            transport: None,
        })
    }

    /// This client, sending every attempt through `transport` instead of [`http::send`].
    pub fn with_transport(mut self, transport: Transport) -> Client {
        self.transport = Some(transport);
        self
    }

    /// The FHIR base.
    pub fn base(&self) -> &Url {
        &self.base
    }

    /// HTTP requests sent so far (retries included).
    pub fn requests(&self) -> u32 {
        self.requests.get()
    }

    /// `GET {base}/{type}/{id}`.
    pub fn read(&self, rtype: &str, id: &str) -> Result<Value, AdapterError> {
        let what = format!("{rtype} read");
        let url = self.base.join(&format!("/{rtype}/{}", encode(id)));
        let response = self.execute(Request::get(url), &what)?;
        self.check(&response, &what)?;
        parse(&response, &what)
    }

    /// `GET {base}/{type}?params`: one page, a `searchset` Bundle.
    pub fn search(&self, rtype: &str, params: &[(&str, &str)]) -> Result<Value, AdapterError> {
        let url = self.base.join(&format!("/{rtype}{}", query(params)));
        self.get_bundle(url, &format!("{rtype} search"))
    }

    /// A search followed through its `next` links, at most `max_pages` pages. Returns the
    /// entries of every page (`match` and `outcome` alike) and whether the page cap cut it short.
    pub fn search_all(
        &self,
        rtype: &str,
        params: &[(&str, &str)],
        max_pages: usize,
    ) -> Result<Paged, AdapterError> {
        let what = format!("{rtype} search");
        let mut url = self.base.join(&format!("/{rtype}{}", query(params)));
        let mut entries = Vec::new();
        let mut pages = 0;
        loop {
            let bundle = self.get_bundle(url, &what)?;
            pages += 1;
            let next = next_link(&bundle);
            if let Value::Array(items) = bundle.get("entry").cloned().unwrap_or(Value::Null) {
                entries.extend(items);
            }
            let Some(next) = next else {
                return Ok(Paged {
                    entries,
                    pages,
                    truncated: false,
                });
            };
            if pages >= max_pages {
                log(
                    Level::Warn,
                    &format!("{what}: stopped after {pages} pages (page cap)"),
                );
                return Ok(Paged {
                    entries,
                    pages,
                    truncated: true,
                });
            }
            let next = Url::parse(&next)
                .map_err(|e| AdapterError::Internal(format!("{what}: bad next link: {e}")))?;
            if !self.base.same_origin(&next) {
                // Never send the token anywhere but the platform.
                return Err(AdapterError::Internal(format!(
                    "{what}: next link points away from the platform"
                )));
            }
            url = next;
        }
    }

    /// `POST {base}/{type}` of `resource`, conditional on `if_none_exist` (a query such as
    /// `identifier=sys|value`) when given. Returns the stored resource and whether it was
    /// created (201) rather than found (200).
    pub fn create(
        &self,
        resource: &Value,
        if_none_exist: Option<&str>,
    ) -> Result<(Value, bool), AdapterError> {
        let rtype = resource
            .get("resourceType")
            .and_then(Value::as_str)
            .unwrap_or("Resource");
        let what = format!("{rtype} create");
        let body = serde_json::to_vec(resource)
            .map_err(|e| AdapterError::Internal(format!("{what}: {e}")))?;
        let mut request = Request::post(self.base.join(&format!("/{rtype}")), body)
            .header("content-type", FHIR_JSON);
        if let Some(cond) = if_none_exist {
            request = request.header("if-none-exist", cond);
        }
        let response = self.execute(request, &what)?;
        self.check(&response, &what)?;
        let created = response.status == 201;
        let stored = parse(&response, &what)?;
        if stored.get("resourceType").and_then(Value::as_str) == Some("OperationOutcome") {
            // An existing match whose content is withheld from us (e.g. a sensitive note):
            // the platform names it in Location only.
            if let Some((t, id)) = response.header("location").and_then(location_identity) {
                return Ok((serde_json::json!({"resourceType": t, "id": id}), created));
            }
        }
        Ok((stored, created))
    }

    /// [`expect_ok`], with the patient id and the token scrubbed from the message.
    pub fn check(&self, response: &Response, what: &str) -> Result<(), AdapterError> {
        expect_ok(response, what).map_err(|e| {
            let scrub = |m: String| {
                self.redact
                    .iter()
                    .fold(m, |m, s| m.replace(s.as_str(), "[redacted]"))
            };
            match e {
                AdapterError::Unauthorized(m) => AdapterError::Unauthorized(scrub(m)),
                AdapterError::Forbidden(m) => AdapterError::Forbidden(scrub(m)),
                AdapterError::NotFound(m) => AdapterError::NotFound(scrub(m)),
                AdapterError::Unavailable(m) => AdapterError::Unavailable(scrub(m)),
                AdapterError::InvalidInput(m) => AdapterError::InvalidInput(scrub(m)),
                AdapterError::Internal(m) => AdapterError::Internal(scrub(m)),
            }
        })
    }

    fn get_bundle(&self, url: Url, what: &str) -> Result<Value, AdapterError> {
        let response = self.execute(Request::get(url), what)?;
        self.check(&response, what)?;
        let bundle = parse(&response, what)?;
        if bundle.get("resourceType").and_then(Value::as_str) != Some("Bundle") {
            return Err(AdapterError::Internal(format!(
                "{what}: the answer is not a Bundle"
            )));
        }
        Ok(bundle)
    }

    /// Sends `request` with the token, retrying 429/503 within the policy.
    pub fn execute(&self, request: Request, what: &str) -> Result<Response, AdapterError> {
        let request = request
            .header("authorization", &format!("Bearer {}", self.token))
            .header("accept", FHIR_JSON);
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.requests.set(self.requests.get() + 1);
            let sent = match &self.transport {
                Some(transport) => transport(&request),
                None => http::send(&request),
            };
            let response = match sent {
                Ok(r) => r,
                Err(e) => {
                    log(
                        Level::Warn,
                        &format!("{what}: no response (attempt {attempt}): {e}"),
                    );
                    if attempt >= self.retry.max_attempts {
                        return Err(AdapterError::Unavailable(format!(
                            "{what}: no response after {attempt} attempts"
                        )));
                    }
                    self.wait(self.retry.default_wait, what)?;
                    continue;
                }
            };
            if !matches!(response.status, 429 | 503) {
                log(
                    Level::Debug,
                    &format!("{what}: {} {}", request.method, response.status),
                );
                return Ok(response);
            }
            let wait = retry_after(&response).unwrap_or(self.retry.default_wait);
            log(
                Level::Info,
                &format!(
                    "{what}: {} (attempt {attempt}/{}), Retry-After {} s",
                    response.status,
                    self.retry.max_attempts,
                    wait.as_secs()
                ),
            );
            if attempt >= self.retry.max_attempts {
                return Err(AdapterError::Unavailable(format!(
                    "{what}: the platform answered {} {attempt} times; giving up",
                    response.status
                )));
            }
            if wait > self.retry.max_wait {
                return Err(AdapterError::Unavailable(format!(
                    "{what}: the platform asks to wait {} s, longer than {} s",
                    wait.as_secs(),
                    self.retry.max_wait.as_secs()
                )));
            }
            self.wait(wait, what)?;
        }
    }

    fn wait(&self, wait: Duration, what: &str) -> Result<(), AdapterError> {
        let total = self.waited.get() + wait;
        if total > self.retry.total_wait {
            return Err(AdapterError::Unavailable(format!(
                "{what}: retry budget of {} s used up",
                self.retry.total_wait.as_secs()
            )));
        }
        self.waited.set(total);
        crate::sleep(wait);
        Ok(())
    }
}

/// The entries of a paged search.
#[derive(Debug, Clone, Default)]
pub struct Paged {
    /// Every `Bundle.entry` of every page, in order.
    pub entries: Vec<Value>,
    pub pages: usize,
    /// The page cap stopped the search before its last page.
    pub truncated: bool,
}

/// `Retry-After` in seconds (the HTTP-date form is not used by the platform and is ignored).
pub fn retry_after(response: &Response) -> Option<Duration> {
    response
        .header("retry-after")?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

/// The URL of the bundle's `next` link.
pub fn next_link(bundle: &Value) -> Option<String> {
    bundle
        .get("link")?
        .as_array()?
        .iter()
        .find(|l| l["relation"] == "next")?
        .get("url")?
        .as_str()
        .map(str::to_owned)
}

/// Whether a bundle entry is a search `outcome` (e.g. the platform's notice that information is
/// withheld) rather than a match.
pub fn is_outcome_entry(entry: &Value) -> bool {
    entry.pointer("/search/mode").and_then(Value::as_str) == Some("outcome")
        || entry
            .pointer("/resource/resourceType")
            .and_then(Value::as_str)
            == Some("OperationOutcome")
}

/// Whether `resource` is an `OperationOutcome`.
pub fn is_operation_outcome(resource: &Value) -> bool {
    resource.get("resourceType").and_then(Value::as_str) == Some("OperationOutcome")
}

/// The diagnostics (or details text) of an `OperationOutcome`'s issues, joined with `; `.
pub fn outcome_text(outcome: &Value) -> Option<String> {
    let texts: Vec<&str> = outcome
        .get("issue")?
        .as_array()?
        .iter()
        .filter_map(|i| {
            i.get("diagnostics")
                .or_else(|| i.pointer("/details/text"))
                .and_then(Value::as_str)
        })
        .collect();
    (!texts.is_empty()).then(|| texts.join("; "))
}

/// Maps a non-success status to the contract's error; `Ok` for 2xx. The message carries the
/// `OperationOutcome` diagnostics, which may quote references: prefer [`Client::check`], which
/// scrubs the patient id and token.
pub fn expect_ok(response: &Response, what: &str) -> Result<(), AdapterError> {
    if (200..300).contains(&response.status) {
        return Ok(());
    }
    let detail = serde_json::from_slice::<Value>(&response.body)
        .ok()
        .filter(is_operation_outcome)
        .and_then(|oo| outcome_text(&oo))
        .unwrap_or_else(|| "no details".to_owned());
    let message = format!("{what}: HTTP {}: {detail}", response.status);
    log(Level::Warn, &format!("{what}: HTTP {}", response.status));
    Err(match response.status {
        401 => AdapterError::Unauthorized(message),
        403 => AdapterError::Forbidden(message),
        404 | 410 => AdapterError::NotFound(message),
        400 | 409 | 412 | 422 => AdapterError::InvalidInput(message),
        429 | 502 | 503 | 504 => AdapterError::Unavailable(message),
        _ => AdapterError::Internal(message),
    })
}

/// Parses a JSON body.
pub fn parse(response: &Response, what: &str) -> Result<Value, AdapterError> {
    serde_json::from_slice(&response.body)
        .map_err(|e| AdapterError::Internal(format!("{what}: the answer is not JSON: {e}")))
}

/// A `searchset` → `collection` Bundle of `entries` (the `search` element is kept).
pub fn collection(entries: Vec<Value>) -> Value {
    json!({ "resourceType": "Bundle", "type": "collection", "entry": entries })
}

/// `?a=b&c=d` with percent-encoded values (`""` for no parameters).
pub fn query(params: &[(&str, &str)]) -> String {
    if params.is_empty() {
        return String::new();
    }
    let parts: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect();
    format!("?{}", parts.join("&"))
}

/// Percent-encodes a URL component (keeps unreserved characters and `:|/,`).
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~:|/,".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Standard base64 (with padding), for attachment data.
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648() {
        for (plain, enc) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), enc);
        }
    }

    #[test]
    fn queries() {
        assert_eq!(
            query(&[("patient", "p1"), ("identifier", "urn:x|a b")]),
            "?patient=p1&identifier=urn:x|a%20b"
        );
        assert_eq!(query(&[]), "");
    }
}

/// `(type, id)` from a Location like `{base}/Type/id/_history/n`.
pub fn location_identity(location: &str) -> Option<(String, String)> {
    let path = location.split("/_history/").next()?;
    let mut parts = path.rsplit('/');
    let id = parts.next().filter(|s| !s.is_empty())?;
    let t = parts
        .next()
        .filter(|s| s.chars().next().is_some_and(|c| c.is_ascii_uppercase()))?;
    Some((t.to_owned(), id.to_owned()))
}

#[cfg(test)]
mod location_tests {
    #[test]
    fn identity_from_location() {
        assert_eq!(
            super::location_identity("https://p.test/4601/fhir/DocumentReference/doc-1/_history/2"),
            Some(("DocumentReference".into(), "doc-1".into()))
        );
        assert_eq!(super::location_identity("nonsense"), None);
    }
}

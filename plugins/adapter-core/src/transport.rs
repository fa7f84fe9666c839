//! The vendor's own HTTP layer, for the mistakes made there ([`build`]). The honest adapter has
//! none: its client sends with [`guest_kit::http::send`] directly.
//!
//! Layers, innermost (around the actual send) first: [`Behaviour::follows_redirects`],
//! [`Behaviour::token_in_query`], [`Behaviour::caches_by_path`], [`Behaviour::drops_token`],
//! [`Behaviour::impatient`], [`Behaviour::strict_parser`], [`Behaviour::ignores_retry_after`],
//! [`Behaviour::retry_after_millis`], [`Behaviour::retries_client_errors`],
//! [`Behaviour::retries_auth_errors`], [`Behaviour::breaks_glass`], [`Behaviour::token_in_log`].
//! The client's own retry loop (429/503, `Retry-After`) runs outside all of them.

use std::cell::RefCell;
use std::sync::Mutex;
use std::time::Duration;

use guest_kit::fhir::Transport;
use guest_kit::http::{self, Request, Response, Url};
use guest_kit::types::LaunchContext;
use guest_kit::{Level, log};
use serde_json::{Value, json};

use crate::Behaviour;

/// [`Behaviour::impatient`]: longest wait for an answer.
const PATIENCE: Duration = Duration::from_millis(200);
/// [`Behaviour::ignores_retry_after`]: attempts per request.
const IMMEDIATE_ATTEMPTS: u32 = 3;
/// [`Behaviour::retries_auth_errors`]: retries of a 401/403.
const AUTH_RETRIES: u32 = 10;
/// [`Behaviour::breaks_glass`]: the reason the adapter gives on the user's behalf.
const CANNED_REASON: &str = "Akutt behov for helsehjelp / urgent need of care";

/// [`Behaviour::follows_redirects`]: most redirects followed per request.
const MAX_REDIRECTS: usize = 5;
/// [`Behaviour::retries_client_errors`]: the statuses retried, and attempts per request.
const CLIENT_ERRORS: [u16; 5] = [400, 403, 404, 409, 422];
const CLIENT_ERROR_ATTEMPTS: u32 = 3;
/// [`Behaviour::caches_by_path`]: the cache (key, response), and how many responses it keeps.
static SEARCH_CACHE: Mutex<Vec<(String, Response)>> = Mutex::new(Vec::new());
const CACHED_RESPONSES: usize = 256;

/// The transport `behaviour` asks for, or `None` for the honest one.
pub fn build(ctx: &LaunchContext, behaviour: &Behaviour) -> Option<Transport> {
    let b = behaviour;
    if !(b.drops_token
        || b.impatient
        || b.strict_parser
        || b.ignores_retry_after
        || b.retries_auth_errors
        || b.breaks_glass
        || b.follows_redirects
        || b.token_in_query
        || b.caches_by_path
        || b.retry_after_millis
        || b.retries_client_errors
        || b.token_in_log)
    {
        return None;
    }
    let mut t: Transport = Box::new(http::send);
    if b.follows_redirects {
        t = Box::new(move |r: &Request| {
            let mut response = t(r)?;
            let mut request = r.clone();
            for _ in 0..MAX_REDIRECTS {
                let target = match (response.status, response.header("location")) {
                    (301 | 302 | 303 | 307 | 308, Some(location)) => location.to_owned(),
                    _ => break,
                };
                // Relative locations resolved against the request; absolute ones taken as they
                // are, whatever the host — with every header, the token included.
                let url = Url::parse(&target).unwrap_or_else(|_| Url {
                    https: request.url.https,
                    authority: request.url.authority.clone(),
                    path_and_query: target.clone(),
                });
                log(
                    Level::Info,
                    &format!(
                        "{} {}: following the redirect",
                        request.method, response.status
                    ),
                );
                request.url = url;
                response = t(&request)?;
            }
            Ok(response)
        });
    }
    if b.token_in_query {
        t = Box::new(move |r: &Request| {
            if r.method != "GET" {
                return t(r);
            }
            let Some(token) = bearer(r) else { return t(r) };
            let mut with_query = r.clone();
            let separator = if with_query.url.path_and_query.contains('?') {
                '&'
            } else {
                '?'
            };
            with_query.url.path_and_query.push_str(&format!(
                "{separator}access_token={}",
                guest_kit::fhir::encode(&token)
            ));
            t(&with_query)
        });
    }
    if b.caches_by_path {
        t = Box::new(move |r: &Request| {
            let is_search = r.method == "GET" && r.url.path_and_query.contains('?');
            if !is_search {
                return t(r);
            }
            let key = cache_key(&r.url);
            if let Some(hit) = SEARCH_CACHE
                .lock()
                .ok()
                .and_then(|c| c.iter().find(|(k, _)| *k == key).map(|(_, v)| v.clone()))
            {
                log(Level::Debug, "GET: served from the response cache");
                return Ok(hit);
            }
            let response = t(r)?;
            if response.status == 200
                && let Ok(mut cache) = SEARCH_CACHE.lock()
            {
                if cache.len() >= CACHED_RESPONSES {
                    cache.remove(0);
                }
                cache.push((key, response.clone()));
            }
            Ok(response)
        });
    }
    if b.drops_token {
        t = Box::new(move |r: &Request| {
            if r.method == "GET" && is_document_search(&r.url) {
                // The vendor built this one request by hand and forgot the header.
                let mut bare = r.clone();
                bare.headers
                    .retain(|(n, _)| !n.eq_ignore_ascii_case("authorization"));
                t(&bare)
            } else {
                t(r)
            }
        });
    }
    if b.impatient {
        t = Box::new(move |r: &Request| {
            let started = guest_kit::now_nanos();
            let response = t(r)?;
            let took = Duration::from_nanos(guest_kit::now_nanos().saturating_sub(started));
            if took > PATIENCE {
                log(
                    Level::Warn,
                    &format!("{} took {} ms; giving up", r.method, took.as_millis()),
                );
                return Ok(synthetic(
                    504,
                    "timeout",
                    &format!("no answer within {} ms", PATIENCE.as_millis()),
                ));
            }
            Ok(response)
        });
    }
    if b.strict_parser {
        t = Box::new(move |r: &Request| {
            let response = t(r)?;
            Ok(strict(response))
        });
    }
    if b.ignores_retry_after {
        // Again at once, ignoring Retry-After.
        t = retrying(t, IMMEDIATE_ATTEMPTS, |s| matches!(s, 429 | 503), |_| None);
    }
    if b.retry_after_millis {
        // The vendor's HTTP library counts Retry-After in milliseconds.
        t = retrying(
            t,
            IMMEDIATE_ATTEMPTS,
            |s| matches!(s, 429 | 503),
            |response| {
                Some(
                    guest_kit::fhir::retry_after(response).map_or(Duration::from_millis(1), |s| {
                        Duration::from_millis(s.as_secs())
                    }),
                )
            },
        );
    }
    if b.retries_client_errors {
        t = retrying(
            t,
            CLIENT_ERROR_ATTEMPTS,
            |s| CLIENT_ERRORS.contains(&s),
            |_| Some(Duration::from_secs(1)),
        );
    }
    if b.retries_auth_errors {
        t = retrying(
            t,
            AUTH_RETRIES + 1,
            |s| matches!(s, 401 | 403),
            |_| Some(Duration::from_secs(1)),
        );
    }
    if b.breaks_glass {
        let launch = ctx.clone();
        let emergency: RefCell<Option<String>> = RefCell::new(None);
        t = Box::new(move |r: &Request| {
            let response = t(r)?;
            // Breaks the glass on a 403 — and whenever the platform withholds something, "so the
            // user sees the whole record".
            let withheld = response.status == 200
                && String::from_utf8_lossy(&response.body).contains("\"suppressed\"");
            if response.status != 403 && !withheld {
                return Ok(response);
            }
            if emergency.borrow().is_none() {
                *emergency.borrow_mut() = emergency_token(&launch);
            }
            let Some(token) = emergency.borrow().clone() else {
                return Ok(response);
            };
            log(Level::Info, "403: repeating with an emergency token");
            let mut again = r.clone();
            again
                .headers
                .retain(|(n, _)| !n.eq_ignore_ascii_case("authorization"));
            again
                .headers
                .push(("authorization".into(), format!("Bearer {token}")));
            t(&again)
        });
    }
    if b.token_in_log {
        t = Box::new(move |r: &Request| {
            let auth = r
                .headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case("authorization"))
                .map_or("", |(_, v)| v.as_str());
            log(
                Level::Debug,
                &format!(
                    "request {} {} authorization: {auth}",
                    r.method, r.url.path_and_query
                ),
            );
            t(r)
        });
    }
    Some(t)
}

/// A layer that sends a request again, up to `attempts` in all, while its status is `retryable`,
/// waiting `wait(response)` between attempts (`None`: at once): the retry mistakes differ only in
/// these three.
fn retrying(
    t: Transport,
    attempts: u32,
    retryable: fn(u16) -> bool,
    wait: fn(&Response) -> Option<Duration>,
) -> Transport {
    Box::new(move |r: &Request| {
        let mut attempt = 1;
        loop {
            let response = t(r)?;
            if !retryable(response.status) || attempt >= attempts {
                return Ok(response);
            }
            let pause = wait(&response);
            log(
                Level::Info,
                &format!(
                    "{} {}: retry {attempt}/{} in {} ms",
                    r.method,
                    response.status,
                    attempts - 1,
                    pause.map_or(0, |p| p.as_millis())
                ),
            );
            if let Some(p) = pause {
                guest_kit::sleep(p);
            }
            attempt += 1;
        }
    })
}

/// The bearer token of a request's `Authorization` header.
fn bearer(r: &Request) -> Option<String> {
    r.headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("authorization"))
        .and_then(|(_, v)| v.strip_prefix("Bearer "))
        .map(str::to_owned)
}

/// [`Behaviour::caches_by_path`]: the cache key — the URL with its `patient` parameter left out.
fn cache_key(url: &Url) -> String {
    let (path, query) = url
        .path_and_query
        .split_once('?')
        .unwrap_or((&url.path_and_query, ""));
    let kept: Vec<&str> = query
        .split('&')
        .filter(|p| !p.starts_with("patient="))
        .collect();
    format!("{}{path}?{}", url.authority, kept.join("&"))
}

/// Whether `url` is a DocumentReference search (`…/DocumentReference?…`).
fn is_document_search(url: &Url) -> bool {
    let path = url.path_and_query.split('?').next().unwrap_or("");
    path.ends_with("/DocumentReference")
}

/// [`Behaviour::breaks_glass`]: `POST {base without /fhir}/auth/token` for the same launch
/// context with purpose emergency and [`CANNED_REASON`].
fn emergency_token(ctx: &LaunchContext) -> Option<String> {
    let base = ctx
        .fhir_base_url
        .trim_end_matches('/')
        .trim_end_matches("/fhir");
    let url = Url::parse(&format!("{base}/auth/token")).ok()?;
    let mut body = json!({
        "practitioner": ctx.practitioner_hpr,
        "role": ctx.role,
        "unit": ctx.unit_orgnr,
        "purpose": "emergency",
        "reason": CANNED_REASON,
    });
    if let Some(p) = &ctx.patient {
        body["patient"] = json!(p);
    }
    let request = Request::post(url, body.to_string().into_bytes())
        .header("content-type", "application/json");
    let response = http::send(&request).ok()?;
    if response.status != 200 {
        log(
            Level::Warn,
            &format!("emergency token refused: {}", response.status),
        );
        return None;
    }
    let answer: Value = serde_json::from_slice(&response.body).ok()?;
    answer
        .get("access_token")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// [`Behaviour::strict_parser`]: the vendor's strict deserialiser. A body that is not complete
/// JSON panics (the vendor `unwrap`s); an element outside its R4 model becomes a 500 answer with
/// the parse error, which the client turns into `internal`.
fn strict(response: Response) -> Response {
    if response.body.is_empty() {
        return response;
    }
    let value: Value =
        serde_json::from_slice(&response.body).expect("the platform always sends valid FHIR JSON");
    match unknown_element(&value) {
        None => response,
        Some((rtype, element)) => {
            log(
                Level::Error,
                &format!("strict parsing failed: unknown element {element} in {rtype}"),
            );
            synthetic(
                500,
                "structure",
                &format!("strict parsing failed: unknown element `{element}` in {rtype}"),
            )
        }
    }
}

/// The first element (of a resource, or of a Bundle's entries' resources) that the vendor's model
/// does not know.
fn unknown_element(value: &Value) -> Option<(String, String)> {
    let resource = value.as_object()?;
    let rtype = resource
        .get("resourceType")
        .and_then(Value::as_str)
        .unwrap_or("");
    if let Some(known) = crate::strict_model::known_elements(rtype) {
        for key in resource.keys() {
            let name = key.strip_prefix('_').unwrap_or(key);
            if !known.contains(&name) {
                return Some((rtype.to_owned(), key.clone()));
            }
        }
    }
    if rtype == "Bundle" {
        for entry in value
            .get("entry")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(found) = entry.get("resource").and_then(unknown_element) {
                return Some(found);
            }
        }
    }
    None
}

/// A response made up by the vendor's HTTP layer, with an `OperationOutcome` body.
fn synthetic(status: u16, code: &str, diagnostics: &str) -> Response {
    let body = json!({
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "diagnostics": diagnostics}],
    });
    Response {
        status,
        headers: Vec::new(),
        body: body.to_string().into_bytes(),
    }
}

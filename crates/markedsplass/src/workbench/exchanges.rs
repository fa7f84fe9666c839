//! The last request/response pairs of a sandbox, as the platform saw them, with every token
//! redacted — for the vendor's exchanges page.

use jiff::Timestamp;
use serde::Serialize;

/// One request and its answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Exchange {
    pub at: Timestamp,
    pub method: String,
    /// Path and query under the sandbox (`/4601/fhir/Patient?name=…`).
    pub target: String,
    pub status: u16,
    pub millis: u64,
    pub request_headers: Vec<(String, String)>,
    pub request_body: Body,
    pub response_headers: Vec<(String, String)>,
    pub response_body: Body,
}

/// A body as kept: its start as text (tokens redacted) and whether it was cut.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Body {
    pub text: String,
    pub bytes: usize,
    pub cut: bool,
}

impl Body {
    /// The first `keep` bytes of `bytes` as text (lossy UTF-8), redacted.
    pub fn of(bytes: &[u8], keep: usize) -> Body {
        let cut = bytes.len() > keep;
        let text = String::from_utf8_lossy(&bytes[..bytes.len().min(keep)]);
        Body {
            text: redact(&text),
            bytes: bytes.len(),
            cut,
        }
    }
}

/// Headers as kept: names lower-case, values redacted; cookies are left out.
pub fn headers(map: &axum::http::HeaderMap) -> Vec<(String, String)> {
    map.iter()
        .filter(|(name, _)| {
            *name != axum::http::header::COOKIE && *name != axum::http::header::SET_COOKIE
        })
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                redact(&String::from_utf8_lossy(value.as_bytes())),
            )
        })
        .collect()
}

/// `text` with every sandbox token (`sk-{k}-{n}-{mac}`: the MAC goes) and every service API token
/// (`sk_…`: all but its prefix goes) replaced.
///
/// ```
/// use sandkasse_markedsplass::workbench::exchanges::redact;
/// assert_eq!(
///     redact("Bearer sk-4601-3-0123456789abcdef01234567"),
///     "Bearer sk-4601-3-[redacted]"
/// );
/// assert_eq!(redact("Bearer sk_abcdefghXYZ-_0123456789"), "Bearer sk_abcdefgh[redacted]");
/// assert_eq!(redact("no token here: sk-"), "no token here: sk-");
/// ```
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("sk") {
        out.push_str(&rest[..at]);
        let candidate = &rest[at..];
        let token_len = candidate
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
            .unwrap_or(candidate.len());
        let token = &candidate[..token_len];
        match redacted(token) {
            Some(kept) => {
                out.push_str(kept);
                out.push_str("[redacted]");
                rest = &candidate[token_len..];
            }
            None => {
                out.push_str("sk");
                rest = &candidate[2..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The part of a token kept in clear, if `token` is one.
fn redacted(token: &str) -> Option<&str> {
    if let Some(tail) = token.strip_prefix("sk_") {
        return (tail.len() >= 16).then(|| &token[..11]);
    }
    let mut parts = token.splitn(4, '-');
    let (Some("sk"), Some(k), Some(n), Some(mac)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    (digits(k) && digits(n) && !mac.is_empty()).then(|| &token[..token.len() - mac.len()])
}

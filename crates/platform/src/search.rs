//! Search parameters: strict parsing, matching, and opaque paging cursors.
//!
//! Supported (per type, see [`crate::types::TYPES`]): `_id`, `_lastUpdated`, `_count`,
//! `identifier` (`system|value`, `value`, `system|`, `|value`), `patient`/`subject`, `status` (or
//! `clinical-status`), the type's clinical date (`date` and its R4 name) with prefixes `eq ne gt
//! lt ge le sa eb`, and on `AuditEvent` also `agent` (HPR). A comma means "or" within one
//! parameter; repeating a parameter means "and". Anything else — unknown parameters, modifiers
//! (`:exact`), chains, `_sort`, `_include` — is refused with 400 (FHIR `handling=strict`).
//!
//! Paging: `next` links carry a `_cursor`: base64url of the normalized query, offset and page
//! size, then `.` and an HMAC-SHA256 tag (truncated to 128 bits) under the platform's secret,
//! bound to the kommune and type. A changed cursor is refused with 400.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::dates::{self, DateRange, Prefix};
use crate::store::Stored;
use crate::types::TypeInfo;

/// Default page size.
pub const DEFAULT_COUNT: usize = 50;
/// Largest page size; larger `_count` values are capped (and the bundle says so).
pub const MAX_COUNT: usize = 200;

/// A token parameter value `system|value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TokenValue {
    /// `None`: any system; `Some("")`: no system.
    pub system: Option<String>,
    /// `None`: any value.
    pub value: Option<String>,
}

impl TokenValue {
    fn parse(text: &str) -> TokenValue {
        match text.split_once('|') {
            None => TokenValue {
                system: None,
                value: Some(text.to_owned()),
            },
            Some((s, v)) => TokenValue {
                system: Some(s.to_owned()),
                value: (!v.is_empty()).then(|| v.to_owned()),
            },
        }
    }

    pub fn matches(&self, system: &str, value: &str) -> bool {
        self.system.as_deref().is_none_or(|s| s == system)
            && self.value.as_deref().is_none_or(|v| v == value)
    }
}

/// A parsed search.
#[derive(Debug, Clone, Default)]
pub(crate) struct Query {
    /// The parameters as given (minus `_count`), for links and cursors.
    pub params: Vec<(String, String)>,
    /// Requested page size.
    pub count: Option<usize>,
    pub offset: usize,
    pub patient: Option<String>,
    /// `_id`: one of these ids (and of every repetition).
    pub ids: Vec<Vec<String>>,
    pub identifiers: Vec<Vec<TokenValue>>,
    pub statuses: Vec<Vec<String>>,
    pub dates: Vec<(Prefix, DateRange)>,
    pub last_updated: Vec<(Prefix, DateRange)>,
    /// AuditEvent `agent`.
    pub agents: Vec<Vec<TokenValue>>,
}

/// Why a search is refused (400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum QueryError {
    #[error(
        "ukjent eller ikke støttet søkeparameter / unknown or unsupported search parameter `{0}` (handling=strict)"
    )]
    Unsupported(String),
    #[error("ugyldig verdi for / invalid value for `{param}`: {message}")]
    Invalid { param: String, message: String },
}

fn invalid(param: &str, message: impl Into<String>) -> QueryError {
    QueryError::Invalid {
        param: param.to_owned(),
        message: message.into(),
    }
}

/// Whether `id` is a valid FHIR id (`[A-Za-z0-9\-\.]{1,64}`).
pub fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

fn patient_id(param: &str, text: &str) -> Result<String, QueryError> {
    if text.contains(',') {
        return Err(invalid(
            param,
            "én pasient per søk / one patient per search",
        ));
    }
    let id = match text.rsplit_once('/') {
        None => text,
        Some((prefix, id)) => {
            if !(prefix == "Patient" || prefix.ends_with("/Patient")) {
                return Err(invalid(
                    param,
                    "må referere til en Patient / must reference a Patient",
                ));
            }
            id
        }
    };
    if !is_valid_id(id) {
        return Err(invalid(param, "ugyldig id / malformed id"));
    }
    Ok(id.to_owned())
}

fn date_values(param: &str, text: &str) -> Result<(Prefix, DateRange), QueryError> {
    if text.contains(',') {
        return Err(invalid(
            param,
            "datoer kan ikke ha flere verdier med komma / dates take no comma lists",
        ));
    }
    dates::parse_search_value(text).ok_or_else(|| {
        invalid(param, "forventet [prefiks]dato, f.eks. ge2024-01-01 / expected [prefix]date, e.g. ge2024-01-01")
    })
}

/// Parses `pairs` for a search on `info`. `conditional`: for `If-None-Exist` (no `_count`).
pub(crate) fn parse(
    info: &TypeInfo,
    pairs: &[(String, String)],
    conditional: bool,
) -> Result<Query, QueryError> {
    let mut q = Query::default();
    for (name, value) in pairs {
        if name.contains(':') || name.contains('.') {
            return Err(QueryError::Unsupported(name.clone()));
        }
        if value.is_empty() {
            return Err(invalid(name, "tom verdi / empty value"));
        }
        match name.as_str() {
            "_count" if !conditional => {
                let n = value.parse::<usize>().map_err(|_| {
                    invalid(name, "forventet et heltall ≥ 0 / expected an integer ≥ 0")
                })?;
                q.count = Some(n);
                continue;
            }
            "_id" => {
                let ids: Vec<String> = value.split(',').map(str::to_owned).collect();
                if !ids.iter().all(|i| is_valid_id(i)) {
                    return Err(invalid(name, "ugyldig id / malformed id"));
                }
                q.ids.push(ids);
            }
            "_lastUpdated" => q.last_updated.push(date_values(name, value)?),
            "identifier" if !matches!(info.name, "Provenance" | "AuditEvent") => {
                q.identifiers
                    .push(value.split(',').map(TokenValue::parse).collect());
            }
            "agent" if info.name == "AuditEvent" => {
                q.agents
                    .push(value.split(',').map(TokenValue::parse).collect());
            }
            "patient" if info.name == "AuditEvent" => {
                let id = patient_id(name, value)?;
                if q.patient.replace(id).is_some() {
                    return Err(invalid(name, "bare én gang / only once"));
                }
            }
            n if info.patient_params.contains(&n) => {
                let id = patient_id(name, value)?;
                if q.patient.replace(id).is_some() {
                    return Err(invalid(
                        name,
                        "pasienten kan bare angis én gang / the patient can be given only once",
                    ));
                }
            }
            n if info.date_params.contains(&n) => q.dates.push(date_values(name, value)?),
            n if info.status_params.contains(&n) => {
                q.statuses.push(
                    value
                        .split(',')
                        .map(|s| s.rsplit('|').next().unwrap_or(s).to_owned())
                        .collect(),
                );
            }
            _ => return Err(QueryError::Unsupported(name.clone())),
        }
        q.params.push((name.clone(), value.clone()));
    }
    Ok(q)
}

impl Query {
    /// Whether `s` matches every filter except the patient (handled by candidate selection and
    /// access checks).
    pub fn matches(&self, s: &Stored) -> bool {
        self.ids.iter().all(|ids| ids.iter().any(|i| **i == *s.id))
            && self.identifiers.iter().all(|any| {
                any.iter()
                    .any(|t| s.identifiers.iter().any(|(sys, v)| t.matches(sys, v)))
            })
            && self.statuses.iter().all(|any| {
                s.status
                    .as_deref()
                    .is_some_and(|st| any.iter().any(|a| a == st))
            })
            && self
                .dates
                .iter()
                .all(|(p, r)| s.date.is_some_and(|d| p.matches(r, &d)))
            && self.last_updated.iter().all(|(p, r)| {
                p.matches(
                    r,
                    &DateRange {
                        start: s.last_updated,
                        end: s.last_updated.saturating_add(1),
                    },
                )
            })
    }
}

/// Parses `application/x-www-form-urlencoded` text (also a URL query).
pub fn parse_form(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for part in text.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = part.split_once('=').unwrap_or((part, ""));
        out.push((decode(k)?, decode(v)?));
    }
    Ok(out)
}

/// Percent-decoding by hand on purpose: a malformed escape (`%`, `%4`, `%zz`) is refused with a
/// reason, as FHIR search must answer a malformed query with an `OperationOutcome`; the
/// `percent-encoding` and `form_urlencoded` crates pass such escapes through unchanged.
fn decode(text: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes.get(i + 1..i + 3).ok_or_else(|| {
                    format!("ufullstendig %-koding / incomplete %-escape in `{text}`")
                })?;
                let hex = std::str::from_utf8(hex)
                    .map_err(|_| format!("ugyldig %-koding / bad %-escape in `{text}`"))?;
                out.push(
                    u8::from_str_radix(hex, 16)
                        .map_err(|_| format!("ugyldig %-koding / bad %-escape in `{text}`"))?,
                );
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| format!("ikke UTF-8 / not UTF-8: `{text}`"))
}

/// What a query component keeps unescaped: the unreserved characters and `:|/,` (FHIR token and
/// reference values read better with them).
const QUERY_KEEPS: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b':')
    .remove(b'|')
    .remove(b'/')
    .remove(b',');

/// Percent-encodes a query component (keeps unreserved characters and `:|/,`).
pub fn encode(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, QUERY_KEEPS).to_string()
}

/// Encodes parameters as a query string.
pub fn encode_query(params: &[(String, String)]) -> String {
    params
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// What a paging cursor carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Cursor {
    #[serde(rename = "p")]
    pub params: Vec<(String, String)>,
    #[serde(rename = "o")]
    pub offset: usize,
    #[serde(rename = "c")]
    pub count: usize,
}

/// The cursor MAC over (kommune, type, payload), bound to the platform's secret.
fn keyed_mac(secret: &[u8], kommune: &str, rtype: &str, payload: &str) -> Hmac<Sha256> {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("HMAC takes any key length");
    m.update(b"sandkasse-cursor\0");
    m.update(kommune.as_bytes());
    m.update(b"\0");
    m.update(rtype.as_bytes());
    m.update(b"\0");
    m.update(payload.as_bytes());
    m
}

impl Cursor {
    pub fn encode(&self, secret: &[u8], kommune: &str, rtype: &str) -> String {
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).expect("cursor serializes"));
        let tag = URL_SAFE_NO_PAD.encode(
            &keyed_mac(secret, kommune, rtype, &payload)
                .finalize()
                .into_bytes()[..16],
        );
        format!("{payload}.{tag}")
    }

    /// Decodes and verifies a cursor; `None` if malformed or tampered with.
    pub fn decode(text: &str, secret: &[u8], kommune: &str, rtype: &str) -> Option<Cursor> {
        let (payload, tag) = text.split_once('.')?;
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        if tag.len() != 16 {
            return None;
        }
        keyed_mac(secret, kommune, rtype, payload)
            .verify_truncated_left(&tag)
            .ok()?;
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::type_info;

    fn pairs(q: &str) -> Vec<(String, String)> {
        parse_form(q).unwrap()
    }

    #[test]
    fn form_decoding() {
        assert_eq!(
            pairs("a=b+c&d=%7C1&e"),
            vec![
                ("a".into(), "b c".into()),
                ("d".into(), "|1".into()),
                ("e".into(), "".into())
            ]
        );
        assert!(parse_form("a=%zz").is_err());
        assert!(parse_form("a=%ff").is_err(), "not UTF-8");
        assert_eq!(encode("urn:oid:1.2|123 4"), "urn:oid:1.2|123%204");
    }

    #[test]
    fn strict_parameters() {
        let obs = type_info("Observation").unwrap();
        let q = parse(
            obs,
            &pairs(
                "patient=Patient/p1&date=ge2024-01-01&date=lt2025&status=final,amended&_count=10",
            ),
            false,
        )
        .unwrap();
        assert_eq!(q.patient.as_deref(), Some("p1"));
        assert_eq!(q.dates.len(), 2);
        assert_eq!(q.count, Some(10));
        assert_eq!(q.params.len(), 4);
        for bad in [
            "name=x",
            "status:not=final",
            "patient.identifier=1",
            "_sort=date",
            "date=yesterday",
            "_count=-1",
            "patient=Group/1",
            "patient=a&subject=b",
            "status=",
        ] {
            assert!(parse(obs, &pairs(bad), false).is_err(), "{bad}");
        }
        let cond = type_info("Condition").unwrap();
        assert!(
            parse(
                cond,
                &pairs("clinical-status=active&onset-date=2020"),
                false
            )
            .is_ok()
        );
        assert!(
            parse(
                type_info("Provenance").unwrap(),
                &pairs("identifier=x"),
                false
            )
            .is_err()
        );
        assert!(
            parse(obs, &pairs("_count=5"), true).is_err(),
            "no _count in If-None-Exist"
        );
    }

    #[test]
    fn cursor_round_trip_and_tamper() {
        let c = Cursor {
            params: vec![("patient".into(), "p1".into())],
            offset: 50,
            count: 50,
        };
        let text = c.encode(b"secret", "4601", "Observation");
        assert_eq!(
            Cursor::decode(&text, b"secret", "4601", "Observation"),
            Some(c.clone())
        );
        assert_eq!(Cursor::decode(&text, b"secret", "4601", "Condition"), None);
        assert_eq!(Cursor::decode(&text, b"other", "4601", "Observation"), None);
        let mut forged = c.clone();
        forged.offset = 0;
        let (_, tag) = text.split_once('.').unwrap();
        let payload = forged.encode(b"x", "4601", "Observation");
        let (payload, _) = payload.split_once('.').unwrap();
        assert_eq!(
            Cursor::decode(
                &format!("{payload}.{tag}"),
                b"secret",
                "4601",
                "Observation"
            ),
            None
        );
        assert_eq!(
            Cursor::decode("garbage", b"secret", "4601", "Observation"),
            None
        );
    }
}

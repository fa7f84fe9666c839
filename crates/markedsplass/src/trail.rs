//! The audit trail as people read it: [`TrailFilter`] — by kind, actor, subject and time, parsed
//! and checked from a query string; [`page`] — the events it selects, with where the pages beside
//! them start (for the project's auditors); and [`EventView`] — what one event says: the decision
//! it records, its key details, and links to the pages of its subject and of the runs, cases,
//! products and nights it names. The stored events (and so their hash chain) are read as they
//! are; nothing here writes.
//!
//! ```
//! use sandkasse_markedsplass::trail::{Cursor, TrailFilter};
//! let pairs = [("kind", "review.decide"), ("subject", "case:3"), ("from", "2026-11-20")];
//! let (filter, cursor) = TrailFilter::parse(pairs.map(|(k, v)| (k.to_owned(), v.to_owned())))?;
//! assert_eq!(cursor, Cursor::Newest);
//! assert_eq!(filter.query(), "kind=review.decide&subject=case%3A3&from=2026-11-20");
//! # Ok::<(), sandkasse_markedsplass::trail::FilterError>(())
//! ```

use jiff::civil::Date;
use serde::Serialize;
use serde_json::Value;

use crate::error::AppError;
use crate::market::Market;
use crate::policy::{self, Actor};
use crate::store::{AuditEvent, AuditQuery, Decision};

/// Longest actor or subject a filter takes, in characters.
pub const MAX_FILTER_CHARS: usize = 200;

/// Why a filter could not be read. Each names the parameter and what it takes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    #[error(
        "kind tar en handling (review.decide) eller et område (listing) med små bokstaver, sifre, _ og . / kind takes an action (review.decide) or an area (listing): lower-case letters, digits, _ and ."
    )]
    Kind,
    #[error(
        "{0} tar ren tekst på én linje, høyst 200 tegn / {0} takes plain text on one line, at most 200 characters"
    )]
    Text(&'static str),
    #[error("{0} tar en dato, ÅÅÅÅ-MM-DD / {0} takes a date, YYYY-MM-DD")]
    Date(&'static str),
    #[error("from er etter to / from is after to")]
    Range,
    #[error(
        "{0} tar et hendelsesnummer (et heltall fra 0) / {0} takes an event number (a whole number from 0)"
    )]
    Seq(&'static str),
    #[error("bruk before eller after, ikke begge / use before or after, not both")]
    BothCursors,
}

impl FilterError {
    /// A stable name of the error, for texts keyed by it (`kind`, `text`, `date`, …).
    pub fn code(&self) -> &'static str {
        match self {
            FilterError::Kind => "kind",
            FilterError::Text(_) => "text",
            FilterError::Date(_) => "date",
            FilterError::Range => "range",
            FilterError::Seq(_) => "seq",
            FilterError::BothCursors => "cursors",
        }
    }

    /// The query parameter at fault.
    pub fn parameter(&self) -> &'static str {
        match self {
            FilterError::Kind => "kind",
            FilterError::Text(p) | FilterError::Date(p) | FilterError::Seq(p) => p,
            FilterError::Range => "from",
            FilterError::BothCursors => "before",
        }
    }
}

/// Which events to show: each condition given must hold. Empty parameters are not given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TrailFilter {
    /// An action (`review.decide`) or an area (`review`: every `review.*`).
    pub kind: Option<String>,
    /// Part of the actor (`rita@`, `system:nightly`), case-insensitively.
    pub actor: Option<String>,
    /// The subject exactly (`case:3`).
    pub subject: Option<String>,
    /// From this day on (UTC), inclusive.
    pub from: Option<Date>,
    /// Up to this day (UTC), inclusive.
    pub to: Option<Date>,
}

/// Where a page of the trail starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cursor {
    /// The newest events.
    Newest,
    /// The events just before `seq` (older).
    Before(i64),
    /// The events just after `seq` (newer).
    After(i64),
}

impl TrailFilter {
    /// Reads `kind`, `actor`, `subject`, `from`, `to` and one of `before` / `after` from a query's
    /// pairs (others, such as `lang`, are not the filter's); the last of a repeated one counts.
    pub fn parse(
        pairs: impl IntoIterator<Item = (String, String)>,
    ) -> Result<(TrailFilter, Cursor), FilterError> {
        let (mut filter, mut before, mut after) = (TrailFilter::default(), None, None);
        for (key, value) in pairs {
            let value = value.trim();
            if value.is_empty() {
                continue;
            }
            match key.as_str() {
                "kind" => filter.kind = Some(kind(value)?),
                "actor" => filter.actor = Some(text(value, "actor")?),
                "subject" => filter.subject = Some(text(value, "subject")?),
                "from" => filter.from = Some(date(value, "from")?),
                "to" => filter.to = Some(date(value, "to")?),
                "before" => before = Some(seq(value, "before")?),
                "after" => after = Some(seq(value, "after")?),
                _ => {}
            }
        }
        if let (Some(from), Some(to)) = (filter.from, filter.to)
            && from > to
        {
            return Err(FilterError::Range);
        }
        let cursor = match (before, after) {
            (Some(_), Some(_)) => return Err(FilterError::BothCursors),
            (Some(b), None) => Cursor::Before(b),
            (None, Some(a)) => Cursor::After(a),
            (None, None) => Cursor::Newest,
        };
        Ok((filter, cursor))
    }

    /// The filter as a query string (percent-encoded, without `?`), for links that keep it.
    pub fn query(&self) -> String {
        self.pairs()
            .iter()
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .collect::<Vec<_>>()
            .join("&")
    }

    fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        let mut add = |k, v: Option<String>| {
            if let Some(v) = v {
                pairs.push((k, v));
            }
        };
        add("kind", self.kind.clone());
        add("actor", self.actor.clone());
        add("subject", self.subject.clone());
        add("from", self.from.map(|d| d.to_string()));
        add("to", self.to.map(|d| d.to_string()));
        pairs
    }

    /// Whether any condition is given.
    pub fn is_empty(&self) -> bool {
        self.pairs().is_empty()
    }

    /// The store's query for a page of `limit` events from `cursor`.
    pub fn to_query(&self, cursor: Cursor, limit: u32) -> AuditQuery {
        let day = |d: Date| {
            d.to_zoned(jiff::tz::TimeZone::UTC)
                .map(|z| z.timestamp())
                .ok()
        };
        AuditQuery {
            kind: self.kind.clone(),
            actor: self.actor.clone(),
            subject: self.subject.clone(),
            since: self.from.and_then(day),
            until: self.to.and_then(|d| d.tomorrow().ok()).and_then(day),
            after: match cursor {
                Cursor::After(a) => Some(a),
                _ => None,
            },
            before: match cursor {
                Cursor::Before(b) => Some(b),
                _ => None,
            },
            limit,
        }
    }
}

/// What a filter's value keeps unescaped in a link: the unreserved characters.
const KEEP: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// `value` percent-encoded for a query string.
pub fn encode(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, KEEP).to_string()
}

fn kind(value: &str) -> Result<String, FilterError> {
    let ok = value.len() <= 64
        && value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.')
        && !value.starts_with('.')
        && !value.ends_with('.');
    ok.then(|| value.to_owned()).ok_or(FilterError::Kind)
}

fn text(value: &str, parameter: &'static str) -> Result<String, FilterError> {
    let ok = value.chars().count() <= MAX_FILTER_CHARS
        && sandkasse_suite::text::check_plain(value, sandkasse_suite::text::Lines::One).is_ok();
    ok.then(|| value.to_owned())
        .ok_or(FilterError::Text(parameter))
}

fn date(value: &str, parameter: &'static str) -> Result<Date, FilterError> {
    // Only the plain form an `<input type="date">` sends.
    let plain = value.len() == 10 && value.as_bytes()[4] == b'-' && value.as_bytes()[7] == b'-';
    plain
        .then(|| value.parse().ok())
        .flatten()
        .ok_or(FilterError::Date(parameter))
}

fn seq(value: &str, parameter: &'static str) -> Result<i64, FilterError> {
    value
        .parse::<i64>()
        .ok()
        .filter(|n| *n >= 0)
        .ok_or(FilterError::Seq(parameter))
}

/// A page of the audit trail, oldest first, with where the pages beside it start.
#[derive(Debug, Clone)]
pub struct TrailPage {
    pub events: Vec<AuditEvent>,
    /// `before` of the older page, when there are older events that match.
    pub older: Option<i64>,
    /// `after` of the newer page, when there are newer events that match.
    pub newer: Option<i64>,
}

/// The events of the audit trail `filter` selects from `cursor`, at most `limit` (1…500).
pub async fn page(
    market: &Market,
    actor: &Actor,
    filter: &TrailFilter,
    cursor: Cursor,
    limit: u32,
) -> Result<TrailPage, AppError> {
    actor.require(policy::AUDITORS)?;
    let limit = limit.clamp(1, 500);
    let store = &market.stores.audit;
    let mut events = store.search(&filter.to_query(cursor, limit + 1)).await?;
    let more = events.len() > limit as usize;
    events.truncate(limit as usize);
    if !matches!(cursor, Cursor::After(_)) {
        events.reverse();
    }
    // Whether anything that matches lies beyond `cursor` (one event read).
    let any = |cursor| async move {
        Ok::<_, AppError>(!store.search(&filter.to_query(cursor, 1)).await?.is_empty())
    };
    let (first, last) = (events.first().map(|e| e.seq), events.last().map(|e| e.seq));
    let (older, newer) = match cursor {
        Cursor::After(after) => {
            let from = first.unwrap_or(after.saturating_add(1));
            let older = any(Cursor::Before(from)).await?.then_some(from);
            (older, more.then_some(last).flatten())
        }
        Cursor::Newest => (more.then_some(first).flatten(), None),
        Cursor::Before(before) => {
            let from = last.unwrap_or(before.saturating_sub(1));
            let newer = any(Cursor::After(from)).await?.then_some(from);
            (more.then_some(first).flatten(), newer)
        }
    };
    Ok(TrailPage {
        events,
        older,
        newer,
    })
}

/// The actions in the audit trail (the kinds to filter by).
pub async fn kinds(market: &Market, actor: &Actor) -> Result<Vec<String>, AppError> {
    actor.require(policy::AUDITORS)?;
    Ok(market.stores.audit.actions().await?)
}

/// One event as the audit page shows it.
#[derive(Debug, Clone, Serialize)]
pub struct EventView {
    /// The event as stored.
    #[serde(flatten)]
    pub event: AuditEvent,
    /// The page of the subject, when it has one (`run:5` → `/kjoringer/5`).
    pub subject_href: Option<String>,
    /// The decision a `review.decide` records.
    pub decision: Option<Decision>,
    /// The other details worth reading, in a fixed order.
    pub facts: Vec<Fact>,
}

/// One detail of an event: its key (texts `audit_key_KEY`), its value and, for an id, the page.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fact {
    pub key: &'static str,
    pub value: String,
    /// The prefix of the texts that word the value (`state_` for `done`), when it is a code.
    pub family: Option<&'static str>,
    pub href: Option<String>,
    /// A score (0–1), for the page to show in its own way of writing percentages.
    pub fraction: Option<f64>,
}

/// The details shown, in order, and how: `(key, family of texts, page prefix)`.
const FACTS: &[(&str, Option<&str>, Option<&str>)] = &[
    ("level", Some("role_"), None),
    ("case_state", Some("state_"), None),
    ("state", Some("state_"), None),
    ("verdict", Some("verdict_"), None),
    ("score", None, None),
    ("error", None, None),
    ("from", Some("role_"), None),
    ("to", Some("role_"), None),
    ("role", Some("role_"), None),
    ("version", None, None),
    ("name", None, None),
    ("product_id", None, Some("/produkter/")),
    ("submission_id", None, None),
    ("run_id", None, Some("/kjoringer/")),
    ("case_id", None, Some("/vurdering/")),
    ("night", None, Some("/natt/")),
    ("assigned", None, None),
    ("attempt", None, None),
    ("attempts", None, None),
    ("tested", None, None),
    ("regressions", None, None),
    ("suspended", None, None),
    ("seed", None, None),
    ("suite_version", None, None),
    ("sha256", None, None),
    ("size", None, None),
    ("prefix", None, None),
];

/// The keys of every detail shown (each has a text `audit_key_KEY`).
pub fn fact_keys() -> impl Iterator<Item = &'static str> {
    FACTS.iter().map(|(key, _, _)| *key)
}

/// The page of a subject (`kind:id`), when it has one. A submission's page is its product's,
/// when the event names the product.
pub fn subject_href(subject: &str, details: &Value) -> Option<String> {
    let (kind, id) = subject.split_once(':')?;
    let numeric = !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit());
    match kind {
        "run" if numeric => Some(format!("/kjoringer/{id}")),
        "case" if numeric => Some(format!("/vurdering/{id}")),
        "product" if numeric => Some(format!("/produkter/{id}")),
        "night" if id.parse::<Date>().is_ok() => Some(format!("/natt/{id}")),
        "submission" => details["product_id"]
            .as_i64()
            .map(|p| format!("/produkter/{p}")),
        _ => None,
    }
}

impl EventView {
    pub fn of(event: AuditEvent) -> EventView {
        let details = &event.details;
        let decision = details["decision"].as_str().and_then(Decision::parse);
        let facts = FACTS
            .iter()
            .filter_map(|&(key, family, page)| {
                let mut value = shown(&details[key])?;
                if key == "sha256" {
                    // Enough to tell components apart; the whole digest is in the API.
                    value.truncate(12);
                }
                let href = page.map(|p| format!("{p}{value}"));
                let fraction = (key == "score").then(|| details[key].as_f64()).flatten();
                Some(Fact {
                    key,
                    value,
                    family,
                    href,
                    fraction,
                })
            })
            .collect();
        EventView {
            subject_href: subject_href(&event.subject, details),
            decision,
            facts,
            event,
        }
    }
}

/// A detail's value as text (`None`: absent, null or empty).
fn shown(value: &Value) -> Option<String> {
    let text = match value {
        Value::Null => return None,
        Value::String(s) => s.chars().take(300).collect(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
            .collect::<Vec<_>>()
            .join(", "),
        Value::Object(_) => return None,
    };
    (!text.is_empty()).then_some(text)
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;
    use serde_json::json;

    use super::*;

    fn parse(pairs: &[(&str, &str)]) -> Result<(TrailFilter, Cursor), FilterError> {
        TrailFilter::parse(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        )
    }

    #[test]
    fn filters_are_checked_and_kept_in_links() {
        let (f, c) = parse(&[
            ("kind", "listing"),
            ("actor", "rita@"),
            ("subject", "case:3"),
            ("from", "2026-11-20"),
            ("to", "2026-11-21"),
            ("before", "40"),
            ("lang", "en"),
            ("q", ""),
        ])
        .unwrap();
        assert_eq!(c, Cursor::Before(40));
        assert_eq!(
            f.query(),
            "kind=listing&actor=rita%40&subject=case%3A3&from=2026-11-20&to=2026-11-21"
        );
        let q = f.to_query(c, 100);
        assert_eq!(q.since.unwrap().to_string(), "2026-11-20T00:00:00Z");
        assert_eq!(q.until.unwrap().to_string(), "2026-11-22T00:00:00Z");
        assert_eq!((q.before, q.after, q.limit), (Some(40), None, 100));
        assert_eq!(parse(&[("kind", "")]).unwrap().0, TrailFilter::default());
        for (bad, expected) in [
            (("kind", "Review"), FilterError::Kind),
            (("kind", "review."), FilterError::Kind),
            (("kind", "a'b"), FilterError::Kind),
            (("actor", "a\u{202e}b"), FilterError::Text("actor")),
            (("subject", &"x".repeat(201)), FilterError::Text("subject")),
            (("from", "abc"), FilterError::Date("from")),
            (("to", "2026-13-01"), FilterError::Date("to")),
            (("to", "2026-11-20T00:00"), FilterError::Date("to")),
            (("after", "abc"), FilterError::Seq("after")),
            (("before", "-1"), FilterError::Seq("before")),
        ] {
            assert_eq!(parse(&[(bad.0, bad.1)]).unwrap_err(), expected, "{bad:?}");
        }
        assert_eq!(
            parse(&[("from", "2026-11-21"), ("to", "2026-11-20")]).unwrap_err(),
            FilterError::Range
        );
        assert_eq!(
            parse(&[("before", "1"), ("after", "2")]).unwrap_err(),
            FilterError::BothCursors
        );
    }

    fn event(action: &str, subject: &str, details: Value) -> AuditEvent {
        AuditEvent {
            seq: 7,
            at: Timestamp::UNIX_EPOCH,
            actor: "user:rita@prosjektet.no".into(),
            action: action.into(),
            subject: subject.into(),
            reason: Some("OK".into()),
            details,
            prev_hash: String::new(),
            hash: "h".into(),
        }
    }

    #[test]
    fn a_decision_shows_what_was_decided_and_links_its_case() {
        let view = EventView::of(event(
            "review.decide",
            "case:3",
            json!({ "decision": "reject", "level": "reviewer", "case_state": "rejected" }),
        ));
        assert_eq!(view.decision, Some(Decision::Reject));
        assert_eq!(view.subject_href.as_deref(), Some("/vurdering/3"));
        let keys: Vec<_> = view
            .facts
            .iter()
            .map(|f| (f.key, f.value.as_str()))
            .collect();
        assert_eq!(keys, [("level", "reviewer"), ("case_state", "rejected")]);
        assert_eq!(view.facts[0].family, Some("role_"));
    }

    #[test]
    fn every_subject_with_a_page_links_to_it_and_ids_in_details_too() {
        let none = json!({});
        assert_eq!(
            subject_href("run:5", &none).as_deref(),
            Some("/kjoringer/5")
        );
        assert_eq!(
            subject_href("product:7", &none).as_deref(),
            Some("/produkter/7")
        );
        assert_eq!(
            subject_href("night:2026-11-20", &none).as_deref(),
            Some("/natt/2026-11-20")
        );
        assert_eq!(
            subject_href("submission:4", &json!({ "product_id": 7 })).as_deref(),
            Some("/produkter/7")
        );
        assert_eq!(subject_href("run:../x", &none), None);
        assert_eq!(subject_href("user:rita@prosjektet.no", &none), None);
        let listed = EventView::of(event(
            "listing.list",
            "product:7",
            json!({ "case_id": 3, "submission_id": 4, "version": "1.0.0", "run_id": 5 }),
        ));
        let links: Vec<_> = listed
            .facts
            .iter()
            .filter_map(|f| f.href.as_deref())
            .collect();
        assert_eq!(links, ["/kjoringer/5", "/vurdering/3"]);
        let finished = EventView::of(event(
            "run.finish",
            "run:5",
            json!({ "state": "done", "verdict": "godkjent", "score": 0.975, "error": null }),
        ));
        let values: Vec<_> = finished.facts.iter().map(|f| f.value.as_str()).collect();
        assert_eq!(values, ["done", "godkjent", "0.975"]);
        assert_eq!(finished.facts[2].fraction, Some(0.975));
        assert!(fact_keys().any(|k| k == "night"));
    }
}

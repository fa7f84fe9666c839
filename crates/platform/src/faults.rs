//! Fault injection: a [`FaultPlan`] chosen by the scenario, applied deterministically.
//!
//! A plan is data (TOML or JSON in the scenarios). Each [`FaultRule`] matches requests by
//! method, resource type and interaction, counts the requests it matched (1, 2, 3, … per rule,
//! per platform) and fires its [`FaultAction`] on the `nth` match, on `every` k-th match, or on the
//! matches `from`..=`to` (all given conditions must hold; none given: every match). Counters
//! belong to the [`Platform`](crate::Platform), so the same plan and the same request sequence
//! fire the same faults.
//!
//! ```
//! use sandkasse_platform::faults::{FaultAction, FaultPlan};
//! let plan: FaultPlan = toml::from_str(r#"
//!     [[rules]]
//!     interaction = "search"
//!     resource = "Observation"
//!     nth = 2
//!     action = { kind = "throttle", retry_after = 2 }
//!
//!     [[rules]]
//!     method = "GET"
//!     action = { kind = "latency", ms = 150 }
//! "#).unwrap();
//! plan.validate().unwrap();
//! assert_eq!(plan.rules[0].action, FaultAction::Throttle { retry_after: 2 });
//! ```
//!
//! Actions:
//! - `throttle` (429) / `unavailable` (503) with `Retry-After: retry_after` seconds — the only
//!   way the platform ever answers 429 or 503;
//! - `latency`: wait `ms` milliseconds before answering (`tokio::time::sleep`: virtual and instant
//!   on a paused runtime);
//! - `expire-token`: the request's token expires now (401, and every later use too);
//! - `truncate-body`: the response body is cut after `bytes` bytes (malformed JSON, consistent
//!   `Content-Length`);
//! - `short-page`: a search page holds at most `entries` entries, with a valid `next` link
//!   continuing after them;
//! - `oversized-page`: a search page ignores `_count` and its cap, holding `entries` entries
//!   (default: every remaining match);
//! - `unknown-elements`: every served resource gains an unknown element (`sandkasseUkjent`) and
//!   an unknown extension (tolerant reading) — the one case where served resources are not valid
//!   against the R4 schema;
//! - `precondition-failed`: an update is refused with 412 as if the version had changed;
//! - `unprocessable`: a create or update is refused with 422 as if a profile rule failed;
//! - `foreign-links`: a hostile-but-plausible platform: every link in the response (`next`,
//!   `self`, `fullUrl`) and the `Location` header point to another host, `authority`, with the
//!   same path — an adapter must not follow them (nor send its token there);
//! - `redirect`: the request is answered `307 Temporary Redirect` to the same path on another
//!   host, `authority`;
//! - `notices-on-last-page`: a search's withheld-information notice comes only on its last page
//!   (some platforms put it where the withheld resources would have been), so an adapter must
//!   read notices from every page.

use serde::{Deserialize, Serialize};

/// The interactions a rule can match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RequestKind {
    Metadata,
    Token,
    Read,
    Search,
    Create,
    Update,
}

/// A scenario's faults.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultPlan {
    #[serde(default)]
    pub rules: Vec<FaultRule>,
}

/// When and what to inject.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultRule {
    /// HTTP method (`GET`, `POST`, `PUT`); any when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Resource type; any when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// Interaction; any when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interaction: Option<RequestKind>,
    /// Fire on the nth matching request only (1-based).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nth: Option<u64>,
    /// Fire on every k-th matching request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub every: Option<u64>,
    /// Fire from this matching request on (1-based, inclusive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<u64>,
    /// Fire up to this matching request (inclusive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<u64>,
    pub action: FaultAction,
}

/// What a rule does when it fires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum FaultAction {
    /// 429 Too Many Requests with `Retry-After`.
    Throttle { retry_after: u32 },
    /// 503 Service Unavailable with `Retry-After`.
    Unavailable { retry_after: u32 },
    /// Answer after `ms` milliseconds.
    Latency { ms: u64 },
    /// The request's token expires now.
    ExpireToken,
    /// Cut the body after `bytes` bytes.
    TruncateBody { bytes: usize },
    /// At most `entries` entries on the page, with a valid `next` link.
    ShortPage { entries: usize },
    /// Ignore `_count` and its cap: `entries` entries (default all remaining).
    OversizedPage {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        entries: Option<usize>,
    },
    /// Unknown elements and extensions in served resources.
    UnknownElements,
    /// 412 on an update.
    PreconditionFailed,
    /// 422 on a create or update.
    Unprocessable,
    /// Links, `fullUrl`s and `Location` point to another host (`authority`, e.g.
    /// `speil.plattform.example`).
    ForeignLinks { authority: String },
    /// 307 to the same path on another host.
    Redirect { authority: String },
    /// A search's withheld-information notice only on its last page.
    NoticesOnLastPage,
}

impl FaultAction {
    /// The kebab-case name, as in the plan.
    pub fn kind(&self) -> &'static str {
        match self {
            FaultAction::Throttle { .. } => "throttle",
            FaultAction::Unavailable { .. } => "unavailable",
            FaultAction::Latency { .. } => "latency",
            FaultAction::ExpireToken => "expire-token",
            FaultAction::TruncateBody { .. } => "truncate-body",
            FaultAction::ShortPage { .. } => "short-page",
            FaultAction::OversizedPage { .. } => "oversized-page",
            FaultAction::UnknownElements => "unknown-elements",
            FaultAction::PreconditionFailed => "precondition-failed",
            FaultAction::Unprocessable => "unprocessable",
            FaultAction::ForeignLinks { .. } => "foreign-links",
            FaultAction::Redirect { .. } => "redirect",
            FaultAction::NoticesOnLastPage => "notices-on-last-page",
        }
    }
}

/// Why a plan is not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FaultPlanError {
    #[error("rule {rule}: {message}")]
    Invalid { rule: usize, message: String },
}

impl FaultPlan {
    /// Checks counts, methods and types.
    pub fn validate(&self) -> Result<(), FaultPlanError> {
        for (i, r) in self.rules.iter().enumerate() {
            let bad = |message: &str| {
                Err(FaultPlanError::Invalid {
                    rule: i,
                    message: message.to_owned(),
                })
            };
            if r.nth == Some(0) || r.every == Some(0) || r.from == Some(0) || r.to == Some(0) {
                return bad("counts start at 1");
            }
            if let (Some(f), Some(t)) = (r.from, r.to)
                && f > t
            {
                return bad("from > to");
            }
            if r.nth.is_some() && (r.every.is_some() || r.from.is_some() || r.to.is_some()) {
                return bad("nth excludes every/from/to");
            }
            if let Some(m) = &r.method
                && !matches!(m.as_str(), "GET" | "POST" | "PUT")
            {
                return bad("method must be GET, POST or PUT");
            }
            if let Some(t) = &r.resource
                && crate::types::type_info(t).is_none()
            {
                return bad(&format!("resource type {t} is not served"));
            }
            match &r.action {
                FaultAction::ShortPage { entries: 0 } => {
                    return bad("short-page needs entries >= 1");
                }
                FaultAction::ForeignLinks { authority } | FaultAction::Redirect { authority }
                    if authority.is_empty()
                        || !authority
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':')) =>
                {
                    return bad("authority must be a host name, optionally with a port");
                }
                FaultAction::OversizedPage { entries: Some(0) } => {
                    return bad("oversized-page needs entries >= 1");
                }
                FaultAction::Latency { ms } if *ms > 600_000 => {
                    return bad("latency above 10 minutes");
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// A fault that fired, for the scenario's evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FiredFault {
    /// Which request of this platform (1-based, every request counted).
    pub request: u64,
    /// Index of the rule in the plan.
    pub rule: usize,
    /// The action's kind.
    pub kind: &'static str,
    pub method: String,
    pub path: String,
}

/// What the fired rules ask of one request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Effects {
    /// (status, Retry-After seconds).
    pub status: Option<(u16, u32)>,
    pub latency_ms: u64,
    pub expire_token: bool,
    pub truncate: Option<usize>,
    pub short_page: Option<usize>,
    pub oversized: Option<Option<usize>>,
    pub unknown_elements: bool,
    pub precondition_failed: bool,
    pub unprocessable: bool,
    /// Authority links and `Location` are rewritten to.
    pub foreign_links: Option<String>,
    /// Authority of a 307 redirect.
    pub redirect: Option<String>,
    pub notices_on_last_page: bool,
}

/// A plan with its counters.
#[derive(Debug, Default)]
pub(crate) struct FaultState {
    pub plan: FaultPlan,
    counts: Vec<u64>,
    requests: u64,
    pub fired: Vec<FiredFault>,
}

impl FaultState {
    pub fn new(plan: FaultPlan) -> Self {
        let counts = vec![0; plan.rules.len()];
        FaultState {
            plan,
            counts,
            requests: 0,
            fired: Vec::new(),
        }
    }

    /// Counts the request and returns the effects of the rules that fire on it.
    pub fn on_request(
        &mut self,
        method: &str,
        resource: Option<&str>,
        kind: Option<RequestKind>,
        path: &str,
    ) -> Effects {
        self.requests += 1;
        let mut fx = Effects::default();
        for (i, rule) in self.plan.rules.iter().enumerate() {
            let matches = rule.method.as_deref().is_none_or(|m| m == method)
                && rule.resource.as_deref().is_none_or(|t| Some(t) == resource)
                && rule.interaction.is_none_or(|k| Some(k) == kind);
            if !matches {
                continue;
            }
            self.counts[i] += 1;
            let n = self.counts[i];
            let fires = rule.nth.is_none_or(|k| n == k)
                && rule.every.is_none_or(|k| n.is_multiple_of(k))
                && rule.from.is_none_or(|k| n >= k)
                && rule.to.is_none_or(|k| n <= k);
            if !fires {
                continue;
            }
            self.fired.push(FiredFault {
                request: self.requests,
                rule: i,
                kind: rule.action.kind(),
                method: method.to_owned(),
                path: path.to_owned(),
            });
            match &rule.action {
                FaultAction::Throttle { retry_after } => {
                    fx.status.get_or_insert((429, *retry_after));
                }
                FaultAction::Unavailable { retry_after } => {
                    fx.status.get_or_insert((503, *retry_after));
                }
                FaultAction::Latency { ms } => fx.latency_ms += ms,
                FaultAction::ExpireToken => fx.expire_token = true,
                FaultAction::TruncateBody { bytes } => fx.truncate = Some(*bytes),
                FaultAction::ShortPage { entries } => fx.short_page = Some(*entries),
                FaultAction::OversizedPage { entries } => fx.oversized = Some(*entries),
                FaultAction::UnknownElements => fx.unknown_elements = true,
                FaultAction::PreconditionFailed => fx.precondition_failed = true,
                FaultAction::Unprocessable => fx.unprocessable = true,
                FaultAction::ForeignLinks { authority } => {
                    fx.foreign_links = Some(authority.clone())
                }
                FaultAction::Redirect { authority } => {
                    fx.redirect.get_or_insert_with(|| authority.clone());
                }
                FaultAction::NoticesOnLastPage => fx.notices_on_last_page = true,
            }
        }
        fx
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(action: FaultAction) -> FaultRule {
        FaultRule {
            method: None,
            resource: None,
            interaction: None,
            nth: None,
            every: None,
            from: None,
            to: None,
            action,
        }
    }

    #[test]
    fn counters_are_per_rule_and_deterministic() {
        let plan = FaultPlan {
            rules: vec![
                FaultRule {
                    nth: Some(2),
                    interaction: Some(RequestKind::Read),
                    ..rule(FaultAction::Throttle { retry_after: 1 })
                },
                FaultRule {
                    every: Some(3),
                    ..rule(FaultAction::Latency { ms: 100 })
                },
                FaultRule {
                    from: Some(4),
                    to: Some(5),
                    ..rule(FaultAction::UnknownElements)
                },
            ],
        };
        plan.validate().unwrap();
        let mut s = FaultState::new(plan);
        let mut seen = Vec::new();
        for kind in [
            RequestKind::Read,
            RequestKind::Search,
            RequestKind::Read,
            RequestKind::Read,
            RequestKind::Read,
            RequestKind::Read,
        ] {
            let fx = s.on_request("GET", Some("Patient"), Some(kind), "/x");
            seen.push((fx.status.is_some(), fx.latency_ms, fx.unknown_elements));
        }
        assert_eq!(
            seen,
            vec![
                (false, 0, false),
                (false, 0, false),
                (true, 100, false),
                (false, 0, true),
                (false, 0, true),
                (false, 100, false)
            ]
        );
        assert_eq!(s.fired.len(), 5);
    }

    #[test]
    fn invalid_plans_are_refused() {
        let bad = [
            FaultRule {
                nth: Some(0),
                ..rule(FaultAction::ExpireToken)
            },
            FaultRule {
                from: Some(3),
                to: Some(2),
                ..rule(FaultAction::ExpireToken)
            },
            FaultRule {
                nth: Some(1),
                every: Some(2),
                ..rule(FaultAction::ExpireToken)
            },
            FaultRule {
                resource: Some("Pasient".into()),
                ..rule(FaultAction::ExpireToken)
            },
            rule(FaultAction::ShortPage { entries: 0 }),
        ];
        for r in bad {
            assert!(
                FaultPlan {
                    rules: vec![r.clone()]
                }
                .validate()
                .is_err(),
                "{r:?}"
            );
        }
    }

    #[test]
    fn plans_are_strict_data() {
        let json = r#"{"rules":[{"action":{"kind":"oversized-page"}}]}"#;
        let plan: FaultPlan = serde_json::from_str(json).unwrap();
        assert_eq!(
            plan.rules[0].action,
            FaultAction::OversizedPage { entries: None }
        );
        assert!(
            serde_json::from_str::<FaultPlan>(r#"{"rules":[{"action":{"kind":"throttle"}}]}"#)
                .is_err()
        );
        assert!(
            serde_json::from_str::<FaultPlan>(
                r#"{"rules":[{"nht":1,"action":{"kind":"expire-token"}}]}"#
            )
            .is_err()
        );
        assert_eq!(serde_json::to_string(&plan).unwrap(), json);
    }
}

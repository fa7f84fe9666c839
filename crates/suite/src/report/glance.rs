//! A report at a glance: what a person reading a run should see first, derived from the report.
//!
//! [`Glance::of`] gives the failed `skal` and `bør` vilkår (the first decides the verdict, the
//! second only the score), and — when calls did not complete because the component trapped or hit
//! a limit — the root cause: the failure class that stopped the most calls, with the first such
//! call's detail (its wasm backtrace) and stderr. A component that runs out of fuel in every call
//! fails many vilkår for what looks like content; the root cause says why in one line, before
//! them. [`exhibits`] finds, for one check, the HTTP exchanges its evidence names, so a page can
//! show the request line, the status and the bodies that decided it.
//!
//! Nothing here changes the report; it is a view for pages and the command line.
//!
//! ```
//! # fn demo(report: &sandkasse_suite::report::Report) {
//! use sandkasse_suite::report::glance::Glance;
//! let glance = Glance::of(report);
//! if let Some(cause) = &glance.cause {
//!     println!("{} of {} calls: {}", cause.calls, cause.of, cause.class);
//! }
//! # }
//! ```

use serde::Serialize;

use super::call::{Call, Disposition, Exchange, Outcome as CallOutcome};
use super::{CheckResult, Outcome, Report, VilkarResult};
use crate::model::{Level, Text};

/// At most this many characters of a body, a detail or stderr are shown at a glance (the JSON
/// report has everything the size budget kept).
pub const EXCERPT_CHARS: usize = 1200;

/// At most this many exchanges are shown for one check.
pub const MAX_EXHIBITS: usize = 3;

/// A report at a glance.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Glance<'a> {
    /// The `skal` vilkår that failed or erred: each one alone makes the verdict ikke godkjent.
    pub failed_skal: Vec<Failed<'a>>,
    /// The `bør` vilkår that failed or erred: they lower the score only.
    pub failed_bor: Vec<Failed<'a>>,
    /// Why calls did not complete, when some did not (not counting calls refused because an
    /// earlier call of the same instance failed).
    pub cause: Option<Cause>,
}

/// A vilkår that failed or erred.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Failed<'a> {
    pub id: &'a str,
    pub title: &'a Text,
    pub outcome: Outcome,
    pub reason: &'a str,
    /// The id of its first check that failed or erred.
    pub check: Option<&'a str>,
}

/// The failure class that stopped the most calls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cause {
    /// The class, e.g. `out-of-fuel`, `trap`, `memory-limit` (`sandkasse_sandbox::FailureClass`).
    pub class: String,
    /// Calls that ended in this class.
    pub calls: usize,
    /// Calls in the whole run.
    pub of: usize,
    /// Calls refused afterwards because their instance was unusable (`poisoned`).
    pub poisoned: usize,
    /// Other classes that stopped calls, with their counts, most first.
    pub others: Vec<(String, usize)>,
    /// The scenario and export of the first call that ended in this class.
    pub scenario: String,
    pub call: String,
    /// That call's failure detail (the trap message and wasm backtrace), excerpted.
    pub detail: String,
    /// That call's stderr, excerpted; empty when it wrote none.
    pub stderr: String,
}

/// One HTTP exchange named by a check's evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Exhibit {
    pub call: String,
    pub request_line: String,
    /// The request body, excerpted (tokens are redacted by the sandbox).
    pub request_body: Option<String>,
    /// The platform's status; none when the sandbox refused the request or it got no answer.
    pub status: Option<u16>,
    /// `platform`, or why the sandbox refused it: `refused-egress (host)`,
    /// `refused-request-limit`, `refused-body-limit`.
    pub disposition: String,
    /// The response body, excerpted.
    pub response_body: Option<String>,
}

/// Classes that are not a failure of the call itself.
const NOT_A_CAUSE: [&str; 3] = ["ok", "adapter-error", "poisoned"];

impl<'a> Glance<'a> {
    /// The glance of `report`.
    pub fn of(report: &'a Report) -> Glance<'a> {
        let failed = |level: Level| -> Vec<Failed<'a>> {
            report
                .vilkar
                .iter()
                .filter(|v| v.level == level && v.outcome.is_failing())
                .map(Failed::of)
                .collect()
        };
        Glance {
            failed_skal: failed(Level::Skal),
            failed_bor: failed(Level::Bor),
            cause: cause(report),
        }
    }
}

impl<'a> Failed<'a> {
    fn of(v: &'a VilkarResult) -> Failed<'a> {
        Failed {
            id: &v.id,
            title: &v.title,
            outcome: v.outcome,
            reason: &v.reason,
            check: v
                .checks
                .iter()
                .find(|c| c.outcome.is_failing())
                .map(|c| c.id.as_str()),
        }
    }
}

fn cause(report: &Report) -> Option<Cause> {
    let calls: Vec<(&str, &Call)> = report
        .scenarios
        .iter()
        .flat_map(|s| s.calls.iter().map(move |c| (s.id.as_str(), c)))
        .collect();
    // Classes in order of first appearance, with their counts.
    let mut classes: Vec<(String, usize)> = Vec::new();
    for (_, call) in &calls {
        let class = call.class();
        if NOT_A_CAUSE.contains(&class) {
            continue;
        }
        match classes.iter_mut().find(|(c, _)| c == class) {
            Some((_, n)) => *n += 1,
            None => classes.push((class.to_owned(), 1)),
        }
    }
    // The most calls first; a tie goes to the class seen first (a stable sort keeps that order).
    classes.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    let mut classes = classes.into_iter();
    let (class, count) = classes.next()?;
    let (scenario, first) = calls.iter().find(|(_, c)| c.class() == class)?;
    let evidence = first.evidence();
    let detail = match evidence.map(|e| &e.outcome) {
        Some(CallOutcome::Failure { detail, .. }) => excerpt(detail),
        _ => String::new(),
    };
    Some(Cause {
        calls: count,
        of: calls.len(),
        poisoned: calls
            .iter()
            .filter(|(_, c)| c.class() == "poisoned")
            .count(),
        others: classes.collect(),
        scenario: (*scenario).to_owned(),
        call: first.call().to_owned(),
        detail,
        stderr: evidence.map(|e| excerpt(&e.stderr)).unwrap_or_default(),
        class,
    })
}

/// The exchanges of `check`'s scenario whose request line its evidence names, at most
/// [`MAX_EXHIBITS`], each once.
pub fn exhibits(report: &Report, check: &CheckResult) -> Vec<Exhibit> {
    let Some(scenario) = report.scenarios.iter().find(|s| s.id == check.scenario) else {
        return Vec::new();
    };
    let mut shown: Vec<Exhibit> = Vec::new();
    for call in &scenario.calls {
        for exchange in call.exchanges() {
            let named = check
                .evidence
                .iter()
                .any(|e| e.contains(exchange.request_line.as_str()));
            if named
                && !shown
                    .iter()
                    .any(|x| x.request_line == exchange.request_line)
            {
                shown.push(exhibit(call.call(), exchange));
                if shown.len() == MAX_EXHIBITS {
                    return shown;
                }
            }
        }
    }
    shown
}

fn exhibit(call: &str, exchange: &Exchange) -> Exhibit {
    let disposition = match exchange.disposition.get() {
        Some(Disposition::Platform) | None => "platform".to_owned(),
        Some(Disposition::RefusedEgress { authority }) => format!("refused-egress ({authority})"),
        Some(Disposition::RefusedRequestLimit) => "refused-request-limit".to_owned(),
        Some(Disposition::RefusedBodyLimit) => "refused-body-limit".to_owned(),
    };
    Exhibit {
        call: call.to_owned(),
        request_line: exchange.request_line.clone(),
        request_body: exchange.request_body.as_deref().map(excerpt),
        status: exchange.status.get().copied().flatten(),
        disposition,
        response_body: exchange
            .response_body
            .get()
            .and_then(|b| b.as_deref())
            .map(excerpt),
    }
}

/// The first [`EXCERPT_CHARS`] characters of `text`, and `…` when there were more.
fn excerpt(text: &str) -> String {
    match text.char_indices().nth(EXCERPT_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::ScenarioRun;
    use crate::testutil::sample_report;
    use sandkasse_sandbox::{CallEvidence, FailureClass, Outcome as SandboxOutcome};

    fn failure(class: FailureClass, detail: &str) -> Call {
        let mut evidence = CallEvidence::quiet(
            "patient-overview",
            SandboxOutcome::Failure {
                class,
                detail: detail.to_owned(),
            },
        );
        evidence.class = class.name().to_owned();
        evidence.stderr = "thread panicked".to_owned();
        Call::from(evidence)
    }

    #[test]
    fn the_class_that_stopped_most_calls_is_the_cause() {
        let mut report = sample_report();
        report.scenarios = vec![ScenarioRun {
            id: "overview-basic".to_owned(),
            title: Text {
                nb: "a".to_owned(),
                en: "a".to_owned(),
            },
            skipped: None,
            calls: vec![
                failure(FailureClass::Trap, "unreachable at wasm backtrace: 0: f"),
                failure(
                    FailureClass::OutOfFuel,
                    "all fuel consumed at wasm backtrace",
                ),
                failure(FailureClass::Poisoned, "unusable"),
                failure(FailureClass::OutOfFuel, "all fuel consumed again"),
                Call::from(CallEvidence::quiet(
                    "patient-overview",
                    SandboxOutcome::Ok {
                        value: serde_json::json!({}),
                    },
                )),
            ],
        }];
        let cause = Glance::of(&report).cause.expect("calls failed");
        assert_eq!(
            (cause.class.as_str(), cause.calls, cause.of, cause.poisoned),
            ("out-of-fuel", 2, 5, 1)
        );
        assert_eq!(cause.others, vec![("trap".to_owned(), 1)]);
        assert_eq!(cause.detail, "all fuel consumed at wasm backtrace");
        assert_eq!(cause.stderr, "thread panicked");
        assert_eq!(cause.scenario, "overview-basic");
    }

    #[test]
    fn no_cause_when_every_call_completed_or_answered_an_adapter_error() {
        let mut report = sample_report();
        for scenario in &mut report.scenarios {
            scenario.calls.retain(|c| NOT_A_CAUSE.contains(&c.class()));
        }
        assert_eq!(Glance::of(&report).cause, None);
    }

    #[test]
    fn failed_vilkar_are_split_by_level() {
        let report = sample_report();
        let glance = Glance::of(&report);
        let expected = |level: Level| -> Vec<&str> {
            report
                .vilkar
                .iter()
                .filter(|v| v.level == level && v.outcome.is_failing())
                .map(|v| v.id.as_str())
                .collect()
        };
        fn ids<'a>(f: &[Failed<'a>]) -> Vec<&'a str> {
            f.iter().map(|f| f.id).collect()
        }
        assert_eq!(ids(&glance.failed_skal), expected(Level::Skal));
        assert_eq!(ids(&glance.failed_bor), expected(Level::Bor));
        assert!(
            !glance.failed_skal.is_empty(),
            "the sample report fails a skal vilkår"
        );
    }

    #[test]
    fn exhibits_are_the_exchanges_the_evidence_names() {
        let report = sample_report();
        let (check, exchange) = report
            .vilkar
            .iter()
            .flat_map(|v| &v.checks)
            .find_map(|c| {
                let scenario = report.scenarios.iter().find(|s| s.id == c.scenario)?;
                let exchange = scenario.calls.iter().flat_map(|k| k.exchanges()).next()?;
                Some((c.clone(), exchange.clone()))
            })
            .expect("the sample report has a check whose scenario made a request");
        let mut named = check.clone();
        named.evidence = vec![format!(
            "uten token / without token: {}",
            exchange.request_line
        )];
        let shown = exhibits(&report, &named);
        assert_eq!(shown.len(), 1);
        assert_eq!(shown[0].request_line, exchange.request_line);
        assert_eq!(shown[0].status, exchange.status.get().copied().flatten());
        let mut unnamed = check;
        unnamed.evidence = vec!["ingen forespørsel / no request".to_owned()];
        assert!(exhibits(&report, &unnamed).is_empty());
    }

    #[test]
    fn excerpts_end_with_an_ellipsis_when_cut() {
        let long = "x".repeat(EXCERPT_CHARS + 5);
        assert_eq!(excerpt(&long).chars().count(), EXCERPT_CHARS + 1);
        assert!(excerpt(&long).ends_with('…'));
        assert_eq!(excerpt("kort"), "kort");
    }
}

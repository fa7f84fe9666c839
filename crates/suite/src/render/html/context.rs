//! What the page template sees: the report laid out for the page, built by [`page`].
//!
//! Every label (in bokmål and English), number format and excerpt is decided here; the template
//! only places them. Values are plain text — the template's environment escapes every one of
//! them (`crate::markup`), so nothing here is markup.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::markup::{json_name, percent, readable_time};
use crate::model::{Category, Level, Text};
use crate::report::call::{Disposition, Exchange as CallExchange, Outcome as CallOutcome};
use crate::report::{
    Call, CheckResult, Outcome, Report, ScenarioRun, SuiteRef, Verdict, VilkarResult,
};

/// At most this many characters of a call's stdout or stderr are shown (the JSON has all).
const OUTPUT_EXCERPT_CHARS: usize = 2000;

/// The whole page.
#[derive(Debug, Serialize)]
pub(super) struct Page<'a> {
    sandkasse: &'a str,
    wasmtime: &'a str,
    format: &'a str,
    generated_at: String,
    reproduce: &'a str,
    suite: &'a SuiteRef,
    verdict: VerdictView,
    score: ScoreView,
    component: ComponentView<'a>,
    data: DataView,
    signature: Option<SignatureView<'a>>,
    vilkar_counts: Vec<CountView>,
    check_counts: Vec<CountView>,
    /// The vilkår table, one per category present.
    categories: Vec<CategoryView<'a>>,
    /// The vilkår that failed or erred.
    findings: Vec<FindingView<'a>>,
    scenarios: Vec<ScenarioView<'a>>,
}

#[derive(Debug, Serialize)]
struct VerdictView {
    /// Capitalised bokmål, for the title and the header.
    title: String,
    nb: &'static str,
    en: &'static str,
    class: &'static str,
    symbol: &'static str,
}

/// The score as bokmål and English write a percentage.
#[derive(Debug, Serialize)]
struct ScoreView {
    nb: String,
    en: String,
}

#[derive(Debug, Serialize)]
struct ComponentView<'a> {
    digest: &'a str,
    short_digest: &'a str,
    size: String,
    /// What `info()` said, as compact JSON.
    info: Option<String>,
    capabilities: Vec<String>,
}

#[derive(Debug, Serialize)]
struct DataView {
    seed: u64,
    innbyggere: String,
}

#[derive(Debug, Serialize)]
struct SignatureView<'a> {
    algorithm: &'a str,
    public_key: &'a str,
}

/// `2 bestått (passed)`.
#[derive(Debug, Serialize)]
struct CountView {
    count: usize,
    nb: &'static str,
    en: &'static str,
}

#[derive(Debug, Serialize)]
struct OutcomeView {
    class: String,
    symbol: &'static str,
    nb: &'static str,
    en: &'static str,
}

#[derive(Debug, Serialize)]
struct CategoryView<'a> {
    /// The table's `id` attribute.
    id: String,
    nb: &'static str,
    en: &'static str,
    vilkar: Vec<VilkarRow<'a>>,
}

#[derive(Debug, Serialize)]
struct VilkarRow<'a> {
    id: &'a str,
    anchor: String,
    /// Whether it failed or erred, and so links to its finding.
    finding: bool,
    title: &'a Text,
    skal: bool,
    weight: u32,
    outcome: OutcomeView,
    /// The reason, unless it passed.
    note: Option<&'a str>,
}

#[derive(Debug, Serialize)]
struct FindingView<'a> {
    id: &'a str,
    anchor: String,
    title: &'a Text,
    text: &'a Text,
    skal: bool,
    weight: u32,
    category: CategoryLabel,
    outcome: OutcomeView,
    reason: &'a str,
    source: &'a str,
    /// The checks that failed or erred.
    checks: Vec<CheckView<'a>>,
}

#[derive(Debug, Serialize)]
struct CategoryLabel {
    nb: &'static str,
    en: &'static str,
}

#[derive(Debug, Serialize)]
struct CheckView<'a> {
    id: &'a str,
    scenario: &'a str,
    scenario_anchor: String,
    outcome: OutcomeView,
    reason: &'a str,
    /// The evidence, one item a line; none when there is none.
    evidence: Option<String>,
    reproduce: &'a str,
}

#[derive(Debug, Serialize)]
struct ScenarioView<'a> {
    id: &'a str,
    anchor: String,
    title: &'a Text,
    skipped: Option<&'a str>,
    calls: Vec<CallView>,
}

/// One call's evidence (see `sandkasse_sandbox::evidence::CallEvidence`).
#[derive(Debug, Default, Serialize)]
struct CallView {
    call: String,
    class: String,
    /// The badge colour of the class.
    badge: &'static str,
    adapter_error: Option<AdapterErrorView>,
    /// The detail of a call that did not complete.
    failure: Option<String>,
    fuel: Option<String>,
    memory: Option<String>,
    truncated: Option<TruncatedView>,
    /// One line per exchange: `     3 ms GET https://… → 200`.
    exchanges: Vec<String>,
    /// One line per log line: `    12 ms info: …`.
    logs: Vec<String>,
    logs_dropped: u64,
    /// stdout and stderr, when not empty (excerpts).
    outputs: Vec<OutputView>,
}

#[derive(Debug, Serialize)]
struct AdapterErrorView {
    code: String,
    message: String,
}

#[derive(Debug, Serialize)]
struct TruncatedView {
    strings_cut: String,
    bytes_cut: String,
    items_left_out: String,
    evidence_left_out: bool,
}

#[derive(Debug, Serialize)]
struct OutputView {
    stream: &'static str,
    text: String,
}

/// The page's context for `report`.
pub(super) fn page(report: &Report) -> Page<'_> {
    let (nb, en) = verdict_label(report.verdict);
    let (class, symbol) = if report.godkjent() {
        ("pass", "✓")
    } else {
        ("fail", "✗")
    };
    let mut by_category: BTreeMap<Category, Vec<&VilkarResult>> = BTreeMap::new();
    for vilkar in &report.vilkar {
        by_category.entry(vilkar.category).or_default().push(vilkar);
    }
    Page {
        sandkasse: &report.environment.sandkasse,
        wasmtime: &report.environment.wasmtime,
        format: &report.format,
        generated_at: readable_time(&report.generated_at),
        reproduce: &report.reproduce,
        suite: &report.suite,
        verdict: VerdictView {
            title: capitalise(nb),
            nb,
            en,
            class,
            symbol,
        },
        score: ScoreView {
            nb: percent(report.score, "nb"),
            en: percent(report.score, "en"),
        },
        component: ComponentView {
            digest: &report.component.digest,
            short_digest: short_digest(&report.component.digest),
            size: group_digits(report.component.size),
            info: report.component.info.as_ref().map(compact),
            capabilities: report
                .component
                .capabilities
                .iter()
                .map(json_name)
                .collect(),
        },
        data: DataView {
            seed: report.data.seed,
            innbyggere: group_digits(report.data.innbyggere as usize),
        },
        signature: report.signature.as_ref().map(|s| SignatureView {
            algorithm: &s.algorithm,
            public_key: &s.public_key,
        }),
        vilkar_counts: counts(report.vilkar.iter().map(|v| v.outcome)),
        check_counts: counts(
            report
                .vilkar
                .iter()
                .flat_map(|v| &v.checks)
                .map(|c| c.outcome),
        ),
        categories: by_category
            .into_iter()
            .map(|(category, vilkar)| {
                let (nb, en) = category_label(category);
                CategoryView {
                    id: format!("kategori-{}", json_name(&category)),
                    nb,
                    en,
                    vilkar: vilkar.into_iter().map(vilkar_row).collect(),
                }
            })
            .collect(),
        findings: report
            .vilkar
            .iter()
            .filter(|v| is_finding(v.outcome))
            .map(finding)
            .collect(),
        scenarios: report.scenarios.iter().map(scenario).collect(),
    }
}

fn vilkar_row(v: &VilkarResult) -> VilkarRow<'_> {
    VilkarRow {
        id: &v.id,
        anchor: anchor("v", &v.id),
        finding: is_finding(v.outcome),
        title: &v.title,
        skal: v.level == Level::Skal,
        weight: v.weight,
        outcome: outcome(v.outcome),
        note: (v.outcome != Outcome::Pass).then_some(v.reason.as_str()),
    }
}

fn finding(v: &VilkarResult) -> FindingView<'_> {
    let (nb, en) = category_label(v.category);
    FindingView {
        id: &v.id,
        anchor: anchor("v", &v.id),
        title: &v.title,
        text: &v.text,
        skal: v.level == Level::Skal,
        weight: v.weight,
        category: CategoryLabel { nb, en },
        outcome: outcome(v.outcome),
        reason: &v.reason,
        source: &v.source,
        checks: v
            .checks
            .iter()
            .filter(|c| is_finding(c.outcome))
            .map(check)
            .collect(),
    }
}

fn check(check: &CheckResult) -> CheckView<'_> {
    CheckView {
        id: &check.id,
        scenario: &check.scenario,
        scenario_anchor: anchor("s", &check.scenario),
        outcome: outcome(check.outcome),
        reason: &check.reason,
        evidence: (!check.evidence.is_empty()).then(|| check.evidence.join("\n")),
        reproduce: &check.reproduce,
    }
}

fn scenario(scenario: &ScenarioRun) -> ScenarioView<'_> {
    ScenarioView {
        id: &scenario.id,
        anchor: anchor("s", &scenario.id),
        title: &scenario.title,
        skipped: scenario.skipped.as_deref(),
        calls: scenario.calls.iter().map(call).collect(),
    }
}

/// One call's evidence (see [`crate::report::call`]): all of it, or the summary the size bound
/// left. A cut list's note is shown as a line of its own.
fn call(call: &Call) -> CallView {
    let mut view = CallView {
        call: call.call().to_owned(),
        class: call.class().to_owned(),
        badge: call_class(call.class()),
        ..CallView::default()
    };
    match call.evidence().map(|e| &e.outcome) {
        Some(CallOutcome::AdapterError { code, message }) => {
            view.adapter_error = Some(AdapterErrorView {
                code: code.clone(),
                message: message.clone(),
            });
        }
        Some(CallOutcome::Failure { detail, .. }) => view.failure = Some(detail.clone()),
        _ => {}
    }
    view.fuel = Some(group_digits(call.fuel_used() as usize));
    view.memory = Some(group_digits(call.peak_memory_bytes() as usize));
    view.truncated = call.truncated().map(|cut| {
        let n = |count: Option<usize>| group_digits(count.unwrap_or(0));
        TruncatedView {
            strings_cut: n(cut.strings_cut),
            bytes_cut: n(cut.bytes_cut),
            items_left_out: n(cut.items_left_out),
            evidence_left_out: cut.evidence_left_out,
        }
    });
    let Some(evidence) = call.evidence() else {
        return view;
    };
    view.exchanges = evidence.exchanges.items.iter().map(exchange_line).collect();
    if evidence.exchanges.left_out > 0 {
        view.exchanges.push("     0 ms ? → ".to_owned());
    }
    view.logs = evidence
        .logs
        .items
        .iter()
        .map(|line| format!("{:>6} ms {}: {}", line.at_ms, line.level, line.message))
        .collect();
    if evidence.logs.left_out > 0 {
        view.logs.push("     0 ms ?: ".to_owned());
    }
    view.logs_dropped = evidence.logs_dropped as u64;
    for (stream, text) in [("stdout", &evidence.stdout), ("stderr", &evidence.stderr)] {
        if !text.is_empty() {
            view.outputs.push(OutputView {
                stream,
                text: excerpt(text),
            });
        }
    }
    view
}

fn exchange_line(exchange: &CallExchange) -> String {
    let at = exchange.sent_ms.get().copied().unwrap_or(0);
    let request = &exchange.request_line;
    let answer = match exchange.disposition.get() {
        Some(Disposition::Platform) => match exchange.status.get().copied().flatten() {
            Some(status) => status.to_string(),
            None => "no answer".to_owned(),
        },
        Some(Disposition::RefusedEgress { authority }) => format!("refused-egress ({authority})"),
        Some(Disposition::RefusedRequestLimit) => "refused-request-limit".to_owned(),
        Some(Disposition::RefusedBodyLimit) => "refused-body-limit".to_owned(),
        None => String::new(),
    };
    format!("{at:>6} ms {request} → {answer}")
}

/// The outcomes present, in roll-up order.
fn counts(outcomes: impl Iterator<Item = Outcome>) -> Vec<CountView> {
    let mut n = [0usize; 4];
    for outcome in outcomes {
        n[match outcome {
            Outcome::Pass => 0,
            Outcome::Fail => 1,
            Outcome::Error => 2,
            Outcome::NotApplicable => 3,
        }] += 1;
    }
    [
        Outcome::Pass,
        Outcome::Fail,
        Outcome::Error,
        Outcome::NotApplicable,
    ]
    .into_iter()
    .zip(n)
    .filter(|(_, count)| *count > 0)
    .map(|(outcome, count)| {
        let (_, nb, en) = outcome_label(outcome);
        CountView { count, nb, en }
    })
    .collect()
}

fn is_finding(outcome: Outcome) -> bool {
    matches!(outcome, Outcome::Fail | Outcome::Error)
}

/// `(nb, en)` of a verdict.
fn verdict_label(verdict: Verdict) -> (&'static str, &'static str) {
    match verdict {
        Verdict::Godkjent => ("godkjent", "approved"),
        Verdict::IkkeGodkjent => ("ikke godkjent", "not approved"),
    }
}

fn outcome_label(outcome: Outcome) -> (&'static str, &'static str, &'static str) {
    match outcome {
        Outcome::Pass => ("✓", "bestått", "passed"),
        Outcome::Fail => ("✗", "ikke bestått", "failed"),
        Outcome::NotApplicable => ("–", "ikke relevant", "not applicable"),
        Outcome::Error => ("⚠", "feil under kjøring", "error"),
    }
}

/// An outcome badge: a symbol (hidden from screen readers), the words in bokmål and English;
/// never colour alone.
fn outcome(outcome: Outcome) -> OutcomeView {
    let (symbol, nb, en) = outcome_label(outcome);
    OutcomeView {
        class: json_name(&outcome),
        symbol,
        nb,
        en,
    }
}

fn category_label(category: Category) -> (&'static str, &'static str) {
    match category {
        Category::Informasjonsutveksling => ("Informasjonsutveksling", "Information exchange"),
        Category::Sikkerhet => ("Informasjonssikkerhet", "Information security"),
        Category::Personvern => ("Personvern", "Privacy"),
        Category::Kontekst => ("Kontekst", "Context"),
        Category::Robusthet => ("Robusthet", "Robustness"),
        Category::Ressursbruk => ("Ressursbruk", "Resource use"),
        Category::Hendelser => ("Hendelser", "Events"),
    }
}

/// The class of a call as a badge colour.
fn call_class(class: &str) -> &'static str {
    match class {
        "ok" => "pass",
        "adapter-error" => "not-applicable",
        _ => "error",
    }
}

/// `v-PER-03`: an id attribute for a vilkår or scenario (whitespace replaced).
fn anchor(prefix: &str, id: &str) -> String {
    let id: String = id
        .chars()
        .map(|c| if c.is_whitespace() { '-' } else { c })
        .collect();
    format!("{prefix}-{id}")
}

/// `123 456` with non-breaking spaces, as bokmål writes large numbers.
fn group_digits(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('\u{a0}');
        }
        out.push(c);
    }
    out
}

fn short_digest(digest: &str) -> &str {
    digest.get(..12).unwrap_or(digest)
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn compact(value: &Value) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

fn excerpt(text: &str) -> String {
    match text.char_indices().nth(OUTPUT_EXCERPT_CHARS) {
        Some((cut, _)) => format!(
            "{}\n… ({} bytes in all; the JSON report has everything)",
            &text[..cut],
            text.len()
        ),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_in_bokmal() {
        assert_eq!(percent(1.0, "nb"), "100,00\u{a0}%");
        assert_eq!(percent(0.9749, "nb"), "97,49\u{a0}%");
        assert_eq!(group_digits(123_456), "123\u{a0}456");
        assert_eq!(group_digits(12), "12");
        assert_eq!(capitalise("ikke godkjent"), "Ikke godkjent");
    }
}

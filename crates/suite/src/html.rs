//! The report as one self-contained HTML page a person can read.
//!
//! Bokmål first, English second (marked `lang="en"`). The page has no scripts and no external
//! assets — the CSS is inline and a Content-Security-Policy forbids everything else — so it can
//! be mailed, archived or opened from disk. In order it shows: the verdict and score; a summary
//! (component, suite, data, environment, signature, counts); every vilkår grouped by category
//! with its outcome; for each vilkår that failed or erred, the requirement, why it failed, what
//! the platform saw (the evidence), the source and the command that reproduces it; and per
//! scenario a collapsed list of its calls with their requests and logs.
//!
//! Everything the component produced is hostile input: every string is escaped
//! (`markup.rs`), control and bidirectional characters are made visible.
//!
//! The page shows the signature but cannot prove it; `sandkasse verify REPORT.json` checks the
//! JSON report.
//!
//! ```
//! # fn demo(report: &sandkasse_suite::report::Report) -> std::io::Result<()> {
//! std::fs::write("report.html", sandkasse_suite::html::to_html(report))
//! # }
//! ```

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::Value;

use crate::markup::{basis_points, escape, escape_pre, json_name};
use crate::model::{Category, Level, Text};
use crate::report::call::{Disposition, Exchange as CallExchange, Outcome as CallOutcome};
use crate::report::{Call, CheckResult, Outcome, Report, ScenarioRun, Verdict, VilkarResult};

/// At most this many characters of a call's stdout or stderr are shown (the JSON has all).
const OUTPUT_EXCERPT_CHARS: usize = 2000;

const STYLE: &str = r#"
:root{color-scheme:light dark;--fg:#1b1b1b;--bg:#fff;--muted:#595959;--line:#d0d0d0;--code:#f4f4f4;
--pass:#1b5e20;--pass-bg:#e6f4e7;--fail:#a31515;--fail-bg:#fdecea;--na:#424242;--na-bg:#ececec;--err:#7a3e00;--err-bg:#fff0db}
@media (prefers-color-scheme:dark){:root{--fg:#ececec;--bg:#141414;--muted:#b0b0b0;--line:#3c3c3c;--code:#1f1f1f;
--pass:#a5d6a7;--pass-bg:#173019;--fail:#f4a3a3;--fail-bg:#3a1616;--na:#d0d0d0;--na-bg:#2a2a2a;--err:#ffcc80;--err-bg:#3a2810}}
*{box-sizing:border-box}
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg);max-width:75rem;margin:0 auto;padding:1rem 1.5rem 3rem}
h1{font-size:1.75rem;margin:.5rem 0}h2{font-size:1.4rem;margin-top:2.5rem;border-bottom:2px solid var(--line)}
h3{font-size:1.15rem;margin-top:1.75rem}h4{font-size:1rem;margin:1.25rem 0 .25rem}h5{font-size:.95rem;margin:.75rem 0 .25rem}
.en{color:var(--muted)}
a{color:inherit}
code,pre{font-family:ui-monospace,"SFMono-Regular",Menlo,Consolas,monospace;font-size:.9em}
pre{background:var(--code);border:1px solid var(--line);padding:.5rem .75rem;white-space:pre-wrap;overflow-wrap:anywhere;margin:.25rem 0}
.verdict{font-size:1.35rem;padding:.6rem 1rem;border-radius:.4rem;display:inline-block;margin:.25rem 0}
dl.summary{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1.25rem}
dl.summary dt{font-weight:600}dl.summary dd{margin:0;overflow-wrap:anywhere}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem;table-layout:fixed}
col.c-id{width:6.5rem}col.c-level{width:7.5rem}col.c-weight{width:6.5rem}col.c-outcome{width:32%}
tbody th{white-space:nowrap}
th,td{border-bottom:1px solid var(--line);padding:.4rem .5rem;text-align:left;vertical-align:top}
thead th{border-bottom:2px solid var(--line)}
td.num{text-align:right}
.badge{display:inline-block;padding:0 .45em;border-radius:.25em;font-weight:600;white-space:nowrap}
.pass{color:var(--pass);background:var(--pass-bg)}.fail{color:var(--fail);background:var(--fail-bg)}
.not-applicable{color:var(--na);background:var(--na-bg)}.error{color:var(--err);background:var(--err-bg)}
.finding{border-left:4px solid var(--line);padding:0 0 .5rem 1rem;margin:1.5rem 0}
.finding-fail{border-left-color:var(--fail)}.finding-error{border-left-color:var(--err)}
.finding>h3{margin-top:0}
blockquote{margin:.25rem 0 .5rem;padding:.25rem 1rem;border-left:3px solid var(--line)}
details{border:1px solid var(--line);border-radius:.3rem;padding:.4rem .75rem;margin:.5rem 0}
summary{cursor:pointer}
ol.calls>li{margin:.5rem 0}
small,.note{color:var(--muted)}
footer{margin-top:3rem;border-top:1px solid var(--line);color:var(--muted);font-size:.9rem}
"#;

/// The report as a complete HTML document (UTF-8, ends with a newline).
pub fn to_html(report: &Report) -> String {
    let mut out = String::with_capacity(64 * 1024);
    let verdict = verdict_label(report.verdict);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"nb\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n\
         <meta name=\"referrer\" content=\"no-referrer\">\n\
         <meta name=\"generator\" content=\"sandkasse {}\">\n\
         <title>{} – {} {} – samsvarsrapport</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        escape(&report.environment.sandkasse),
        escape(&capitalise(verdict.0)),
        escape(&report.suite.id),
        escape(&report.suite.version),
    );

    header(&mut out, report);
    out.push_str("<main>\n");
    summary(&mut out, report);
    vilkar_table(&mut out, report);
    findings(&mut out, report);
    scenarios(&mut out, report);
    out.push_str("</main>\n");
    footer(&mut out, report);
    out.push_str("</body>\n</html>\n");
    out
}

fn header(out: &mut String, report: &Report) {
    let (nb, en) = verdict_label(report.verdict);
    let class = if report.godkjent() { "pass" } else { "fail" };
    let symbol = if report.godkjent() { "✓" } else { "✗" };
    let _ = write!(
        out,
        "<header>\n<h1>Samsvarsrapport <span class=\"en\" lang=\"en\">Conformance report</span></h1>\n\
         <p class=\"verdict {class}\"><span aria-hidden=\"true\">{symbol}</span> <strong>{}</strong> \
         <span lang=\"en\">({})</span> · poengsum <strong>{}</strong> \
         <span lang=\"en\">(score {})</span></p>\n\
         <p>Komponent <code>{}</code> · {} {} · {}</p>\n</header>\n",
        capitalise(nb),
        escape(en),
        percent_nb(report.score),
        percent_en(report.score),
        escape(short_digest(&report.component.digest)),
        escape(&report.suite.id),
        escape(&report.suite.version),
        escape(&report.generated_at),
    );
}

fn summary(out: &mut String, report: &Report) {
    out.push_str(
        "<section aria-labelledby=\"sammendrag\">\n<h2 id=\"sammendrag\">Sammendrag \
         <span class=\"en\" lang=\"en\">Summary</span></h2>\n<dl class=\"summary\">\n",
    );
    let (nb, en) = verdict_label(report.verdict);
    let mut row = |dt_nb: &str, dt_en: &str, dd: String| {
        let _ = writeln!(
            out,
            "<dt>{} <span class=\"en\" lang=\"en\">{}</span></dt><dd>{dd}</dd>",
            escape(dt_nb),
            escape(dt_en)
        );
    };
    row(
        "Resultat",
        "Verdict",
        format!(
            "<span class=\"badge {}\">{}</span> <span class=\"en\" lang=\"en\">{}</span>",
            if report.godkjent() { "pass" } else { "fail" },
            escape(nb),
            escape(en)
        ),
    );
    row(
        "Poengsum",
        "Score",
        format!(
            "{} <small>(bestått vekt / relevant vekt · <span lang=\"en\">passed weight / applicable weight</span>)</small>",
            percent_nb(report.score)
        ),
    );
    let vilkar_counts = counts(report.vilkar.iter().map(|v| v.outcome));
    row("Vilkår", "Requirements", vilkar_counts);
    let check_counts = counts(
        report
            .vilkar
            .iter()
            .flat_map(|v| &v.checks)
            .map(|c| c.outcome),
    );
    row("Sjekker", "Checks", check_counts);
    let mut component = format!(
        "<code>{}</code><br>{} byte",
        escape(&report.component.digest),
        group_digits(report.component.size)
    );
    if let Some(info) = &report.component.info {
        let _ = write!(component, "<br><code>{}</code>", escape(&compact(info)));
    }
    row("Komponent (SHA-256)", "Component", component);
    let capabilities = if report.component.capabilities.is_empty() {
        "ingen <span class=\"en\" lang=\"en\">none</span>".to_owned()
    } else {
        report
            .component
            .capabilities
            .iter()
            .map(|c| format!("<code>{}</code>", escape(&json_name(c))))
            .collect::<Vec<_>>()
            .join(", ")
    };
    row("Roller", "Capabilities claimed", capabilities);
    row(
        "Testsett",
        "Suite",
        format!(
            "<code>{}</code> {} · kontrakt <span class=\"en\" lang=\"en\">contract</span> <code>{}</code>",
            escape(&report.suite.id),
            escape(&report.suite.version),
            escape(&report.suite.contract)
        ),
    );
    row(
        "Data",
        "Data",
        format!(
            "frø <span class=\"en\" lang=\"en\">seed</span> {} · {} innbyggere <span class=\"en\" lang=\"en\">inhabitants</span>",
            report.data.seed,
            group_digits(report.data.innbyggere as usize)
        ),
    );
    row(
        "Miljø",
        "Environment",
        format!(
            "sandkasse {} · wasmtime {}",
            escape(&report.environment.sandkasse),
            escape(&report.environment.wasmtime)
        ),
    );
    row("Kjørt", "Generated", escape(&report.generated_at));
    let signature = match &report.signature {
        Some(s) => format!(
            "{} · offentlig nøkkel <span class=\"en\" lang=\"en\">public key</span> <code>{}</code><br>\
             <small>Denne siden beviser ikke signaturen; kontroller JSON-rapporten med \
             <code>sandkasse verify</code>. <span lang=\"en\">This page does not prove the \
             signature; check the JSON report with <code>sandkasse verify</code>.</span></small>",
            escape(&s.algorithm),
            escape(&s.public_key)
        ),
        None => "usignert <span class=\"en\" lang=\"en\">unsigned</span>".to_owned(),
    };
    row("Signatur", "Signature", signature);
    row(
        "Gjenskap",
        "Reproduce",
        format!("<code>{}</code>", escape(&report.reproduce)),
    );
    out.push_str("</dl>\n<p class=\"note\">Godkjent krever at hvert relevante <em>skal</em>-vilkår er bestått; <em>bør</em>-vilkår teller bare i poengsummen. \
        <span lang=\"en\">Approval requires every applicable <em>skal</em> (shall) requirement to pass; <em>bør</em> (should) requirements only count in the score.</span></p>\n</section>\n");
}

fn vilkar_table(out: &mut String, report: &Report) {
    out.push_str(
        "<section aria-labelledby=\"vilkar\">\n<h2 id=\"vilkar\">Vilkår \
         <span class=\"en\" lang=\"en\">Requirements</span></h2>\n",
    );
    let mut by_category: BTreeMap<Category, Vec<&VilkarResult>> = BTreeMap::new();
    for vilkar in &report.vilkar {
        by_category.entry(vilkar.category).or_default().push(vilkar);
    }
    for (category, vilkar) in by_category {
        let (nb, en) = category_label(category);
        let id = format!("kategori-{}", json_name(&category));
        let _ = write!(
            out,
            "<h3 id=\"{}\">{} <span class=\"en\" lang=\"en\">{}</span></h3>\n<table aria-labelledby=\"{}\">\n\
             <colgroup><col class=\"c-id\"><col><col class=\"c-level\"><col class=\"c-weight\"><col class=\"c-outcome\"></colgroup>\n\
             <thead><tr><th scope=\"col\">Id</th><th scope=\"col\">Vilkår <span class=\"en\" lang=\"en\">Requirement</span></th>\
             <th scope=\"col\">Nivå <span class=\"en\" lang=\"en\">Level</span></th><th scope=\"col\">Vekt <span class=\"en\" lang=\"en\">Weight</span></th>\
             <th scope=\"col\">Resultat <span class=\"en\" lang=\"en\">Outcome</span></th></tr></thead>\n<tbody>\n",
            escape(&id),
            escape(nb),
            escape(en),
            escape(&id),
        );
        for v in vilkar {
            let id_cell = if is_finding(v.outcome) {
                format!(
                    "<a href=\"#{}\">{}</a>",
                    escape(&anchor("v", &v.id)),
                    escape(&v.id)
                )
            } else {
                escape(&v.id)
            };
            let note = if v.outcome == Outcome::Pass {
                String::new()
            } else {
                format!("<br><small>{}</small>", escape(&v.reason))
            };
            let _ = writeln!(
                out,
                "<tr><th scope=\"row\">{id_cell}</th><td>{}</td><td>{}</td><td class=\"num\">{}</td><td>{}{note}</td></tr>",
                bilingual_inline(&v.title),
                level_label(v.level),
                v.weight,
                badge(v.outcome),
            );
        }
        out.push_str("</tbody>\n</table>\n");
    }
    out.push_str("</section>\n");
}

fn findings(out: &mut String, report: &Report) {
    out.push_str(
        "<section aria-labelledby=\"funn\">\n<h2 id=\"funn\">Det som ikke besto \
         <span class=\"en\" lang=\"en\">What did not pass</span></h2>\n",
    );
    let failed: Vec<&VilkarResult> = report
        .vilkar
        .iter()
        .filter(|v| is_finding(v.outcome))
        .collect();
    if failed.is_empty() {
        out.push_str(
            "<p>Ingen vilkår feilet. <span class=\"en\" lang=\"en\">No requirement failed.</span></p>\n",
        );
    }
    for v in failed {
        let _ = write!(
            out,
            "<article class=\"finding finding-{}\" id=\"{}\" aria-labelledby=\"{}-h\">\n\
             <h3 id=\"{}-h\">{} {} {}</h3>\n<p class=\"en\" lang=\"en\">{}</p>\n\
             <p>{} · vekt <span class=\"en\" lang=\"en\">weight</span> {} · {}</p>\n\
             <h4>Krav <span class=\"en\" lang=\"en\">Requirement</span></h4>\n\
             <blockquote><p>{}</p><p class=\"en\" lang=\"en\">{}</p></blockquote>\n\
             <h4>Hvorfor <span class=\"en\" lang=\"en\">Why</span></h4>\n<p>{}</p>\n",
            json_name(&v.outcome),
            escape(&anchor("v", &v.id)),
            escape(&anchor("v", &v.id)),
            escape(&anchor("v", &v.id)),
            escape(&v.id),
            escape(&v.title.nb),
            badge(v.outcome),
            escape(&v.title.en),
            level_label(v.level),
            v.weight,
            bilingual_inline_pair(category_label(v.category)),
            escape(&v.text.nb),
            escape(&v.text.en),
            escape(&v.reason),
        );
        for check in v.checks.iter().filter(|c| is_finding(c.outcome)) {
            finding_check(out, check);
        }
        let _ = write!(
            out,
            "<p><strong>Kilde</strong> <span class=\"en\" lang=\"en\">Source</span>: <cite>{}</cite></p>\n</article>\n",
            escape(&v.source)
        );
    }
    out.push_str("</section>\n");
}

fn finding_check(out: &mut String, check: &CheckResult) {
    let _ = write!(
        out,
        "<h4>Sjekk <span class=\"en\" lang=\"en\">check</span> <code>{}</code> i scenario \
         <a href=\"#{}\"><code>{}</code></a> {}</h4>\n<p>{}</p>\n",
        escape(&check.id),
        escape(&anchor("s", &check.scenario)),
        escape(&check.scenario),
        badge(check.outcome),
        escape(&check.reason),
    );
    if !check.evidence.is_empty() {
        let _ = write!(
            out,
            "<h5>Det plattformen så <span class=\"en\" lang=\"en\">What the platform saw</span></h5>\n<pre>{}</pre>\n",
            escape_pre(&check.evidence.join("\n"))
        );
    }
    let _ = write!(
        out,
        "<h5>Gjenskap <span class=\"en\" lang=\"en\">Reproduce</span></h5>\n<pre><code>{}</code></pre>\n",
        escape_pre(&check.reproduce)
    );
}

fn scenarios(out: &mut String, report: &Report) {
    out.push_str(
        "<section aria-labelledby=\"scenarioer\">\n<h2 id=\"scenarioer\">Scenarioer \
         <span class=\"en\" lang=\"en\">Scenarios</span></h2>\n\
         <p class=\"note\">Hvert scenario kjøres i en egen, fersk instans. \
         <span lang=\"en\">Each scenario runs in a fresh instance of its own.</span></p>\n",
    );
    for scenario in &report.scenarios {
        scenario_details(out, scenario);
    }
    out.push_str("</section>\n");
}

fn scenario_details(out: &mut String, scenario: &ScenarioRun) {
    let status = match &scenario.skipped {
        Some(why) => format!(
            "ikke kjørt <span class=\"en\" lang=\"en\">not run</span>: {}",
            escape(why)
        ),
        None => format!(
            "{} kall <span class=\"en\" lang=\"en\">calls</span>",
            scenario.calls.len()
        ),
    };
    let _ = write!(
        out,
        "<details id=\"{}\">\n<summary><code>{}</code> {} — {status}</summary>\n",
        escape(&anchor("s", &scenario.id)),
        escape(&scenario.id),
        bilingual_inline(&scenario.title),
    );
    if !scenario.calls.is_empty() {
        out.push_str("<ol class=\"calls\">\n");
        for call in &scenario.calls {
            call_item(out, call);
        }
        out.push_str("</ol>\n");
    }
    out.push_str("</details>\n");
}

/// One call's evidence (see [`crate::report::call`]): all of it, or the summary the size bound
/// left. A cut list's note is shown as a line of its own.
fn call_item(out: &mut String, call: &Call) {
    let mut detail = String::new();
    match call.evidence().map(|e| &e.outcome) {
        Some(CallOutcome::AdapterError { code, message }) => {
            let _ = write!(
                detail,
                " · <code>{}</code>: {}",
                escape(code),
                escape(message)
            );
        }
        Some(CallOutcome::Failure { detail: why, .. }) => {
            let _ = write!(detail, " · {}", escape(why));
        }
        _ => {}
    }
    let mut numbers = String::new();
    let _ = write!(
        numbers,
        " · fuel {}",
        group_digits(call.fuel_used() as usize)
    );
    let _ = write!(
        numbers,
        " · minne <span lang=\"en\">memory</span> {} byte",
        group_digits(call.peak_memory_bytes() as usize)
    );
    let _ = writeln!(
        out,
        "<li><p><code>{}</code> → <span class=\"badge {}\">{}</span>{detail}<small>{numbers}</small></p>",
        escape(call.call()),
        call_class(call.class()),
        escape(call.class()),
    );
    if let Some(cut) = call.truncated() {
        let n = |count: Option<usize>| group_digits(count.unwrap_or(0));
        let whole = if cut.evidence_left_out {
            " Bare sammendraget er beholdt. <span lang=\"en\">Only the summary is kept.</span>"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "<p class=\"note\">Bevisene er avkortet til rapportens størrelsesgrense: {} tekster kortet med {} byte, {} elementer utelatt. \
             <span lang=\"en\">The evidence was cut to the report's size budget: {} strings shortened by {} bytes, {} items left out.</span>{whole}</p>",
            n(cut.strings_cut),
            n(cut.bytes_cut),
            n(cut.items_left_out),
            n(cut.strings_cut),
            n(cut.bytes_cut),
            n(cut.items_left_out),
        );
    }
    let Some(evidence) = call.evidence() else {
        out.push_str("</li>\n");
        return;
    };

    let exchanges = &evidence.exchanges;
    if !exchanges.is_empty() {
        let mut lines: Vec<String> = exchanges.items.iter().map(exchange_line).collect();
        if exchanges.left_out > 0 {
            lines.push("     0 ms ? → ".to_owned());
        }
        let _ = write!(
            out,
            "<h5>Forespørsler <span class=\"en\" lang=\"en\">Requests</span> ({})</h5>\n<pre>{}</pre>\n",
            exchanges.entries(),
            escape_pre(&lines.join("\n"))
        );
    }
    let logs = &evidence.logs;
    if !logs.is_empty() {
        let mut lines: Vec<String> = logs
            .items
            .iter()
            .map(|line| format!("{:>6} ms {}: {}", line.at_ms, line.level, line.message))
            .collect();
        if logs.left_out > 0 {
            lines.push("     0 ms ?: ".to_owned());
        }
        let dropped = evidence.logs_dropped;
        let more = if dropped > 0 {
            format!("\n… {dropped} more")
        } else {
            String::new()
        };
        let _ = write!(
            out,
            "<h5>Logg <span class=\"en\" lang=\"en\">Log</span></h5>\n<pre>{}{}</pre>\n",
            escape_pre(&lines.join("\n")),
            escape(&more)
        );
    }
    for (stream, text) in [("stdout", &evidence.stdout), ("stderr", &evidence.stderr)] {
        if !text.is_empty() {
            let _ = write!(
                out,
                "<h5><code>{stream}</code></h5>\n<pre>{}</pre>\n",
                escape_pre(&excerpt(text))
            );
        }
    }
    out.push_str("</li>\n");
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

fn footer(out: &mut String, report: &Report) {
    let _ = write!(
        out,
        "<footer>\n<p>Format <code>{}</code> · laget av <span class=\"en\" lang=\"en\">made by</span> sandkasse {}. \
         Den signerte JSON-rapporten er kilden; denne siden er en visning av den. \
         <span lang=\"en\">The signed JSON report is the source; this page is a view of it.</span></p>\n</footer>\n",
        escape(&report.format),
        escape(&report.environment.sandkasse),
    );
}

/// `2 bestått (passed) · 1 ikke bestått (failed) · …`, in roll-up order, zero counts left out.
fn counts(outcomes: impl Iterator<Item = Outcome>) -> String {
    let mut n = [0usize; 4];
    for outcome in outcomes {
        n[match outcome {
            Outcome::Pass => 0,
            Outcome::Fail => 1,
            Outcome::Error => 2,
            Outcome::NotApplicable => 3,
        }] += 1;
    }
    let parts: Vec<String> = [
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
        format!("{count} {nb} <span class=\"en\" lang=\"en\">({en})</span>")
    })
    .collect();
    if parts.is_empty() {
        "ingen <span class=\"en\" lang=\"en\">none</span>".to_owned()
    } else {
        parts.join(" · ")
    }
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
fn badge(outcome: Outcome) -> String {
    let (symbol, nb, en) = outcome_label(outcome);
    format!(
        "<span class=\"badge {}\"><span aria-hidden=\"true\">{symbol}</span> {nb} <span lang=\"en\">({en})</span></span>",
        json_name(&outcome)
    )
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

fn level_label(level: Level) -> &'static str {
    match level {
        Level::Skal => "<strong>skal</strong> <span class=\"en\" lang=\"en\">shall</span>",
        Level::Bor => "bør <span class=\"en\" lang=\"en\">should</span>",
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

fn bilingual_inline(text: &Text) -> String {
    format!(
        "{}<br><span class=\"en\" lang=\"en\">{}</span>",
        escape(&text.nb),
        escape(&text.en)
    )
}

fn bilingual_inline_pair((nb, en): (&str, &str)) -> String {
    format!(
        "{} <span class=\"en\" lang=\"en\">{}</span>",
        escape(nb),
        escape(en)
    )
}

/// `v-PER-03`: an id attribute for a vilkår or scenario (whitespace replaced).
fn anchor(prefix: &str, id: &str) -> String {
    let id: String = id
        .chars()
        .map(|c| if c.is_whitespace() { '-' } else { c })
        .collect();
    format!("{prefix}-{id}")
}

/// `33,33 %` (non-breaking space before the sign).
fn percent_nb(score: f64) -> String {
    let bp = basis_points(score);
    format!("{},{:02}\u{a0}%", bp / 100, bp % 100)
}

fn percent_en(score: f64) -> String {
    let bp = basis_points(score);
    format!("{}.{:02}\u{a0}%", bp / 100, bp % 100)
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
    use crate::testutil::sample_report;

    #[test]
    fn hostile_text_is_escaped() {
        let html = to_html(&sample_report());
        assert!(!html.contains("<script"), "no script element can appear");
        assert!(!html.contains("<img"));
        assert!(!html.contains("<b>"));
        assert!(!html.contains('\u{1b}'));
        assert!(!html.contains('\u{202e}'));
        assert!(html.contains(
            "Loggen inneholder fødselsnummer: &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        ));
        assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
        assert!(html.contains("&lt;b&gt;boom&lt;/b&gt;"));
        assert!(html.contains("⟨U+001B⟩[31mpanic⟨U+001B⟩[0m ⟨U+202E⟩gnp.exe"));
        assert!(html.contains("default-src 'none'"));
    }

    #[test]
    fn the_page_is_self_contained() {
        let html = to_html(&sample_report());
        assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"nb\">"));
        assert!(html.ends_with("</html>\n"));
        for external in [
            "<script", "<link", "src=\"", "url(", "@import", "http://", "<iframe",
        ] {
            assert!(!html.contains(external), "{external}");
        }
        // The only https:// is in the scenario evidence, as text.
        assert!(html.contains("GET https://plattform.sandkasse.test/4601/fhir/Patient/p1 → 200"));
        assert!(
            html.contains("GET https://evil.example/x?&lt;b&gt; → refused-egress (evil.example)")
        );
        assert_eq!(html, to_html(&sample_report()), "deterministic");
    }

    #[test]
    fn the_summary_and_table() {
        let html = to_html(&sample_report());
        assert!(html.contains("Ikke godkjent</strong>"));
        assert!(html.contains("33,33\u{a0}%"));
        assert!(html.contains("2 bestått"));
        assert!(html.contains("usignert"));
        for category in [
            "Informasjonsutveksling",
            "Personvern",
            "Kontekst",
            "Robusthet",
            "Hendelser",
        ] {
            assert!(html.contains(&format!(">{category} <span")), "{category}");
        }
        assert_eq!(
            html.matches("<tbody>").count(),
            5,
            "one table per category present"
        );
        assert!(html.contains("<a href=\"#v-PER-03\">PER-03</a>"));
        assert!(html.contains("Adapteren oppgir ikke rollen events."));
    }

    #[test]
    fn each_failed_or_error_vilkar_has_its_section() {
        let html = to_html(&sample_report());
        assert_eq!(html.matches("<article class=\"finding").count(), 2);
        let start = html
            .find("<article class=\"finding finding-fail\" id=\"v-PER-03\"")
            .expect("PER-03 section");
        let section = &html[start..start + html[start..].find("</article>").unwrap()];
        assert!(section.contains("Logger, stdout og stderr skal ikke inneholde"));
        assert!(section.contains("Logs, stdout and stderr shall not contain"));
        assert!(section.contains("&lt;script&gt;"), "the reason");
        assert!(
            section.contains("<pre>log info at 12 ms: henter pasient 01017012345 &lt;img"),
            "the evidence"
        );
        assert!(
            section.contains("Tjenesteavtalen, Bilag 7 Personopplysninger, §4.4"),
            "the source"
        );
        assert!(
            section.contains("sandkasse test adapter.wasm --seed 42 --scenario logg-personvern")
        );
        assert!(
            !section.contains("--scenario les-oversikt"),
            "the passed check is not a finding"
        );
        assert!(html.contains("id=\"v-ROB-02\""));
        assert!(!html.contains("id=\"v-INF-01\""));
    }

    #[test]
    fn scenarios_are_collapsed_details() {
        let html = to_html(&sample_report());
        assert_eq!(html.matches("<details ").count(), 4);
        assert!(!html.contains("<details open"));
        assert!(html.contains("<details id=\"s-hendelser\">"));
        assert!(html.contains("ikke kjørt <span class=\"en\" lang=\"en\">not run</span>: Adapteren oppgir ikke rollen events."));
        assert!(html.contains("adapter-error</span> · <code>internal</code>: &lt;b&gt;boom"));
    }

    #[test]
    fn numbers_in_bokmal() {
        assert_eq!(percent_nb(1.0), "100,00\u{a0}%");
        assert_eq!(percent_nb(0.9749), "97,49\u{a0}%");
        assert_eq!(group_digits(123_456), "123\u{a0}456");
        assert_eq!(group_digits(12), "12");
        assert_eq!(capitalise("ikke godkjent"), "Ikke godkjent");
    }
}

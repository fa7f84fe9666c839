//! Golden files for the renderings: the HTML page, the JUnit XML and the badge of several reports
//! are compared byte for byte with `tests/rendered/`. The reports are the reference adapter's, two
//! flawed adapters' and a trapping one's (their build-dependent numbers set to fixed values),
//! and two built by hand: one with hostile text in every field that reaches a rendering, one
//! with nothing in it.
//!
//! After an intended change of a rendering, refresh the files with
//! `BLESS=1 cargo test -p sandkasse-suite --test all rendered` and review the diff.

use std::path::PathBuf;

use sandkasse_suite::model::{Capability, Category, Level, Text};
use sandkasse_suite::render::{badge, html, junit};
use sandkasse_suite::report::{
    Call, CheckResult, ComponentRef, DataRef, Environment, Outcome, REPORT_FORMAT, Report,
    ScenarioRun, Signature, SuiteRef, Summary, Verdict, VilkarResult,
};
use serde_json::{Value, json};

use super::report;

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/rendered")
}

/// Compares `actual` with the golden file `name`, or writes it when `BLESS` is set.
fn assert_golden(name: &str, actual: &str) {
    let path = golden_dir().join(name);
    if std::env::var_os("BLESS").is_some() {
        std::fs::create_dir_all(golden_dir()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; create it with BLESS=1 cargo test -p sandkasse-suite --test all rendered",
            path.display()
        )
    });
    if expected == actual {
        return;
    }
    let line = expected
        .lines()
        .zip(actual.lines())
        .position(|(e, a)| e != a)
        .unwrap_or_else(|| expected.lines().count().min(actual.lines().count()));
    panic!(
        "{name} differs from {} at line {}:\n  expected: {:?}\n  actual:   {:?}\n\
         ({} bytes expected, {} actual; after an intended change: BLESS=1)",
        path.display(),
        line + 1,
        expected.lines().nth(line).unwrap_or("<end>"),
        actual.lines().nth(line).unwrap_or("<end>"),
        expected.len(),
        actual.len(),
    );
}

/// All three renderings of `report` against `<name>.{html,junit.xml,svg}`.
fn assert_renderings(name: &str, report: &Report) {
    assert_golden(&format!("{name}.html"), &html::to_html(report));
    assert_golden(&format!("{name}.junit.xml"), &junit::to_junit(report));
    assert_golden(&format!("{name}.svg"), &badge::to_badge_svg(report));
}

/// A sample adapter's report with what depends on the build or the clock fixed: the
/// component's digest and size, the versions, the time, and each call's fuel and memory.
fn adapter_report(name: &str) -> Report {
    let mut r = report(name);
    let digest = std::mem::replace(&mut r.component.digest, "0123456789abcdef".repeat(4));
    let size = std::mem::replace(&mut r.component.size, 1_234_567);
    r.environment = Environment {
        sandkasse: "0.0.0-golden".into(),
        wasmtime: "0.0.0-golden".into(),
    };
    r.generated_at = "2026-11-23T07:41:00Z".into();
    for call in r.scenarios.iter_mut().flat_map(|s| &mut s.calls) {
        let (fuel, memory) = match call {
            Call::Evidence(e) => (&mut e.fuel_used, &mut e.peak_memory_bytes),
            Call::Summary(s) => (&mut s.fuel_used, &mut s.peak_memory_bytes),
        };
        *fuel = 98_765_432;
        *memory = 1_114_112;
    }
    // The component-size check names the size.
    let (was, now) = (format!("{size} byte"), "1234567 byte");
    for v in &mut r.vilkar {
        v.reason = v.reason.replace(&was, now);
        for c in &mut v.checks {
            c.reason = c.reason.replace(&was, now);
            for e in &mut c.evidence {
                *e = e.replace(&was, now);
            }
        }
    }
    // Nothing else may carry them, or the golden files would depend on the build.
    let json = serde_json::to_string(&r).unwrap();
    assert!(
        !json.contains(&digest),
        "{name}: the digest is elsewhere too"
    );
    assert!(
        !json.contains(&format!("{size} byte")),
        "{name}: the size is elsewhere too"
    );
    r
}

#[test]
fn reference_renderings() {
    assert_renderings("reference", &adapter_report("reference"));
}

#[test]
fn flawed_logs_fnr_renderings() {
    assert_renderings("flawed_logs_fnr", &adapter_report("flawed_logs_fnr"));
}

#[test]
fn flawed_patient_search_renderings() {
    assert_renderings(
        "flawed_patient_search",
        &adapter_report("flawed_patient_search"),
    );
}

#[test]
fn hostile_trap_renderings() {
    assert_renderings("hostile_trap", &adapter_report("hostile_trap"));
}

#[test]
fn hostile_text_renderings() {
    assert_renderings("hostile_text", &hostile_report());
}

#[test]
fn empty_report_renderings() {
    assert_renderings("empty", &empty_report());
}

/// Markup, quotes, an ampersand, C0 and C1 controls, DEL, bidirectional overrides and
/// isolates, a non-character, a tab, a carriage return and a newline: `tag` says where it is.
fn hostile(tag: &str) -> String {
    format!(
        "{tag} <script>alert(\"x\")</script> & 'y' </pre></code>\u{0007}\u{1b}[31m \u{202e}gnp.exe\u{202c} \
         \u{2066}\u{2069}\u{061c}\u{200f} \u{7f}\u{85}\u{9f}\u{fffe} a\tb\rc\nd ø æ å 🦀 e\u{301}"
    )
}

fn hostile_text(tag: &str) -> Text {
    Text {
        nb: hostile(&format!("{tag}.nb")),
        en: hostile(&format!("{tag}.en")),
    }
}

/// Longer than the page's excerpt of a call's output, with a multi-byte character at the cut.
fn very_long(tag: &str) -> String {
    let mut text = format!("{}\n", hostile(tag));
    while text.chars().count() < 1990 {
        text.push_str("lang linje <b>&</b>\t\u{202e}\n");
    }
    text.push_str(&"ø\u{1}".repeat(3000));
    text
}

fn hostile_check(n: usize, scenario: &str, outcome: Outcome) -> CheckResult {
    CheckResult {
        id: hostile(&format!("check{n}.id")),
        scenario: scenario.to_owned(),
        outcome,
        reason: hostile(&format!("check{n}.reason")),
        evidence: vec![
            hostile(&format!("check{n}.evidence0")),
            if n == 0 {
                very_long("check0.evidence1")
            } else {
                hostile(&format!("check{n}.evidence1"))
            },
        ],
        reproduce: hostile(&format!("check{n}.reproduce")),
    }
}

fn hostile_vilkar(
    n: usize,
    category: Category,
    level: Level,
    outcome: Outcome,
    checks: Vec<CheckResult>,
) -> VilkarResult {
    VilkarResult {
        id: format!("V {n}\t<{n}>\u{202e}"),
        title: hostile_text(&format!("vilkar{n}.title")),
        text: hostile_text(&format!("vilkar{n}.text")),
        category,
        level,
        weight: 4_294_967_295,
        source: hostile(&format!("vilkar{n}.source")),
        outcome,
        reason: hostile(&format!("vilkar{n}.reason")),
        checks,
    }
}

/// A call as the sandbox records it (`sandkasse_sandbox::CallEvidence`) with every string
/// hostile, its output and one log line long, and its evidence cut to the report's budget.
fn hostile_call(n: usize, outcome: Value, class: &str, disposition: Value) -> Call {
    let h = |field: &str| hostile(&format!("call{n}.{field}"));
    let exchange = |i: usize, status: Value, disposition: Value, sent_ms: u64| {
        json!({
            "request_line": h(&format!("request_line{i}")),
            "request_headers": [[h("header.name"), h("header.value")]],
            "request_body": h("request_body"),
            "request_body_bytes": 10,
            "disposition": disposition,
            "status": status,
            "response_headers": [],
            "response_body": null,
            "response_body_bytes": 0,
            "sent_ms": sent_ms,
            "received_ms": sent_ms,
        })
    };
    let call = json!({
        "call": h("call"),
        "arguments": {"context": h("arguments")},
        "outcome": outcome,
        "class": class,
        "exchanges": [
            exchange(0, json!(200), json!("platform"), 0),
            exchange(1, json!(null), json!("platform"), 12_345),
            exchange(2, json!(null), disposition, 7),
            exchange(3, json!(null), json!("refused-request-limit"), 8),
            exchange(4, json!(null), json!("refused-body-limit"), 1_000_000_000),
        ],
        "logs": [
            {"level": h("log0.level"), "message": h("log0.message"), "at_ms": 0},
            {"level": "warn", "message": if n == 0 { very_long("call0.log1") } else { h("log1") }, "at_ms": 1_234_567},
        ],
        "logs_dropped": 17 * n,
        "requests_unrecorded": 3,
        "stdout": very_long(&format!("call{n}.stdout")),
        "stderr": h("stderr"),
        "fuel_used": 18_446_744_073_709_551_615u64,
        "peak_memory_bytes": 1_000,
        "virtual_start_ms": 0,
        "virtual_end_ms": 0,
        "duration_us": 0,
        "truncated": {"strings_cut": 3, "bytes_cut": 123_456, "items_left_out": 1_000_000, "evidence_left_out": n == 0},
    });
    serde_json::from_value(call).expect("a call as the sandbox records it")
}

/// Hostile text in every field of a report that reaches a rendering; every outcome, level and
/// category; a signature.
fn hostile_report() -> Report {
    let categories = [
        Category::Informasjonsutveksling,
        Category::Sikkerhet,
        Category::Personvern,
        Category::Kontekst,
        Category::Robusthet,
        Category::Ressursbruk,
        Category::Hendelser,
    ];
    let outcomes = [
        Outcome::Fail,
        Outcome::Error,
        Outcome::Pass,
        Outcome::NotApplicable,
    ];
    let scenario = hostile("scenario.id");
    let mut vilkar = Vec::new();
    for (n, category) in categories.into_iter().enumerate() {
        let outcome = outcomes[n % outcomes.len()];
        let level = if n % 2 == 0 { Level::Skal } else { Level::Bor };
        let checks = outcomes
            .iter()
            .enumerate()
            .map(|(i, o)| hostile_check(n * 10 + i, &scenario, *o))
            .collect();
        vilkar.push(hostile_vilkar(n, category, level, outcome, checks));
    }
    let scenarios = vec![
        ScenarioRun {
            id: scenario.clone(),
            title: hostile_text("scenario.title"),
            skipped: None,
            calls: vec![
                hostile_call(
                    0,
                    json!({"kind": "adapter-error", "code": hostile("call0.code"), "message": hostile("call0.message")}),
                    "adapter-error",
                    json!({"refused-egress": {"authority": hostile("call0.authority")}}),
                ),
                hostile_call(
                    1,
                    json!({"kind": "failure", "class": "trap", "detail": hostile("call1.detail")}),
                    "trap",
                    json!("platform"),
                ),
                hostile_call(
                    2,
                    json!({"kind": "ok", "value": hostile("call2.value")}),
                    &hostile("call2.class"),
                    json!({"refused-egress": {"authority": ""}}),
                ),
            ],
        },
        ScenarioRun {
            id: hostile("skipped.id"),
            title: hostile_text("skipped.title"),
            skipped: Some(hostile("skipped.skipped")),
            calls: vec![],
        },
    ];
    Report {
        format: hostile("format"),
        suite: SuiteRef {
            id: hostile("suite.id"),
            version: hostile("suite.version"),
            contract: hostile("suite.contract"),
        },
        component: ComponentRef {
            digest: hostile("component.digest"),
            size: usize::MAX,
            info: Some(json!({
                "name": hostile("info.name"),
                "version": hostile("info.version"),
                hostile("info.key"): [1, null, true],
            })),
            capabilities: vec![Capability::Read, Capability::Write, Capability::Events],
        },
        data: DataRef {
            seed: u64::MAX,
            innbyggere: u32::MAX,
        },
        environment: Environment {
            sandkasse: hostile("environment.sandkasse"),
            wasmtime: hostile("environment.wasmtime"),
        },
        verdict: Verdict::IkkeGodkjent,
        score: 0.12345,
        summary: Summary {
            passed: 1,
            failed: 2,
            not_applicable: 3,
            error: 4,
        },
        vilkar,
        scenarios,
        reproduce: hostile("reproduce"),
        generated_at: hostile("generated_at"),
        signature: Some(Signature {
            algorithm: hostile("signature.algorithm"),
            public_key: hostile("signature.public_key"),
            value: hostile("signature.value"),
        }),
    }
}

/// Nothing judged, nothing run, no info, no role claimed; godkjent with a full score and signed.
fn empty_report() -> Report {
    Report {
        format: REPORT_FORMAT.to_owned(),
        suite: SuiteRef {
            id: "sandkasse-vilkar".into(),
            version: "1.0.0".into(),
            contract: "kommune:sandkasse@0.1.0".into(),
        },
        component: ComponentRef {
            digest: String::new(),
            size: 0,
            info: None,
            capabilities: vec![],
        },
        data: DataRef {
            seed: 0,
            innbyggere: 0,
        },
        environment: Environment {
            sandkasse: "0.1.0".into(),
            wasmtime: "48.0.8".into(),
        },
        verdict: Verdict::Godkjent,
        score: 1.0,
        summary: Summary::default(),
        vilkar: vec![],
        scenarios: vec![],
        reproduce: String::new(),
        generated_at: String::new(),
        signature: Some(Signature {
            algorithm: "ed25519".into(),
            public_key: "cd".repeat(32),
            value: "ef".repeat(64),
        }),
    }
}

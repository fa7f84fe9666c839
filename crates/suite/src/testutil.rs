//! A small hand-built report for the unit tests of the renderings and of signing.

use sandkasse_sandbox::{
    CallEvidence, Disposition, Exchange, FailureClass, LogLine, Outcome as CallOutcome,
};
use serde_json::{Value, json};

use crate::model::{Capability, Category, Level, Text};
use crate::report::{
    CheckResult, ComponentRef, DataRef, Environment, Outcome, REPORT_FORMAT, Report, ScenarioRun,
    SuiteRef, Summary, Verdict, VilkarResult,
};

/// The hostile reason of the failed vilkår `PER-03`: markup a component could put in its logs.
pub(crate) const HOSTILE: &str =
    r#"Loggen inneholder fødselsnummer: <script>alert("x")</script> & 'y'"#;

fn text(nb: &str, en: &str) -> Text {
    Text {
        nb: nb.to_owned(),
        en: en.to_owned(),
    }
}

fn check(
    id: &str,
    scenario: &str,
    outcome: Outcome,
    reason: &str,
    evidence: &[&str],
) -> CheckResult {
    CheckResult {
        id: id.to_owned(),
        scenario: scenario.to_owned(),
        outcome,
        reason: reason.to_owned(),
        evidence: evidence.iter().map(|e| (*e).to_owned()).collect(),
        reproduce: format!("sandkasse test adapter.wasm --seed 42 --scenario {scenario}"),
    }
}

/// An exchange with only a request line, an answer and a time.
fn exchange(
    request_line: &str,
    status: Option<u16>,
    disposition: Disposition,
    sent_ms: u64,
) -> Exchange {
    Exchange {
        request_line: request_line.to_owned(),
        request_headers: Vec::new(),
        request_body: None,
        request_body_bytes: 0,
        disposition,
        status,
        response_headers: Vec::new(),
        response_body: None,
        response_body_bytes: 0,
        sent_ms,
        received_ms: sent_ms,
    }
}

/// Five vilkår in five categories: one pass `skal`, one fail `skal` (with [`HOSTILE`] as its
/// reason and evidence), one not-applicable `bør`, one error `skal`, one pass `bør`; verdict
/// ikke godkjent, score 4/12. Unsigned.
pub(crate) fn sample_report() -> Report {
    let mut vilkar = vec![
        VilkarResult {
            id: "INF-01".to_owned(),
            title: text(
                "Oversikten er en gyldig FHIR-bundle",
                "The overview is a valid FHIR bundle",
            ),
            text: text(
                "Adapteren skal returnere en FHIR R4 Bundle av typen collection.",
                "The adapter shall return a FHIR R4 Bundle of type collection.",
            ),
            category: Category::Informasjonsutveksling,
            level: Level::Skal,
            weight: 3,
            source: "Tjenesteavtalen, Bilag 2, §3.1".to_owned(),
            outcome: Outcome::Pass,
            reason: "Alle sjekker besto.".to_owned(),
            checks: vec![check(
                "overview-is-valid-bundle",
                "les-oversikt",
                Outcome::Pass,
                "Oversikten er en gyldig Bundle (collection) med 14 ressurser.",
                &["patient-overview → Bundle collection, 14 entries"],
            )],
        },
        VilkarResult {
            id: "KON-01".to_owned(),
            title: text(
                "Pasienten fra konteksten brukes direkte",
                "The launch patient is used directly",
            ),
            text: text(
                "Adapteren bør bruke pasienten fra oppstartskonteksten uten å søke.",
                "The adapter should use the launch patient without searching.",
            ),
            category: Category::Kontekst,
            level: Level::Bor,
            weight: 1,
            source: "Tjenesteavtalen, Bilag 2, §4.2".to_owned(),
            outcome: Outcome::Pass,
            reason: "Alle sjekker besto.".to_owned(),
            checks: vec![check(
                "no-patient-search",
                "les-oversikt",
                Outcome::Pass,
                "Ingen Patient-søk.",
                &[],
            )],
        },
        VilkarResult {
            id: "PER-03".to_owned(),
            title: text(
                "Ingen personopplysninger i logger",
                "No personal data in logs",
            ),
            text: text(
                "Logger, stdout og stderr skal ikke inneholde fødselsnummer, navn eller adresse.",
                "Logs, stdout and stderr shall not contain national identity numbers, names or addresses.",
            ),
            category: Category::Personvern,
            level: Level::Skal,
            weight: 5,
            source: "Tjenesteavtalen, Bilag 7 Personopplysninger, §4.4".to_owned(),
            outcome: Outcome::Fail,
            reason: HOSTILE.to_owned(),
            checks: vec![
                check(
                    "no-personal-data-in-logs",
                    "logg-personvern",
                    Outcome::Fail,
                    HOSTILE,
                    &[
                        "log info at 12 ms: henter pasient 01017012345 <img src=x onerror=alert(1)>",
                        "stderr: \u{1b}[31mpanic\u{1b}[0m \u{202e}gnp.exe",
                    ],
                ),
                check(
                    "no-personal-data-in-logs",
                    "les-oversikt",
                    Outcome::Pass,
                    "Ingen personopplysninger i loggene.",
                    &[],
                ),
            ],
        },
        VilkarResult {
            id: "ROB-02".to_owned(),
            title: text("Begrenset antall nye forsøk", "Bounded retries"),
            text: text(
                "Adapteren skal gi opp etter et begrenset antall forsøk.",
                "The adapter shall give up after a bounded number of retries.",
            ),
            category: Category::Robusthet,
            level: Level::Skal,
            weight: 3,
            source: "Tjenesteavtalen, Bilag 3, §2.5".to_owned(),
            outcome: Outcome::Error,
            reason: "Kallet patient-overview stoppet med trap (unreachable) før det fullførte."
                .to_owned(),
            checks: vec![check(
                "retries-bounded",
                "feil-plattform",
                Outcome::Error,
                "Kallet patient-overview stoppet med trap (unreachable) før det fullførte.",
                &["trap: wasm `unreachable` instruction executed"],
            )],
        },
        VilkarResult {
            id: "HEN-01".to_owned(),
            title: text(
                "Hendelser fra andre kommuner ignoreres",
                "Other kommuner's events are ignored",
            ),
            text: text(
                "Adapteren bør ignorere hendelser fra andre kommuner uten forespørsler.",
                "The adapter should ignore other kommuner's events without any request.",
            ),
            category: Category::Hendelser,
            level: Level::Bor,
            weight: 2,
            source: "Tjenesteavtalen, Bilag 2, §6.1".to_owned(),
            outcome: Outcome::NotApplicable,
            reason: "Adapteren oppgir ikke rollen events.".to_owned(),
            checks: vec![check(
                "other-kommune-ignored",
                "hendelser",
                Outcome::NotApplicable,
                "Adapteren oppgir ikke rollen events.",
                &[],
            )],
        },
    ];
    vilkar.sort_by(|a, b| a.id.cmp(&b.id));
    let scenarios = vec![
        ScenarioRun {
            id: "feil-plattform".to_owned(),
            title: text("Plattformen svarer 503", "The platform answers 503"),
            skipped: None,
            calls: vec![{
                let mut c = CallEvidence::quiet(
                    "patient-overview",
                    CallOutcome::Failure {
                        class: FailureClass::Trap,
                        detail: "wasm `unreachable` instruction executed".to_owned(),
                    },
                );
                c.arguments = json!({"context": "<redacted>"});
                c.class = "trap".to_owned();
                c.exchanges = vec![exchange(
                    "GET https://plattform.sandkasse.test/4601/fhir/Patient/p1",
                    Some(503),
                    Disposition::Platform,
                    0,
                )];
                c.fuel_used = 1000;
                c.peak_memory_bytes = 65536;
                c.into()
            }],
        },
        ScenarioRun {
            id: "hendelser".to_owned(),
            title: text("Hendelser", "Events"),
            skipped: Some("Adapteren oppgir ikke rollen events.".to_owned()),
            calls: vec![],
        },
        ScenarioRun {
            id: "les-oversikt".to_owned(),
            title: text("Les oversikt", "Read the overview"),
            skipped: None,
            calls: vec![
                CallEvidence::quiet("info", CallOutcome::Ok { value: json!({}) }).into(),
                {
                    let mut c = CallEvidence::quiet(
                        "patient-overview",
                        CallOutcome::Ok { value: Value::Null },
                    );
                    c.exchanges = vec![
                        exchange(
                            "GET https://plattform.sandkasse.test/4601/fhir/Patient/p1",
                            Some(200),
                            Disposition::Platform,
                            0,
                        ),
                        exchange(
                            "GET https://evil.example/x?<b>",
                            None,
                            Disposition::RefusedEgress {
                                authority: "evil.example".to_owned(),
                            },
                            3,
                        ),
                    ];
                    c.into()
                },
            ],
        },
        ScenarioRun {
            id: "logg-personvern".to_owned(),
            title: text("Logging", "Logging"),
            skipped: None,
            calls: vec![{
                let mut c = CallEvidence::quiet(
                    "patient-overview",
                    CallOutcome::AdapterError {
                        code: "internal".to_owned(),
                        message: "<b>boom</b>".to_owned(),
                    },
                );
                c.class = "adapter-error".to_owned();
                c.logs = vec![LogLine {
                    level: "info".to_owned(),
                    message: "henter pasient 01017012345 <img src=x onerror=alert(1)>".to_owned(),
                    at_ms: 12,
                }];
                c.stderr = "\u{1b}[31mpanic\u{1b}[0m".to_owned();
                c.into()
            }],
        },
    ];
    Report {
        format: REPORT_FORMAT.to_owned(),
        suite: SuiteRef {
            id: "sandkasse-vilkar".to_owned(),
            version: "1.0.0".to_owned(),
            contract: "kommune:sandkasse@0.1.0".to_owned(),
        },
        component: ComponentRef {
            digest: "ab".repeat(32),
            size: 123_456,
            info: Some(json!({"name": "test-adapter", "version": "0.1.0"})),
            capabilities: vec![Capability::Read, Capability::Write],
        },
        data: DataRef {
            seed: 42,
            innbyggere: 2000,
        },
        environment: Environment {
            sandkasse: "0.1.0".to_owned(),
            wasmtime: "48.0.8".to_owned(),
        },
        verdict: Verdict::IkkeGodkjent,
        score: 0.3333,
        summary: Summary {
            passed: 2,
            failed: 1,
            not_applicable: 1,
            error: 1,
        },
        vilkar,
        scenarios,
        reproduce: "sandkasse test adapter.wasm --seed 42".to_owned(),
        generated_at: "2025-01-01T00:00:00Z".to_owned(),
        signature: None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    /// `docs/report-format.md` names every field of the report (outside the sandbox's own call
    /// evidence and the component's `info`, which it describes in prose).
    #[test]
    fn the_format_doc_names_every_field() {
        let doc = include_str!("../../../docs/report-format.md");
        let mut report = super::sample_report();
        crate::sign::sign(&mut report, &crate::sign::generate_key());
        let mut missing = Vec::new();
        walk(
            &serde_json::to_value(&report).unwrap(),
            "",
            doc,
            &mut missing,
        );
        assert!(
            missing.is_empty(),
            "docs/report-format.md does not name {missing:?}"
        );
        assert!(doc.contains(&format!("`{}`", crate::report::REPORT_FORMAT)));
    }

    fn walk(value: &Value, path: &str, doc: &str, missing: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    let here = format!("{path}.{key}");
                    if !doc.contains(&format!("`{key}`")) && !missing.contains(&here) {
                        missing.push(here.clone());
                    }
                    if !matches!(here.as_str(), ".component.info" | ".scenarios[].calls") {
                        walk(child, &here, doc, missing);
                    }
                }
            }
            Value::Array(items) => {
                for item in items {
                    walk(item, &format!("{path}[]"), doc, missing);
                }
            }
            _ => {}
        }
    }
}

//! The report as JUnit XML, for vendors' CI.
//!
//! One `<testsuite>` per vilkår (named `ID title`), one `<testcase>` per check (`classname` the
//! vilkår id, `name` `check @ scenario`). A failed check is a `<failure>` whose message is the
//! reason and whose text is the evidence and the command that reproduces it; an error is an
//! `<error>` in the same shape; a not-applicable check is `<skipped>` with its reason. Every
//! `<testsuite>` carries the run's properties (suite, component digest, seed, verdict, score)
//! and the vilkår's own (level, category, weight, outcome, source). No times: the report is
//! deterministic, and so is this rendering.
//!
//! ```
//! # fn demo(report: &sandkasse_suite::report::Report) -> std::io::Result<()> {
//! std::fs::write("report.junit.xml", sandkasse_suite::render::junit::to_junit(report))
//! # }
//! ```

use std::fmt::Write as _;

use crate::markup::{escape, json_name};
use crate::report::{CheckResult, Outcome, Report};

/// Counts of one group of checks, as JUnit wants them.
#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    tests: usize,
    failures: usize,
    errors: usize,
    skipped: usize,
}

impl Counts {
    fn of<'a>(checks: impl IntoIterator<Item = &'a CheckResult>) -> Counts {
        let mut counts = Counts::default();
        for check in checks {
            counts.tests += 1;
            match check.outcome {
                Outcome::Pass => {}
                Outcome::Fail => counts.failures += 1,
                Outcome::Error => counts.errors += 1,
                Outcome::NotApplicable => counts.skipped += 1,
            }
        }
        counts
    }

    fn attributes(self) -> String {
        format!(
            r#"tests="{}" failures="{}" errors="{}" skipped="{}""#,
            self.tests, self.failures, self.errors, self.skipped
        )
    }
}

/// The report as a JUnit XML document (UTF-8, ends with a newline).
pub fn to_junit(report: &Report) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let all = Counts::of(report.vilkar.iter().flat_map(|v| &v.checks));
    let _ = writeln!(
        out,
        r#"<testsuites name="{}" {}>"#,
        escape(&format!("{} {}", report.suite.id, report.suite.version)),
        all.attributes()
    );
    let run_properties = [
        ("suite", report.suite.id.clone()),
        ("suite.version", report.suite.version.clone()),
        ("suite.contract", report.suite.contract.clone()),
        ("component.digest", report.component.digest.clone()),
        ("data.seed", report.data.seed.to_string()),
        ("verdict", json_name(&report.verdict)),
        ("score", format!("{:.4}", report.score)),
        ("reproduce", report.reproduce.clone()),
    ];
    for vilkar in &report.vilkar {
        let _ = writeln!(
            out,
            r#"  <testsuite name="{}" {}>"#,
            escape(&format!("{} {}", vilkar.id, vilkar.title.nb)),
            Counts::of(&vilkar.checks).attributes()
        );
        out.push_str("    <properties>\n");
        let vilkar_properties = [
            ("vilkar.id", vilkar.id.clone()),
            ("vilkar.title.en", vilkar.title.en.clone()),
            ("vilkar.level", json_name(&vilkar.level)),
            ("vilkar.category", json_name(&vilkar.category)),
            ("vilkar.weight", vilkar.weight.to_string()),
            ("vilkar.outcome", json_name(&vilkar.outcome)),
            ("vilkar.reason", vilkar.reason.clone()),
            ("vilkar.source", vilkar.source.clone()),
        ];
        for (name, value) in run_properties.iter().chain(&vilkar_properties) {
            let _ = writeln!(
                out,
                r#"      <property name="{name}" value="{}"/>"#,
                escape(value)
            );
        }
        out.push_str("    </properties>\n");
        for check in &vilkar.checks {
            let _ = write!(
                out,
                r#"    <testcase classname="{}" name="{}""#,
                escape(&vilkar.id),
                escape(&format!("{} @ {}", check.id, check.scenario))
            );
            match check.outcome {
                Outcome::Pass => out.push_str("/>\n"),
                Outcome::NotApplicable => {
                    let _ = write!(
                        out,
                        ">\n      <skipped message=\"{}\"/>\n    </testcase>\n",
                        escape(&check.reason)
                    );
                }
                Outcome::Fail | Outcome::Error => {
                    let element = if check.outcome == Outcome::Fail {
                        "failure"
                    } else {
                        "error"
                    };
                    let _ = write!(
                        out,
                        ">\n      <{element} message=\"{}\" type=\"{}\">{}</{element}>\n    </testcase>\n",
                        escape(&check.reason),
                        json_name(&check.outcome),
                        escape_body(&failure_body(check)),
                    );
                }
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

/// The text of a `<failure>` or `<error>`: the reason, the evidence line by line, and the command
/// that reproduces the scenario.
fn failure_body(check: &CheckResult) -> String {
    let mut body = check.reason.clone();
    if !check.evidence.is_empty() {
        body.push_str("\n\nEvidence:\n");
        for line in &check.evidence {
            body.push_str("  ");
            body.push_str(line);
            body.push('\n');
        }
    } else {
        body.push('\n');
    }
    let _ = write!(body, "\nReproduce: {}\n", check.reproduce);
    body
}

/// Escapes element text, keeping newlines literal so CI tools show the evidence line by line.
fn escape_body(text: &str) -> String {
    text.split('\n').map(escape).collect::<Vec<_>>().join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{HOSTILE, sample_report};

    fn count(haystack: &str, needle: &str) -> usize {
        haystack.matches(needle).count()
    }

    #[test]
    fn one_testsuite_per_vilkar_and_one_testcase_per_check() {
        let report = sample_report();
        let xml = to_junit(&report);
        assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites "));
        assert!(xml.ends_with("</testsuites>\n"));
        assert_eq!(count(&xml, "<testsuite "), report.vilkar.len());
        assert_eq!(count(&xml, "</testsuite>"), report.vilkar.len());
        let checks: usize = report.vilkar.iter().map(|v| v.checks.len()).sum();
        assert_eq!(count(&xml, "<testcase "), checks);
        assert_eq!(count(&xml, "<failure "), 1);
        assert_eq!(count(&xml, "<error "), 1);
        assert_eq!(count(&xml, "<skipped "), 1);
        assert!(xml.contains(r#"<testsuites name="sandkasse-vilkar 1.0.0" tests="6" failures="1" errors="1" skipped="1">"#));
        assert!(xml.contains(r#"<testsuite name="PER-03 Ingen personopplysninger i logger" tests="2" failures="1" errors="0" skipped="0">"#));
        assert!(xml.contains(
            r#"<testcase classname="PER-03" name="no-personal-data-in-logs @ logg-personvern">"#
        ));
        assert!(xml.contains(r#"<property name="verdict" value="ikke-godkjent"/>"#));
        assert!(xml.contains(r#"<property name="score" value="0.3333"/>"#));
        assert!(xml.contains(r#"<property name="data.seed" value="42"/>"#));
        assert!(xml.contains(&format!(
            r#"<property name="component.digest" value="{}"/>"#,
            "ab".repeat(32)
        )));
        assert!(xml.contains(r#"<skipped message="Adapteren oppgir ikke rollen events."/>"#));
        assert!(xml.contains(
            "Reproduce: sandkasse test adapter.wasm --seed 42 --scenario logg-personvern"
        ));
    }

    #[test]
    fn hostile_text_is_escaped() {
        let xml = to_junit(&sample_report());
        assert!(!xml.contains("<script>"));
        assert!(!xml.contains("<img"));
        assert!(!xml.contains('\u{1b}'));
        assert!(!xml.contains('\u{202e}'));
        let message = "message=\"Loggen inneholder fødselsnummer: &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;\"";
        assert!(xml.contains(message), "{xml}");
        assert!(xml.contains("⟨U+001B⟩[31mpanic⟨U+001B⟩[0m ⟨U+202E⟩gnp.exe"));
        assert!(HOSTILE.contains("<script>"));
        well_formed(&xml);
    }

    /// A small well-formedness check: balanced tags, quoted attributes, only the five entity
    /// references and numeric ones, no raw `<` or `&` in text.
    fn well_formed(xml: &str) {
        let body = xml
            .strip_prefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
            .unwrap();
        let mut stack: Vec<&str> = Vec::new();
        let mut rest = body;
        while let Some(start) = rest.find(['<', '&']) {
            check_text(&rest[..start]);
            rest = &rest[start..];
            if rest.starts_with('&') {
                let end = rest.find(';').expect("entity ends");
                let entity = &rest[1..end];
                assert!(
                    ["amp", "lt", "gt", "quot", "apos"].contains(&entity)
                        || entity
                            .strip_prefix('#')
                            .is_some_and(|n| n.parse::<u32>().is_ok()),
                    "entity {entity}"
                );
                rest = &rest[end + 1..];
                continue;
            }
            let end = tag_end(rest);
            let tag = &rest[1..end];
            if let Some(name) = tag.strip_prefix('/') {
                assert_eq!(stack.pop(), Some(name), "closing {name}");
            } else {
                let self_closing = tag.ends_with('/');
                let tag = tag.trim_end_matches('/');
                let name = tag.split(' ').next().unwrap();
                assert!(
                    name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'),
                    "name {name}"
                );
                check_attributes(&tag[name.len()..]);
                if !self_closing {
                    stack.push(name);
                }
            }
            rest = &rest[end + 1..];
        }
        check_text(rest);
        assert!(stack.is_empty(), "unclosed {stack:?}");
    }

    /// The index of the `>` ending the tag at the start of `s`, outside quoted values.
    fn tag_end(s: &str) -> usize {
        let mut quoted = false;
        for (i, c) in s.char_indices() {
            match c {
                '"' => quoted = !quoted,
                '<' if i > 0 => panic!("raw < inside a tag: {s:.80}"),
                '>' if !quoted => return i,
                _ => {}
            }
        }
        panic!("unterminated tag: {s:.80}")
    }

    fn check_attributes(attributes: &str) {
        let mut rest = attributes.trim();
        while !rest.is_empty() {
            let eq = rest.find("=\"").expect("attribute has a quoted value");
            let close = rest[eq + 2..].find('"').expect("value is closed") + eq + 2;
            let value = &rest[eq + 2..close];
            assert!(!value.contains(['<', '\n']), "value {value}");
            check_text_chars(value);
            rest = rest[close + 1..].trim_start();
        }
    }

    fn check_text(text: &str) {
        assert!(!text.contains('>') || !text.contains("]]>"));
        check_text_chars(text);
    }

    fn check_text_chars(text: &str) {
        for c in text.chars() {
            assert!(
                matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..),
                "character U+{:04X} is not allowed in XML 1.0",
                c as u32
            );
        }
    }
}

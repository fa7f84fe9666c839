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
//! The page is the minijinja template `templates/report.html` (embedded in the binary), rendered
//! with a context the `context` module builds from the report: the words and numbers are decided
//! there, the template places them. Everything the component produced is hostile input: the
//! environment escapes every value with [`crate::markup`] (control and bidirectional characters
//! made visible), and the template has no `safe` filter to opt out with.
//!
//! The page shows the signature but cannot prove it; `sandkasse verify REPORT.json` checks the
//! JSON report.
//!
//! ```
//! # fn demo(report: &sandkasse_suite::report::Report) -> std::io::Result<()> {
//! std::fs::write("report.html", sandkasse_suite::render::html::to_html(report))
//! # }
//! ```

mod context;

use std::sync::LazyLock;

use minijinja::{Environment, UndefinedBehavior};

use crate::report::Report;

/// The page template.
const TEMPLATE: &str = include_str!("../../templates/report.html");

/// The template environment: strict about undefined values, escaping with [`crate::markup`].
static ENVIRONMENT: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    env.set_trim_blocks(true);
    env.set_keep_trailing_newline(true);
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    crate::markup::install(&mut env);
    env.remove_filter("safe");
    env.add_template("report.html", TEMPLATE)
        .expect("the report template parses (checked by the tests)");
    env
});

/// What the page template sees of `report`: every label in bokmål and English (`{nb, en}`), the
/// numbers formatted, the evidence excerpted. The markedsplass renders its own report page, in the
/// layout of its other pages and in one language, from this same view.
pub fn view(report: &Report) -> impl serde::Serialize + '_ {
    context::page(report)
}

/// The report as a complete HTML document (UTF-8, ends with a newline).
pub fn to_html(report: &Report) -> String {
    ENVIRONMENT
        .get_template("report.html")
        .and_then(|template| template.render(context::page(report)))
        .expect("the report template renders every report (checked by the golden tests)")
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
    fn the_template_cannot_opt_out_of_escaping() {
        for source in ["{{ x|safe }}", "{{ x|e|safe }}"] {
            let err = ENVIRONMENT
                .render_str(source, minijinja::context! { x => "<b>" })
                .unwrap_err();
            assert!(
                matches!(err.kind(), minijinja::ErrorKind::UnknownFilter),
                "{source}: {err}"
            );
        }
        let rendered = ENVIRONMENT
            .render_str(
                "{% autoescape false %}{{ x }}{{ x|e }}{% endautoescape %}",
                minijinja::context! { x => "<b>\u{202e}" },
            )
            .unwrap();
        assert_eq!(rendered, "&lt;b&gt;⟨U+202E⟩&lt;b&gt;⟨U+202E⟩");
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
}

//! A night's summary and a product's nightly history, drawn: the summary as JUnit XML for CI
//! ([`junit`]) and the history as an SVG trend for the product page ([`trend_svg`]).
//!
//! The JUnit here is not `sandkasse_suite::render::junit`: that one renders one report (a test suite per
//! vilkår, a test case per check), while a night is one test case per product, failing when its
//! run is not godkjent. Rendering a night through it would change the document CI jobs already
//! read (`sandkasse nightly --junit`, `/api/v1/nights/{night}/junit.xml`).

use super::Entry;
use crate::i18n::{Lang, Msg};
use crate::store::{Night, Run, RunState, Verdict};

/// A night's summary as JUnit XML: one test case per product, failing when not godkjent.
pub fn junit(night: &Night) -> String {
    use sandkasse_suite::markup::escape;
    let entries: &[Entry] = night.summary.as_ref().map_or(&[], |s| &s.entries);
    let failures = entries
        .iter()
        .filter(|e| e.verdict != Some(Verdict::Godkjent) && e.state != RunState::Error)
        .count();
    let errors = entries
        .iter()
        .filter(|e| e.state == RunState::Error)
        .count();
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"sandkasse nightly {}\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\">\n<testsuite name=\"nightly {}\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\">\n",
        escape(&night.night),
        entries.len(),
        escape(&night.night),
        entries.len()
    );
    for e in entries {
        out.push_str(&format!(
            "<testcase classname=\"{}\" name=\"{} {}\">",
            escape(&e.vendor),
            escape(&e.product),
            escape(&e.version)
        ));
        if e.state == RunState::Error {
            out.push_str(&format!(
                "<error message=\"{}\"/>",
                escape(e.error.as_deref().unwrap_or_default())
            ));
        } else if e.verdict != Some(Verdict::Godkjent) {
            out.push_str(&format!(
                "<failure message=\"{}\">run {}</failure>",
                escape(&e.failing_skal.join(", ")),
                e.run_id
            ));
        }
        out.push_str("</testcase>\n");
    }
    out.push_str("</testsuite>\n</testsuites>\n");
    out
}

/// The trend of a product's nightly runs as an accessible SVG: score (line, 0–100 %) and fuel
/// relative to its highest night (dashed), one point per night; its title and description are in
/// `lang`.
pub fn trend_svg(history: &[Run], product: &str, lang: Lang) -> String {
    use sandkasse_suite::markup::escape;
    let title = Msg::new("trend_svg_title")
        .arg("product", product)
        .render(lang);
    let desc = Msg::new("trend_svg_desc")
        .arg("nights", history.len())
        .render(lang);
    let (w, h, pad) = (480.0_f64, 160.0_f64, 28.0_f64);
    let n = history.len().max(1);
    let x = |i: usize| {
        pad + (w - 2.0 * pad)
            * if n == 1 {
                0.5
            } else {
                i as f64 / (n - 1) as f64
            }
    };
    let y = |v: f64| h - pad - (h - 2.0 * pad) * v.clamp(0.0, 1.0);
    let fuel: Vec<f64> = history
        .iter()
        .map(|r| r.figures.as_ref().map_or(0.0, |f| f.fuel as f64))
        .collect();
    let max_fuel = fuel.iter().cloned().fold(0.0, f64::max).max(1.0);
    let score_points: Vec<String> = history
        .iter()
        .enumerate()
        .map(|(i, r)| format!("{:.1},{:.1}", x(i), y(r.score.unwrap_or(0.0))))
        .collect();
    let fuel_points: Vec<String> = fuel
        .iter()
        .enumerate()
        .map(|(i, f)| format!("{:.1},{:.1}", x(i), y(f / max_fuel)))
        .collect();
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" role=\"img\" aria-labelledby=\"trend-title trend-desc\">\
         <title id=\"trend-title\">{}</title><desc id=\"trend-desc\">{}</desc>\
         <rect x=\"0\" y=\"0\" width=\"{w}\" height=\"{h}\" fill=\"#ffffff\"/>\
         <line x1=\"{pad}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"#4a4a4a\"/>\
         <line x1=\"{pad}\" y1=\"{pad}\" x2=\"{pad}\" y2=\"{:.1}\" stroke=\"#4a4a4a\"/>\
         <text x=\"4\" y=\"{:.1}\" font-size=\"11\" fill=\"#1a1a1a\">100%</text><text x=\"4\" y=\"{:.1}\" font-size=\"11\" fill=\"#1a1a1a\">0%</text>",
        escape(&title),
        escape(&desc),
        h - pad,
        w - pad,
        h - pad,
        h - pad,
        pad + 4.0,
        h - pad,
    );
    out.push_str(&format!(
        "<polyline fill=\"none\" stroke=\"#0b4f8a\" stroke-width=\"2.5\" points=\"{}\"/>",
        score_points.join(" ")
    ));
    out.push_str(&format!("<polyline fill=\"none\" stroke=\"#7a4a00\" stroke-width=\"1.5\" stroke-dasharray=\"5 3\" points=\"{}\"/>", fuel_points.join(" ")));
    for (i, r) in history.iter().enumerate() {
        let colour = if r.godkjent() { "#1d6b33" } else { "#a4161a" };
        let outcome = r.verdict.map_or_else(
            || format!("state_{}", r.state.as_str()),
            |v| format!("verdict_{}", v.as_str()),
        );
        let point = Msg::new("trend_svg_point")
            .arg("run", r.id)
            .msg("outcome", Msg::new(outcome))
            .render(lang);
        out.push_str(&format!("<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"4\" fill=\"{colour}\"><title>{}</title></circle>", x(i), y(r.score.unwrap_or(0.0)), escape(&point)));
    }
    out.push_str("</svg>");
    out
}

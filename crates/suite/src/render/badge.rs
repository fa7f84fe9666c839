//! The report as a small flat SVG badge: `sandkasse | godkjent 97 %` on green or
//! `sandkasse | ikke godkjent 62 %` on red; [`render`] draws any message in one of the
//! [`Tone`]s (the markedsplass's catalogue badge adds the listing's state this way).
//!
//! The percentage is the score rounded *down*, so a badge shows 100 % only when every applicable
//! weight passed. The SVG has a `<title>` and `role="img"` with an `aria-label`, white text on
//! colours with a contrast of at least 4.5:1, and text widths computed from a fixed table of
//! Verdana 11 px advances (with `textLength`, so the text fits whatever font renders it): the
//! same report always gives the same bytes.
//!
//! ```
//! # fn demo(report: &sandkasse_suite::report::Report) -> std::io::Result<()> {
//! std::fs::write("badge.svg", sandkasse_suite::render::badge::to_badge_svg(report))
//! # }
//! ```

use crate::markup::{basis_points, escape};
use crate::report::Report;

/// The left-hand text.
const LABEL: &str = "sandkasse";
const LABEL_COLOUR: &str = "#555";
/// Green and red with white text at ≥ 4.5:1 contrast (WCAG AA).
const GODKJENT_COLOUR: &str = "#2e7d32";
const IKKE_GODKJENT_COLOUR: &str = "#c62828";
/// Horizontal padding on each side of a text, px.
const PADDING: u32 = 6;

/// The colour behind a badge's message, each with white text at ≥ 4.5:1 contrast (WCAG AA).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// Green: godkjent, listed.
    Good,
    /// Amber: at risk.
    Warn,
    /// Red: ikke godkjent, suspended.
    Bad,
    /// Grey: no longer listed.
    Neutral,
}

impl Tone {
    fn colour(self) -> &'static str {
        match self {
            Tone::Good => GODKJENT_COLOUR,
            Tone::Warn => "#a35200",
            Tone::Bad => IKKE_GODKJENT_COLOUR,
            Tone::Neutral => "#6b6b6b",
        }
    }
}

/// `godkjent 97 %` / `ikke godkjent 62 %`: the verdict and the score rounded down, as every
/// badge words it.
pub fn verdict_message(godkjent: bool, score: f64) -> String {
    let verdict = if godkjent {
        "godkjent"
    } else {
        "ikke godkjent"
    };
    format!("{verdict} {} %", basis_points(score) / 100)
}

/// The badge of a report as a standalone SVG document (ends with a newline).
pub fn to_badge_svg(report: &Report) -> String {
    let message = verdict_message(report.godkjent(), report.score);
    let tone = if report.godkjent() {
        Tone::Good
    } else {
        Tone::Bad
    };
    let title = format!(
        "{LABEL}: {message} ({} {})",
        report.suite.id, report.suite.version
    );
    render(&message, tone, &title)
}

/// `sandkasse | message` with the message on `tone`'s colour, as a standalone SVG document (ends
/// with a newline); `title` is its accessible name. Both texts are escaped.
pub fn render(message: &str, tone: Tone, title: &str) -> String {
    let colour = tone.colour();
    let label_text = text_width(LABEL);
    let message_text = text_width(message);
    let label_width = label_text + 2 * PADDING;
    let message_width = message_text + 2 * PADDING;
    let width = label_width + message_width;
    // Centres in tenths of a pixel, drawn at scale(.1) as shields.io does, for crisp half pixels.
    let label_x = label_width * 5;
    let message_x = label_width * 10 + message_width * 5;

    format!(
        concat!(
            r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="20" role="img" aria-label="{title}">"##,
            "\n<title>{title}</title>\n",
            r##"<clipPath id="r"><rect width="{width}" height="20" rx="3" fill="#fff"/></clipPath>"##,
            "\n",
            r##"<g clip-path="url(#r)"><rect width="{label_width}" height="20" fill="{label_colour}"/><rect x="{label_width}" width="{message_width}" height="20" fill="{colour}"/></g>"##,
            "\n",
            r##"<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="110" transform="scale(.1)" aria-hidden="true">"##,
            "\n",
            r##"<text x="{label_x}" y="140" textLength="{label_length}">{label}</text>"##,
            "\n",
            r##"<text x="{message_x}" y="140" textLength="{message_length}">{message}</text>"##,
            "\n</g>\n</svg>\n",
        ),
        width = width,
        title = escape(title),
        label_width = label_width,
        message_width = message_width,
        label_colour = LABEL_COLOUR,
        colour = colour,
        label_x = label_x,
        message_x = message_x,
        label_length = label_text * 10,
        message_length = message_text * 10,
        label = escape(LABEL),
        message = escape(message),
    )
}

/// Width of `text` in Verdana 11 px, whole pixels rounded up.
fn text_width(text: &str) -> u32 {
    let tenths: u32 = text.chars().map(advance).sum();
    tenths.div_ceil(10)
}

/// Advance of one character in Verdana 11 px, tenths of a pixel (7 px for anything not listed).
fn advance(c: char) -> u32 {
    match c {
        ' ' => 39,
        '·' => 44,
        '%' => 121,
        '0'..='9' => 70,
        'a' => 68,
        'b' | 'd' | 'g' | 'p' | 'q' => 69,
        'c' => 59,
        'e' => 66,
        'f' => 39,
        'h' | 'n' | 'u' => 70,
        'i' | 'l' => 30,
        'j' => 38,
        'k' | 'v' | 'x' | 'y' => 65,
        'm' => 107,
        'o' => 67,
        'r' => 47,
        's' => 57,
        't' => 43,
        'w' => 90,
        'z' => 58,
        _ => 70,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Verdict;
    use crate::testutil::sample_report;

    #[test]
    fn ikke_godkjent_is_red_with_the_score() {
        let svg = to_badge_svg(&sample_report());
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.contains(">ikke godkjent 33 %</text>"));
        assert!(
            svg.contains("<title>sandkasse: ikke godkjent 33 % (sandkasse-vilkar 1.0.0)</title>")
        );
        assert!(
            svg.contains("aria-label=\"sandkasse: ikke godkjent 33 % (sandkasse-vilkar 1.0.0)\"")
        );
        assert!(svg.contains(IKKE_GODKJENT_COLOUR));
        assert!(!svg.contains(GODKJENT_COLOUR));
    }

    #[test]
    fn godkjent_is_green_and_rounds_down() {
        let mut report = sample_report();
        report.verdict = Verdict::Godkjent;
        report.score = 0.9749;
        let svg = to_badge_svg(&report);
        assert!(svg.contains(">godkjent 97 %</text>"));
        assert!(svg.contains(GODKJENT_COLOUR));
        report.score = 0.9999;
        assert!(to_badge_svg(&report).contains(">godkjent 99 %</text>"));
        report.score = 1.0;
        assert!(to_badge_svg(&report).contains(">godkjent 100 %</text>"));
    }

    #[test]
    fn deterministic_and_sized_to_the_text() {
        let report = sample_report();
        assert_eq!(to_badge_svg(&report), to_badge_svg(&report));
        let mut godkjent = report.clone();
        godkjent.verdict = Verdict::Godkjent;
        let width = |svg: &str| -> u32 {
            let start = svg.find("width=\"").unwrap() + 7;
            svg[start..start + svg[start..].find('"').unwrap()]
                .parse()
                .unwrap()
        };
        assert!(width(&to_badge_svg(&report)) > width(&to_badge_svg(&godkjent)));
        assert_eq!(text_width("sandkasse"), 58);
    }

    #[test]
    fn any_message_in_any_tone_is_escaped_and_labelled() {
        let svg = render(
            "i faresonen · <x>",
            Tone::Warn,
            "sandkasse: i faresonen – A&B",
        );
        assert!(svg.contains(">i faresonen · &lt;x&gt;</text>"), "{svg}");
        assert!(
            svg.contains("aria-label=\"sandkasse: i faresonen – A&amp;B\""),
            "{svg}"
        );
        assert!(svg.contains("#a35200") && !svg.contains(GODKJENT_COLOUR));
        assert_eq!(verdict_message(true, 0.9999), "godkjent 99 %");
        assert_eq!(verdict_message(false, 0.5), "ikke godkjent 50 %");
    }
}

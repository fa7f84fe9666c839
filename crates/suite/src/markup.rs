//! Escaping for the XML and HTML renderings.
//!
//! A report carries text the component produced (log lines, output excerpts, request lines), so
//! every string that reaches a rendering is treated as hostile: the five markup characters are
//! escaped; characters XML 1.0 forbids (C0 controls other than tab, newline and carriage
//! return), DEL and C1 controls, non-characters, and bidirectional controls — which could make
//! evidence read differently from what it is — are shown by code point (`\u{1b}` → `⟨U+001B⟩`,
//! `\u{202e}` → `⟨U+202E⟩`). The result is well-formed XML and safe HTML, in text content as in
//! quoted attribute values.
//!
//! [`install`] makes a minijinja environment escape with this policy: the report page and the
//! markedsplass's pages use it.

use std::fmt::Write as _;

/// `text`, escaped for XML or HTML text content and double- or single-quoted attribute values.
///
/// In attribute values, newlines and tabs are kept as character references so that parsers do
/// not fold them into spaces.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    push_escaped(&mut out, text);
    out
}

/// Like [`escape`], appending to `out`.
pub fn push_escaped(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            // C0 controls (forbidden in XML 1.0), DEL, C1 controls, non-characters, and the
            // bidirectional controls of "Trojan Source": shown by code point.
            '\0'..='\u{1f}'
            | '\u{7f}'..='\u{9f}'
            | '\u{fffe}'
            | '\u{ffff}'
            | '\u{061c}'
            | '\u{200e}'
            | '\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}' => {
                let _ = write!(out, "⟨U+{:04X}⟩", c as u32);
            }
            c => out.push(c),
        }
    }
}

/// Escape for text inside `<pre>`: as [`escape`], but newlines and tabs stay literal so the
/// evidence keeps its shape.
pub(crate) fn escape_pre(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for line in text.split_inclusive('\n') {
        let (body, newline) = match line.strip_suffix('\n') {
            Some(body) => (body, true),
            None => (line, false),
        };
        for (i, part) in body.split('\t').enumerate() {
            if i > 0 {
                out.push('\t');
            }
            push_escaped(&mut out, part);
        }
        if newline {
            out.push('\n');
        }
    }
    out
}

/// Installs this policy in a minijinja environment, so that no value reaches a page unescaped:
///
/// - every value printed with `{{ … }}` is escaped with [`escape`] — whatever the template's
///   auto-escape setting, even inside `{% autoescape false %}`; numbers, booleans and `none`
///   print as minijinja prints them; only a value the template itself marked `|safe` (and the
///   output of its macros) is written as it is;
/// - the `escape` filter (and its alias `e`) is [`escape`] too, not minijinja's own;
/// - the `pre` filter escapes for text inside `<pre>`: as [`escape`], but newlines and tabs stay
///   literal so the text keeps its shape.
///
/// The report page (`render::html`) and the markedsplass's pages use it.
///
/// ```
/// let mut env = minijinja::Environment::new();
/// sandkasse_suite::markup::install(&mut env);
/// let page = env
///     .render_str("<p>{{ name }}</p>", minijinja::context! { name => "<b>\u{202e}x" })
///     .unwrap();
/// assert_eq!(page, "<p>&lt;b&gt;⟨U+202E⟩x</p>");
/// ```
pub fn install(env: &mut minijinja::Environment<'_>) {
    env.set_formatter(format_value);
    env.add_filter("escape", escape_filter);
    env.add_filter("e", escape_filter);
    env.add_filter("pre", pre_filter);
}

/// The formatter [`install`] sets.
fn format_value(
    out: &mut minijinja::Output<'_>,
    state: &minijinja::State<'_, '_>,
    value: &minijinja::Value,
) -> Result<(), minijinja::Error> {
    use minijinja::value::ValueKind;
    if value.is_safe() {
        return write!(out, "{value}").map_err(minijinja::Error::from);
    }
    match value.as_str() {
        Some(text) => out.write_str(&escape(text)),
        None if matches!(
            value.kind(),
            ValueKind::Undefined | ValueKind::None | ValueKind::Bool | ValueKind::Number
        ) =>
        {
            return minijinja::escape_formatter(out, state, value);
        }
        None => out.write_str(&escape(&value.to_string())),
    }
    .map_err(minijinja::Error::from)
}

fn escape_filter(value: &minijinja::Value) -> minijinja::Value {
    escaped_with(value, escape)
}

fn pre_filter(value: &minijinja::Value) -> minijinja::Value {
    escaped_with(value, escape_pre)
}

/// `value` escaped by `escape` as a safe string; a value already safe stays as it is.
fn escaped_with(value: &minijinja::Value, escape: fn(&str) -> String) -> minijinja::Value {
    if value.is_safe() {
        return value.clone();
    }
    minijinja::Value::from_safe_string(match value.as_str() {
        Some(text) => escape(text),
        None => escape(&value.to_string()),
    })
}

/// The JSON name of a unit enum value (`Outcome::NotApplicable` → `not-applicable`,
/// `Level::Bor` → `bør`), so renderings name things exactly as the JSON report does.
pub(crate) fn json_name<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name,
        Ok(other) => other.to_string(),
        Err(_) => String::from("?"),
    }
}

/// The score (a fraction with four decimals) in basis points, 0–10 000.
/// A score (0–1) as a percentage with two decimals, as `lang` writes it: `54,55 %` in bokmål,
/// `54.55 %` in English (a non-breaking space before the sign). Two decimals show the score the
/// report holds exactly (four decimals of the fraction); every page and the report use this one
/// rounding.
///
/// ```
/// use sandkasse_suite::markup::percent;
/// assert_eq!(percent(0.5455, "nb"), "54,55\u{a0}%");
/// assert_eq!(percent(1.0, "en"), "100.00\u{a0}%");
/// ```
pub fn percent(score: f64, lang: &str) -> String {
    let bp = basis_points(score);
    let separator = if lang == "en" { '.' } else { ',' };
    format!("{}{separator}{:02}\u{a0}%", bp / 100, bp % 100)
}

/// An RFC 3339 time as people read it, to the minute in UTC: `2026-11-23 07:41 UTC`. Text that is
/// not such a time is returned as it is.
///
/// ```
/// use sandkasse_suite::markup::readable_time;
/// assert_eq!(readable_time("2026-11-23T07:41:09.123456789Z"), "2026-11-23 07:41 UTC");
/// assert_eq!(readable_time("i går"), "i går");
/// ```
pub fn readable_time(text: &str) -> String {
    text.parse::<jiff::Timestamp>()
        .map(|t| t.strftime("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|_| text.to_owned())
}

pub(crate) fn basis_points(score: f64) -> u32 {
    if score.is_finite() {
        (score.clamp(0.0, 1.0) * 10_000.0).round() as u32
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_characters_are_escaped() {
        assert_eq!(escape(r#"<script>&"'"#), "&lt;script&gt;&amp;&quot;&#39;");
    }

    #[test]
    fn controls_and_bidi_are_made_visible() {
        assert_eq!(escape("a\u{1b}[31mb\u{0}"), "a⟨U+001B⟩[31mb⟨U+0000⟩");
        assert_eq!(escape("x\u{202e}y"), "x⟨U+202E⟩y");
        assert_eq!(escape("\u{85}\u{7f}"), "⟨U+0085⟩⟨U+007F⟩");
        assert_eq!(escape("a\nb"), "a&#10;b");
    }

    #[test]
    fn names_and_basis_points() {
        assert_eq!(
            json_name(&crate::report::Outcome::NotApplicable),
            "not-applicable"
        );
        assert_eq!(json_name(&crate::model::Level::Bor), "bør");
        assert_eq!(basis_points(0.29), 2900);
        assert_eq!(basis_points(0.3333), 3333);
        assert_eq!(basis_points(f64::NAN), 0);
    }

    #[test]
    fn pre_keeps_newlines_and_tabs() {
        assert_eq!(escape_pre("a\t<b>\nc\n"), "a\t&lt;b&gt;\nc\n");
    }
}

//! The service's languages and texts: every text a person reads — page labels and the messages of
//! errors and refusals alike — comes from `web/i18n.toml`, in the one language of the page or of
//! the API request.
//!
//! - [`Lang`]: bokmål (the default) or English.
//! - [`Msg`]: a text not yet in a language — a key of `web/i18n.toml` and its arguments. Errors
//!   carry one ([`crate::error::AppError`]) and are put into words only when the language of the
//!   answer is known. Arguments are plain values (a version, a number) or messages themselves
//!   (a field's name), so a composed text is in one language throughout.
//! - [`one_side`]: texts stored before this module existed (run errors, listing reasons), and the
//!   suite's reasons in a report, hold both languages as `bokmål / English`; this picks the side a
//!   page shows. Texts the service stores today keep that form ([`Msg::both`]): the database and
//!   the API's fields stay as they were.
//!
//! ```
//! use sandkasse_markedsplass::i18n::{Lang, Msg, one_side};
//! let missing = Msg::new("msg_missing").msg("field", Msg::new("field_version"));
//! assert_eq!(missing.render(Lang::Nb), "Versjon mangler");
//! assert_eq!(missing.render(Lang::En), "Version is missing");
//! assert_eq!(one_side("saken er avgjort / the case is decided", Lang::En), "the case is decided");
//! ```

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::LazyLock;

/// The texts, by language and key (embedded at build time).
const I18N: &str = include_str!("../../../web/i18n.toml");

/// Every text by language and key, parsed once.
static TEXTS: LazyLock<BTreeMap<String, BTreeMap<String, String>>> =
    LazyLock::new(|| toml::from_str(I18N).expect("web/i18n.toml is valid (checked by a test)"));

/// The texts of `web/i18n.toml`, by language and key.
pub fn texts() -> &'static BTreeMap<String, BTreeMap<String, String>> {
    &TEXTS
}

/// The text of `key` in `lang`; a missing key shows itself (and fails the i18n tests).
pub fn text(lang: Lang, key: &str) -> &str {
    TEXTS
        .get(lang.as_str())
        .and_then(|t| t.get(key))
        .map_or(key, String::as_str)
}

/// A language of the service. The default is bokmål.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    #[default]
    Nb,
    En,
}

impl Lang {
    /// Every language, the default first.
    pub const ALL: [Lang; 2] = [Lang::Nb, Lang::En];

    /// The code used in `?lang=`, the cookie, `lang=""` and `web/i18n.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            Lang::Nb => "nb",
            Lang::En => "en",
        }
    }

    /// `nb` or `en`; anything else is `None`.
    pub fn parse(code: &str) -> Option<Lang> {
        Lang::ALL.into_iter().find(|l| l.as_str() == code)
    }

    /// The other language (for the page's language switch).
    pub fn other(self) -> Lang {
        match self {
            Lang::Nb => Lang::En,
            Lang::En => Lang::Nb,
        }
    }

    /// The language an `Accept-Language` header asks for: the first of its ranges, by weight,
    /// that is Norwegian (`nb`, `no`, `nn`: bokmål) or English (`en`, `en-GB`, …); bokmål when
    /// none is (or the header is absent).
    ///
    /// ```
    /// use sandkasse_markedsplass::i18n::Lang;
    /// assert_eq!(Lang::from_accept_language(Some("en-GB,en;q=0.9")), Lang::En);
    /// assert_eq!(Lang::from_accept_language(Some("de, en;q=0.5, nb;q=0.8")), Lang::Nb);
    /// assert_eq!(Lang::from_accept_language(None), Lang::Nb);
    /// ```
    pub fn from_accept_language(header: Option<&str>) -> Lang {
        let mut ranges: Vec<(f32, Lang)> = header
            .unwrap_or_default()
            .split(',')
            .filter_map(|range| {
                let mut parts = range.split(';');
                let tag = parts.next()?.trim().to_ascii_lowercase();
                let weight = parts
                    .find_map(|p| p.trim().strip_prefix("q="))
                    .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok())?;
                let primary = tag.split('-').next().unwrap_or_default();
                let lang = match primary {
                    "nb" | "no" | "nn" => Lang::Nb,
                    "en" => Lang::En,
                    _ => return None,
                };
                (weight > 0.0).then_some((weight, lang))
            })
            .collect();
        // A stable sort keeps the header's order among equal weights.
        ranges.sort_by(|a, b| b.0.total_cmp(&a.0));
        ranges.first().map_or(Lang::Nb, |(_, lang)| *lang)
    }
}

/// A text not yet put into a language: a key of `web/i18n.toml` whose `{name}` placeholders are
/// filled from the arguments. [`std::fmt::Display`] gives English (for logs and the command line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Msg {
    key: Cow<'static, str>,
    args: Vec<(&'static str, Arg)>,
}

/// An argument of a [`Msg`].
#[derive(Debug, Clone, PartialEq, Eq)]
enum Arg {
    /// Shown as it is in every language (a version, a number, a name a person chose).
    Plain(String),
    /// Put into the same language as the message around it.
    Msg(Msg),
}

impl Msg {
    /// The text `key`, without arguments yet.
    pub fn new(key: impl Into<Cow<'static, str>>) -> Msg {
        Msg {
            key: key.into(),
            args: Vec::new(),
        }
    }

    /// With `{name}` shown as `value` in every language.
    pub fn arg(mut self, name: &'static str, value: impl std::fmt::Display) -> Msg {
        self.args.push((name, Arg::Plain(value.to_string())));
        self
    }

    /// With `{name}` being `value`, in the language of this message.
    pub fn msg(mut self, name: &'static str, value: Msg) -> Msg {
        self.args.push((name, Arg::Msg(value)));
        self
    }

    /// The key in `web/i18n.toml`.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The text in `lang`.
    pub fn render(&self, lang: Lang) -> String {
        if self.key.is_empty()
            && let [(_, Arg::Plain(both))] = self.args.as_slice()
        {
            // A text written in both languages ([`Msg::from`] a `&str`): its side.
            return one_side(both, lang).into_owned();
        }
        let template = text(lang, &self.key);
        let mut out = String::with_capacity(template.len());
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let close = after.find('}');
            let arg = close.and_then(|close| {
                self.args
                    .iter()
                    .find(|(name, _)| *name == &after[..close])
                    .map(|(_, arg)| (close, arg))
            });
            match arg {
                Some((close, Arg::Plain(value))) => {
                    out.push_str(value);
                    rest = &after[close + 1..];
                }
                Some((close, Arg::Msg(msg))) => {
                    out.push_str(&msg.render(lang));
                    rest = &after[close + 1..];
                }
                None => {
                    out.push('{');
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        out
    }

    /// The text as the service stores it, both languages: `bokmål / English` ([`one_side`] picks
    /// one back).
    pub fn both(&self) -> String {
        both(|lang| self.render(lang))
    }
}

/// A text as the service stores it, `bokmål / English`, from its words in each language.
pub fn both(text: impl Fn(Lang) -> String) -> String {
    format!("{} / {}", text(Lang::Nb), text(Lang::En))
}

impl From<&str> for Msg {
    /// A text written in both languages, `bokmål / English`, not (yet) a key of
    /// `web/i18n.toml`: each language reads its side ([`one_side`]).
    fn from(both: &str) -> Msg {
        Msg::new("").arg("text", both)
    }
}

impl From<String> for Msg {
    fn from(both: String) -> Msg {
        Msg::from(both.as_str())
    }
}

impl std::fmt::Display for Msg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.render(Lang::En))
    }
}

/// The side of a stored `bokmål / English` text that `lang` reads; a text without the separator
/// is returned as it is ([`sandkasse_suite::text::one_side`], the suite's own convention for its
/// reasons).
///
/// ```
/// use sandkasse_markedsplass::i18n::{Lang, one_side};
/// let composed = "ingenting å vurdere / nothing to judge: ingen søk / no search";
/// assert_eq!(one_side(composed, Lang::Nb), "ingenting å vurdere: ingen søk");
/// assert_eq!(one_side(composed, Lang::En), "nothing to judge: no search");
/// ```
pub fn one_side(text: &str, lang: Lang) -> Cow<'_, str> {
    sandkasse_suite::text::one_side(text, lang == Lang::En)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled_and_unknown_ones_kept() {
        let m = Msg::new("msg_too_long")
            .msg("field", Msg::new("field_product"))
            .arg("max", 200);
        assert_eq!(m.render(Lang::Nb), "Produkt er lengre enn 200 tegn");
        assert_eq!(m.render(Lang::En), "Product is longer than 200 characters");
        assert_eq!(Msg::new("no_such_key").render(Lang::En), "no_such_key");
        assert_eq!(m.to_string(), m.render(Lang::En));
        assert_eq!(
            Msg::new("msg_missing").both(),
            "{field} mangler / {field} is missing"
        );
    }

    #[test]
    fn stored_texts_show_one_side() {
        let cases = [
            ("a / b", "a", "b"),
            ("plain", "plain", "plain"),
            (
                "kjøringen feilet / the run failed: x / y",
                "kjøringen feilet: x",
                "the run failed: y",
            ),
            (
                "INF-01-c2: oversikten mangler / the overview lacks",
                "INF-01-c2: oversikten mangler",
                "INF-01-c2: the overview lacks",
            ),
            // Not the composed form: shown as stored rather than cut wrongly.
            ("a / b / c", "a / b / c", "a / b / c"),
        ];
        for (text, nb, en) in cases {
            assert_eq!(one_side(text, Lang::Nb), nb, "{text}");
            assert_eq!(one_side(text, Lang::En), en, "{text}");
        }
    }

    /// The `{name}` placeholders of a text, sorted.
    fn placeholders(text: &str) -> Vec<&str> {
        let mut names: Vec<&str> = text
            .split('{')
            .skip(1)
            .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
            .collect();
        names.sort_unstable();
        names
    }

    #[test]
    fn every_message_key_in_the_code_exists_in_every_language_with_the_same_placeholders() {
        let texts = texts();
        let nb = &texts["nb"];
        for lang in Lang::ALL {
            let t = &texts[lang.as_str()];
            for (key, text) in t {
                assert_eq!(
                    placeholders(text),
                    placeholders(&nb[key]),
                    "[{}] {key}: the placeholders differ from bokmål",
                    lang.as_str()
                );
            }
        }
        // Every literal key given to `Msg::new` in the crate's sources.
        let mut used = 0;
        let mut dirs = vec![std::path::PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/src"
        ))];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                    continue;
                }
                let source = std::fs::read_to_string(&path).unwrap();
                for part in source.split("Msg::new(\"").skip(1) {
                    let key = part.split('"').next().unwrap_or_default();
                    if key == "no_such_key" || key.is_empty() {
                        continue;
                    }
                    used += 1;
                    for lang in Lang::ALL {
                        assert!(
                            texts[lang.as_str()].contains_key(key),
                            "{}: Msg::new(\"{key}\") is not in [{}] of web/i18n.toml",
                            path.display(),
                            lang.as_str()
                        );
                    }
                }
            }
        }
        assert!(used > 50, "the scan found the messages ({used})");
    }

    #[test]
    fn accept_language_picks_by_weight_then_order() {
        assert_eq!(Lang::from_accept_language(Some("en")), Lang::En);
        assert_eq!(Lang::from_accept_language(Some("nn-NO, en")), Lang::Nb);
        assert_eq!(
            Lang::from_accept_language(Some("en;q=0, nb;q=0.1")),
            Lang::Nb
        );
        assert_eq!(
            Lang::from_accept_language(Some("sv, en-US;q=0.7")),
            Lang::En
        );
        assert_eq!(Lang::from_accept_language(Some("*")), Lang::Nb);
        assert_eq!(Lang::from_accept_language(Some("en;q=abc")), Lang::Nb);
    }
}

//! Text a person reads as it is: the one rule for names that others see (product names,
//! versions, organisation names, usernames, in the markedsplass) and for the file names printed in
//! reproduce commands ([`crate::command`]).
//!
//! Plain text has no control characters and no characters that change how the text around them
//! shows while being invisible themselves: the bidirectional embeddings, overrides, isolates and
//! marks (a U+202E makes `exe.txt` show as `txt.exe`), and the zero-width spaces, joiners and
//! hyphens. Multi-line text ([`Lines::Many`]) may also have line breaks and tabs.
//!
//! ```
//! use sandkasse_suite::text::{Lines, Unplain, check_plain};
//! assert_eq!(check_plain("Journal Pluss 2.0", Lines::One), Ok(()));
//! assert_eq!(
//!     check_plain("Journal\u{202e}ssulP", Lines::One),
//!     Err(Unplain::Invisible('\u{202e}'))
//! );
//! assert_eq!(check_plain("linje 1\nlinje 2", Lines::Many), Ok(()));
//! assert_eq!(check_plain("linje 1\nlinje 2", Lines::One), Err(Unplain::Control('\n')));
//! ```

/// Characters that change how text is shown without being visible themselves: the bidirectional
/// embeddings, overrides, isolates and marks, the zero-width spaces, joiners and invisible
/// operators, the soft hyphen, the line and paragraph separators, and the byte-order mark.
/// `char` has no query for the Unicode `Cf` category, so the ones that can disguise text are
/// listed here.
pub const DISGUISING: &[char] = &[
    '\u{00ad}', '\u{061c}', '\u{180e}', '\u{200b}', '\u{200c}', '\u{200d}', '\u{200e}', '\u{200f}',
    '\u{2028}', '\u{2029}', '\u{202a}', '\u{202b}', '\u{202c}', '\u{202d}', '\u{202e}', '\u{2060}',
    '\u{2061}', '\u{2062}', '\u{2063}', '\u{2064}', '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}',
    '\u{feff}',
];

/// Whether text is one line or may have several.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lines {
    /// A name: no control character at all.
    One,
    /// A description: line breaks (`\n`, `\r`) and tabs allowed, no other control character.
    Many,
}

/// The first character that keeps text from being plain, with its code point in the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Unplain {
    #[error(
        "kontrolltegnet U+{:04X} er ikke tillatt / the control character U+{:04X} is not allowed",
        u32::from(*.0),
        u32::from(*.0)
    )]
    Control(char),
    #[error(
        "det usynlige eller retningsendrende tegnet U+{:04X} er ikke tillatt / the invisible or direction-changing character U+{:04X} is not allowed",
        u32::from(*.0),
        u32::from(*.0)
    )]
    Invisible(char),
}

/// Checks that `text` shows as what it is; names the first character that does not.
pub fn check_plain(text: &str, lines: Lines) -> Result<(), Unplain> {
    for c in text.chars() {
        if c.is_control() && !(lines == Lines::Many && matches!(c, '\n' | '\r' | '\t')) {
            return Err(Unplain::Control(c));
        }
        if DISGUISING.contains(&c) {
            return Err(Unplain::Invisible(c));
        }
    }
    Ok(())
}

/// Whether `text` is a plain one-line text.
pub fn is_plain_text(text: &str) -> bool {
    check_plain(text, Lines::One).is_ok()
}

/// The side of a `bokmål / English` text — the form of the suite's reasons (and of the texts the
/// markedsplass stores) — that a reader of one language reads: `english` or bokmål. A text
/// without the separator is returned as it is. Composed texts hold one separator per part
/// (`A / A': B / B'`, as in "nothing to judge: why"), and a leading identifier belongs to both
/// sides (`check-id: bokmål / English`); a text that is neither form is returned whole rather
/// than cut wrongly.
///
/// ```
/// use sandkasse_suite::text::one_side;
/// let composed = "ingenting å vurdere / nothing to judge: ingen søk / no search";
/// assert_eq!(one_side(composed, false), "ingenting å vurdere: ingen søk");
/// assert_eq!(one_side(composed, true), "nothing to judge: no search");
/// let check = "returns-forbidden: steg 0 skulle feile / step 0 should fail";
/// assert_eq!(one_side(check, true), "returns-forbidden: step 0 should fail");
/// assert_eq!(one_side("høyst 500000000 fuel per kall", true), "høyst 500000000 fuel per kall");
/// ```
pub fn one_side(text: &str, english: bool) -> std::borrow::Cow<'_, str> {
    use std::borrow::Cow;
    let parts: Vec<&str> = text.split(" / ").collect();
    let [first, middle @ .., last] = parts.as_slice() else {
        return Cow::Borrowed(text);
    };
    if parts.len() == 1 {
        return Cow::Borrowed(text);
    }
    // Each middle part is the English of one piece and the bokmål of the next: "A': B".
    let mut nb = vec![*first];
    let mut en = Vec::new();
    for piece in middle {
        let Some((english, bokmal)) = piece.split_once(": ") else {
            return Cow::Borrowed(text);
        };
        en.push(english);
        nb.push(bokmal);
    }
    en.push(last);
    if !english {
        return Cow::Owned(nb.join(": "));
    }
    let english = en.join(": ");
    // "id: bokmål / English": the identifier is not a word of either language.
    match first.split_once(": ") {
        Some((id, _))
            if !id.is_empty() && !id.contains(char::is_whitespace) && !english.starts_with(id) =>
        {
            Cow::Owned(format!("{id}: {english}"))
        }
        _ => Cow::Owned(english),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_with_hidden_characters_are_named() {
        for (text, expected) in [
            ("a\u{202e}b", Unplain::Invisible('\u{202e}')),
            ("a\u{2066}b\u{2069}", Unplain::Invisible('\u{2066}')),
            ("\u{200f}a", Unplain::Invisible('\u{200f}')),
            ("a\u{061c}", Unplain::Invisible('\u{061c}')),
            ("a\u{200b}b", Unplain::Invisible('\u{200b}')),
            ("a\u{feff}", Unplain::Invisible('\u{feff}')),
            ("a\u{1b}[2J", Unplain::Control('\u{1b}')),
            ("a\u{7f}", Unplain::Control('\u{7f}')),
            ("a\u{85}", Unplain::Control('\u{85}')),
            ("a\0", Unplain::Control('\0')),
            ("a\tb", Unplain::Control('\t')),
        ] {
            assert_eq!(check_plain(text, Lines::One), Err(expected), "{text:?}");
        }
        let message = Unplain::Invisible('\u{202e}').to_string();
        assert!(
            message.contains("U+202E") && message.contains(" / "),
            "{message}"
        );
        assert!(
            !message.contains('\u{202e}'),
            "the message shows the code point, not the char"
        );
    }

    #[test]
    fn ordinary_text_passes() {
        for text in [
            "Leverandør A AS",
            "Æøå Journal 2.0-rc.1",
            "محمد",
            "日本語",
            "emoji 👍",
            "",
        ] {
            assert_eq!(check_plain(text, Lines::One), Ok(()), "{text:?}");
        }
        assert_eq!(check_plain("a\r\n\tb", Lines::Many), Ok(()));
        assert_eq!(
            check_plain("a\n\u{202e}b", Lines::Many),
            Err(Unplain::Invisible('\u{202e}'))
        );
        assert_eq!(
            check_plain("a\u{1b}b", Lines::Many),
            Err(Unplain::Control('\u{1b}'))
        );
    }
}

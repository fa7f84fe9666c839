//! Thresholds are stated: every number a check uses appears in its vilkår's text, in bokmål and
//! in English, so a vendor reads the limit before the report applies it.

use sandkasse_suite::model::Assertion;

use super::suite;

/// The numbers of an assertion, as a vendor may read them written out.
fn numbers(a: &Assertion) -> Vec<u64> {
    match a {
        Assertion::RetriesBounded { max } | Assertion::RequestsWithin { max } => vec![*max as u64],
        Assertion::NoOverFetching {
            max_unshown_percent,
        } => vec![u64::from(*max_unshown_percent)],
        Assertion::FuelWithin { max } => vec![*max],
        Assertion::MemoryWithin { max_bytes } | Assertion::ComponentSizeWithin { max_bytes } => {
            vec![*max_bytes]
        }
        _ => Vec::new(),
    }
}

/// `n` as it may be written: `500000000`, `500 000 000`, `500,000,000`, or `64 MiB`.
fn spellings(n: u64) -> Vec<String> {
    let digits = n.to_string();
    let grouped = |sep: char| {
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(sep);
            }
            out.push(c);
        }
        out
    };
    let mut s = vec![digits.clone(), grouped(' '), grouped(',')];
    if n >= 1 << 20 && n.is_multiple_of(1 << 20) {
        s.push(format!("{} MiB", n >> 20));
    }
    s
}

#[test]
fn every_threshold_a_check_uses_is_in_its_vilkar_text_in_both_languages() {
    let mut missing = Vec::new();
    for v in &suite().vilkar {
        let (nb, en) = (
            v.text.nb.replace('\u{a0}', " "),
            v.text.en.replace('\u{a0}', " "),
        );
        for c in &v.checks {
            for n in numbers(&c.assert) {
                // As a number of its own: `3` in "403" does not count.
                let said = |text: &str| {
                    spellings(n).iter().any(|s| {
                        text.match_indices(s.as_str()).any(|(at, _)| {
                            let before = text[..at].chars().next_back();
                            let after = text[at + s.len()..].chars().next();
                            !before.is_some_and(|c| c.is_ascii_digit())
                                && !after.is_some_and(|c| c.is_ascii_digit())
                        })
                    })
                };
                if !said(&nb) || !said(&en) {
                    missing.push(format!("{} {}: {n}", v.id, c.id));
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "thresholds not stated in the vilkår text:\n{}",
        missing.join("\n")
    );
}

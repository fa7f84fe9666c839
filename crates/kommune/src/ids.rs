//! National identifiers, generated to be provably synthetic and checked by their checksums.
//!
//! | identifier | format | synthetic marker | checksum |
//! |---|---|---|---|
//! | fødselsnummer | `DDMMYYIIIKK` | month + 80 (Tenor convention) | mod-11, two control digits |
//! | D-nummer | `DDMMYYIIIKK` | day + 40 (D-nummer) and month + 80 | mod-11, two control digits |
//! | HPR-nummer | 9 digits, first digit 9 | range 900 000 000–999 999 999, far above every real HPR number | mod-11 control digit (a sandkasse convention) |
//! | organisasjonsnummer | 9 digits, first digit 3 | real organisasjonsnummer begin with 8 or 9 | mod-11 control digit (weights 3 2 7 6 5 4 3 2) |
//!
//! ```
//! use sandkasse_kommune::ids::{self, Gender};
//! let fnr = ids::fnr(1943, 5, 17, 123).unwrap_or_else(|| ids::fnr(1943, 5, 17, 124).unwrap());
//! assert!(ids::is_valid_fnr(&fnr) && ids::is_synthetic_fnr(&fnr));
//! assert_eq!(&fnr[2..4], "85", "Tenor: month + 80");
//! assert_eq!(ids::gender_of(&fnr), Some(if fnr.as_bytes()[8] % 2 == 0 { Gender::Female } else { Gender::Male }));
//! ```

const K1: [u32; 9] = [3, 7, 6, 1, 8, 9, 4, 5, 2];
const K2: [u32; 10] = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2];
const ORGNR_WEIGHTS: [u32; 8] = [3, 2, 7, 6, 5, 4, 3, 2];
const HPR_WEIGHTS: [u32; 8] = [2, 3, 4, 5, 6, 7, 2, 3];

/// Legal gender as encoded in the third digit of the individnummer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gender {
    Female,
    Male,
}

fn digits(s: &str) -> Option<Vec<u32>> {
    s.chars().map(|c| c.to_digit(10)).collect()
}

/// Mod-11 control digit with the given weights; `None` when the remainder gives 10 (no valid digit).
fn mod11(digits: &[u32], weights: &[u32]) -> Option<u32> {
    let sum: u32 = digits.iter().zip(weights).map(|(d, w)| d * w).sum();
    match 11 - sum % 11 {
        11 => Some(0),
        10 => None,
        k => Some(k),
    }
}

fn with_control_digits(first9: &str) -> Option<String> {
    let d = digits(first9)?;
    let k1 = mod11(&d, &K1)?;
    let mut d10 = d;
    d10.push(k1);
    let k2 = mod11(&d10, &K2)?;
    Some(format!("{first9}{k1}{k2}"))
}

/// Individnummer range for a birth year, as Folkeregisteret assigns them.
pub fn individnummer_range(year: i32) -> Option<std::ops::RangeInclusive<u32>> {
    match year {
        1854..=1899 => Some(500..=749),
        1900..=1999 => Some(0..=499),
        2000..=2039 => Some(500..=999),
        _ => None,
    }
}

/// A synthetic fødselsnummer (Tenor: month + 80) for a birth date and individnummer.
/// `None` when the individnummer gives no valid control digit or is outside the year's range.
pub fn fnr(year: i32, month: u32, day: u32, individnummer: u32) -> Option<String> {
    if !individnummer_range(year)?.contains(&individnummer) {
        return None;
    }
    with_control_digits(&format!(
        "{day:02}{:02}{:02}{individnummer:03}",
        month + 80,
        year % 100
    ))
}

/// A synthetic D-nummer (day + 40, month + 80).
pub fn dnr(year: i32, month: u32, day: u32, individnummer: u32) -> Option<String> {
    if !individnummer_range(year)?.contains(&individnummer) {
        return None;
    }
    with_control_digits(&format!(
        "{:02}{:02}{:02}{individnummer:03}",
        day + 40,
        month + 80,
        year % 100
    ))
}

fn valid_11(s: &str) -> bool {
    s.len() == 11
        && s.bytes().all(|b| b.is_ascii_digit())
        && with_control_digits(&s[..9]).as_deref() == Some(s)
}

fn day_month(s: &str) -> (u32, u32) {
    let n = |r: std::ops::Range<usize>| s[r].parse::<u32>().unwrap_or(0);
    (n(0..2), n(2..4))
}

/// Checksum and structure of a fødselsnummer (real or synthetic).
pub fn is_valid_fnr(s: &str) -> bool {
    if !valid_11(s) {
        return false;
    }
    let (day, month) = day_month(s);
    let month = if month > 80 {
        month - 80
    } else if month > 40 {
        month - 40
    } else {
        month
    };
    (1..=31).contains(&day) && (1..=12).contains(&month)
}

/// Checksum and structure of a D-nummer (day + 40).
pub fn is_valid_dnr(s: &str) -> bool {
    if !valid_11(s) {
        return false;
    }
    let (day, month) = day_month(s);
    let month = if month > 80 { month - 80 } else { month };
    (41..=71).contains(&day) && (1..=12).contains(&month)
}

/// Whether a fødselsnummer or D-nummer is marked synthetic (month + 80).
pub fn is_synthetic_fnr(s: &str) -> bool {
    s.len() == 11 && (81..=92).contains(&day_month(s).1)
}

/// Gender encoded in a fødselsnummer or D-nummer.
pub fn gender_of(s: &str) -> Option<Gender> {
    let d = s.as_bytes().get(8)?;
    d.is_ascii_digit()
        .then_some(if (d - b'0').is_multiple_of(2) {
            Gender::Female
        } else {
            Gender::Male
        })
}

/// A synthetic HPR-nummer from a serial: `9` + 7 serial digits + control digit.
/// `None` when the serial gives no valid control digit (skip to the next serial).
pub fn hpr(serial: u32) -> Option<String> {
    let base = format!("9{:07}", serial % 10_000_000);
    let k = mod11(&digits(&base)?, &HPR_WEIGHTS)?;
    Some(format!("{base}{k}"))
}

/// Checksum of a sandkasse HPR-nummer.
pub fn is_valid_hpr(s: &str) -> bool {
    s.len() == 9
        && s.bytes().all(|b| b.is_ascii_digit())
        && s.starts_with('9')
        && hpr(s[1..8].parse().unwrap_or(u32::MAX)).as_deref() == Some(s)
}

/// A synthetic organisasjonsnummer from a serial: `3` + 7 serial digits + control digit.
pub fn orgnr(serial: u32) -> Option<String> {
    let base = format!("3{:07}", serial % 10_000_000);
    let k = mod11(&digits(&base)?, &ORGNR_WEIGHTS)?;
    Some(format!("{base}{k}"))
}

/// Checksum of an organisasjonsnummer (real or synthetic).
pub fn is_valid_orgnr(s: &str) -> bool {
    s.len() == 9
        && s.bytes().all(|b| b.is_ascii_digit())
        && digits(&s[..8]).and_then(|d| mod11(&d, &ORGNR_WEIGHTS)) == s[8..].parse().ok()
}

/// Whether an organisasjonsnummer is in the synthetic range (first digit 3).
pub fn is_synthetic_orgnr(s: &str) -> bool {
    s.starts_with('3')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_digits_match_a_published_example() {
        // A commonly published *real-format* test number (01010750160 is not synthetic):
        // checks the mod-11 arithmetic itself against an independent source.
        assert!(valid_11("01010750160"));
        assert!(!valid_11("01010750161"));
    }

    #[test]
    fn fnr_dnr_roundtrip() {
        let f = (0..=499).find_map(|i| fnr(1938, 2, 28, i)).unwrap();
        assert!(is_valid_fnr(&f) && is_synthetic_fnr(&f) && !is_valid_dnr(&f));
        assert_eq!(&f[..6], "288238");
        let d = (500..=999).find_map(|i| dnr(2004, 12, 31, i)).unwrap();
        assert!(is_valid_dnr(&d) && is_synthetic_fnr(&d) && !is_valid_fnr(&d));
        assert_eq!(&d[..6], "719204");
        assert_eq!(
            fnr(1950, 1, 1, 600),
            None,
            "600 is not an individnummer of 1950"
        );
    }

    #[test]
    fn some_individnummer_have_no_control_digit() {
        let none = (0..=499).filter(|&i| fnr(1970, 6, 15, i).is_none()).count();
        assert!(none > 0 && none < 300, "{none}");
    }

    #[test]
    fn hpr_and_orgnr() {
        let h = (1..100).find_map(hpr).unwrap();
        assert!(is_valid_hpr(&h) && h.starts_with('9'));
        let mut wrong = h.clone().into_bytes();
        wrong[8] = if wrong[8] == b'0' { b'1' } else { b'0' };
        assert!(!is_valid_hpr(std::str::from_utf8(&wrong).unwrap()));
        let o = (1..100).find_map(orgnr).unwrap();
        assert!(is_valid_orgnr(&o) && is_synthetic_orgnr(&o));
        // Brønnøysundregistrene's own organisasjonsnummer, a real published number.
        assert!(is_valid_orgnr("974760673"));
        assert!(!is_valid_orgnr("974760674"));
    }
}

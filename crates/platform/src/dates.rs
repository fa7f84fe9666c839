//! FHIR dates as ranges, and the comparison prefixes of date search.
//!
//! Every FHIR `date`, `dateTime`, `instant` or `Period` is an interval of milliseconds since the
//! Unix epoch, `[start, end)`: `2024` covers the whole year, `2024-05-01` the whole day,
//! `2024-05-01T10:00:00Z` one second. Values without a time zone are read as UTC (documented in
//! `docs/platform.md`). A search value matches by the rules of FHIR R4 search (§3.1.1.4.3):
//!
//! ```
//! use sandkasse_platform::dates::{DateRange, Prefix, parse_search_value};
//! let (prefix, range) = parse_search_value("ge2024-05").unwrap();
//! assert_eq!(prefix, Prefix::Ge);
//! let target = DateRange::parse("2024-05-17T08:30:00Z").unwrap();
//! assert!(prefix.matches(&range, &target));
//! assert!(!Prefix::Lt.matches(&range, &target));
//! ```

use jiff::{Span, civil, tz::TimeZone};

/// A half-open interval `[start, end)` in milliseconds since the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateRange {
    pub start: i64,
    pub end: i64,
}

impl DateRange {
    /// Everything: a period with neither start nor end.
    pub const ALL: DateRange = DateRange {
        start: i64::MIN,
        end: i64::MAX,
    };

    /// Parses a FHIR `date`, `dateTime` or `instant` (and the partial forms search allows, e.g.
    /// `2024-05-01T10:00`).
    pub fn parse(text: &str) -> Option<DateRange> {
        parse(text)
    }

    /// The range of a FHIR `Period` given its optional `start` and `end` texts. A missing
    /// bound is open.
    pub fn period(start: Option<&str>, end: Option<&str>) -> Option<DateRange> {
        let start = match start {
            Some(s) => parse(s)?.start,
            None => i64::MIN,
        };
        let end = match end {
            Some(e) => parse(e)?.end,
            None => i64::MAX,
        };
        Some(DateRange {
            start,
            end: end.max(start),
        })
    }
}

/// A date search prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prefix {
    Eq,
    Ne,
    Gt,
    Lt,
    Ge,
    Le,
    /// Starts after.
    Sa,
    /// Ends before.
    Eb,
}

impl Prefix {
    /// Whether a resource whose date is `target` matches the search value `value` with this prefix.
    pub fn matches(self, value: &DateRange, target: &DateRange) -> bool {
        let eq = target.start >= value.start && target.end <= value.end;
        match self {
            Prefix::Eq => eq,
            Prefix::Ne => !eq,
            Prefix::Gt => target.end > value.end,
            Prefix::Lt => target.start < value.start,
            Prefix::Ge => target.end > value.end || eq,
            Prefix::Le => target.start < value.start || eq,
            Prefix::Sa => target.start >= value.end,
            Prefix::Eb => target.end <= value.start,
        }
    }
}

/// Splits a date search value into its prefix (default `eq`) and range.
pub fn parse_search_value(text: &str) -> Option<(Prefix, DateRange)> {
    let prefixes = [
        ("eq", Prefix::Eq),
        ("ne", Prefix::Ne),
        ("gt", Prefix::Gt),
        ("lt", Prefix::Lt),
        ("ge", Prefix::Ge),
        ("le", Prefix::Le),
        ("sa", Prefix::Sa),
        ("eb", Prefix::Eb),
    ];
    let (prefix, rest) = prefixes
        .iter()
        .find_map(|(p, v)| text.strip_prefix(p).map(|rest| (*v, rest)))
        .unwrap_or((Prefix::Eq, text));
    Some((prefix, parse(rest)?))
}

fn digits(s: &str, n: usize) -> Option<i32> {
    (s.len() == n && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

fn ms(ts: jiff::Timestamp) -> i64 {
    ts.as_millisecond()
}

fn day_start(date: civil::Date) -> Option<i64> {
    Some(ms(date.to_zoned(TimeZone::UTC).ok()?.timestamp()))
}

fn parse(text: &str) -> Option<DateRange> {
    let (date_part, time_part) = match text.split_once('T') {
        Some((d, t)) => (d, Some(t)),
        None => (text, None),
    };
    let mut fields = date_part.split('-');
    let year = digits(fields.next()?, 4)?;
    let month = match fields.next() {
        Some(m) => Some(digits(m, 2)?),
        None => None,
    };
    let day = match fields.next() {
        Some(d) => Some(digits(d, 2)?),
        None => None,
    };
    if fields.next().is_some() {
        return None;
    }
    let year = i16::try_from(year).ok()?;
    let Some(time) = time_part else {
        return match (month, day) {
            (None, _) => {
                let start = civil::Date::new(year, 1, 1).ok()?;
                Some(DateRange {
                    start: day_start(start)?,
                    end: day_start(start.checked_add(Span::new().years(1)).ok()?)?,
                })
            }
            (Some(m), None) => {
                let start = civil::Date::new(year, i8::try_from(m).ok()?, 1).ok()?;
                Some(DateRange {
                    start: day_start(start)?,
                    end: day_start(start.checked_add(Span::new().months(1)).ok()?)?,
                })
            }
            (Some(m), Some(d)) => {
                let start =
                    civil::Date::new(year, i8::try_from(m).ok()?, i8::try_from(d).ok()?).ok()?;
                Some(DateRange {
                    start: day_start(start)?,
                    end: day_start(start.tomorrow().ok()?)?,
                })
            }
        };
    };
    let (month, day) = (month?, day?);
    let date = civil::Date::new(year, i8::try_from(month).ok()?, i8::try_from(day).ok()?).ok()?;
    // Split off the zone: `Z`, `+hh:mm` or `-hh:mm`; none means UTC.
    let (clock, offset_secs) = if let Some(c) = time.strip_suffix('Z') {
        (c, 0)
    } else if let Some(pos) = time.rfind(['+', '-']) {
        let (c, zone) = time.split_at(pos);
        let sign = if zone.starts_with('-') { -1 } else { 1 };
        let (h, m) = zone[1..].split_once(':')?;
        (c, sign * (digits(h, 2)? * 3600 + digits(m, 2)? * 60))
    } else {
        (time, 0)
    };
    let mut parts = clock.split(':');
    let hour = digits(parts.next()?, 2)?;
    let minute = digits(parts.next()?, 2)?;
    let (second, frac, precision_ms) = match parts.next() {
        None => (0, 0, 60_000),
        Some(s) => match s.split_once('.') {
            None => (digits(s, 2)?, 0, 1000),
            Some((whole, frac)) => {
                if frac.is_empty() || !frac.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                let mut millis = frac.chars().take(3).collect::<String>();
                while millis.len() < 3 {
                    millis.push('0');
                }
                (digits(whole, 2)?, millis.parse::<i64>().ok()?, 1)
            }
        },
    };
    if parts.next().is_some() || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let start = day_start(date)?
        + i64::from(hour) * 3_600_000
        + i64::from(minute) * 60_000
        + i64::from(second) * 1000
        + frac
        - i64::from(offset_secs) * 1000;
    Some(DateRange {
        start,
        end: start + precision_ms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> DateRange {
        DateRange::parse(s).unwrap_or_else(|| panic!("{s} parses"))
    }

    #[test]
    fn precision_gives_the_range() {
        assert_eq!(r("2024").end - r("2024").start, 366 * 86_400_000);
        assert_eq!(r("2024-02").end - r("2024-02").start, 29 * 86_400_000);
        assert_eq!(r("2024-02-03").end - r("2024-02-03").start, 86_400_000);
        assert_eq!(
            r("2024-02-03T10:00:00Z").end - r("2024-02-03T10:00:00Z").start,
            1000
        );
        assert_eq!(
            r("2024-02-03T10:00:00.5Z").end - r("2024-02-03T10:00:00.5Z").start,
            1
        );
        assert_eq!(r("2024-02-03T11:00:00+01:00"), r("2024-02-03T10:00:00Z"));
        assert_eq!(r("2024-02-03T10:00").start, r("2024-02-03T10:00:00Z").start);
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            "",
            "24",
            "2024-13",
            "2024-02-30",
            "2024-1-01",
            "2024-02-03T25:00:00Z",
            "yesterday",
            "2024-02-03T10",
        ] {
            assert!(DateRange::parse(bad).is_none(), "{bad}");
        }
        assert!(parse_search_value("xx2024").is_none());
    }

    #[test]
    fn prefixes_follow_fhir() {
        let day = r("2024-05-17");
        let inside = r("2024-05-17T08:00:00Z");
        let before = r("2024-05-16T23:00:00Z");
        let after = r("2024-05-18T00:00:00Z");
        assert!(Prefix::Eq.matches(&day, &inside));
        assert!(!Prefix::Eq.matches(&day, &before));
        assert!(Prefix::Ge.matches(&day, &inside) && Prefix::Ge.matches(&day, &after));
        assert!(!Prefix::Ge.matches(&day, &before));
        assert!(Prefix::Le.matches(&day, &inside) && Prefix::Le.matches(&day, &before));
        assert!(!Prefix::Le.matches(&day, &after));
        assert!(Prefix::Gt.matches(&day, &after) && !Prefix::Gt.matches(&day, &inside));
        assert!(Prefix::Lt.matches(&day, &before) && !Prefix::Lt.matches(&day, &inside));
        assert!(Prefix::Ne.matches(&day, &after) && !Prefix::Ne.matches(&day, &inside));
        let open = DateRange::period(Some("2024-01-01"), None).unwrap();
        assert!(
            Prefix::Ge.matches(&day, &open),
            "an ongoing period reaches past any date"
        );
        assert!(Prefix::Sa.matches(&r("2023"), &open) && Prefix::Eb.matches(&r("2025"), &before));
    }
}

//! A report within a byte budget: what a component produces (its results, log lines, output,
//! HTTP bodies) cannot make a report, a database row or a page larger than the budget.
//!
//! [`bound`] leaves a report that fits unchanged. One that does not is cut by this rule, the
//! same for every report, so the result is deterministic:
//!
//! 1. **Evidence is shortened, the verdict never.** Only text the component influenced is cut:
//!    the calls' evidence in `scenarios[].calls`, `component.info`, the checks' `evidence`
//!    lines and the reasons (never below [`REASON_FLOOR`] bytes). Ids, outcomes, the score, the
//!    summary and the reproduce commands are kept whole.
//! 2. **Strings are cut to a limit, lists and objects to their first items.** The limits start at
//!    1/32 of the budget per string and [`FIRST_ITEM_LIMIT`] items per list, and are halved
//!    together until the report fits or they reach [`MIN_STRING`] bytes and [`MIN_ITEMS`] items.
//!    A cut string ends in [`MARK`] and the number of bytes cut; a cut list ends in one string
//!    saying how many items were left out; nesting deeper than [`MAX_DEPTH`] becomes one such
//!    string.
//! 3. **If it still does not fit, each call keeps only its summary**: `call`, `class`,
//!    `fuel_used`, `peak_memory_bytes`.
//!
//! Every call that was cut carries `truncated`: `strings_cut`, `bytes_cut`, `items_left_out`
//! and, after step 3, `evidence_left_out: true`. Cutting happens before signing, so a bounded
//! report verifies like any other (`docs/report-format.md`, "Size bound").
//!
//! The rule is written over JSON, the form the budget counts: a call is cut as its JSON and read
//! back as a [`Call`], which holds every form the rule leaves (`report/call.rs`).
//!
//! ```
//! # fn demo(mut report: sandkasse_suite::report::Report) {
//! let cut = sandkasse_suite::bound::bound(&mut report, 1 << 20);
//! assert!(cut.final_bytes <= 1 << 20 || cut.evidence_left_out);
//! # }
//! ```

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::report::call::{Summary, left_out_count, left_out_note};
use crate::report::{Call, Report};

/// What a cut string ends with (before the count of bytes cut).
pub const MARK: &str = " … [avkortet / cut";
/// The shortest a string is cut to, bytes.
pub const MIN_STRING: usize = 64;
/// Items kept per list or object in the first pass.
pub const FIRST_ITEM_LIMIT: usize = 64;
/// The fewest items a list or object is cut to.
pub const MIN_ITEMS: usize = 4;
/// Nesting below this depth inside a call is left out.
pub const MAX_DEPTH: usize = 16;
/// Reasons are never cut below this many bytes: they say why a check failed.
pub const REASON_FLOOR: usize = 1024;

/// What [`bound`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Cut {
    /// Compact JSON bytes before and after.
    pub original_bytes: usize,
    pub final_bytes: usize,
    /// Strings shortened, bytes removed from them, list or object items left out.
    pub strings_cut: usize,
    pub bytes_cut: usize,
    pub items_left_out: usize,
    /// Whether step 3 ran: the calls kept only their summaries.
    pub evidence_left_out: bool,
}

impl Cut {
    /// Whether anything was cut.
    pub fn any(&self) -> bool {
        self.original_bytes != self.final_bytes
    }
}

/// The size of `value` as compact JSON, without building the text.
pub fn json_len(value: &impl Serialize) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    // Serialising a report cannot fail: it has no maps with non-string keys.
    let _ = serde_json::to_writer(&mut count, value);
    count.0
}

/// Bounds `report` to `budget` bytes of compact JSON by the module's rule.
pub fn bound(report: &mut Report, budget: usize) -> Cut {
    let original_bytes = json_len(report);
    let mut cut = Cut {
        original_bytes,
        final_bytes: original_bytes,
        ..Cut::default()
    };
    if original_bytes <= budget {
        return cut;
    }
    let mut limits = Limits {
        string: (budget / 32).max(MIN_STRING),
        items: FIRST_ITEM_LIMIT,
    };
    loop {
        shorten(report, limits, &mut cut);
        cut.final_bytes = json_len(report);
        if cut.final_bytes <= budget || limits.is_smallest() {
            break;
        }
        limits = limits.halved();
    }
    if cut.final_bytes > budget {
        for call in report.scenarios.iter_mut().flat_map(|s| &mut s.calls) {
            summarise(call);
        }
        cut.evidence_left_out = true;
        cut.final_bytes = json_len(report);
    }
    cut
}

#[derive(Debug, Clone, Copy)]
struct Limits {
    string: usize,
    items: usize,
}

impl Limits {
    fn is_smallest(self) -> bool {
        self.string == MIN_STRING && self.items == MIN_ITEMS
    }

    fn halved(self) -> Limits {
        Limits {
            string: (self.string / 2).max(MIN_STRING),
            items: (self.items / 2).max(MIN_ITEMS),
        }
    }
}

/// Counts of one call's cuts (accumulated over passes).
#[derive(Debug, Default, Clone, Copy)]
struct Stats {
    strings_cut: usize,
    bytes_cut: usize,
    items_left_out: usize,
}

impl Stats {
    fn add_to(self, cut: &mut Cut) {
        cut.strings_cut += self.strings_cut;
        cut.bytes_cut += self.bytes_cut;
        cut.items_left_out += self.items_left_out;
    }

    fn is_empty(self) -> bool {
        self.strings_cut == 0 && self.items_left_out == 0
    }
}

fn shorten(report: &mut Report, limits: Limits, cut: &mut Cut) {
    for call in report.scenarios.iter_mut().flat_map(|s| &mut s.calls) {
        let mut stats = Stats::default();
        let Ok(Value::Object(mut fields)) = serde_json::to_value(&*call) else {
            unreachable!("a call serialises to an object")
        };
        for (key, value) in fields.iter_mut() {
            if key != "truncated" {
                shorten_value(value, limits, 1, &mut stats);
            }
        }
        // Counted only when a string or item was cut for the first time (a string cut again in
        // a later pass adds bytes but is not recorded).
        if !stats.is_empty() {
            record(&mut fields, stats);
        }
        // Unchanged unless something was cut (see `shorten_value`).
        if stats.bytes_cut > 0 || !stats.is_empty() {
            match serde_json::from_value::<Call>(Value::Object(fields)) {
                Ok(shortened) => *call = shortened,
                // Every cut of this rule is a form `Call` holds (`tests/all/golden.rs` proves the
                // bytes); were one not, the call would keep its summary rather than fail the report.
                Err(e) => {
                    debug_assert!(false, "a cut call reads back: {e}");
                    summarise(call);
                }
            }
        }
        stats.add_to(cut);
    }
    let mut stats = Stats::default();
    if let Some(info) = &mut report.component.info {
        shorten_value(info, limits, 1, &mut stats);
    }
    let reason = limits.string.max(REASON_FLOOR);
    for v in &mut report.vilkar {
        shorten_string(&mut v.reason, reason, &mut stats);
        for c in &mut v.checks {
            shorten_string(&mut c.reason, reason, &mut stats);
            shorten_list(&mut c.evidence, limits.items, &mut stats);
            for line in &mut c.evidence {
                shorten_string(line, limits.string, &mut stats);
            }
        }
    }
    stats.add_to(cut);
}

/// Adds `stats` to the call's `truncated` counts.
fn record(fields: &mut Map<String, Value>, stats: Stats) {
    let before = |fields: &Map<String, Value>, key: &str| {
        fields
            .get("truncated")
            .and_then(|t| t.get(key))
            .and_then(Value::as_u64)
            .unwrap_or(0) as usize
    };
    let counts = json!({
        "strings_cut": before(fields, "strings_cut") + stats.strings_cut,
        "bytes_cut": before(fields, "bytes_cut") + stats.bytes_cut,
        "items_left_out": before(fields, "items_left_out") + stats.items_left_out,
    });
    fields.insert("truncated".to_owned(), counts);
}

fn shorten_value(value: &mut Value, limits: Limits, depth: usize, stats: &mut Stats) {
    if depth > MAX_DEPTH && matches!(value, Value::Array(_) | Value::Object(_)) {
        let items = match value {
            Value::Array(a) => a.len(),
            Value::Object(o) => o.len(),
            _ => 0,
        };
        stats.items_left_out += items;
        *value = Value::String(left_out(items));
        return;
    }
    match value {
        Value::String(s) => shorten_string(s, limits.string, stats),
        Value::Array(items) => {
            shorten_list(items, limits.items, stats);
            for item in items {
                shorten_value(item, limits, depth + 1, stats);
            }
        }
        Value::Object(fields) => {
            let earlier = fields
                .shift_remove(NOTE_KEY)
                .and_then(|n| n.as_str().and_then(left_out_count))
                .unwrap_or(0);
            // Keys are text the component chose too: an entry with an over-long key goes.
            let long: Vec<String> = fields
                .keys()
                .filter(|k| k.len() > limits.string)
                .cloned()
                .collect();
            for key in &long {
                fields.shift_remove(key);
            }
            let over = fields.len().saturating_sub(limits.items);
            if over > 0 {
                let kept: Map<String, Value> = std::mem::take(fields)
                    .into_iter()
                    .take(limits.items)
                    .collect();
                *fields = kept;
            }
            let dropped = long.len() + over;
            stats.items_left_out += dropped;
            for value in fields.values_mut() {
                shorten_value(value, limits, depth + 1, stats);
            }
            if earlier + dropped > 0 {
                fields.insert(
                    NOTE_KEY.to_owned(),
                    Value::String(left_out(earlier + dropped)),
                );
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// Keeps the first `limit` items of a list of JSON values or strings; the last one kept says
/// how many were left out in all (a note of an earlier pass is replaced, not nested).
fn shorten_list<T: From<String> + Note>(items: &mut Vec<T>, limit: usize, stats: &mut Stats) {
    let earlier = match items.last().and_then(Note::left_out) {
        Some(n) if items.len() > limit => {
            items.pop();
            n
        }
        _ => 0,
    };
    if earlier == 0 && items.len() <= limit {
        return;
    }
    let keep = limit - 1;
    let dropped = items.len().saturating_sub(keep);
    items.truncate(keep);
    stats.items_left_out += dropped;
    items.push(T::from(left_out(earlier + dropped)));
}

/// The key of the note in an object whose entries were left out.
const NOTE_KEY: &str = "…";

fn left_out(items: usize) -> String {
    left_out_note(items)
}

/// An item that may be a note of items left out.
trait Note {
    fn left_out(&self) -> Option<usize>;
}

impl Note for String {
    fn left_out(&self) -> Option<usize> {
        left_out_count(self)
    }
}

impl Note for Value {
    fn left_out(&self) -> Option<usize> {
        self.as_str().and_then(left_out_count)
    }
}

/// Cuts `s` to at most `limit` bytes of its own text (at a character boundary) plus the mark.
fn shorten_string(s: &mut String, limit: usize, stats: &mut Stats) {
    let (text, earlier) = match s.find(MARK) {
        Some(at) => (at, cut_bytes(&s[at..])),
        None => (s.len(), None),
    };
    if text <= limit {
        return;
    }
    let keep = s.floor_char_boundary(limit);
    let removed = text - keep;
    if earlier.is_none() {
        stats.strings_cut += 1;
    }
    stats.bytes_cut += removed;
    let total = earlier.unwrap_or(0) + removed;
    s.truncate(keep);
    s.push_str(&format!("{MARK} {total} B]"));
}

/// The byte count in a mark written by [`shorten_string`].
fn cut_bytes(mark: &str) -> Option<usize> {
    mark.strip_prefix(MARK)?
        .trim()
        .strip_suffix(" B]")?
        .parse()
        .ok()
}

/// Step 3: a call reduced to its summary.
fn summarise(call: &mut Call) {
    let mut truncated = call.truncated().cloned().unwrap_or_default();
    truncated.evidence_left_out = true;
    *call = Call::Summary(Summary {
        call: call.call().to_owned(),
        class: call.class().to_owned(),
        fuel_used: call.fuel_used(),
        peak_memory_bytes: call.peak_memory_bytes(),
        truncated,
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::sample_report;
    use sandkasse_sandbox::{CallEvidence, LogLine, Outcome};
    use serde_json::json;

    /// A report as an inflating component makes it: a 16 MiB result that is not JSON, and a
    /// thousand 4 KiB log lines in each of five calls.
    fn inflated() -> Report {
        let mut report = sample_report();
        let logs: Vec<LogLine> = (0..1000)
            .map(|i| LogLine {
                level: "info".to_owned(),
                message: "x".repeat(4096),
                at_ms: i,
            })
            .collect();
        for n in 0..5 {
            let value = json!(if n == 0 {
                "ø".repeat(8 << 20)
            } else {
                String::new()
            });
            let mut call = CallEvidence::quiet("patient-overview", Outcome::Ok { value });
            call.logs = logs.clone();
            call.fuel_used = 7;
            call.peak_memory_bytes = 65536;
            report.scenarios[0].calls.push(call.into());
        }
        report.vilkar[0].checks[0].evidence = vec!["y".repeat(1 << 20); 30];
        report
    }

    /// The calls of the first scenario as their JSON.
    fn calls(report: &Report) -> Vec<Value> {
        report.scenarios[0]
            .calls
            .iter()
            .map(|c| serde_json::to_value(c).unwrap())
            .collect()
    }

    #[test]
    fn a_report_that_fits_is_unchanged() {
        let mut report = sample_report();
        let before = report.clone();
        let cut = bound(&mut report, 1 << 20);
        assert!(!cut.any());
        assert_eq!(report, before);
    }

    #[test]
    fn an_inflated_report_fits_its_budget_and_says_what_was_cut() {
        let mut report = inflated();
        let (verdict, score, summary) = (report.verdict, report.score, report.summary);
        let cut = bound(&mut report, 1 << 20);
        assert!(cut.original_bytes > 20 << 20, "{cut:?}");
        assert!(cut.final_bytes <= 1 << 20, "{cut:?}");
        assert_eq!(cut.final_bytes, json_len(&report));
        assert!(!cut.evidence_left_out, "step 2 suffices for 1 MiB: {cut:?}");
        assert_eq!(
            (report.verdict, report.score, report.summary),
            (verdict, score, summary)
        );
        let calls = calls(&report);
        let counted = |key: &str| -> u64 {
            calls
                .iter()
                .filter_map(|c| c["truncated"][key].as_u64())
                .sum()
        };
        assert!(counted("strings_cut") > 0 && counted("bytes_cut") > 0);
        let last = &calls.last().unwrap()["truncated"];
        assert!(last["items_left_out"].as_u64().unwrap() > 900, "{last}");
        let result = calls
            .iter()
            .find_map(|c| c["outcome"]["value"].as_str().filter(|v| !v.is_empty()))
            .unwrap();
        let counted = cut_bytes(&result[result.find(MARK).unwrap()..]).unwrap();
        assert_eq!(counted + result.find(MARK).unwrap(), "ø".len() * (8 << 20));
        let evidence = &report.vilkar[0].checks[0].evidence;
        assert_eq!(
            left_out_count(evidence.last().unwrap()).unwrap() + evidence.len() - 1,
            30
        );
        // The rule is deterministic, and a bound report round-trips as a report.
        let mut again = inflated();
        bound(&mut again, 1 << 20);
        assert_eq!(again, report);
        let text = serde_json::to_string(&report).unwrap();
        assert_eq!(serde_json::from_str::<Report>(&text).unwrap(), report);
    }

    #[test]
    fn a_budget_below_the_evidence_leaves_each_call_its_summary() {
        let mut report = inflated();
        // Below what the string and list limits alone reach for this fixture (over 7 KiB), above
        // what the calls' summaries take (≈ 6.4 KiB): only the summaries fit.
        let cut = bound(&mut report, 7 << 10);
        assert!(
            cut.evidence_left_out && cut.final_bytes <= 7 << 10,
            "{cut:?}"
        );
        let calls = calls(&report);
        let call = calls.last().unwrap();
        assert_eq!(
            call.as_object().unwrap().keys().collect::<Vec<_>>(),
            [
                "call",
                "class",
                "fuel_used",
                "peak_memory_bytes",
                "truncated"
            ]
        );
        assert_eq!(call["truncated"]["evidence_left_out"], true);
    }

    #[test]
    fn deep_nesting_and_long_keys_are_left_out() {
        let mut deep = json!("bunn");
        for _ in 0..40 {
            deep = json!([deep, { "k".repeat(10_000): 1, "kort": 2 }]);
        }
        let mut stats = Stats::default();
        let limits = Limits {
            string: 64,
            items: 4,
        };
        shorten_value(&mut deep, limits, 1, &mut stats);
        assert!(json_len(&deep) < 4096, "{deep}");
        assert!(stats.items_left_out > 0);
        assert!(!deep.to_string().contains(&"k".repeat(65)));
    }
}

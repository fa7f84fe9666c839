//! A call's evidence as a report holds it: what the sandbox recorded
//! ([`sandkasse_sandbox::CallEvidence`], durations zeroed), in the forms the size bound
//! ([`crate::bound`]) may leave it in.
//!
//! A call that fits is [`Call::Evidence`] with nothing cut. Cutting keeps the shape but:
//!
//! - strings end in [`crate::bound::MARK`] and the count of bytes cut (still strings);
//! - a list keeps its first items and ends in a note of how many were left out ([`Trimmed`]);
//! - an exchange keeps its first fields and notes, under the key `…`, how many fields were left
//!   out (the later fields are [`Kept`]);
//! - the call says what was cut ([`Truncated`]);
//! - when even that does not fit, the call keeps only its summary ([`Call::Summary`]).
//!
//! Each form serialises to exactly the JSON the bound produced, so a report reads and writes the
//! same bytes and its signature holds.
//!
//! ```
//! use sandkasse_sandbox::{CallEvidence, Outcome};
//! use sandkasse_suite::report::Call;
//!
//! let call = Call::from(CallEvidence::quiet("info", Outcome::Ok { value: serde_json::json!({}) }));
//! let text = serde_json::to_string(&call).unwrap();
//! assert_eq!(serde_json::from_str::<Call>(&text).unwrap(), call);
//! assert_eq!((call.call(), call.class()), ("info", "ok"));
//! ```

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::ser::{SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use sandkasse_sandbox::{Disposition, FailureClass, LogLine, Outcome};

/// One call's evidence in a report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Call {
    /// What the sandbox recorded (strings and lists possibly cut).
    Evidence(Box<Evidence>),
    /// Only the summary: the rest did not fit the report's budget.
    Summary(Summary),
}

/// What the sandbox recorded of a call (see [`sandkasse_sandbox::CallEvidence`] for the fields).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    pub call: String,
    /// The arguments as the component received them (the token redacted): JSON whose shape
    /// depends on the export called.
    pub arguments: Value,
    pub outcome: Outcome,
    pub class: String,
    pub exchanges: Trimmed<Exchange>,
    pub logs: Trimmed<LogLine>,
    pub logs_dropped: usize,
    pub requests_unrecorded: usize,
    pub stdout: String,
    pub stderr: String,
    pub fuel_used: u64,
    pub peak_memory_bytes: u64,
    pub virtual_start_ms: u64,
    pub virtual_end_ms: u64,
    pub duration_us: u64,
    /// What the size bound cut, when it cut anything.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truncated: Option<Truncated>,
}

/// A call reduced to its summary by the size bound.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Summary {
    pub call: String,
    pub class: String,
    pub fuel_used: u64,
    pub peak_memory_bytes: u64,
    pub truncated: Truncated,
}

/// What the size bound cut of one call. The counts are there once strings or items were cut.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Truncated {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strings_cut: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes_cut: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items_left_out: Option<usize>,
    /// Only the call's summary was kept.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub evidence_left_out: bool,
}

/// One HTTP exchange (see [`sandkasse_sandbox::Exchange`]). The size bound keeps at least the
/// first four fields ([`crate::bound::MIN_ITEMS`]); the others may be left out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Exchange {
    pub request_line: String,
    pub request_headers: Trimmed<(String, String)>,
    pub request_body: Option<String>,
    pub request_body_bytes: usize,
    #[serde(default, skip_serializing_if = "Kept::is_left_out")]
    pub disposition: Kept<Disposition>,
    #[serde(default, skip_serializing_if = "Kept::is_left_out")]
    pub status: Kept<Option<u16>>,
    #[serde(default, skip_serializing_if = "Kept::is_left_out")]
    pub response_headers: Kept<Trimmed<(String, String)>>,
    #[serde(default, skip_serializing_if = "Kept::is_left_out")]
    pub response_body: Kept<Option<String>>,
    #[serde(default, skip_serializing_if = "Kept::is_left_out")]
    pub response_body_bytes: Kept<usize>,
    #[serde(default, skip_serializing_if = "Kept::is_left_out")]
    pub sent_ms: Kept<u64>,
    #[serde(default, skip_serializing_if = "Kept::is_left_out")]
    pub received_ms: Kept<u64>,
    /// How many fields the size bound left out (written as a note under the key `…`); 0: none.
    #[serde(
        rename = "…",
        default,
        skip_serializing_if = "is_zero",
        with = "note_text"
    )]
    pub fields_left_out: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// A field the size bound may have left out: `None` when it did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kept<T>(pub Option<T>);

impl<T> Default for Kept<T> {
    fn default() -> Self {
        Kept(None)
    }
}

impl<T> Kept<T> {
    /// The value, unless it was left out.
    pub fn get(&self) -> Option<&T> {
        self.0.as_ref()
    }

    fn is_left_out(&self) -> bool {
        self.0.is_none()
    }
}

impl<T> From<T> for Kept<T> {
    fn from(value: T) -> Self {
        Kept(Some(value))
    }
}

impl<T: Serialize> Serialize for Kept<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            Some(value) => value.serialize(serializer),
            None => serializer.serialize_none(),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Kept<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(deserializer).map(|value| Kept(Some(value)))
    }
}

/// A list whose first items were kept: `items`, then (when `left_out` > 0) a note saying how many
/// items were left out — how the JSON writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trimmed<T> {
    pub items: Vec<T>,
    /// Items left out after `items`; 0: none.
    pub left_out: usize,
}

impl<T> Default for Trimmed<T> {
    fn default() -> Self {
        Trimmed {
            items: Vec::new(),
            left_out: 0,
        }
    }
}

impl<T> From<Vec<T>> for Trimmed<T> {
    fn from(items: Vec<T>) -> Self {
        Trimmed { items, left_out: 0 }
    }
}

impl<T> Trimmed<T> {
    /// Whether nothing is in the list: no item and no note.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty() && self.left_out == 0
    }

    /// The entries of the list as written: the items, and the note when there is one.
    pub fn entries(&self) -> usize {
        self.items.len() + usize::from(self.left_out > 0)
    }
}

impl<T: Serialize> Serialize for Trimmed<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.entries()))?;
        for item in &self.items {
            seq.serialize_element(item)?;
        }
        if self.left_out > 0 {
            seq.serialize_element(&left_out_note(self.left_out))?;
        }
        seq.end()
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Trimmed<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Entries<T>(PhantomData<T>);

        /// An entry: an item, or the note that ends a cut list.
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Entry<T> {
            Note(#[serde(with = "note_text")] usize),
            Item(T),
        }

        impl<'de, T: Deserialize<'de>> Visitor<'de> for Entries<T> {
            type Value = Trimmed<T>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list, perhaps ending in a note of items left out")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Trimmed<T>, A::Error> {
                let mut list = Trimmed::default();
                while let Some(entry) = seq.next_element::<Entry<T>>()? {
                    if list.left_out > 0 {
                        return Err(de::Error::custom(
                            "an item after the note of items left out",
                        ));
                    }
                    match entry {
                        Entry::Item(item) => list.items.push(item),
                        Entry::Note(n) => list.left_out = n,
                    }
                }
                Ok(list)
            }
        }

        deserializer.deserialize_seq(Entries(PhantomData))
    }
}

/// The note of `items` left out: `[N elementer utelatt / N items left out]`.
pub(crate) fn left_out_note(items: usize) -> String {
    format!("[{items} elementer utelatt / {items} items left out]")
}

/// The count in a note written by [`left_out_note`].
pub(crate) fn left_out_count(note: &str) -> Option<usize> {
    let (n, rest) = note.strip_prefix('[')?.split_once(' ')?;
    rest.starts_with("elementer utelatt / ")
        .then(|| n.parse().ok())
        .flatten()
}

/// A count of items left out, written as its note.
mod note_text {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(n: &usize, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&super::left_out_note(*n))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<usize, D::Error> {
        let text = String::deserialize(deserializer)?;
        match super::left_out_count(&text) {
            Some(n) if text == super::left_out_note(n) => Ok(n),
            _ => Err(serde::de::Error::custom(format!(
                "not a note of items left out: {text:?}"
            ))),
        }
    }
}

impl From<sandkasse_sandbox::Exchange> for Exchange {
    fn from(e: sandkasse_sandbox::Exchange) -> Exchange {
        Exchange {
            request_line: e.request_line,
            request_headers: e.request_headers.into(),
            request_body: e.request_body,
            request_body_bytes: e.request_body_bytes,
            disposition: e.disposition.into(),
            status: e.status.into(),
            response_headers: Trimmed::from(e.response_headers).into(),
            response_body: e.response_body.into(),
            response_body_bytes: e.response_body_bytes.into(),
            sent_ms: e.sent_ms.into(),
            received_ms: e.received_ms.into(),
            fields_left_out: 0,
        }
    }
}

impl From<sandkasse_sandbox::CallEvidence> for Call {
    fn from(c: sandkasse_sandbox::CallEvidence) -> Call {
        Call::Evidence(Box::new(Evidence {
            call: c.call,
            arguments: c.arguments,
            outcome: c.outcome,
            class: c.class,
            exchanges: c
                .exchanges
                .into_iter()
                .map(Exchange::from)
                .collect::<Vec<_>>()
                .into(),
            logs: c.logs.into(),
            logs_dropped: c.logs_dropped,
            requests_unrecorded: c.requests_unrecorded,
            stdout: c.stdout,
            stderr: c.stderr,
            fuel_used: c.fuel_used,
            peak_memory_bytes: c.peak_memory_bytes,
            virtual_start_ms: c.virtual_start_ms,
            virtual_end_ms: c.virtual_end_ms,
            duration_us: c.duration_us,
            truncated: None,
        }))
    }
}

impl Call {
    /// The export called.
    pub fn call(&self) -> &str {
        match self {
            Call::Evidence(e) => &e.call,
            Call::Summary(s) => &s.call,
        }
    }

    /// The one word for the outcome ([`sandkasse_sandbox::CallEvidence::class`]).
    pub fn class(&self) -> &str {
        match self {
            Call::Evidence(e) => &e.class,
            Call::Summary(s) => &s.class,
        }
    }

    pub fn fuel_used(&self) -> u64 {
        match self {
            Call::Evidence(e) => e.fuel_used,
            Call::Summary(s) => s.fuel_used,
        }
    }

    pub fn peak_memory_bytes(&self) -> u64 {
        match self {
            Call::Evidence(e) => e.peak_memory_bytes,
            Call::Summary(s) => s.peak_memory_bytes,
        }
    }

    /// What the size bound cut, if anything.
    pub fn truncated(&self) -> Option<&Truncated> {
        match self {
            Call::Evidence(e) => e.truncated.as_ref(),
            Call::Summary(s) => Some(&s.truncated),
        }
    }

    /// The whole evidence, unless only the summary was kept.
    pub fn evidence(&self) -> Option<&Evidence> {
        match self {
            Call::Evidence(e) => Some(e),
            Call::Summary(_) => None,
        }
    }

    /// The call's HTTP exchanges (none when only the summary was kept).
    pub fn exchanges(&self) -> &[Exchange] {
        self.evidence().map_or(&[], |e| &e.exchanges.items)
    }
}

//! Evidence: what happened in a call, recorded so the suite can judge it and a vendor can see it.
//!
//! Everything here is deterministic for the same component, data seed and calls, except the
//! fields named `*_us` (real durations), which [`CallEvidence::without_durations`] clears.
//!
//! Evidence serialises to JSON and reads back strictly (an unknown field is an error): what a
//! report or `sandkasse run` wrote is the same evidence when read again.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Evidence of one call into the component.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallEvidence {
    /// The export called: `instantiate`, `info`, `patient-overview`, `document`, `on-event`.
    pub call: String,
    /// The arguments, as JSON (the access token redacted).
    pub arguments: Value,
    /// What came of it.
    pub outcome: Outcome,
    /// One word for the outcome: the failure class if the call did not complete; otherwise
    /// `refused-egress`, `request-limit` or `body-limit` if the call attempted such requests;
    /// otherwise `ok` or `adapter-error`.
    pub class: String,
    /// Every HTTP exchange the component attempted, in order.
    pub exchanges: Vec<Exchange>,
    /// Lines logged through the `logging` import.
    pub logs: Vec<LogLine>,
    /// Log lines beyond the kept maximum.
    pub logs_dropped: usize,
    /// Requests refused after the request limit, beyond the first refusal (which is in
    /// `exchanges`): counted, not recorded.
    pub requests_unrecorded: usize,
    /// What the call wrote to stdout and stderr (lossy UTF-8).
    pub stdout: String,
    pub stderr: String,
    /// Fuel consumed (≈ instructions).
    pub fuel_used: u64,
    /// Peak linear memory of the instance so far, bytes.
    pub peak_memory_bytes: u64,
    /// Virtual (scenario) time at start and end of the call, ms since the session began.
    pub virtual_start_ms: u64,
    pub virtual_end_ms: u64,
    /// Real duration, µs (not deterministic).
    pub duration_us: u64,
}

impl CallEvidence {
    /// A call that ended in `outcome` having done nothing observable: no exchange, log line,
    /// output, fuel or time. The session's placeholder before instantiation, and a test's
    /// evidence of a call that answered without a request.
    pub fn quiet(call: &str, outcome: Outcome) -> CallEvidence {
        CallEvidence {
            call: call.to_owned(),
            arguments: Value::Null,
            class: if matches!(outcome, Outcome::Ok { .. }) {
                "ok".to_owned()
            } else {
                String::new()
            },
            outcome,
            exchanges: Vec::new(),
            logs: Vec::new(),
            logs_dropped: 0,
            requests_unrecorded: 0,
            stdout: String::new(),
            stderr: String::new(),
            fuel_used: 0,
            peak_memory_bytes: 0,
            virtual_start_ms: 0,
            virtual_end_ms: 0,
            duration_us: 0,
        }
    }

    /// The evidence with real durations zeroed, for byte-identical comparisons.
    pub fn without_durations(mut self) -> CallEvidence {
        self.duration_us = 0;
        self
    }
}

/// What a call produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Outcome {
    /// The call returned normally; `value` is its result as JSON.
    Ok { value: Value },
    /// The call returned the contract's `adapter-error`.
    AdapterError { code: String, message: String },
    /// The call did not complete.
    Failure { class: FailureClass, detail: String },
}

/// Why a call did not complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailureClass {
    /// Used all fuel of the call (e.g. an endless loop).
    OutOfFuel,
    /// Passed the wall-clock backstop (epoch deadline) or the virtual-time limit.
    Deadline,
    /// Tried to grow memory or tables past the limit.
    MemoryLimit,
    /// Exhausted the wasm stack (e.g. deep recursion).
    StackOverflow,
    /// Wrote more to stdout/stderr than the limit.
    OutputLimit,
    /// Returned a result larger than the limit.
    ResultLimit,
    /// Any other trap: `unreachable` (a Rust panic), out-of-bounds access, …
    Trap,
    /// The instance is unusable after an earlier failure in the same scenario.
    Poisoned,
}

impl FailureClass {
    /// Kebab-case name.
    pub fn name(self) -> &'static str {
        match self {
            FailureClass::OutOfFuel => "out-of-fuel",
            FailureClass::Deadline => "deadline",
            FailureClass::MemoryLimit => "memory-limit",
            FailureClass::StackOverflow => "stack-overflow",
            FailureClass::OutputLimit => "output-limit",
            FailureClass::ResultLimit => "result-limit",
            FailureClass::Trap => "trap",
            FailureClass::Poisoned => "poisoned",
        }
    }
}

/// One HTTP exchange.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exchange {
    /// `GET https://plattform.sandkasse.test/4601/fhir/Patient/x`
    pub request_line: String,
    /// Request headers. The bearer token is redacted here and wherever else the component put
    /// it (URL, bodies, logs, stdout).
    pub request_headers: Vec<(String, String)>,
    /// Request body (UTF-8 lossy, capped).
    pub request_body: Option<String>,
    pub request_body_bytes: usize,
    /// What the sandbox did with it.
    pub disposition: Disposition,
    /// Response status, when the platform answered.
    pub status: Option<u16>,
    pub response_headers: Vec<(String, String)>,
    /// Response body (UTF-8 lossy, capped).
    pub response_body: Option<String>,
    pub response_body_bytes: usize,
    /// Virtual time of the request and of the response, ms since the session began.
    pub sent_ms: u64,
    pub received_ms: u64,
}

/// What the sandbox did with a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Disposition {
    /// Routed to the platform.
    Platform,
    /// Refused: the authority is not the platform's (an exfiltration attempt).
    RefusedEgress { authority: String },
    /// Refused: the call made more requests than allowed.
    RefusedRequestLimit,
    /// Refused: the request or response body was larger than allowed.
    RefusedBodyLimit,
}

/// One log line from the `logging` import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogLine {
    pub level: String,
    pub message: String,
    /// Virtual time, ms since the session began.
    pub at_ms: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Evidence with every variant and optional field used.
    fn every_kind() -> Vec<CallEvidence> {
        let exchange = |disposition: Disposition, status: Option<u16>| Exchange {
            request_line: "GET https://plattform.sandkasse.test/4601/fhir/Patient/p1".to_owned(),
            request_headers: vec![("authorization".to_owned(), "Bearer <redacted>".to_owned())],
            request_body: Some("{\"a\":1}".to_owned()),
            request_body_bytes: 7,
            disposition,
            status,
            response_headers: vec![(
                "content-type".to_owned(),
                "application/fhir+json".to_owned(),
            )],
            response_body: status.map(|_| "{\"resourceType\":\"Patient\"}".to_owned()),
            response_body_bytes: 26,
            sent_ms: 3,
            received_ms: 9,
        };
        let mut ok = CallEvidence::quiet(
            "patient-overview",
            Outcome::Ok {
                value: serde_json::json!({ "resourceType": "Bundle", "n": 1.5, "big": u64::MAX }),
            },
        );
        ok.arguments = serde_json::json!({ "context": { "token": "<redacted>" } });
        ok.exchanges = vec![
            exchange(Disposition::Platform, Some(200)),
            exchange(Disposition::Platform, None),
            exchange(
                Disposition::RefusedEgress {
                    authority: "evil.example".to_owned(),
                },
                None,
            ),
            exchange(Disposition::RefusedRequestLimit, None),
            exchange(Disposition::RefusedBodyLimit, None),
        ];
        ok.logs = vec![LogLine {
            level: "info".to_owned(),
            message: "henter".to_owned(),
            at_ms: 4,
        }];
        ok.logs_dropped = 2;
        ok.requests_unrecorded = 1;
        ok.stdout = "ut".to_owned();
        ok.stderr = "feil".to_owned();
        ok.fuel_used = 1_000;
        ok.peak_memory_bytes = 65_536;
        ok.virtual_start_ms = 1;
        ok.virtual_end_ms = 10;
        ok.duration_us = 1_234;
        let error = CallEvidence::quiet(
            "document",
            Outcome::AdapterError {
                code: "internal".to_owned(),
                message: "boom".to_owned(),
            },
        );
        let mut failures: Vec<CallEvidence> = [
            FailureClass::OutOfFuel,
            FailureClass::Deadline,
            FailureClass::MemoryLimit,
            FailureClass::StackOverflow,
            FailureClass::OutputLimit,
            FailureClass::ResultLimit,
            FailureClass::Trap,
            FailureClass::Poisoned,
        ]
        .into_iter()
        .map(|class| {
            let mut c = CallEvidence::quiet(
                "on-event",
                Outcome::Failure {
                    class,
                    detail: "stopped".to_owned(),
                },
            );
            c.class = class.name().to_owned();
            c
        })
        .collect();
        failures.extend([ok, error]);
        failures
    }

    #[test]
    fn evidence_round_trips_through_json() {
        for evidence in every_kind() {
            let text = serde_json::to_string(&evidence).unwrap();
            let back: CallEvidence = serde_json::from_str(&text).unwrap();
            assert_eq!(back, evidence);
            assert_eq!(
                serde_json::to_string(&back).unwrap(),
                text,
                "the same bytes"
            );
        }
    }

    #[test]
    fn unknown_fields_are_refused() {
        let mut value = serde_json::to_value(CallEvidence::quiet(
            "info",
            Outcome::Ok { value: Value::Null },
        ))
        .unwrap();
        value["extra"] = 1.into();
        assert!(serde_json::from_value::<CallEvidence>(value).is_err());
    }
}

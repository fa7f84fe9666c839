//! The report: what the suite concluded about one component, with the evidence that decided it.
//!
//! Its JSON form is versioned ([`REPORT_FORMAT`]) and documented in `docs/report-format.md`. The
//! same component, suite version and seed give a byte-identical body; only `generated_at` and the
//! signature differ between runs.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::model::{Capability, Category, Level, Text};

pub mod call;
pub mod glance;

pub use call::Call;

/// Format id of the JSON report.
pub const REPORT_FORMAT: &str = "sandkasse-report/1";

/// A whole report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// [`REPORT_FORMAT`].
    pub format: String,
    pub suite: SuiteRef,
    pub component: ComponentRef,
    pub data: DataRef,
    pub environment: Environment,
    /// `godkjent` only when every applicable `skal` vilkår passes.
    pub verdict: Verdict,
    /// Passed weight / applicable weight, rounded to four decimals.
    pub score: f64,
    pub summary: Summary,
    /// Every vilkår of the suite, in id order.
    pub vilkar: Vec<VilkarResult>,
    /// The evidence of every scenario run, in id order.
    pub scenarios: Vec<ScenarioRun>,
    /// The command that reproduces this report.
    pub reproduce: String,
    /// RFC 3339 time of the run (not deterministic; excluded when comparing bodies).
    pub generated_at: String,
    /// Ed25519 signature over the report with `signature` set to `null` (see `docs/report-format.md`).
    #[serde(default)]
    pub signature: Option<Signature>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuiteRef {
    pub id: String,
    pub version: String,
    pub contract: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComponentRef {
    /// SHA-256 of the component, hex.
    pub digest: String,
    pub size: usize,
    /// What the adapter's `info()` said, when it could be called.
    pub info: Option<Value>,
    /// The roles the adapter claims.
    pub capabilities: Vec<Capability>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataRef {
    pub seed: u64,
    pub innbyggere: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Environment {
    pub sandkasse: String,
    pub wasmtime: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Godkjent,
    IkkeGodkjent,
}

impl Verdict {
    pub const ALL: [Verdict; 2] = [Verdict::Godkjent, Verdict::IkkeGodkjent];

    /// The word the report uses: `godkjent`, `ikke-godkjent`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Godkjent => "godkjent",
            Verdict::IkkeGodkjent => "ikke-godkjent",
        }
    }

    /// The verdict named by [`Verdict::as_str`].
    pub fn parse(text: &str) -> Option<Verdict> {
        Verdict::ALL.into_iter().find(|v| v.as_str() == text)
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Counts, for the summary table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub passed: usize,
    pub failed: usize,
    pub not_applicable: usize,
    pub error: usize,
}

/// The closed set of outcomes. Roll-up order: error > fail > pass; a vilkår whose checks are all
/// not applicable is not applicable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Pass,
    NotApplicable,
    Fail,
    Error,
}

impl Outcome {
    /// Whether the outcome is a failure: `fail` or `error`.
    pub fn is_failing(self) -> bool {
        matches!(self, Outcome::Fail | Outcome::Error)
    }
}

/// One vilkår's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VilkarResult {
    pub id: String,
    pub title: Text,
    pub text: Text,
    pub category: Category,
    pub level: Level,
    pub weight: u32,
    /// `document, section` of the source.
    pub source: String,
    pub outcome: Outcome,
    /// Why, in words a vendor can act on (the first failing check's reason, or why not applicable).
    pub reason: String,
    pub checks: Vec<CheckResult>,
}

/// One check's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    pub id: String,
    pub scenario: String,
    pub outcome: Outcome,
    /// Why it passed or failed, concretely.
    pub reason: String,
    /// The evidence that decided it: e.g. the request line, the output excerpt, the log line.
    pub evidence: Vec<String>,
    /// Reproduces this scenario alone.
    pub reproduce: String,
}

/// The evidence of one scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioRun {
    pub id: String,
    pub title: Text,
    /// Why the scenario was not run, if it was not (e.g. a capability the adapter lacks).
    pub skipped: Option<String>,
    /// Every call's evidence, as recorded by the sandbox (durations zeroed) and perhaps cut to
    /// the report's budget ([`call`]).
    pub calls: Vec<Call>,
}

/// An Ed25519 signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature {
    /// `ed25519`.
    pub algorithm: String,
    /// Public key, hex (32 bytes).
    pub public_key: String,
    /// Signature, hex (64 bytes).
    pub value: String,
}

impl Report {
    /// The bytes that are signed: the report as compact JSON with `signature` null.
    pub fn signing_bytes(&self) -> Vec<u8> {
        let mut unsigned = self.clone();
        unsigned.signature = None;
        serde_json::to_vec(&unsigned).expect("reports serialise")
    }

    /// The deterministic body: the report with `generated_at` and `signature` cleared.
    pub fn body(&self) -> Vec<u8> {
        let mut body = self.clone();
        body.signature = None;
        body.generated_at = String::new();
        serde_json::to_vec_pretty(&body).expect("reports serialise")
    }

    /// Whether the verdict is godkjent.
    pub fn godkjent(&self) -> bool {
        self.verdict == Verdict::Godkjent
    }
}

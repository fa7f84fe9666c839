//! `OperationOutcome`: how the platform explains every error, warning and notice.

use serde_json::{Value, json};

/// Severity of an issue (FHIR `IssueSeverity`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Fatal,
    Error,
    Warning,
    Information,
}

impl Severity {
    /// The FHIR code.
    pub fn code(self) -> &'static str {
        match self {
            Severity::Fatal => "fatal",
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Information => "information",
        }
    }
}

/// One issue of an `OperationOutcome`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    pub severity: Severity,
    /// FHIR `IssueType` code, e.g. `invalid`, `security`, `not-found`, `suppressed`.
    pub code: &'static str,
    /// Human-readable text (bokmål first, English after " / ").
    pub diagnostics: String,
    /// FHIRPath expressions naming the elements concerned, e.g. `Observation.code`.
    pub expression: Vec<String>,
}

impl Issue {
    pub fn new(severity: Severity, code: &'static str, diagnostics: impl Into<String>) -> Self {
        Issue {
            severity,
            code,
            diagnostics: diagnostics.into(),
            expression: Vec::new(),
        }
    }

    pub fn error(code: &'static str, diagnostics: impl Into<String>) -> Self {
        Issue::new(Severity::Error, code, diagnostics)
    }

    pub fn at(mut self, expression: impl Into<String>) -> Self {
        self.expression.push(expression.into());
        self
    }

    fn to_json(&self) -> Value {
        let mut issue = json!({
            "severity": self.severity.code(),
            "code": self.code,
            "diagnostics": self.diagnostics,
        });
        if !self.expression.is_empty() {
            issue["expression"] = json!(self.expression);
        }
        issue
    }
}

/// Builds an `OperationOutcome` resource from its issues.
pub fn operation_outcome(issues: &[Issue]) -> Value {
    json!({
        "resourceType": "OperationOutcome",
        "issue": issues.iter().map(Issue::to_json).collect::<Vec<_>>(),
    })
}

/// An `OperationOutcome` with a single error issue.
pub fn error(code: &'static str, diagnostics: impl Into<String>) -> Value {
    operation_outcome(&[Issue::error(code, diagnostics)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcome_is_valid_fhir() {
        let oo = operation_outcome(&[
            Issue::error("invalid", "Ugyldig kode / Invalid code").at("Observation.code"),
            Issue::new(
                Severity::Information,
                "suppressed",
                "1 ressurs holdt tilbake",
            ),
        ]);
        crate::schema::validate(&oo).expect("valid OperationOutcome");
        assert_eq!(oo["issue"][0]["expression"][0], "Observation.code");
        assert!(oo["issue"][1].get("expression").is_none());
    }
}

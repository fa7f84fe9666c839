//! What a run measured: the outcome of every vilkår and the resource figures of the whole run.
//!
//! The runner takes [`Figures`] from each report before the report is cut to its budget
//! ([`crate::runner`]) and stores them with the run; the nightly runs compare one night's figures
//! with the night before ([`crate::nightly`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// What a run measured, for comparison between nights.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    /// Outcome per vilkår id (`pass`, `fail`, `not-applicable`, `error`).
    pub outcomes: BTreeMap<String, String>,
    /// The ids of the skal-vilkår.
    pub skal: Vec<String>,
    /// Fuel consumed over every call (≈ instructions).
    pub fuel: u64,
    /// Highest linear memory of any instance, bytes.
    pub peak_memory_bytes: u64,
    /// HTTP requests the component made to the platform.
    pub requests: u64,
}

impl Figures {
    /// The figures of a report.
    pub fn of(report: &sandkasse_suite::report::Report) -> Figures {
        let mut f = Figures::default();
        for v in &report.vilkar {
            let outcome = serde_json::to_value(v.outcome)
                .ok()
                .and_then(|o| o.as_str().map(str::to_owned))
                .unwrap_or_default();
            f.outcomes.insert(v.id.clone(), outcome);
            if v.level == sandkasse_suite::model::Level::Skal {
                f.skal.push(v.id.clone());
            }
        }
        for call in report.scenarios.iter().flat_map(|s| &s.calls) {
            f.fuel += call["fuel_used"].as_u64().unwrap_or(0);
            f.peak_memory_bytes = f
                .peak_memory_bytes
                .max(call["peak_memory_bytes"].as_u64().unwrap_or(0));
            f.requests += call["exchanges"].as_array().map_or(0, |e| e.len() as u64);
        }
        f
    }

    /// Whether vilkår `id` fails (`fail` or `error`).
    pub fn failing(&self, id: &str) -> bool {
        matches!(
            self.outcomes.get(id).map(String::as_str),
            Some("fail" | "error")
        )
    }

    /// The skal-vilkår that fail.
    pub fn failing_skal(&self) -> Vec<String> {
        self.skal
            .iter()
            .filter(|id| self.failing(id))
            .cloned()
            .collect()
    }
}

//! What a run measured: the outcome of every vilkår and the resource figures of the whole run.
//!
//! The runner takes [`Figures`] from each report before the report is cut to its budget
//! ([`crate::runner`]) and stores them with the run; the nightly runs compare one night's figures
//! with the night before ([`crate::nightly`]).

use std::collections::BTreeMap;

use sandkasse_suite::report::Outcome;
use serde::{Deserialize, Serialize};

/// What a run measured, for comparison between nights.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Figures {
    /// Outcome per vilkår id (`pass`, `fail`, `not-applicable`, `error`).
    pub outcomes: BTreeMap<String, Outcome>,
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
            f.outcomes.insert(v.id.clone(), v.outcome);
            if v.level == sandkasse_suite::model::Level::Skal {
                f.skal.push(v.id.clone());
            }
        }
        for call in report.scenarios.iter().flat_map(|s| &s.calls) {
            f.fuel += call.fuel_used();
            f.peak_memory_bytes = f.peak_memory_bytes.max(call.peak_memory_bytes());
            // As the JSON has them: a list the size bound cut counts its note too.
            f.requests += call.evidence().map_or(0, |e| e.exchanges.entries() as u64);
        }
        f
    }

    /// Whether vilkår `id` fails (`fail` or `error`).
    pub fn failing(&self, id: &str) -> bool {
        self.outcomes.get(id).is_some_and(|o| o.is_failing())
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

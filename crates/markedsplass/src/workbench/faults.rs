//! The fault presets a vendor can switch on, as the platform's fault plans
//! ([`sandkasse_platform::faults`]). Counters start at zero whenever a preset is switched on.

use sandkasse_platform::faults::{FaultAction, FaultPlan, FaultRule, RequestKind};

use crate::store::FaultPreset;

fn rule(interaction: Option<RequestKind>, every: Option<u64>, action: FaultAction) -> FaultRule {
    FaultRule {
        method: None,
        resource: None,
        interaction,
        nth: None,
        every,
        from: None,
        to: None,
        action,
    }
}

/// The platform's plan for a preset (empty for [`FaultPreset::Off`]).
///
/// ```
/// use sandkasse_markedsplass::{store::FaultPreset, workbench::faults::plan};
/// assert!(plan(FaultPreset::Off).rules.is_empty());
/// assert!(FaultPreset::ALL.iter().all(|p| plan(*p).validate().is_ok()));
/// ```
pub fn plan(preset: FaultPreset) -> FaultPlan {
    let rules = match preset {
        FaultPreset::Off => Vec::new(),
        FaultPreset::Throttle => vec![rule(
            None,
            Some(2),
            FaultAction::Throttle { retry_after: 1 },
        )],
        FaultPreset::Unavailable => vec![rule(
            None,
            Some(2),
            FaultAction::Unavailable { retry_after: 1 },
        )],
        FaultPreset::Latency => vec![rule(None, None, FaultAction::Latency { ms: 1000 })],
        FaultPreset::ExpiredToken => [RequestKind::Read, RequestKind::Search]
            .into_iter()
            .map(|k| rule(Some(k), Some(3), FaultAction::ExpireToken))
            .collect(),
        FaultPreset::TruncatedBody => vec![rule(
            Some(RequestKind::Search),
            Some(2),
            FaultAction::TruncateBody { bytes: 100 },
        )],
        FaultPreset::ShortPage => vec![rule(
            Some(RequestKind::Search),
            None,
            FaultAction::ShortPage { entries: 2 },
        )],
        FaultPreset::UnknownElements => vec![rule(None, None, FaultAction::UnknownElements)],
    };
    FaultPlan { rules }
}

//! Scoring: checks rolled up to vilkår, and the score and verdict of a run.

use crate::model::{Level, Vilkar};
use crate::report::{CheckResult, Outcome, Summary, Verdict, VilkarResult};

/// Rolls checks up to a vilkår: error > fail > pass; all not applicable → not applicable.
pub fn roll_up(v: &Vilkar, checks: Vec<CheckResult>, capability_claimed: bool) -> VilkarResult {
    let (outcome, reason) = if !capability_claimed {
        (Outcome::NotApplicable, "adapteren oppgir ikke rollen vilkåret gjelder / the adapter does not claim the role this vilkår concerns".to_owned())
    } else if let Some(c) = checks.iter().find(|c| c.outcome == Outcome::Error) {
        (Outcome::Error, c.reason.clone())
    } else if let Some(c) = checks.iter().find(|c| c.outcome == Outcome::Fail) {
        (Outcome::Fail, format!("{}: {}", c.id, c.reason))
    } else if checks.iter().all(|c| c.outcome == Outcome::NotApplicable) {
        (
            Outcome::NotApplicable,
            checks.first().map(|c| c.reason.clone()).unwrap_or_default(),
        )
    } else {
        (
            Outcome::Pass,
            "alle kontroller bestått / every check passed".to_owned(),
        )
    };
    VilkarResult {
        id: v.id.clone(),
        title: v.title.clone(),
        text: v.text.clone(),
        category: v.category,
        level: v.level,
        weight: v.weight,
        source: format!(
            "{}, {} ({})",
            v.source.document, v.source.section, v.source.reference
        ),
        outcome,
        reason,
        checks,
    }
}

/// Score (passed weight / applicable weight, four decimals), verdict and counts.
pub fn score(results: &[VilkarResult]) -> (f64, Verdict, Summary) {
    let mut summary = Summary::default();
    let (mut passed, mut applicable) = (0u32, 0u32);
    let mut godkjent = true;
    for r in results {
        match r.outcome {
            Outcome::Pass => summary.passed += 1,
            Outcome::Fail => summary.failed += 1,
            Outcome::NotApplicable => summary.not_applicable += 1,
            Outcome::Error => summary.error += 1,
        }
        if r.outcome != Outcome::NotApplicable {
            applicable += r.weight;
            if r.outcome == Outcome::Pass {
                passed += r.weight;
            } else if r.level == Level::Skal {
                godkjent = false;
            }
        }
    }
    let score = if applicable == 0 {
        0.0
    } else {
        (f64::from(passed) / f64::from(applicable) * 10_000.0).round() / 10_000.0
    };
    (
        score,
        if godkjent && applicable > 0 {
            Verdict::Godkjent
        } else {
            Verdict::IkkeGodkjent
        },
        summary,
    )
}

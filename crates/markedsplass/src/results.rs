//! Per-vilkår results from a run's stored [`Figures`]: the public view of a listed version (the
//! catalogue is the ecosystem's løpende oversikt — a kommune sees which vilkår a listed version
//! meets, not the evidence) and the comparison of any two runs of one product.
//!
//! Both read the figures stored with each run, never the report, and name the vilkår with the
//! suite the service runs now; a vilkår a run has that the suite no longer has is shown by its id.

use serde::Serialize;

use sandkasse_suite::load::Suite;
use sandkasse_suite::model::{Category, Level, Text};
use sandkasse_suite::report::Outcome;

use crate::error::AppError;
use crate::figures::Figures;
use crate::market::Market;
use crate::policy::{self, Actor};
use crate::store::{Product, Run};

/// One vilkår of a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VilkarLine {
    pub id: String,
    /// From the current suite; none when the suite no longer has the vilkår.
    pub title: Option<Text>,
    pub level: Option<Level>,
    pub category: Option<Category>,
    pub outcome: Outcome,
}

/// The vilkår of `figures`, in the suite's order, then those the suite no longer has.
pub fn lines(suite: &Suite, figures: &Figures) -> Vec<VilkarLine> {
    let known = suite.vilkar.iter().filter_map(|v| {
        figures.outcomes.get(&v.id).map(|outcome| VilkarLine {
            id: v.id.clone(),
            title: Some(v.title.clone()),
            level: Some(v.level),
            category: Some(v.category),
            outcome: *outcome,
        })
    });
    let gone = figures
        .outcomes
        .iter()
        .filter(|(id, _)| !suite.vilkar.iter().any(|v| &v.id == *id))
        .map(|(id, outcome)| VilkarLine {
            id: id.clone(),
            title: None,
            level: None,
            category: None,
            outcome: *outcome,
        });
    known.chain(gone).collect()
}

/// The per-vilkår results of run `run_id` (the listed version's last run, for everyone who may
/// see the product); empty when the run has no figures.
pub async fn of_run(market: &Market, run_id: i64) -> Result<Vec<VilkarLine>, AppError> {
    let run = market.stores.market.run(run_id).await?;
    Ok(run
        .and_then(|r| r.figures)
        .map(|f| lines(&market.runner.suite, &f))
        .unwrap_or_default())
}

/// Two runs of one product side by side.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    pub product: Product,
    pub a: Run,
    pub b: Run,
    /// Every vilkår of either run, in the suite's order.
    pub vilkar: Vec<CompareLine>,
    /// The resource figures of both runs.
    pub figures: Vec<FigureLine>,
    /// How many vilkår differ in outcome.
    pub changed: usize,
}

/// One vilkår in both runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CompareLine {
    pub id: String,
    pub title: Option<Text>,
    pub level: Option<Level>,
    /// None: the run has no such vilkår (another suite version), or no figures.
    pub a: Option<Outcome>,
    pub b: Option<Outcome>,
    pub changed: bool,
}

/// One resource figure in both runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FigureLine {
    /// `fuel`, `peak_memory_bytes`, `requests`.
    pub name: &'static str,
    pub a: Option<u64>,
    pub b: Option<u64>,
    /// (b − a) / a, when both are known and a > 0.
    pub change: Option<f64>,
}

/// Compares runs `a` and `b` of product `product_id`. Only callers who see the product in full
/// (its organisation, reviewers, admins) may; a run of another product is not found.
pub async fn compare(
    market: &Market,
    actor: &Actor,
    product_id: i64,
    a: i64,
    b: i64,
) -> Result<Comparison, AppError> {
    let store = &market.stores.market;
    let product = store
        .product(product_id)
        .await?
        .filter(|p| policy::sees_organisation(actor, p.organisation_id))
        .ok_or(AppError::NotFound)?;
    let run = |id: i64| async move {
        store
            .run(id)
            .await?
            .filter(|r| r.product_id == product_id)
            .ok_or(AppError::NotFound)
    };
    let (a, b) = (run(a).await?, run(b).await?);
    let empty = Figures::default();
    let (fa, fb) = (
        a.figures.as_ref().unwrap_or(&empty),
        b.figures.as_ref().unwrap_or(&empty),
    );
    let mut ids: Vec<VilkarLine> = lines(&market.runner.suite, fa);
    for line in lines(&market.runner.suite, fb) {
        if !ids.iter().any(|l| l.id == line.id) {
            ids.push(line);
        }
    }
    // The suite's order for both runs' vilkår.
    let order = |id: &str| {
        market
            .runner
            .suite
            .vilkar
            .iter()
            .position(|v| v.id == id)
            .unwrap_or(usize::MAX)
    };
    ids.sort_by(|x, y| order(&x.id).cmp(&order(&y.id)).then(x.id.cmp(&y.id)));
    let vilkar: Vec<CompareLine> = ids
        .into_iter()
        .map(|line| {
            let (oa, ob) = (
                fa.outcomes.get(&line.id).copied(),
                fb.outcomes.get(&line.id).copied(),
            );
            CompareLine {
                changed: oa != ob,
                id: line.id,
                title: line.title,
                level: line.level,
                a: oa,
                b: ob,
            }
        })
        .collect();
    let known = |run: &Run, f: fn(&Figures) -> u64| run.figures.as_ref().map(f);
    let figure = |name: &'static str, f: fn(&Figures) -> u64| {
        let (va, vb) = (known(&a, f), known(&b, f));
        FigureLine {
            name,
            a: va,
            b: vb,
            change: match (va, vb) {
                (Some(x), Some(y)) if x > 0 => Some((y as f64 - x as f64) / x as f64),
                _ => None,
            },
        }
    };
    let figures = vec![
        figure("fuel", |f| f.fuel),
        figure("peak_memory_bytes", |f| f.peak_memory_bytes),
        figure("requests", |f| f.requests),
    ];
    Ok(Comparison {
        changed: vilkar.iter().filter(|l| l.changed).count(),
        product,
        a,
        b,
        vilkar,
        figures,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_follow_the_suite_and_keep_vilkar_it_no_longer_has() {
        let suite = sandkasse_suite::load::load(&sandkasse_suite::load::default_root())
            .expect("the suite loads");
        let mut figures = Figures::default();
        let first = suite.vilkar[0].id.clone();
        let last = suite.vilkar.last().expect("vilkår").id.clone();
        figures.outcomes.insert(last.clone(), Outcome::Fail);
        figures.outcomes.insert(first.clone(), Outcome::Pass);
        figures.outcomes.insert("OLD-99".into(), Outcome::Pass);
        let shown = lines(&suite, &figures);
        let ids: Vec<&str> = shown.iter().map(|l| l.id.as_str()).collect();
        assert_eq!(ids, [first.as_str(), last.as_str(), "OLD-99"]);
        assert!(shown[0].title.is_some() && shown[2].title.is_none());
        assert_eq!(shown[1].outcome, Outcome::Fail);
    }
}

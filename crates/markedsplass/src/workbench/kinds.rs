//! The special kinds of person in a sandbox's kommune, from the generator's ground truth: what a
//! vendor picks a launch's patient by, and what the kinds page and API describe.

use sandkasse_kommune::{AddressProtection, IdentifierKind, PatientTruth, Truth};
use serde::{Deserialize, Serialize};

/// A kind of patient. The platform's answer for each is in `docs/workbench.md` and on the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PatientKind {
    /// The launch's unit has a care relation with the patient today (tjenstlig behov).
    WithRelation,
    /// The launch's unit has no care relation with the patient today (403 unless emergency).
    WithoutRelation,
    /// Identified by a D-nummer.
    DNummer,
    /// Fortrolig adresse.
    Fortrolig,
    /// Strengt fortrolig adresse.
    StrengtFortrolig,
    /// Has a sperring (a Consent that denies a document).
    Sperring,
    /// Deceased.
    Deceased,
    /// Moved between two kommuner of the dataset.
    Moved,
}

impl PatientKind {
    pub const ALL: [PatientKind; 8] = [
        PatientKind::WithRelation,
        PatientKind::WithoutRelation,
        PatientKind::DNummer,
        PatientKind::Fortrolig,
        PatientKind::StrengtFortrolig,
        PatientKind::Sperring,
        PatientKind::Deceased,
        PatientKind::Moved,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PatientKind::WithRelation => "with-relation",
            PatientKind::WithoutRelation => "without-relation",
            PatientKind::DNummer => "d-nummer",
            PatientKind::Fortrolig => "fortrolig",
            PatientKind::StrengtFortrolig => "strengt-fortrolig",
            PatientKind::Sperring => "sperring",
            PatientKind::Deceased => "deceased",
            PatientKind::Moved => "moved",
        }
    }

    pub fn parse(s: &str) -> Option<PatientKind> {
        PatientKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Whether `p` is of this kind; `unit` is the launch's unit (its id) for the relation kinds.
    fn holds(self, truth: &Truth, p: &PatientTruth, unit: Option<&str>, today: &str) -> bool {
        let related = |p: &PatientTruth| {
            truth.care_relations.iter().any(|c| {
                c.patient == p.id && c.active_on(today) && unit.is_none_or(|u| c.unit == u)
            })
        };
        match self {
            PatientKind::WithRelation => related(p),
            PatientKind::WithoutRelation => !related(p),
            PatientKind::DNummer => p.identifier_kind == IdentifierKind::Dnr,
            PatientKind::Fortrolig => p.address_protection == AddressProtection::Fortrolig,
            PatientKind::StrengtFortrolig => {
                p.address_protection == AddressProtection::StrengtFortrolig
            }
            PatientKind::Sperring => truth.shielded.iter().any(|s| {
                s.patient == p.id && s.skjerming == sandkasse_kommune::Skjerming::Sperring
            }),
            PatientKind::Deceased => p.deceased.is_some(),
            PatientKind::Moved => p.moved.is_some(),
        }
    }
}

/// The patients of `kind` in a kommune, in the generator's order (`unit`: see [`PatientKind`]).
pub fn patients<'t>(
    truth: &'t Truth,
    kind: PatientKind,
    unit: Option<&str>,
) -> impl Iterator<Item = &'t PatientTruth> + 't {
    let today = sandkasse_kommune::REFERENCE_DATE.to_string();
    let unit = unit.map(str::to_owned);
    truth
        .patients
        .iter()
        .filter(move |p| kind.holds(truth, p, unit.as_deref(), &today))
}

/// One kind as the page and the API describe it: how many, and the first few.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KindSummary {
    pub kind: PatientKind,
    pub count: usize,
    /// Up to five examples: `(id, identifier, name)`.
    pub examples: Vec<Example>,
}

/// A patient of a kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Example {
    pub id: String,
    pub identifier: String,
    pub name: String,
    pub birth_date: String,
    pub deceased: Option<String>,
}

/// Every kind in a kommune (the relation kinds: with any unit).
pub fn summary(truth: &Truth) -> Vec<KindSummary> {
    PatientKind::ALL
        .into_iter()
        .map(|kind| {
            let all: Vec<&PatientTruth> = patients(truth, kind, None).collect();
            KindSummary {
                kind,
                count: all.len(),
                examples: all
                    .iter()
                    .take(5)
                    .map(|p| Example {
                        id: p.id.clone(),
                        identifier: p.identifier.clone(),
                        name: p.name.clone(),
                        birth_date: p.birth_date.clone(),
                        deceased: p.deceased.clone(),
                    })
                    .collect(),
            }
        })
        .collect()
}

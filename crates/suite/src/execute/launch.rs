//! Launch specs: a scenario's context spec (kommune, unit kind, which patient) resolved against
//! the world's ground truth into the [`LaunchSpec`] the sandbox launches.

use std::collections::BTreeMap;

use sandkasse_kommune::{REFERENCE_DATE, Skjerming, UnitKind};
use sandkasse_sandbox::LaunchSpec;

use super::World;
use crate::model::{ContextSpec, PatientPick};

/// Resolves a context of a scenario against the ground truth.
pub(super) fn launch_spec(
    world: &World,
    spec: &ContextSpec,
    taken: &[String],
) -> Result<LaunchSpec, String> {
    let kommune = spec.kommune.clone().unwrap_or_else(|| "4601".into());
    let unit_kind = match spec.unit.as_deref() {
        None => None,
        Some(u) => Some(parse_unit(u)?),
    };
    let tenant = world
        .dataset
        .tenant(&kommune)
        .ok_or_else(|| format!("kommune {kommune} is not in the data"))?;
    let truth = &tenant.truth;
    let today = REFERENCE_DATE.to_string();
    let unit_ok = |unit_id: &str| {
        truth.units.iter().any(|u| {
            u.id == unit_id
                && match unit_kind {
                    Some(k) => u.kind == k,
                    None => !matches!(u.kind, UnitKind::Tildelingskontor | UnitKind::Kommune),
                }
        })
    };
    let related = |patient: &str| {
        truth
            .care_relations
            .iter()
            .any(|c| c.patient == patient && c.active_on(&today) && unit_ok(&c.unit))
    };
    let alive_resident = |p: &&sandkasse_kommune::PatientTruth| p.deceased.is_none() && p.resident;
    let patient = match &spec.patient {
        PatientPick::WithRelation => None,
        PatientPick::RichRecord => {
            let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
            // Richest in what an overview lists (measurements aside): the most diagnoses,
            // medicines, vedtak and documents, so paging and completeness are really tested.
            for r in tenant
                .resources
                .iter()
                .filter(|r| r.resource_type != "Observation")
            {
                if let Some(p) = &r.patient {
                    *counts.entry(p.as_str()).or_default() += 1;
                }
            }
            let shielded: Vec<&str> = truth.shielded.iter().map(|s| s.patient.as_str()).collect();
            truth
                .patients
                .iter()
                .filter(alive_resident)
                .filter(|p| {
                    related(&p.id) && !shielded.contains(&p.id.as_str()) && !taken.contains(&p.id)
                })
                .max_by_key(|p| {
                    (
                        counts.get(p.id.as_str()).copied().unwrap_or(0),
                        std::cmp::Reverse(p.id.clone()),
                    )
                })
                .map(|p| p.id.clone())
        }
        PatientPick::Another => truth
            .patients
            .iter()
            .filter(alive_resident)
            .find(|p| related(&p.id) && !taken.contains(&p.id))
            .map(|p| p.id.clone()),
        PatientPick::Deceased => truth
            .patients
            .iter()
            .filter(|p| {
                p.deceased.is_some() && p.resident && related(&p.id) && !taken.contains(&p.id)
            })
            .map(|p| p.id.clone())
            .next(),
        PatientPick::DNummer
        | PatientPick::Moved
        | PatientPick::SpecialName
        | PatientPick::LongRecord => {
            let kind_ok = |p: &sandkasse_kommune::PatientTruth| match spec.patient {
                PatientPick::DNummer => p.identifier_kind == sandkasse_kommune::IdentifierKind::Dnr,
                PatientPick::Moved => p.moved.is_some(),
                PatientPick::SpecialName => p.name.chars().any(|c| !c.is_ascii() || c == '-'),
                _ => true,
            };
            let size = |id: &str| {
                tenant
                    .resources
                    .iter()
                    .filter(|r| r.patient.as_deref() == Some(id))
                    .count()
            };
            let shielded: Vec<&str> = truth.shielded.iter().map(|s| s.patient.as_str()).collect();
            let candidates = truth.patients.iter().filter(alive_resident).filter(|p| {
                kind_ok(p)
                    && related(&p.id)
                    && !taken.contains(&p.id)
                    && !shielded.contains(&p.id.as_str())
            });
            if spec.patient == PatientPick::LongRecord {
                candidates
                    .max_by_key(|p| (size(&p.id), std::cmp::Reverse(p.id.clone())))
                    .map(|p| p.id.clone())
            } else {
                candidates.map(|p| p.id.clone()).next()
            }
        }
        PatientPick::WithoutRelation => truth
            .patients
            .iter()
            .filter(alive_resident)
            .find(|p| !related(&p.id) && !taken.contains(&p.id))
            .map(|p| p.id.clone()),
        PatientPick::Shielded(code) => {
            let s =
                Skjerming::from_code(code).ok_or_else(|| format!("unknown shielding `{code}`"))?;
            let by_address = |p: &&sandkasse_kommune::PatientTruth| match s {
                Skjerming::StrengtFortroligAdresse => {
                    p.address_protection == sandkasse_kommune::AddressProtection::StrengtFortrolig
                }
                Skjerming::FortroligAdresse => {
                    p.address_protection == sandkasse_kommune::AddressProtection::Fortrolig
                }
                _ => truth
                    .shielded
                    .iter()
                    .any(|x| x.patient == p.id && x.skjerming == s),
            };
            let staffed_relation = |patient: &str| {
                truth.care_relations.iter().any(|c| {
                    c.patient == patient
                        && c.active_on(&today)
                        && unit_ok(&c.unit)
                        && truth.practitioners.iter().any(|p| {
                            p.units.contains(&c.unit)
                                && spec.category.as_deref().is_none_or(|x| x == p.category)
                        })
                })
            };
            truth
                .patients
                .iter()
                .filter(alive_resident)
                .filter(by_address)
                .find(|p| staffed_relation(&p.id))
                .map(|p| p.id.clone())
        }
    };
    if !matches!(spec.patient, PatientPick::WithRelation) && patient.is_none() {
        return Err(format!(
            "no patient in kommune {kommune} matches {:?}",
            spec.patient
        ));
    }
    // Without a unit kind, pick the unit through the patient's relation — one that has a
    // practitioner of the wanted category.
    let staffed = |unit_id: &str| {
        truth.practitioners.iter().any(|p| {
            p.units.iter().any(|u| u == unit_id)
                && spec.category.as_deref().is_none_or(|c| c == p.category)
        })
    };
    let unit_kind = unit_kind.or_else(|| {
        let p = patient.as_ref()?;
        let rel = truth.care_relations.iter().find(|c| {
            &c.patient == p && c.active_on(&today) && unit_ok(&c.unit) && staffed(&c.unit)
        })?;
        truth
            .units
            .iter()
            .find(|u| u.id == rel.unit)
            .map(|u| u.kind)
    });
    Ok(LaunchSpec {
        kommune: Some(kommune),
        patient,
        unit_kind,
        category: spec.category.clone(),
        emergency_reason: spec.emergency_reason.clone(),
        without_relation: matches!(spec.patient, PatientPick::WithoutRelation),
    })
}

fn parse_unit(u: &str) -> Result<UnitKind, String> {
    Ok(match u {
        "hjemmesykepleie" => UnitKind::Hjemmesykepleie,
        "sykehjem" => UnitKind::Sykehjem,
        "legevakt" => UnitKind::Legevakt,
        "helsestasjon" => UnitKind::Helsestasjon,
        "fastlegekontor" => UnitKind::Fastlegekontor,
        "tildelingskontor" => UnitKind::Tildelingskontor,
        other => return Err(format!("unknown unit kind `{other}`")),
    })
}

//! The world scenarios run in: a generated dataset, its platform base, and the look-ups the
//! checks need from the ground truth (who owns a resource, every street address).

use std::collections::BTreeMap;
use std::sync::Arc;

use sandkasse_kommune::{Dataset, GenConfig};
use sandkasse_platform::Base;

use crate::model::DataSpec;

/// A generated dataset and its platform base, shared by every scenario that uses it.
#[derive(Debug)]
pub struct World {
    pub dataset: Dataset,
    pub base: Arc<Base>,
    /// (kommune, resource type, id) → patient id.
    pub owner: BTreeMap<(String, String, String), String>,
    /// Every patient's street address line (with a number: a placeholder such as `Flyttet` is
    /// not an address), for the personal-data checks.
    pub addresses: Vec<String>,
}

impl World {
    pub fn new(spec: &DataSpec) -> Result<World, sandkasse_kommune::GenError> {
        let mut config = GenConfig::new(spec.seed, spec.innbyggere);
        if !spec.kommuner.is_empty() {
            config.kommuner = spec.kommuner.clone();
        }
        let dataset = sandkasse_kommune::try_generate(&config)?;
        let base = Arc::new(Base::new(&dataset));
        let owner = dataset
            .tenants
            .iter()
            .flat_map(|t| {
                t.resources.iter().filter_map(move |r| {
                    r.patient.as_ref().map(|p| {
                        (
                            (
                                t.kommune.nummer.to_owned(),
                                r.resource_type.to_owned(),
                                r.id.clone(),
                            ),
                            p.clone(),
                        )
                    })
                })
            })
            .collect();
        let addresses = dataset
            .tenants
            .iter()
            .flat_map(|t| t.resources.iter().filter(|r| r.resource_type == "Patient"))
            .filter_map(|r| r.json["address"][0]["line"][0].as_str())
            .filter(|l| l.len() >= 6 && l.chars().any(|c| c.is_ascii_digit()))
            .map(str::to_owned)
            .collect();
        Ok(World {
            dataset,
            base,
            owner,
            addresses,
        })
    }
}

//! Driving the generator: a whole [`Dataset`] in memory, or streamed to NDJSON files with a
//! manifest (see [`crate::output`]).

use rayon::prelude::*;

use crate::generate::{self, GenError, PersonOut, Skeleton, World};
use crate::model::*;

/// Persons generated per parallel work item.
const CHUNK: usize = 512;

/// Everything decided before persons are generated: tenants, skeletons and identifiers.
#[derive(Debug)]
pub(crate) struct Plan {
    pub config: GenConfig,
    pub sizes: Vec<u32>,
    pub skeletons: Vec<Skeleton>,
    pub sketches: Vec<Vec<generate::Sketch>>,
    pub identifiers: Vec<Vec<String>>,
}

impl Plan {
    pub fn new(config: &GenConfig) -> Result<Plan, GenError> {
        let ks = generate::resolve(config)?;
        let sizes = generate::split_innbyggere(config.innbyggere, &ks);
        let skeletons: Vec<Skeleton> = ks
            .iter()
            .enumerate()
            .map(|(t, k)| generate::skeleton(config.seed, t, k, sizes[t]))
            .collect();
        let sketches: Vec<Vec<generate::Sketch>> = sizes
            .iter()
            .enumerate()
            .map(|(t, &n)| {
                (0..n as usize)
                    .into_par_iter()
                    .map(|i| generate::sketch(config.seed, t, i))
                    .collect()
            })
            .collect();
        let identifiers = generate::assign_identifiers(config.seed, &sketches);
        Ok(Plan {
            config: config.clone(),
            sizes,
            skeletons,
            sketches,
            identifiers,
        })
    }

    pub fn world(&self) -> World<'_> {
        World {
            seed: self.config.seed,
            skeletons: &self.skeletons,
            sketches: &self.sketches,
            identifiers: &self.identifiers,
        }
    }

    /// Work items in canonical order: (tenant, first person, end).
    pub fn chunks(&self) -> Vec<(usize, usize, usize)> {
        let mut v = Vec::new();
        for (t, &n) in self.sizes.iter().enumerate() {
            let n = n as usize;
            for start in (0..n).step_by(CHUNK) {
                v.push((t, start, (start + CHUNK).min(n)));
            }
        }
        v
    }

    pub fn run_chunk(&self, (t, start, end): (usize, usize, usize)) -> PersonOut {
        let world = self.world();
        let mut out = PersonOut::default();
        for i in start..end {
            let p = generate::person(&world, t, i);
            out.resources.extend(p.resources);
            out.patients.extend(p.patients);
            out.relations.extend(p.relations);
            out.shielded.extend(p.shielded);
        }
        out
    }

    /// Empty tenants holding the skeleton resources and truth.
    pub fn tenants(&self) -> Vec<Tenant> {
        self.skeletons
            .iter()
            .map(|sk| Tenant {
                kommune: sk.kommune(),
                resources: sk.resources().to_vec(),
                truth: sk.truth(),
            })
            .collect()
    }
}

/// Adds a chunk's output to the tenants, in order.
pub(crate) fn absorb(tenants: &mut [Tenant], out: PersonOut) {
    for (t, r) in out.resources {
        tenants[t].resources.push(r);
    }
    for (t, p) in out.patients {
        tenants[t].truth.patients.push(p);
    }
    for (t, r) in out.relations {
        tenants[t].truth.care_relations.push(r);
    }
    for (t, s) in out.shielded {
        tenants[t].truth.shielded.push(s);
    }
}

/// Generates a dataset in memory, or says why the configuration is invalid.
pub fn try_generate(config: &GenConfig) -> Result<Dataset, GenError> {
    let plan = Plan::new(config)?;
    let outs: Vec<PersonOut> = plan
        .chunks()
        .into_par_iter()
        .map(|c| plan.run_chunk(c))
        .collect();
    let mut tenants = plan.tenants();
    for out in outs {
        absorb(&mut tenants, out);
    }
    Ok(Dataset {
        config: config.clone(),
        tenants,
    })
}

/// Generates a dataset in memory.
///
/// # Panics
/// When the configuration is invalid (unknown kommune, too few or too many innbyggere); use
/// [`try_generate`] for configurations that come from users.
pub fn generate(config: &GenConfig) -> Dataset {
    try_generate(config).unwrap_or_else(|e| panic!("invalid generator configuration: {e}"))
}

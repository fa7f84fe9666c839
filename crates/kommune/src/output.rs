//! Writing a dataset to disk: FHIR R4 NDJSON per kommune and resource type (the Bulk Data
//! convention), the ground truth per kommune, and a manifest with counts and digests.
//!
//! ```text
//! OUT/manifest.json
//! OUT/4601/Patient.ndjson
//! OUT/4601/Observation.ndjson
//! OUT/4601/truth.json
//! ...
//! ```
//!
//! Persons are generated and serialised in parallel batches and written in canonical order, so
//! memory stays bounded by the batch size plus the ground truth, and the files are byte-identical
//! for the same configuration on any machine. The manifest has no timestamps for the same reason.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::dataset::{Plan, absorb};
use crate::generate::{GenError, PersonOut, REFERENCE_DATE};
use crate::model::*;

/// Why writing a dataset failed.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error(transparent)]
    Config(#[from] GenError),
    #[error("kan ikke skrive {path}: {source} / cannot write")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The manifest written as `manifest.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    pub generator: String,
    pub fhir_version: &'static str,
    pub seed: u64,
    pub innbyggere: u32,
    pub reference_date: String,
    pub kommuner: Vec<ManifestKommune>,
    /// SHA-256 over every file's path, count and digest, in manifest order.
    pub digest: String,
}

/// One kommune in the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ManifestKommune {
    pub nummer: String,
    pub navn: String,
    pub innbyggere: u32,
    pub output: Vec<ManifestFile>,
}

/// One file in the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ManifestFile {
    /// `resourceType` of the lines, or `truth` for the ground truth file.
    #[serde(rename = "type")]
    pub kind: String,
    /// Path relative to the output directory.
    pub url: String,
    pub count: u64,
    pub sha256: String,
}

struct Sink {
    path: PathBuf,
    writer: BufWriter<File>,
    hasher: Sha256,
    count: u64,
}

impl Sink {
    fn create(path: PathBuf) -> Result<Sink, OutputError> {
        let file = File::create(&path).map_err(|source| OutputError::Io {
            path: path.clone(),
            source,
        })?;
        Ok(Sink {
            path,
            writer: BufWriter::with_capacity(1 << 20, file),
            hasher: Sha256::new(),
            count: 0,
        })
    }

    fn write(&mut self, bytes: &[u8], lines: u64) -> Result<(), OutputError> {
        self.hasher.update(bytes);
        self.count += lines;
        self.writer
            .write_all(bytes)
            .map_err(|source| OutputError::Io {
                path: self.path.clone(),
                source,
            })
    }

    fn finish(mut self) -> Result<(u64, String), OutputError> {
        self.writer.flush().map_err(|source| OutputError::Io {
            path: self.path.clone(),
            source,
        })?;
        Ok((self.count, hex::encode(self.hasher.finalize())))
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> OutputError + '_ {
    move |source| OutputError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Generates the dataset of `config` into `dir` (created if missing) and returns the manifest,
/// which is also written as `dir/manifest.json`.
pub fn write_ndjson(config: &GenConfig, dir: &Path) -> Result<Manifest, OutputError> {
    let plan = Plan::new(config)?;
    let mut tenants = plan.tenants();
    let mut sinks: Vec<BTreeMap<&'static str, Sink>> = Vec::new();
    for t in &tenants {
        let kdir = dir.join(t.kommune.nummer);
        std::fs::create_dir_all(&kdir).map_err(io(&kdir))?;
        sinks.push(BTreeMap::new());
    }
    let mut emit = |tenant: usize,
                    resource_type: &'static str,
                    bytes: &[u8],
                    lines: u64|
     -> Result<(), OutputError> {
        let sink = match sinks[tenant].entry(resource_type) {
            std::collections::btree_map::Entry::Occupied(o) => o.into_mut(),
            std::collections::btree_map::Entry::Vacant(v) => {
                let path = dir
                    .join(tenants_nummer(&plan, tenant))
                    .join(format!("{resource_type}.ndjson"));
                v.insert(Sink::create(path)?)
            }
        };
        sink.write(bytes, lines)
    };
    // Skeleton resources first, then persons in canonical order.
    for (t, tenant) in tenants.iter_mut().enumerate() {
        for r in std::mem::take(&mut tenant.resources) {
            emit(t, r.resource_type, &line(&r), 1)?;
        }
    }
    let chunks = plan.chunks();
    let batch = rayon::current_num_threads().max(1) * 4;
    for group in chunks.chunks(batch) {
        let outs: Vec<(Vec<Line>, PersonOut)> = group
            .par_iter()
            .map(|&c| {
                let mut out = plan.run_chunk(c);
                let lines = std::mem::take(&mut out.resources)
                    .into_iter()
                    .map(|(t, r)| (t, r.resource_type, line(&r)))
                    .collect();
                (lines, out)
            })
            .collect();
        for (lines, rest) in outs {
            for (t, ty, bytes) in lines {
                emit(t, ty, &bytes, 1)?;
            }
            absorb(&mut tenants, rest);
        }
    }

    let mut kommuner = Vec::new();
    let mut digest = Sha256::new();
    for (t, (tenant, files)) in tenants.iter().zip(sinks).enumerate() {
        let mut output = Vec::new();
        for (ty, sink) in files {
            let (count, sha256) = sink.finish()?;
            output.push(ManifestFile {
                kind: ty.to_owned(),
                url: format!("{}/{ty}.ndjson", tenant.kommune.nummer),
                count,
                sha256,
            });
        }
        let truth_path = dir.join(tenant.kommune.nummer).join("truth.json");
        let truth = serde_json::to_vec_pretty(&tenant.truth).expect("truth serialises");
        std::fs::write(&truth_path, &truth).map_err(io(&truth_path))?;
        output.push(ManifestFile {
            kind: "truth".into(),
            url: format!("{}/truth.json", tenant.kommune.nummer),
            count: tenant.truth.patients.len() as u64,
            sha256: hex::encode(Sha256::digest(&truth)),
        });
        for f in &output {
            digest.update(format!("{}\t{}\t{}\n", f.url, f.count, f.sha256));
        }
        kommuner.push(ManifestKommune {
            nummer: tenant.kommune.nummer.to_owned(),
            navn: tenant.kommune.navn.to_owned(),
            innbyggere: plan.sizes[t],
            output,
        });
    }
    let manifest = Manifest {
        generator: format!("sandkasse-kommune {}", env!("CARGO_PKG_VERSION")),
        fhir_version: sandkasse_fhir::FHIR_VERSION,
        seed: config.seed,
        innbyggere: config.innbyggere,
        reference_date: REFERENCE_DATE.to_string(),
        kommuner,
        digest: hex::encode(digest.finalize()),
    };
    let path = dir.join("manifest.json");
    let mut text = serde_json::to_vec_pretty(&manifest).expect("manifest serialises");
    text.push(b'\n');
    std::fs::write(&path, text).map_err(io(&path))?;
    Ok(manifest)
}

/// A serialised resource on its way to `(tenant, resourceType)`'s file.
type Line = (usize, &'static str, Vec<u8>);

fn tenants_nummer(plan: &Plan, tenant: usize) -> &'static str {
    plan.skeletons[tenant].kommune().nummer
}

/// One NDJSON line.
pub fn line(r: &Resource) -> Vec<u8> {
    let mut v = serde_json::to_vec(&r.json).expect("resources serialise");
    v.push(b'\n');
    v
}

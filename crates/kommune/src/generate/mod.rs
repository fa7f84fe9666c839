//! The generator: kommune skeletons (units, practitioners) and each person's record.
//!
//! Every random choice comes from a ChaCha8 stream seeded from `(seed, purpose, indices)` through
//! SHA-256, so a person's record depends only on the configuration and the person's index: persons
//! are generated in parallel and the output is still byte-identical on every run and machine.
//!
//! The first persons of every kommune cover the special cases (shielded address, deceased long
//! ago, moved, sperring, krisesenter, overgrepsmottak, sensitive note, D-nummer), so even a tiny
//! dataset exercises every access rule. After them, special cases occur at realistic rates.
//!
//! | file | stage |
//! |---|---|
//! | `mod.rs` | configuration to kommuner and sizes, the random streams, dates |
//! | `skeleton.rs` | a kommune's units and helsepersonell |
//! | `person.rs` | one person: sketch, identifiers, Patient, care relations, special cases |
//! | `record.rs` | the person's record: vedtak, diagnoses, medicines, measurements, documents |
//! | `fhir.rs` | FHIR building blocks: meta, codings, references, labels, quantities |

use std::collections::HashMap;

use base64::Engine as _;
use jiff::ToSpan;
use jiff::civil::Date;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sandkasse_fhir::systems;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::codes::{self, Code};
use crate::ids;
use crate::kommuner::{self, KommuneInfo};
use crate::model::*;
use crate::names;

mod fhir;
mod person;
mod record;
mod skeleton;

use fhir::*;
use person::*;
use record::*;
use skeleton::*;

pub(crate) use person::{PersonOut, Sketch, World, assign_identifiers, person, sketch};
pub(crate) use skeleton::{Skeleton, skeleton};

/// "Today" in every dataset: all dates are relative to it, so output never depends on the clock.
pub const REFERENCE_DATE: Date = jiff::civil::date(2026, 10, 1);

/// Why a configuration cannot be generated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GenError {
    #[error("ukjent kommunenummer / unknown kommunenummer: {0}")]
    UnknownKommune(String),
    #[error("ingen kommuner valgt / no kommuner selected")]
    NoKommuner,
    #[error("for få innbyggere: {got}, minst {min} (20 per kommune) / too few innbyggere")]
    TooSmall { got: u32, min: u32 },
    #[error("for mange innbyggere: {0}, høyst 5 000 000 / too many innbyggere")]
    TooLarge(u32),
}

/// Checks a configuration and resolves its kommuner.
pub fn resolve(config: &GenConfig) -> Result<Vec<&'static KommuneInfo>, GenError> {
    if config.kommuner.is_empty() {
        return Err(GenError::NoKommuner);
    }
    let ks = config
        .kommuner
        .iter()
        .map(|n| kommuner::by_nummer(n).ok_or_else(|| GenError::UnknownKommune(n.clone())))
        .collect::<Result<Vec<_>, _>>()?;
    let min = 20 * ks.len() as u32;
    if config.innbyggere < min {
        return Err(GenError::TooSmall {
            got: config.innbyggere,
            min,
        });
    }
    if config.innbyggere > 5_000_000 {
        return Err(GenError::TooLarge(config.innbyggere));
    }
    Ok(ks)
}

/// Innbyggere per kommune: at least 20 each, the rest split by population weight (largest
/// remainders), summing exactly to the configured total.
pub fn split_innbyggere(total: u32, ks: &[&KommuneInfo]) -> Vec<u32> {
    let base = 20u64;
    let rest = total as u64 - base * ks.len() as u64;
    let weight: u64 = ks.iter().map(|k| k.folketall as u64).sum();
    let mut shares: Vec<(u64, u64, usize)> = ks
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let exact = rest * k.folketall as u64;
            (exact / weight, exact % weight, i)
        })
        .collect();
    let mut left = rest - shares.iter().map(|s| s.0).sum::<u64>();
    let mut order: Vec<usize> = (0..ks.len()).collect();
    order.sort_by_key(|&i| (std::cmp::Reverse(shares[i].1), i));
    for i in order {
        if left == 0 {
            break;
        }
        shares[i].0 += 1;
        left -= 1;
    }
    shares.iter().map(|s| (s.0 + base) as u32).collect()
}

pub(crate) fn rng_for(seed: u64, purpose: &str, a: u64, b: u64) -> ChaCha8Rng {
    let mut h = Sha256::new();
    h.update(seed.to_le_bytes());
    h.update(purpose.as_bytes());
    h.update(a.to_le_bytes());
    h.update(b.to_le_bytes());
    let digest = h.finalize();
    let mut s = [0u8; 32];
    s.copy_from_slice(&digest);
    ChaCha8Rng::from_seed(s)
}

pub(super) fn date_minus(d: Date, days: i64) -> Date {
    d.checked_sub(days.days()).expect("dates stay in range")
}

pub(super) fn ts(d: Date, minutes_of_day: i64) -> String {
    format!(
        "{d}T{:02}:{:02}:00Z",
        minutes_of_day / 60 % 24,
        minutes_of_day % 60
    )
}

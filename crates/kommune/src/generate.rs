//! The generator: kommune skeletons (units, practitioners) and each person's record.
//!
//! Every random choice comes from a ChaCha8 stream seeded from `(seed, purpose, indices)` through
//! SHA-256, so a person's record depends only on the configuration and the person's index: persons
//! are generated in parallel and the output is still byte-identical on every run and machine.
//!
//! The first persons of every kommune cover the special cases (shielded address, deceased long
//! ago, moved, sperring, krisesenter, overgrepsmottak, sensitive note, D-nummer), so even a tiny
//! dataset exercises every access rule. After them, special cases occur at realistic rates.

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

fn date_minus(d: Date, days: i64) -> Date {
    d.checked_sub(days.days()).expect("dates stay in range")
}

fn ts(d: Date, minutes_of_day: i64) -> String {
    format!(
        "{d}T{:02}:{:02}:00Z",
        minutes_of_day / 60 % 24,
        minutes_of_day % 60
    )
}

fn meta(last_updated: &str) -> Value {
    json!({
        "versionId": "1",
        "lastUpdated": last_updated,
        "tag": [{"system": systems::V3_ACT_REASON, "code": "HTEST", "display": "test health data"}],
    })
}

fn coding(system: &str, c: &Code) -> Value {
    json!({"system": system, "code": c.code, "display": c.display})
}

fn concept(system: &str, c: &Code) -> Value {
    json!({"coding": [coding(system, c)], "text": c.text})
}

fn reference(resource_type: &str, id: &str) -> Value {
    json!({"reference": format!("{resource_type}/{id}")})
}

fn security_labels(skjerming: Skjerming) -> Value {
    let confidentiality = match skjerming {
        Skjerming::FortroligAdresse => ("R", "restricted"),
        _ => ("V", "very restricted"),
    };
    json!([
        {"system": systems::V3_CONFIDENTIALITY, "code": confidentiality.0, "display": confidentiality.1},
        {"system": systems::SANDKASSE_SKJERMING, "code": skjerming.code(), "display": skjerming.display()},
    ])
}

/// A unit with the practitioners working there.
#[derive(Debug, Clone)]
struct Unit {
    truth: UnitTruth,
    bydel: usize,
    staff: Vec<usize>,
}

/// A kommune's organisation: units and practitioners, generated before any person.
#[derive(Debug, Clone)]
pub(crate) struct Skeleton {
    kommune: &'static KommuneInfo,
    units: Vec<Unit>,
    practitioners: Vec<PractitionerTruth>,
    resources: Vec<Resource>,
}

impl Skeleton {
    fn units_of(&self, kind: UnitKind) -> Vec<usize> {
        (0..self.units.len())
            .filter(|&u| self.units[u].truth.kind == kind)
            .collect()
    }

    fn unit_for(&self, kind: UnitKind, bydel: usize) -> usize {
        let of_kind = self.units_of(kind);
        of_kind
            .iter()
            .copied()
            .find(|&u| self.units[u].bydel == bydel)
            .unwrap_or(of_kind[bydel % of_kind.len()])
    }

    fn staff_member(
        &self,
        unit: usize,
        rng: &mut ChaCha8Rng,
        categories: &[&str],
    ) -> &PractitionerTruth {
        let staff = &self.units[unit].staff;
        let fitting: Vec<usize> = staff
            .iter()
            .copied()
            .filter(|&p| categories.contains(&self.practitioners[p].category))
            .collect();
        let pick = if fitting.is_empty() {
            *staff.choose(rng).expect("units have staff")
        } else {
            *fitting.choose(rng).expect("non-empty")
        };
        &self.practitioners[pick]
    }
}

fn person_name(rng: &mut ChaCha8Rng, female: bool, sami_share: f64) -> (String, String) {
    let sami = rng.random_bool(sami_share);
    let given = match (sami, female) {
        (true, true) => names::SAMI_FEMALE,
        (true, false) => names::SAMI_MALE,
        (false, true) => names::FEMALE,
        (false, false) => names::MALE,
    };
    let family = if sami {
        names::SAMI_SURNAMES
    } else {
        names::SURNAMES
    };
    (
        given.choose(rng).expect("names").to_string(),
        family.choose(rng).expect("names").to_string(),
    )
}

pub(crate) fn skeleton(
    seed: u64,
    tenant: usize,
    kommune: &'static KommuneInfo,
    innbyggere: u32,
) -> Skeleton {
    let mut rng = rng_for(seed, "skeleton", tenant as u64, 0);
    let knr: u32 = kommune.nummer.parse().expect("kommunenummer is numeric");
    let mut org_serial = knr * 1000;
    let mut next_orgnr = || loop {
        org_serial += 1;
        if let Some(o) = ids::orgnr(org_serial) {
            return o;
        }
    };
    let mut hpr_serial = knr * 1000;
    let mut next_hpr = || loop {
        hpr_serial += 1;
        if let Some(h) = ids::hpr(hpr_serial) {
            return h;
        }
    };
    let n = innbyggere as usize;
    let bydeler = kommune.bydeler.len();
    let plan: [(UnitKind, usize, &[&str]); 7] = [
        (UnitKind::Kommune, 1, &["XX"]),
        (UnitKind::Tildelingskontor, 1, &["XX", "XX", "SP"]),
        (
            UnitKind::Hjemmesykepleie,
            (n / 2500).clamp(1, bydeler),
            &["SP", "SP", "SP", "HF", "HF", "VP"],
        ),
        (
            UnitKind::Sykehjem,
            (n / 4000).clamp(1, 6),
            &["SP", "SP", "HF", "HF", "LE", "FT"],
        ),
        (UnitKind::Legevakt, 1, &["LE", "LE", "LE", "SP", "SP"]),
        (
            UnitKind::Helsestasjon,
            (n / 6000).clamp(1, bydeler),
            &["SP", "SP", "JO", "LE"],
        ),
        (
            UnitKind::Fastlegekontor,
            (n / 1500).clamp(1, 12),
            &["LE", "LE", "LE", "HE"],
        ),
    ];
    let mut sk = Skeleton {
        kommune,
        units: Vec::new(),
        practitioners: Vec::new(),
        resources: Vec::new(),
    };
    let kommune_org = format!("org-{}", kommune.nummer);
    for (kind, count, staffing) in plan {
        for i in 0..count {
            let bydel = i % bydeler;
            let (id, name, slug) = match kind {
                UnitKind::Kommune => (kommune_org.clone(), format!("{} kommune", kommune.navn), ""),
                UnitKind::Tildelingskontor => (
                    String::new(),
                    format!("{} kommune, tildelingskontoret", kommune.navn),
                    "tk",
                ),
                UnitKind::Hjemmesykepleie => (
                    String::new(),
                    format!("Hjemmesykepleien sone {}", kommune.bydeler[bydel]),
                    "hs",
                ),
                UnitKind::Sykehjem => (
                    String::new(),
                    format!("{} sykehjem", kommune.bydeler[bydel]),
                    "sh",
                ),
                UnitKind::Legevakt => (String::new(), format!("{} legevakt", kommune.navn), "lv"),
                UnitKind::Helsestasjon => (
                    String::new(),
                    format!("{} helsestasjon", kommune.bydeler[bydel]),
                    "hst",
                ),
                UnitKind::Fastlegekontor => (
                    String::new(),
                    format!("{} legesenter", kommune.bydeler[bydel]),
                    "fl",
                ),
            };
            let id = if id.is_empty() {
                format!("org-{}-{slug}{}", kommune.nummer, i + 1)
            } else {
                id
            };
            let orgnr = next_orgnr();
            let (postnr, poststed) = kommune.poststeder[bydel % kommune.poststeder.len()];
            let mut org = json!({
                "resourceType": "Organization",
                "id": id,
                "meta": meta("2024-01-02T08:00:00Z"),
                "identifier": [{"use": "official", "system": systems::ORGNR, "value": orgnr}],
                "active": true,
                "type": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/organization-type",
                    "code": if kind == UnitKind::Kommune { "govt" } else { "prov" }}], "text": format!("{kind:?}")}],
                "name": name,
                "address": [{"use": "work", "line": [format!("{} {}", names::STREETS[(i * 7 + bydel) % names::STREETS.len()], 1 + i)],
                    "postalCode": postnr, "city": poststed, "country": "NO"}],
            });
            if kind != UnitKind::Kommune {
                org["partOf"] = reference("Organization", &kommune_org);
            }
            sk.resources.push(Resource {
                resource_type: "Organization",
                id: id.clone(),
                patient: None,
                json: org,
            });
            let unit = sk.units.len();
            sk.units.push(Unit {
                truth: UnitTruth {
                    id: id.clone(),
                    orgnr,
                    name,
                    kind,
                },
                bydel,
                staff: Vec::new(),
            });
            for &category in staffing {
                let p = sk.practitioners.len();
                let pid = format!("hp-{}-{}", kommune.nummer, p + 1);
                let female = rng.random_bool(0.7);
                let (given, family) = person_name(&mut rng, female, 0.04);
                let hpr = next_hpr();
                let cat = codes::KATEGORI_HELSEPERSONELL
                    .iter()
                    .find(|c| c.code == category)
                    .expect("known category");
                sk.resources.push(Resource {
                    resource_type: "Practitioner",
                    id: pid.clone(),
                    patient: None,
                    json: json!({
                        "resourceType": "Practitioner", "id": pid, "meta": meta("2024-01-02T08:00:00Z"),
                        "identifier": [{"use": "official", "system": systems::HPR, "value": hpr}],
                        "active": true,
                        "name": [{"use": "official", "family": family, "given": [given]}],
                        "gender": if female { "female" } else { "male" },
                        "qualification": [{"code": concept(systems::VOLVEN_9060, cat)}],
                    }),
                });
                let role_id = format!("pr-{}-{}", kommune.nummer, p + 1);
                sk.resources.push(Resource {
                    resource_type: "PractitionerRole",
                    id: role_id.clone(),
                    patient: None,
                    json: json!({
                        "resourceType": "PractitionerRole", "id": role_id, "meta": meta("2024-01-02T08:00:00Z"),
                        "active": true,
                        "practitioner": reference("Practitioner", &pid),
                        "organization": reference("Organization", &id),
                        "code": [concept(systems::VOLVEN_9060, cat)],
                    }),
                });
                sk.units[unit].staff.push(p);
                sk.practitioners.push(PractitionerTruth {
                    id: pid,
                    hpr,
                    name: format!("{given} {family}"),
                    category: cat.code,
                    units: vec![id.clone()],
                });
            }
        }
    }
    sk
}

/// Traits of a person decided before identifiers are assigned.
#[derive(Debug, Clone)]
pub(crate) struct Sketch {
    pub birth: Date,
    pub female: bool,
    pub dnr: bool,
}

/// Index of the forced special cases among the first persons of each kommune.
/// Days the fastlege relation lasts after a patient's death.
const FASTLEGE_AFTER_DEATH_DAYS: i64 = 30;

pub(crate) mod forced {
    pub const STRENGT_FORTROLIG: usize = 1;
    pub const FORTROLIG: usize = 2;
    pub const DEAD_LONG_AGO: usize = 3;
    pub const DEAD_RECENTLY: usize = 4;
    pub const MOVED_IN: usize = 5;
    pub const SPERRING: usize = 6;
    pub const KRISESENTER: usize = 7;
    pub const OVERGREPSMOTTAK: usize = 8;
    pub const SENSITIVT: usize = 9;
    pub const DNR: usize = 10;
    pub const CHILD: usize = 11;
    /// Forced cases are 0..COUNT; person 0 is an ordinary elderly service recipient.
    pub const COUNT: usize = 12;
}

fn sample_age(rng: &mut ChaCha8Rng) -> i64 {
    // Approximate Norwegian population pyramid in 10-year bands.
    const BANDS: [u32; 10] = [11, 12, 13, 14, 13, 13, 11, 9, 4, 1];
    let total: u32 = BANDS.iter().sum();
    let mut x = rng.random_range(0..total);
    for (band, w) in BANDS.iter().enumerate() {
        if x < *w {
            return band as i64 * 10 + rng.random_range(0..10);
        }
        x -= w;
    }
    95
}

pub(crate) fn sketch(seed: u64, tenant: usize, index: usize) -> Sketch {
    let mut rng = rng_for(seed, "sketch", tenant as u64, index as u64);
    let age = match index {
        forced::CHILD => rng.random_range(0..5),
        forced::DNR => rng.random_range(22..50),
        i if i < forced::COUNT => rng.random_range(70..96),
        _ => sample_age(&mut rng),
    };
    let birth = date_minus(REFERENCE_DATE, age * 365 + rng.random_range(0..365));
    let dnr = index == forced::DNR
        || (index >= forced::COUNT && (20..60).contains(&age) && rng.random_bool(0.03));
    Sketch {
        birth,
        female: rng.random_bool(0.51),
        dnr,
    }
}

/// Assigns fødselsnummer / D-nummer to every sketched person of the dataset, unique across it.
/// Sequential in (tenant, person) order, so the result is deterministic.
pub(crate) fn assign_identifiers(seed: u64, sketches: &[Vec<Sketch>]) -> Vec<Vec<String>> {
    let mut next: HashMap<(Date, bool, bool), u32> = HashMap::new();
    sketches
        .iter()
        .map(|persons| {
            persons
                .iter()
                .map(|s| {
                    let range = ids::individnummer_range(s.birth.year() as i32)
                        .expect("birth years are in range");
                    let key = (s.birth, s.female, s.dnr);
                    let counter = next.entry(key).or_insert_with(|| {
                        let mut r = rng_for(
                            seed,
                            "individnummer",
                            s.birth.year() as u64,
                            s.birth.day_of_year() as u64,
                        );
                        r.random_range(0..40) * 2
                    });
                    loop {
                        let i = range.start() + *counter + if s.female { 0 } else { 1 };
                        *counter += 2;
                        assert!(i <= *range.end(), "individnummer exhausted for {}", s.birth);
                        let (y, m, d) = (
                            s.birth.year() as i32,
                            s.birth.month() as u32,
                            s.birth.day() as u32,
                        );
                        let id = if s.dnr {
                            ids::dnr(y, m, d, i)
                        } else {
                            ids::fnr(y, m, d, i)
                        };
                        if let Some(id) = id {
                            return id;
                        }
                    }
                })
                .collect()
        })
        .collect()
}

/// What one person's generation produced.
#[derive(Debug, Default)]
pub(crate) struct PersonOut {
    /// (tenant index, resource).
    pub resources: Vec<(usize, Resource)>,
    pub patients: Vec<(usize, PatientTruth)>,
    pub relations: Vec<(usize, CareRelation)>,
    pub shielded: Vec<(usize, ShieldedResource)>,
}

/// Shared inputs of person generation.
#[derive(Debug)]
pub(crate) struct World<'a> {
    pub seed: u64,
    pub skeletons: &'a [Skeleton],
    pub sketches: &'a [Vec<Sketch>],
    pub identifiers: &'a [Vec<String>],
}

struct Ctx<'a> {
    out: PersonOut,
    rng: ChaCha8Rng,
    tenant: usize,
    sk: &'a Skeleton,
    patient_id: String,
    index: usize,
    serial: usize,
}

impl Ctx<'_> {
    fn id(&mut self, prefix: &str) -> String {
        self.serial += 1;
        format!("{prefix}-{}-{}", &self.patient_id[4..], self.serial)
    }

    fn push(&mut self, resource_type: &'static str, id: String, json: Value) {
        let patient = Some(self.patient_id.clone());
        self.out.resources.push((
            self.tenant,
            Resource {
                resource_type,
                id,
                patient,
                json,
            },
        ));
    }

    fn relation(&mut self, unit: usize, basis: CareBasis, start: Date, end: Option<Date>) {
        let rel = CareRelation {
            unit: self.sk.units[unit].truth.id.clone(),
            patient: self.patient_id.clone(),
            basis,
            start: start.to_string(),
            end: end.map(|d| d.to_string()),
        };
        self.out.relations.push((self.tenant, rel));
    }

    fn shield(&mut self, resource_type: &'static str, id: &str, skjerming: Skjerming) {
        let s = ShieldedResource {
            resource_type,
            id: id.to_owned(),
            patient: self.patient_id.clone(),
            skjerming,
        };
        self.out.shielded.push((self.tenant, s));
    }

    fn day_between(&mut self, from: Date, to: Date) -> Date {
        let span = (to - from).get_days().max(0) as i64;
        date_minus(to, self.rng.random_range(0..=span))
    }

    fn minutes(&mut self) -> i64 {
        self.rng.random_range(7 * 60..21 * 60)
    }
}

/// One person's life in the data: Patient, vedtak, diagnoses, medicines, measurements, documents,
/// legevakt visits, and (for movers) the record left in the kommune they moved from.
pub(crate) fn person(world: &World<'_>, tenant: usize, index: usize) -> PersonOut {
    let sk = &world.skeletons[tenant];
    let sketch = &world.sketches[tenant][index];
    let identifier = &world.identifiers[tenant][index];
    let mut rng = rng_for(world.seed, "person", tenant as u64, index as u64);
    let knr = sk.kommune.nummer;
    let age = (REFERENCE_DATE - sketch.birth).get_days() as i64 / 365;

    let hammerfest_like = matches!(knr, "5603");
    let (given, family) = person_name(
        &mut rng,
        sketch.female,
        if hammerfest_like { 0.15 } else { 0.03 },
    );
    let bydel = rng.random_range(0..sk.kommune.bydeler.len());
    let protection = match index {
        forced::STRENGT_FORTROLIG => AddressProtection::StrengtFortrolig,
        forced::FORTROLIG => AddressProtection::Fortrolig,
        i if i < forced::COUNT => AddressProtection::None,
        _ => match rng.random_range(0..1000) {
            0..=1 => AddressProtection::StrengtFortrolig,
            2..=6 => AddressProtection::Fortrolig,
            _ => AddressProtection::None,
        },
    };
    let deceased: Option<Date> = match index {
        forced::DEAD_LONG_AGO => Some(date_minus(REFERENCE_DATE, rng.random_range(3700..5400))),
        // Within the fastlege's days after a death, so one deceased person in every kommune has
        // a unit with tjenstlig behov.
        forced::DEAD_RECENTLY => Some(date_minus(REFERENCE_DATE, rng.random_range(5..25))),
        i if i < forced::COUNT => None,
        _ => {
            let p = match age {
                90.. => 0.12,
                80..=89 => 0.07,
                70..=79 => 0.025,
                _ => 0.002,
            };
            rng.random_bool(p)
                .then(|| date_minus(REFERENCE_DATE, rng.random_range(1..5400)))
        }
    }
    .map(|d| d.max(sketch.birth.checked_add(1.days()).expect("in range")));
    let tenants = world.skeletons.len();
    let moved_from: Option<(usize, Date)> = (tenants > 1 && deceased.is_none())
        .then(|| {
            let moves =
                index == forced::MOVED_IN || (index >= forced::COUNT && rng.random_bool(0.02));
            moves.then(|| {
                let other = (tenant + rng.random_range(1..tenants)) % tenants;
                (
                    other,
                    date_minus(REFERENCE_DATE, rng.random_range(40..2000)).max(sketch.birth),
                )
            })
        })
        .flatten();
    let service_recipient = index < forced::COUNT && index != forced::CHILD && index != forced::DNR
        || {
            let p = match age {
                80.. => 0.40,
                67..=79 => 0.10,
                50..=66 => 0.025,
                _ => 0.008,
            };
            rng.random_bool(p)
        };

    let patient_id = format!("pas-{knr}-{index:06}");
    let mut cx = Ctx {
        out: PersonOut::default(),
        rng,
        tenant,
        sk,
        patient_id: patient_id.clone(),
        index,
        serial: 0,
    };

    let street = names::STREETS.choose(&mut cx.rng).expect("streets");
    let (postnr, poststed) = *sk
        .kommune
        .poststeder
        .choose(&mut cx.rng)
        .expect("poststeder");
    let house = cx.rng.random_range(1..120);
    let mut addresses = vec![json!({
        "use": "home", "type": "physical",
        "line": [format!("{street} {house}")], "postalCode": postnr, "city": poststed,
        "district": sk.kommune.navn, "country": "NO",
    })];
    if let Some((from, date)) = moved_from {
        let old = world.skeletons[from].kommune;
        addresses[0]["period"] = json!({"start": date.to_string()});
        addresses.push(json!({
            "use": "old", "type": "physical", "line": [format!("{} {}", names::STREETS[index % names::STREETS.len()], 1 + index % 40)],
            "postalCode": old.poststeder[0].0, "city": old.poststeder[0].1, "district": old.navn, "country": "NO",
            "period": {"end": date.to_string()},
        }));
    }
    let fastlege = sk.unit_for(UnitKind::Fastlegekontor, bydel);
    let last_day = deceased.unwrap_or(REFERENCE_DATE);
    let since = cx.day_between(
        sketch.birth.max(date_minus(last_day, 3650)),
        date_minus(last_day, 1).max(sketch.birth),
    );
    let since = match moved_from {
        Some((_, date)) => since.max(date),
        None => since,
    };
    let mut patient = json!({
        "resourceType": "Patient",
        "id": patient_id,
        "meta": meta(&ts(since, 8 * 60)),
        "identifier": [{"use": "official", "system": if sketch.dnr { systems::DNR } else { systems::FNR }, "value": identifier}],
        "active": true,
        "name": [{"use": "official", "family": family, "given": [given], "text": format!("{given} {family}")}],
        "gender": if sketch.female { "female" } else { "male" },
        "birthDate": sketch.birth.to_string(),
        "address": addresses,
        "generalPractitioner": [reference("Organization", &sk.units[fastlege].truth.id)],
        "managingOrganization": reference("Organization", &format!("org-{knr}")),
    });
    if let Some(d) = deceased {
        patient["deceasedDateTime"] = json!(d.to_string());
    }
    let skjerming = match protection {
        AddressProtection::StrengtFortrolig => Some(Skjerming::StrengtFortroligAdresse),
        AddressProtection::Fortrolig => Some(Skjerming::FortroligAdresse),
        AddressProtection::None => None,
    };
    if let Some(s) = skjerming {
        patient["meta"]["security"] = security_labels(s);
    }
    let pid = cx.patient_id.clone();
    cx.push("Patient", pid.clone(), patient);
    if let Some(s) = skjerming {
        cx.shield("Patient", &pid, s);
    }
    let truth = PatientTruth {
        id: pid.clone(),
        identifier: identifier.clone(),
        identifier_kind: if sketch.dnr {
            IdentifierKind::Dnr
        } else {
            IdentifierKind::Fnr
        },
        name: format!("{given} {family}"),
        birth_date: sketch.birth.to_string(),
        gender: if sketch.female { "female" } else { "male" },
        deceased: deceased.map(|d| d.to_string()),
        address_protection: protection,
        moved: moved_from.map(|(from, date)| Move {
            from: world.skeletons[from].kommune.nummer.to_owned(),
            to: knr.to_owned(),
            date: date.to_string(),
        }),
        resident: true,
    };
    cx.out.patients.push((tenant, truth.clone()));

    let end_of_life = deceased;
    let start_here = moved_from.map(|(_, d)| d).unwrap_or(sketch.birth);
    let latest = end_of_life.unwrap_or(REFERENCE_DATE);
    // After a death the fastlege still completes the record (dødsmelding, the last letters) for
    // a while: the relation ends FASTLEGE_AFTER_DEATH_DAYS after the death.
    cx.relation(
        fastlege,
        CareBasis::Fastlege,
        since,
        end_of_life.map(|d| date_minus(d, -FASTLEGE_AFTER_DEATH_DAYS)),
    );

    if age < 6 || index == forced::CHILD {
        let hst = sk.unit_for(UnitKind::Helsestasjon, bydel);
        vedtak(
            &mut cx,
            hst,
            (systems::VOLVEN_8663, &codes::HELSESTASJON),
            sketch.birth.max(start_here),
            None,
            CareBasis::Helsestasjon,
        );
    }
    if service_recipient {
        record(&mut cx, bydel, start_here, latest, end_of_life, age);
    }
    let legevakt_p = if index < forced::COUNT { 1.0 } else { 0.06 };
    if cx.rng.random_bool(legevakt_p) {
        for _ in 0..cx.rng.random_range(1..=2) {
            legevakt(&mut cx, start_here.max(date_minus(latest, 1100)), latest);
        }
    }
    special_cases(&mut cx, index, start_here, latest);

    if let Some((from, date)) = moved_from {
        left_behind(world, &mut cx, &truth, from, date);
    }
    cx.out
}

/// An EpisodeOfCare: a vedtak (Volven 9151 tjenestetype) or a helsestasjon follow-up (Volven 8663).
fn vedtak(
    cx: &mut Ctx<'_>,
    unit: usize,
    (system, tjeneste): (&str, &Code),
    start: Date,
    end: Option<Date>,
    basis: CareBasis,
) -> String {
    let id = cx.id("eoc");
    let saksbehandler = cx.sk.units_of(UnitKind::Tildelingskontor)[0];
    let by = cx
        .sk
        .staff_member(saksbehandler, &mut cx.rng, &["XX"])
        .id
        .clone();
    let mut period = json!({"start": start.to_string()});
    if let Some(end) = end {
        period["end"] = json!(end.to_string());
    }
    let json = json!({
        "resourceType": "EpisodeOfCare", "id": id, "meta": meta(&ts(start, 9 * 60)),
        "status": if end.is_some_and(|e| e < REFERENCE_DATE) { "finished" } else { "active" },
        "type": [concept(system, tjeneste)],
        "patient": reference("Patient", &cx.patient_id),
        "managingOrganization": reference("Organization", &cx.sk.units[unit].truth.id),
        "period": period,
        "careManager": reference("Practitioner", &by),
    });
    cx.push("EpisodeOfCare", id.clone(), json);
    cx.relation(unit, basis, start, end);
    if basis == CareBasis::Vedtak {
        cx.relation(saksbehandler, CareBasis::Vedtak, start, end);
    }
    id
}

/// The record of a service recipient: vedtak, diagnoses, allergies, medicines, vital signs, lab
/// results and documents.
fn record(
    cx: &mut Ctx<'_>,
    bydel: usize,
    start_here: Date,
    latest: Date,
    end_of_life: Option<Date>,
    age: i64,
) {
    let n_vedtak = cx.rng.random_range(1..=3);
    let mut care_units = Vec::new();
    for v in 0..n_vedtak {
        let institution = age >= 85 && v == 0 && cx.rng.random_bool(0.3);
        let (kind, tjeneste) = if institution {
            (
                UnitKind::Sykehjem,
                if cx.rng.random_bool(0.7) {
                    &codes::LANGTIDSOPPHOLD
                } else {
                    &codes::TIDSBEGRENSET_OPPHOLD
                },
            )
        } else {
            let c = [
                &codes::HELSETJENESTER_I_HJEMMET,
                &codes::HELSETJENESTER_I_HJEMMET,
                &codes::HELSETJENESTER_I_HJEMMET,
                &codes::PRAKTISK_BISTAND,
                &codes::TRYGGHETSALARM,
                &codes::DAGAKTIVITETSTILBUD,
                &codes::MATOMBRINGING,
                &codes::OMSORGSSTONAD,
            ]
            .choose(&mut cx.rng)
            .copied()
            .expect("codes");
            (UnitKind::Hjemmesykepleie, c)
        };
        let unit = cx.sk.unit_for(kind, bydel);
        let start = cx.day_between(
            start_here.max(date_minus(latest, 2500)),
            date_minus(latest, 0),
        );
        let finished = v > 0 && cx.rng.random_bool(0.25);
        let end = if finished {
            Some(cx.day_between(start, latest))
        } else {
            end_of_life
        };
        vedtak(
            cx,
            unit,
            (systems::VOLVEN_9151, tjeneste),
            start,
            end,
            CareBasis::Vedtak,
        );
        care_units.push((unit, start));
    }
    let (main_unit, main_start) = care_units[0];
    let fastlege = cx.sk.unit_for(UnitKind::Fastlegekontor, bydel);

    for (icpc, icd) in DIAGNOSER_SAMPLE(cx, 1, 4) {
        let id = cx.id("con");
        let onset = cx.day_between(start_here.max(date_minus(latest, 4000)), latest);
        let doctor = cx
            .sk
            .staff_member(fastlege, &mut cx.rng, &["LE"])
            .id
            .clone();
        let mut codings = vec![coding(systems::ICPC2, icpc)];
        if cx.rng.random_bool(0.4) {
            codings.push(coding(systems::ICD10, icd));
        }
        // Diagnoses set more than five years ago are resolved half a year after onset (no random
        // draw, so the rest of the record stays as it was): an overview must show both.
        let resolved = onset < date_minus(latest, 5 * 365);
        let mut json = json!({
            "resourceType": "Condition", "id": id, "meta": meta(&ts(onset, 10 * 60)),
            "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": if resolved { "resolved" } else { "active" }}]},
            "verificationStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "confirmed"}]},
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-category", "code": "problem-list-item"}]}],
            "code": {"coding": codings, "text": icpc.display},
            "subject": reference("Patient", &cx.patient_id),
            "onsetDateTime": onset.to_string(),
            "recordedDate": onset.to_string(),
            "recorder": reference("Practitioner", &doctor),
        });
        if resolved {
            json["abatementDateTime"] = json!(date_minus(onset, -182).to_string());
        }
        cx.push("Condition", id, json);
    }

    if cx.rng.random_bool(0.25) {
        let allergen = *codes::ALLERGENER.choose(&mut cx.rng).expect("allergens");
        let id = cx.id("all");
        let date = cx.day_between(start_here.max(date_minus(latest, 4000)), latest);
        let json = json!({
            "resourceType": "AllergyIntolerance", "id": id, "meta": meta(&ts(date, 11 * 60)),
            "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "code": "active"}]},
            "verificationStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification", "code": "confirmed"}]},
            "type": "allergy", "category": ["medication"],
            "criticality": if cx.rng.random_bool(0.3) { "high" } else { "low" },
            "code": concept(systems::ATC, &allergen),
            "patient": reference("Patient", &cx.patient_id),
            "recordedDate": date.to_string(),
        });
        cx.push("AllergyIntolerance", id, json);
    }

    let n_meds = cx.rng.random_range(1..=6);
    let mut meds: Vec<usize> = (0..codes::LEGEMIDLER.len()).collect();
    for m in 0..n_meds {
        let pick = cx.rng.random_range(m..meds.len());
        meds.swap(m, pick);
        let (atc, dosage) = codes::LEGEMIDLER[meds[m]];
        let id = cx.id("med");
        let start = cx.day_between(start_here.max(date_minus(latest, 3000)), latest);
        let stopped = cx.rng.random_bool(0.2) || end_of_life.is_some();
        let mut period = json!({"start": start.to_string()});
        if stopped {
            period["end"] = json!(cx.day_between(start, latest).to_string());
        }
        let json = json!({
            "resourceType": "MedicationStatement", "id": id, "meta": meta(&ts(start, 12 * 60)),
            "status": if stopped { "completed" } else { "active" },
            "medicationCodeableConcept": concept(systems::ATC, &atc),
            "subject": reference("Patient", &cx.patient_id),
            "effectivePeriod": period,
            "dateAsserted": start.to_string(),
            "dosage": [{"text": dosage}],
        });
        cx.push("MedicationStatement", id, json);
    }

    // Vital signs: a few measurement rounds by the home-care or nursing-home staff.
    for _ in 0..cx.rng.random_range(2..=8) {
        let day = cx.day_between(main_start, latest);
        let when = ts(day, cx.minutes());
        let nurse = cx
            .sk
            .staff_member(main_unit, &mut cx.rng, &["SP", "HF", "VP"])
            .id
            .clone();
        let sys = cx.rng.random_range(105..185);
        let dia = cx.rng.random_range(55..sys.min(110) - 20);
        let id = cx.id("obs");
        let bp = json!({
            "resourceType": "Observation", "id": id, "meta": meta(&when),
            "status": "final",
            "category": [vital_category()],
            "code": concept(systems::LOINC, &codes::BLODTRYKK),
            "subject": reference("Patient", &cx.patient_id),
            "effectiveDateTime": when,
            "performer": [reference("Practitioner", &nurse)],
            "component": [
                {"code": concept(systems::LOINC, &codes::SYSTOLISK), "valueQuantity": quantity(sys * 10, "mmHg", "mm[Hg]")},
                {"code": concept(systems::LOINC, &codes::DIASTOLISK), "valueQuantity": quantity(dia * 10, "mmHg", "mm[Hg]")},
            ],
        });
        cx.push("Observation", id, bp);
        for vital in codes::VITALE_PARAMETERE {
            if vital.loinc.code == "29463-7" && !cx.rng.random_bool(0.3) {
                continue;
            }
            let value = cx.rng.random_range(vital.min_x10..=vital.max_x10);
            let id = cx.id("obs");
            let json = json!({
                "resourceType": "Observation", "id": id, "meta": meta(&when),
                "status": "final",
                "category": [vital_category()],
                "code": concept(systems::LOINC, &vital.loinc),
                "subject": reference("Patient", &cx.patient_id),
                "effectiveDateTime": when,
                "performer": [reference("Practitioner", &nurse)],
                "valueQuantity": quantity(value, vital.unit, vital.ucum),
            });
            cx.push("Observation", id, json);
        }
    }

    // Lab results (prøvesvar) ordered by the fastlege.
    for _ in 0..cx.rng.random_range(0..=3) {
        let day = cx.day_between(start_here.max(date_minus(latest, 1500)), latest);
        let when = ts(day, cx.minutes());
        let doctor = cx
            .sk
            .staff_member(fastlege, &mut cx.rng, &["LE"])
            .id
            .clone();
        let n = cx.rng.random_range(2..=4);
        let mut results = Vec::new();
        let first = cx.rng.random_range(0..codes::ANALYSER.len());
        for k in 0..n {
            let a = &codes::ANALYSER[(first + k) % codes::ANALYSER.len()];
            let value = cx.rng.random_range(a.min_x10..=a.max_x10);
            let id = cx.id("lab");
            let json = json!({
                "resourceType": "Observation", "id": id, "meta": meta(&when),
                "status": "final",
                "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory"}]}],
                "code": concept(systems::NLK, &a.nlk),
                "subject": reference("Patient", &cx.patient_id),
                "effectiveDateTime": when,
                "performer": [reference("Organization", &cx.sk.units[fastlege].truth.id)],
                "valueQuantity": quantity(value, a.ucum, a.ucum),
            });
            results.push(reference("Observation", &id));
            cx.push("Observation", id, json);
        }
        let id = cx.id("dr");
        let json = json!({
            "resourceType": "DiagnosticReport", "id": id, "meta": meta(&when),
            "status": "final",
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "LAB"}]}],
            "code": {"coding": [coding(systems::LOINC, &codes::LABORATORIERAPPORT)], "text": "Prøvesvar"},
            "subject": reference("Patient", &cx.patient_id),
            "effectiveDateTime": when,
            "issued": when,
            "performer": [reference("Organization", &cx.sk.units[fastlege].truth.id)],
            "resultsInterpreter": [reference("Practitioner", &doctor)],
            "result": results,
        });
        cx.push("DiagnosticReport", id, json);
    }

    for _ in 0..cx.rng.random_range(1..=3) {
        let kind = *codes::DOKUMENTTYPER.choose(&mut cx.rng).expect("types");
        let author_unit = if kind.code == "18842-5" {
            fastlege
        } else {
            main_unit
        };
        document(cx, author_unit, &kind, main_start, latest, None);
    }
}

#[allow(non_snake_case)]
fn DIAGNOSER_SAMPLE(
    cx: &mut Ctx<'_>,
    min: usize,
    max: usize,
) -> Vec<(&'static Code, &'static Code)> {
    let n = cx.rng.random_range(min..=max);
    let mut idx: Vec<usize> = (0..codes::DIAGNOSER.len()).collect();
    (0..n)
        .map(|k| {
            let pick = cx.rng.random_range(k..idx.len());
            idx.swap(k, pick);
            let (a, b) = &codes::DIAGNOSER[idx[k]];
            (a, b)
        })
        .collect()
}

fn vital_category() -> Value {
    json!({"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "vital-signs", "display": "Vital Signs"}]})
}

fn quantity(value_x10: i64, unit: &str, ucum: &str) -> Value {
    let value = if value_x10 % 10 == 0 {
        json!(value_x10 / 10)
    } else {
        json!(value_x10 as f64 / 10.0)
    };
    json!({"value": value, "unit": unit, "system": systems::UCUM, "code": ucum})
}

fn note_text(kind: &Code, skjerming: Option<Skjerming>, index: usize) -> String {
    let body = match (kind.code, skjerming) {
        (_, Some(Skjerming::Krisesenter)) => {
            "Pasienten har opphold ved krisesenter. Adresse og kontaktinformasjon skal ikke gis ut."
        }
        (_, Some(Skjerming::Overgrepsmottak)) => {
            "Undersøkt ved overgrepsmottaket. Videre oppfølging avtalt."
        }
        (_, Some(_)) => "Samtale om forhold pasienten ønsker behandlet fortrolig.",
        ("18842-5", _) => {
            "Innlagt med redusert allmenntilstand. Utskrives til hjemmet med økt hjemmesykepleie."
        }
        ("34746-8", _) => {
            "Tilsyn utført. Pasienten var i godt humør, spiste frokost og fikk medisiner som forordnet."
        }
        ("11488-4", _) => "Kontroll av blodtrykk og medisinering. Fortsetter uendret behandling.",
        _ => "Sårstell utført etter prosedyre. Såret er i bedring.",
    };
    format!("SYNTETISK TESTDATA (sandkasse), person {index}. {body}")
}

fn document(
    cx: &mut Ctx<'_>,
    unit: usize,
    kind: &Code,
    from: Date,
    to: Date,
    skjerming: Option<Skjerming>,
) -> String {
    let day = cx.day_between(from, to);
    let when = ts(day, cx.minutes());
    let author = cx
        .sk
        .staff_member(unit, &mut cx.rng, &["LE", "SP"])
        .id
        .clone();
    let id = cx.id("doc");
    let text = note_text(kind, skjerming, cx.index);
    let mut json = json!({
        "resourceType": "DocumentReference", "id": id, "meta": meta(&when),
        "status": "current",
        "docStatus": "final",
        "type": concept(systems::LOINC, kind),
        "subject": reference("Patient", &cx.patient_id),
        "date": when,
        "author": [reference("Practitioner", &author)],
        "custodian": reference("Organization", &cx.sk.units[unit].truth.id),
        "description": kind.text,
        "content": [{"attachment": {
            "contentType": "text/plain; charset=utf-8", "language": "nb",
            "data": base64::engine::general_purpose::STANDARD.encode(text.as_bytes()),
            "title": kind.text, "creation": when,
        }}],
    });
    if let Some(s) = skjerming {
        json["meta"]["security"] = security_labels(s);
    }
    cx.push("DocumentReference", id.clone(), json);
    if let Some(s) = skjerming {
        cx.shield("DocumentReference", &id, s);
    }
    let prov_id = cx.id("prov");
    let prov = json!({
        "resourceType": "Provenance", "id": prov_id, "meta": meta(&when),
        "target": [reference("DocumentReference", &id)],
        "recorded": when.replace('Z', "+00:00"),
        "activity": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-DataOperation", "code": "CREATE"}]},
        "agent": [{
            "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/provenance-participant-type", "code": "author"}]},
            "who": reference("Practitioner", &author),
            "onBehalfOf": reference("Organization", &cx.sk.units[unit].truth.id),
        }],
    });
    cx.push("Provenance", prov_id, prov);
    id
}

fn legevakt(cx: &mut Ctx<'_>, from: Date, to: Date) {
    let lv = cx.sk.units_of(UnitKind::Legevakt)[0];
    let day = cx.day_between(from, to);
    let start = cx.rng.random_range(0..24 * 60);
    let end = start + cx.rng.random_range(20..240);
    let doctor = cx.sk.staff_member(lv, &mut cx.rng, &["LE"]).id.clone();
    let reason = *codes::LEGEVAKT_ARSAKER
        .choose(&mut cx.rng)
        .expect("reasons");
    let id = cx.id("enc");
    let end_day = if end >= 24 * 60 {
        day.checked_add(1.days()).expect("in range")
    } else {
        day
    };
    let json = json!({
        "resourceType": "Encounter", "id": id, "meta": meta(&ts(end_day, end % (24 * 60))),
        "status": "finished",
        "class": {"system": systems::V3_ACT_CODE, "code": "EMER", "display": "emergency"},
        "type": [{"text": "Legevaktkonsultasjon"}],
        "subject": reference("Patient", &cx.patient_id),
        "participant": [{"individual": reference("Practitioner", &doctor)}],
        "period": {"start": ts(day, start), "end": ts(end_day, end % (24 * 60))},
        "reasonCode": [concept(systems::ICPC2, &reason)],
        "serviceProvider": reference("Organization", &cx.sk.units[lv].truth.id),
    });
    cx.push("Encounter", id, json);
    // Tjenstlig behov lasts through the follow-up after the visit.
    cx.relation(
        lv,
        CareBasis::Legevakt,
        day,
        Some(end_day.checked_add(14.days()).expect("in range")),
    );
}

/// Shielded documents and sperringer: forced for the first persons, rare after them.
fn special_cases(cx: &mut Ctx<'_>, index: usize, from: Date, to: Date) {
    let from = from.max(date_minus(to, 900));
    let main_unit = cx.sk.unit_for(UnitKind::Hjemmesykepleie, 0);
    let lv = cx.sk.units_of(UnitKind::Legevakt)[0];
    let roll = if index < forced::COUNT {
        u32::MAX
    } else {
        cx.rng.random_range(0..1000)
    };
    if index == forced::KRISESENTER || roll < 3 {
        document(
            cx,
            main_unit,
            &codes::DOKUMENTTYPER[1],
            from,
            to,
            Some(Skjerming::Krisesenter),
        );
    }
    if index == forced::OVERGREPSMOTTAK || (3..5).contains(&roll) {
        document(
            cx,
            lv,
            &codes::DOKUMENTTYPER[2],
            from,
            to,
            Some(Skjerming::Overgrepsmottak),
        );
    }
    if index == forced::SENSITIVT || (5..10).contains(&roll) {
        document(
            cx,
            main_unit,
            &codes::DOKUMENTTYPER[2],
            from,
            to,
            Some(Skjerming::SensitivtNotat),
        );
    }
    if index == forced::SPERRING || (10..20).contains(&roll) {
        let doc = document(cx, main_unit, &codes::DOKUMENTTYPER[0], from, to, None);
        let day = cx.day_between(from, to);
        let id = cx.id("cons");
        let json = json!({
            "resourceType": "Consent", "id": id, "meta": meta(&ts(day, 9 * 60)),
            "status": "active",
            "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}]},
            "category": [{"coding": [coding(systems::LOINC, &codes::SAMTYKKE)]}],
            "patient": reference("Patient", &cx.patient_id),
            "dateTime": ts(day, 9 * 60),
            "policyRule": {"text": "Sperring etter pasientjournalloven § 17 / pasient- og brukerrettighetsloven § 5-1"},
            "provision": {"type": "deny", "data": [{"meaning": "instance", "reference": reference("DocumentReference", &doc)}]},
        });
        cx.push("Consent", id, json);
        cx.shield("DocumentReference", &doc, Skjerming::Sperring);
    }
}

/// The record a mover left in the kommune they moved from: an inactive Patient, an ended vedtak
/// and an old measurement.
fn left_behind(world: &World<'_>, cx: &mut Ctx<'_>, truth: &PatientTruth, from: usize, date: Date) {
    let old = &world.skeletons[from];
    let old_id = format!(
        "pas-{}-x{}-{:06}",
        old.kommune.nummer, cx.sk.kommune.nummer, cx.index
    );
    let birth: Date = truth.birth_date.parse().expect("ISO date");
    let start = date_minus(date, cx.rng.random_range(200..3000)).max(birth);
    let (given, family) = truth.name.split_once(' ').expect("given and family name");
    let patient = json!({
        "resourceType": "Patient", "id": old_id, "meta": meta(&ts(date, 8 * 60)),
        "identifier": [{"use": "official",
            "system": if truth.identifier_kind == IdentifierKind::Dnr { systems::DNR } else { systems::FNR },
            "value": truth.identifier}],
        "active": false,
        "name": [{"use": "official", "family": family, "given": [given], "text": truth.name}],
        "gender": truth.gender,
        "birthDate": truth.birth_date,
        "address": [{"use": "old", "type": "physical", "line": ["Flyttet"], "postalCode": old.kommune.poststeder[0].0,
            "city": old.kommune.poststeder[0].1, "district": old.kommune.navn, "country": "NO",
            "period": {"end": date.to_string()}}],
        "managingOrganization": reference("Organization", &format!("org-{}", old.kommune.nummer)),
    });
    let mut old_truth = truth.clone();
    old_truth.id = old_id.clone();
    old_truth.resident = false;
    old_truth.address_protection = AddressProtection::None;
    let mut ocx = Ctx {
        out: PersonOut::default(),
        rng: rng_for(world.seed, "left-behind", from as u64, cx.index as u64),
        tenant: from,
        sk: old,
        patient_id: old_id.clone(),
        index: cx.index,
        serial: 0,
    };
    ocx.push("Patient", old_id, patient);
    ocx.out.patients.push((from, old_truth));
    let fastlege = old.unit_for(UnitKind::Fastlegekontor, 0);
    ocx.relation(fastlege, CareBasis::Fastlege, start, Some(date));
    let hs = old.unit_for(UnitKind::Hjemmesykepleie, 0);
    let vstart = ocx.day_between(start, date);
    vedtak(
        &mut ocx,
        hs,
        (systems::VOLVEN_9151, &codes::HELSETJENESTER_I_HJEMMET),
        vstart,
        Some(date),
        CareBasis::Vedtak,
    );
    document(&mut ocx, hs, &codes::DOKUMENTTYPER[1], vstart, date, None);
    let out = ocx.out;
    cx.out.resources.extend(out.resources);
    cx.out.patients.extend(out.patients);
    cx.out.relations.extend(out.relations);
    cx.out.shielded.extend(out.shielded);
}

impl Skeleton {
    pub(crate) fn kommune(&self) -> &'static KommuneInfo {
        self.kommune
    }

    pub(crate) fn resources(&self) -> &[Resource] {
        &self.resources
    }

    pub(crate) fn truth(&self) -> Truth {
        Truth {
            units: self.units.iter().map(|u| u.truth.clone()).collect(),
            practitioners: self.practitioners.clone(),
            ..Truth::default()
        }
    }
}

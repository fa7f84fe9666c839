//! Compact storage of resources: the immutable [`Base`] shared by every platform, and the
//! per-platform write [`Overlay`].
//!
//! A [`Stored`] resource is its serialized JSON (`Box<RawValue>`, served as-is) plus the few
//! fields searches and access rules need, extracted once: compartment patient, status, clinical
//! date, `meta.lastUpdated`, identifiers, shielding label and — for an active deny `Consent` —
//! the references it blocks. No `serde_json::Value` tree is kept, so memory stays proportional
//! to the dataset's serialized size.
//!
//! Indexes per kommune and type: id → resource, patient → resources, identifier → resources,
//! all in dataset order, so results come out in the same order on every run.
//!
//! ```
//! # use std::sync::Arc;
//! # use sandkasse_platform::Base;
//! let dataset = sandkasse_kommune::generate(&sandkasse_kommune::GenConfig::new(1, 200));
//! let base = Arc::new(Base::new(&dataset)); // once, shared by every scenario
//! println!("{} resources, reference time {}", base.resource_count(), base.reference_time());
//! ```

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use jiff::Timestamp;
use sandkasse_fhir::systems;
use sandkasse_kommune::{Dataset, Skjerming, Truth};
use serde_json::Value;
use serde_json::value::RawValue;

use crate::dates::DateRange;
use crate::types;

/// One stored resource: its JSON and the fields searches need.
#[derive(Debug, Clone)]
pub(crate) struct Stored {
    pub rtype: &'static str,
    pub id: Box<str>,
    /// Compartment patient id.
    pub patient: Option<Box<str>>,
    pub version: u32,
    /// `meta.lastUpdated`, milliseconds since the epoch.
    pub last_updated: i64,
    pub status: Option<Box<str>>,
    pub date: Option<DateRange>,
    /// `(system, value)` of every identifier.
    pub identifiers: Box<[(Box<str>, Box<str>)]>,
    /// Shielding label from `meta.security` (the strongest one if several).
    pub skjerming: Option<Skjerming>,
    /// For an active Consent with a deny provision: the `Type/id` references it blocks.
    pub denies: Box<[Box<str>]>,
    pub json: Box<RawValue>,
}

impl Stored {
    /// Extracts the search fields of `json` and serializes it.
    pub fn from_json(rtype: &'static str, id: &str, patient: Option<&str>, json: &Value) -> Stored {
        let meta = &json["meta"];
        let version = meta["versionId"]
            .as_str()
            .and_then(|v| v.parse().ok())
            .unwrap_or(1);
        let last_updated = meta["lastUpdated"]
            .as_str()
            .and_then(DateRange::parse)
            .map_or(0, |r| r.start);
        let raw = serde_json::value::to_raw_value(json).unwrap_or_else(|_| {
            // A `Value` always serializes; keep a valid placeholder rather than panic.
            RawValue::from_string("{}".to_owned()).expect("literal JSON")
        });
        Stored {
            rtype,
            id: id.into(),
            patient: patient.map(Into::into),
            version,
            last_updated,
            status: status_of(rtype, json).map(Into::into),
            date: date_of(rtype, json),
            identifiers: identifiers_of(json),
            skjerming: skjerming_of(json),
            denies: denies_of(rtype, json),
            json: raw,
        }
    }

    /// `Type/id`.
    pub fn reference(&self) -> String {
        format!("{}/{}", self.rtype, self.id)
    }

    pub fn last_updated(&self) -> Timestamp {
        Timestamp::from_millisecond(self.last_updated).unwrap_or(Timestamp::UNIX_EPOCH)
    }
}

/// The status a `status` search compares against: `status`, or the first `clinicalStatus` code.
pub(crate) fn status_of<'a>(rtype: &str, json: &'a Value) -> Option<&'a str> {
    match rtype {
        "Condition" | "AllergyIntolerance" => {
            json.pointer("/clinicalStatus/coding/0/code")?.as_str()
        }
        _ => json.get("status")?.as_str(),
    }
}

fn text<'a>(json: &'a Value, key: &str) -> Option<&'a str> {
    json.get(key)?.as_str()
}

fn period(json: &Value, key: &str) -> Option<DateRange> {
    let p = json.get(key)?;
    DateRange::period(text(p, "start"), text(p, "end"))
}

fn effective(json: &Value, prefix: &str) -> Option<DateRange> {
    text(json, &format!("{prefix}DateTime"))
        .or_else(|| text(json, &format!("{prefix}Instant")))
        .and_then(DateRange::parse)
        .or_else(|| period(json, &format!("{prefix}Period")))
}

/// The type's clinical date (see [`types::TypeInfo::date_doc`]).
pub(crate) fn date_of(rtype: &str, json: &Value) -> Option<DateRange> {
    match rtype {
        "Observation" | "MedicationStatement" | "MedicationAdministration" => {
            effective(json, "effective")
        }
        "DiagnosticReport" => {
            effective(json, "effective").or_else(|| text(json, "issued").and_then(DateRange::parse))
        }
        "Condition" => effective(json, "onset")
            .or_else(|| text(json, "recordedDate").and_then(DateRange::parse)),
        "AllergyIntolerance" => text(json, "recordedDate").and_then(DateRange::parse),
        "DocumentReference" => text(json, "date").and_then(DateRange::parse),
        "Encounter" | "EpisodeOfCare" => period(json, "period"),
        "Consent" => text(json, "dateTime").and_then(DateRange::parse),
        "Provenance" | "AuditEvent" => text(json, "recorded").and_then(DateRange::parse),
        _ => None,
    }
}

fn identifiers_of(json: &Value) -> Box<[(Box<str>, Box<str>)]> {
    let mut out = Vec::new();
    let mut push = |i: &Value| {
        if let Some(value) = i["value"].as_str() {
            out.push((i["system"].as_str().unwrap_or("").into(), value.into()));
        }
    };
    if let Some(list) = json.get("identifier").and_then(Value::as_array) {
        list.iter().for_each(&mut push);
    }
    if let Some(master) = json.get("masterIdentifier") {
        push(master);
    }
    out.into_boxed_slice()
}

/// How strongly a label shields: withheld categories beat address shielding.
fn strength(s: Skjerming) -> u8 {
    match s {
        Skjerming::Sperring => 5,
        Skjerming::Krisesenter | Skjerming::Overgrepsmottak => 4,
        Skjerming::SensitivtNotat => 3,
        Skjerming::StrengtFortroligAdresse => 2,
        Skjerming::FortroligAdresse => 1,
    }
}

/// The strongest shielding label in `meta.security`.
pub(crate) fn skjerming_of(json: &Value) -> Option<Skjerming> {
    json.pointer("/meta/security")?
        .as_array()?
        .iter()
        .filter(|c| c["system"] == systems::SANDKASSE_SKJERMING)
        .filter_map(|c| Skjerming::from_code(c["code"].as_str()?))
        .max_by_key(|s| strength(*s))
}

fn denies_of(rtype: &str, json: &Value) -> Box<[Box<str>]> {
    fn walk(provision: &Value, out: &mut Vec<Box<str>>) {
        if provision["type"] == "deny" {
            for d in provision["data"].as_array().into_iter().flatten() {
                if let Some(r) = d.pointer("/reference/reference").and_then(Value::as_str) {
                    out.push(r.into());
                }
            }
        }
        for nested in provision["provision"].as_array().into_iter().flatten() {
            walk(nested, out);
        }
    }
    let mut out = Vec::new();
    if rtype == "Consent" && json["status"] == "active" {
        walk(&json["provision"], &mut out);
    }
    out.into_boxed_slice()
}

fn add_denies(consent: &Stored, out: &mut HashMap<Box<str>, Box<str>>) {
    if let Some(p) = &consent.patient {
        for r in consent.denies.iter() {
            out.insert(r.clone(), p.clone());
        }
    }
}

/// Indexes of one type within one kommune.
#[derive(Debug, Default)]
pub(crate) struct TypeIndex {
    /// Positions in [`TenantBase::resources`], dataset order.
    pub all: Vec<u32>,
    pub by_id: HashMap<Box<str>, u32>,
    pub by_patient: HashMap<Box<str>, Vec<u32>>,
    /// system → value → positions.
    pub by_identifier: HashMap<Box<str>, HashMap<Box<str>, Vec<u32>>>,
}

/// One kommune of the base.
#[derive(Debug)]
pub(crate) struct TenantBase {
    pub nummer: &'static str,
    pub navn: &'static str,
    pub resources: Vec<Stored>,
    pub types: BTreeMap<&'static str, TypeIndex>,
    pub truth: Truth,
    /// orgnr → index in `truth.units`.
    pub unit_by_orgnr: HashMap<String, usize>,
    /// Organization id → index in `truth.units`.
    pub unit_by_id: HashMap<String, usize>,
    /// HPR → index in `truth.practitioners`.
    pub practitioner_by_hpr: HashMap<String, usize>,
    /// unit id → patient id → indexes in `truth.care_relations`.
    pub relations: HashMap<String, HashMap<String, Vec<usize>>>,
    /// unit id → positions of the Patient resources it has (had) a relation with, dataset order.
    pub unit_patients: HashMap<String, Vec<u32>>,
    /// `Type/id` blocked by an active deny Consent of the base → the Consent's patient.
    pub sperret: HashMap<Box<str>, Box<str>>,
    /// `meta.tag` the generator puts on every resource (synthetic-data markers), copied onto
    /// written resources.
    pub tags: Vec<Value>,
}

impl TenantBase {
    pub fn index(&self, rtype: &str) -> Option<&TypeIndex> {
        self.types.get(rtype)
    }

    pub fn get(&self, rtype: &str, id: &str) -> Option<&Stored> {
        let pos = *self.index(rtype)?.by_id.get(id)?;
        self.resources.get(pos as usize)
    }

    pub fn at(&self, pos: u32) -> &Stored {
        &self.resources[pos as usize]
    }
}

/// The immutable base: every kommune's resources and ground truth, built once from a
/// [`Dataset`] and shared (`Arc<Base>`) by every [`Platform`](crate::Platform).
#[derive(Debug)]
pub struct Base {
    pub(crate) tenants: Vec<TenantBase>,
    seed: u64,
    latest_update: Timestamp,
    resource_count: usize,
    json_bytes: usize,
}

impl Base {
    /// Builds the base: serializes every resource and builds the indexes. Takes a few hundred
    /// milliseconds for a large kommune; do it once and share the result.
    pub fn new(dataset: &Dataset) -> Base {
        let mut reference_time = Timestamp::UNIX_EPOCH;
        let mut resource_count = 0;
        let mut json_bytes = 0;
        let tenants = dataset
            .tenants
            .iter()
            .map(|tenant| {
                let mut tb = TenantBase {
                    nummer: tenant.kommune.nummer,
                    navn: tenant.kommune.navn,
                    resources: Vec::with_capacity(tenant.resources.len()),
                    types: BTreeMap::new(),
                    truth: tenant.truth.clone(),
                    unit_by_orgnr: HashMap::new(),
                    unit_by_id: HashMap::new(),
                    practitioner_by_hpr: HashMap::new(),
                    relations: HashMap::new(),
                    unit_patients: HashMap::new(),
                    sperret: HashMap::new(),
                    tags: Vec::new(),
                };
                for r in &tenant.resources {
                    let Some(rtype) = types::intern(r.resource_type) else {
                        tracing::warn!(resource_type = r.resource_type, "type not served; skipped");
                        continue;
                    };
                    if tb.tags.is_empty()
                        && let Some(tags) = r.json.pointer("/meta/tag").and_then(Value::as_array)
                    {
                        tb.tags = tags.clone();
                    }
                    let stored = Stored::from_json(rtype, &r.id, r.patient.as_deref(), &r.json);
                    if let Some(ts) = Timestamp::from_millisecond(stored.last_updated)
                        .ok()
                        .filter(|t| *t > reference_time)
                    {
                        reference_time = ts;
                    }
                    json_bytes += stored.json.get().len();
                    let pos =
                        u32::try_from(tb.resources.len()).expect("fewer than 4 billion resources");
                    let index = tb.types.entry(rtype).or_default();
                    index.all.push(pos);
                    index.by_id.insert(stored.id.clone(), pos);
                    if let Some(p) = &stored.patient {
                        index.by_patient.entry(p.clone()).or_default().push(pos);
                    }
                    for (system, value) in stored.identifiers.iter() {
                        index
                            .by_identifier
                            .entry(system.clone())
                            .or_default()
                            .entry(value.clone())
                            .or_default()
                            .push(pos);
                    }
                    add_denies(&stored, &mut tb.sperret);
                    tb.resources.push(stored);
                }
                for (i, u) in tb.truth.units.iter().enumerate() {
                    tb.unit_by_orgnr.insert(u.orgnr.clone(), i);
                    tb.unit_by_id.insert(u.id.clone(), i);
                }
                for (i, p) in tb.truth.practitioners.iter().enumerate() {
                    tb.practitioner_by_hpr.insert(p.hpr.clone(), i);
                }
                for (i, rel) in tb.truth.care_relations.iter().enumerate() {
                    tb.relations
                        .entry(rel.unit.clone())
                        .or_default()
                        .entry(rel.patient.clone())
                        .or_default()
                        .push(i);
                }
                let patients = tb.types.get("Patient");
                for (unit, by_patient) in &tb.relations {
                    let mut list: Vec<u32> = by_patient
                        .keys()
                        .filter_map(|p| patients.and_then(|ix| ix.by_id.get(p.as_str())).copied())
                        .collect();
                    list.sort_unstable();
                    tb.unit_patients.insert(unit.clone(), list);
                }
                resource_count += tb.resources.len();
                tb
            })
            .collect();
        Base {
            tenants,
            seed: dataset.config.seed,
            latest_update: reference_time,
            resource_count,
            json_bytes,
        }
    }

    /// Kommunenummer of every tenant, in dataset order.
    pub fn kommuner(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.tenants.iter().map(|t| t.nummer)
    }

    /// Noon (UTC) of the generator's reference date ([`sandkasse_kommune::REFERENCE_DATE`], the
    /// "today" every generated date is relative to): the start for a scenario clock, so care
    /// relations are in force as the ground truth says.
    pub fn reference_time(&self) -> Timestamp {
        sandkasse_kommune::REFERENCE_DATE
            .at(12, 0, 0, 0)
            .to_zoned(jiff::tz::TimeZone::UTC)
            .map(|z| z.timestamp())
            .unwrap_or(self.latest_update)
    }

    /// The latest `meta.lastUpdated` in the base.
    pub fn latest_update(&self) -> Timestamp {
        self.latest_update
    }

    /// Resources stored, all kommuner.
    pub fn resource_count(&self) -> usize {
        self.resource_count
    }

    /// Bytes of serialized JSON held.
    pub fn json_bytes(&self) -> usize {
        self.json_bytes
    }

    /// Seed of the dataset the base was built from.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The ground truth of a kommune.
    pub fn truth(&self, kommunenummer: &str) -> Option<&Truth> {
        self.tenant(kommunenummer).map(|t| &t.truth)
    }

    pub(crate) fn tenant(&self, kommunenummer: &str) -> Option<&TenantBase> {
        self.tenants.iter().find(|t| t.nummer == kommunenummer)
    }
}

impl From<Dataset> for Base {
    fn from(dataset: Dataset) -> Base {
        Base::new(&dataset)
    }
}

/// A resource as found: in the base (borrowed) or written in this platform's overlay.
#[derive(Debug, Clone)]
pub(crate) enum Found<'a> {
    Base(&'a Stored),
    Written(Arc<Stored>),
}

impl std::ops::Deref for Found<'_> {
    type Target = Stored;
    fn deref(&self) -> &Stored {
        match self {
            Found::Base(s) => s,
            Found::Written(s) => s,
        }
    }
}

/// Writes of one kommune in one platform.
#[derive(Debug, Default)]
pub(crate) struct Overlay {
    /// type → id → current version (created or updated).
    pub by_type: BTreeMap<&'static str, HashMap<Box<str>, Arc<Stored>>>,
    /// type → ids of created resources, in creation order.
    pub created: BTreeMap<&'static str, Vec<Box<str>>>,
    /// Next id number per type.
    pub next_id: BTreeMap<&'static str, u64>,
    /// Blocked references once a Consent was written (base + overlay); `None`: as in the base.
    pub sperret: Option<HashMap<Box<str>, Box<str>>>,
}

impl Overlay {
    pub fn get(&self, rtype: &str, id: &str) -> Option<&Arc<Stored>> {
        self.by_type.get(rtype)?.get(id)
    }
}

/// A view over a kommune's base and its overlay.
#[derive(Debug, Clone, Copy)]
pub(crate) struct View<'a> {
    pub base: &'a TenantBase,
    pub overlay: Option<&'a Overlay>,
}

impl<'a> View<'a> {
    /// The current version of `rtype/id`.
    pub fn get(&self, rtype: &str, id: &str) -> Option<Found<'a>> {
        if let Some(w) = self.overlay.and_then(|o| o.get(rtype, id)) {
            return Some(Found::Written(w.clone()));
        }
        self.base.get(rtype, id).map(Found::Base)
    }

    /// The base resource at `pos`, replaced by its overlay version if updated.
    fn current(&self, pos: u32) -> Found<'a> {
        let s = self.base.at(pos);
        match self.overlay.and_then(|o| o.get(s.rtype, &s.id)) {
            Some(w) => Found::Written(w.clone()),
            None => Found::Base(s),
        }
    }

    /// Resources of `rtype` drawn from a base candidate list (or all of the type), plus every
    /// resource created in the overlay, in order: base order, then creation order. Base
    /// resources updated in the overlay are added to a narrowed list too (an update may have
    /// changed what the narrowing index says), so callers filter the result.
    pub fn candidates(&self, rtype: &str, base_positions: Option<Vec<u32>>) -> Vec<Found<'a>> {
        let index = self.base.index(rtype);
        let updated = self.overlay.and_then(|o| o.by_type.get(rtype));
        let positions: std::borrow::Cow<'_, [u32]> = match base_positions {
            Some(mut p) => {
                if let (Some(map), Some(ix)) = (updated, index) {
                    p.extend(map.keys().filter_map(|id| ix.by_id.get(id)).copied());
                }
                p.sort_unstable();
                p.dedup();
                std::borrow::Cow::Owned(p)
            }
            None => std::borrow::Cow::Borrowed(index.map_or(&[][..], |ix| ix.all.as_slice())),
        };
        let mut out: Vec<Found<'a>> = positions.iter().map(|p| self.current(*p)).collect();
        if let Some(o) = self.overlay
            && let (Some(ids), Some(map)) = (o.created.get(rtype), updated)
        {
            out.extend(
                ids.iter()
                    .filter_map(|id| map.get(id))
                    .map(|s| Found::Written(s.clone())),
            );
        }
        out
    }

    /// Every `Type/id` blocked by an active deny Consent → the patient whose Consent it is.
    pub fn sperret(&self) -> &'a HashMap<Box<str>, Box<str>> {
        match self.overlay.and_then(|o| o.sperret.as_ref()) {
            Some(s) => s,
            None => &self.base.sperret,
        }
    }

    /// Recomputes the blocked references from every current Consent (after a Consent write).
    pub fn compute_sperret(&self) -> HashMap<Box<str>, Box<str>> {
        let mut out = HashMap::new();
        for c in self.candidates("Consent", None) {
            add_denies(&c, &mut out);
        }
        out
    }
}

//! The generated dataset: FHIR resources per kommune plus the ground truth the platform's access
//! rules and the suite's expectations are computed from.

use serde::Serialize;
use serde_json::Value;

use crate::kommuner::KommuneInfo;

/// Configuration of one generation. The same configuration gives byte-identical output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GenConfig {
    /// Seed of every random choice. Default 42.
    pub seed: u64,
    /// Innbyggere in the whole dataset, split across the kommuner by their real population
    /// weights (every kommune gets at least 20). Default 2 000.
    pub innbyggere: u32,
    /// Kommunenummer of the kommuner (tenants) to generate. Default: the eight
    /// samarbeidskommuner of Felles kommunal journal.
    pub kommuner: Vec<String>,
}

impl Default for GenConfig {
    fn default() -> Self {
        GenConfig {
            seed: 42,
            innbyggere: 2_000,
            kommuner: crate::kommuner::SAMARBEIDSKOMMUNER
                .iter()
                .map(|k| k.nummer.to_owned())
                .collect(),
        }
    }
}

impl GenConfig {
    /// A configuration with the given seed and size and the default kommuner.
    pub fn new(seed: u64, innbyggere: u32) -> Self {
        GenConfig {
            seed,
            innbyggere,
            ..GenConfig::default()
        }
    }
}

/// One generated FHIR resource.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    /// `resourceType`, e.g. `Observation`.
    pub resource_type: &'static str,
    /// Logical id (unique per type within a kommune).
    pub id: String,
    /// Id of the Patient this resource belongs to (its compartment), if any.
    pub patient: Option<String>,
    /// The resource as FHIR R4 JSON.
    pub json: Value,
}

/// A whole dataset: several kommuner (tenants).
#[derive(Debug, Clone)]
pub struct Dataset {
    pub config: GenConfig,
    pub tenants: Vec<Tenant>,
}

impl Dataset {
    /// The tenant with the given kommunenummer.
    pub fn tenant(&self, kommunenummer: &str) -> Option<&Tenant> {
        self.tenants
            .iter()
            .find(|t| t.kommune.nummer == kommunenummer)
    }
}

/// One kommune's data.
#[derive(Debug, Clone)]
pub struct Tenant {
    pub kommune: &'static KommuneInfo,
    /// Every resource, in a deterministic order: organisations, practitioners, roles, then each
    /// person's record in person order.
    pub resources: Vec<Resource>,
    pub truth: Truth,
}

/// Ground truth of one kommune: what the data means, in plain terms.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Truth {
    pub patients: Vec<PatientTruth>,
    pub units: Vec<UnitTruth>,
    pub practitioners: Vec<PractitionerTruth>,
    /// Care relations between units and patients: the basis of tjenstlig behov.
    pub care_relations: Vec<CareRelation>,
    /// Resources that are shielded, and why. Address shielding is on the Patient resource.
    pub shielded: Vec<ShieldedResource>,
}

/// What the generator knows about a person.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PatientTruth {
    pub id: String,
    /// Fødselsnummer or D-nummer (11 digits).
    pub identifier: String,
    pub identifier_kind: IdentifierKind,
    pub name: String,
    pub birth_date: String,
    pub gender: &'static str,
    /// Date of death (`YYYY-MM-DD`), if deceased.
    pub deceased: Option<String>,
    pub address_protection: AddressProtection,
    /// Set when the person moved between kommuner of the dataset.
    pub moved: Option<Move>,
    /// Whether the person lives in this kommune now (false for the record left in the kommune
    /// a person moved away from).
    pub resident: bool,
}

/// Fødselsnummer or D-nummer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum IdentifierKind {
    Fnr,
    Dnr,
}

/// Address protection in Folkeregisteret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AddressProtection {
    None,
    /// Fortrolig adresse (formerly "kode 7").
    Fortrolig,
    /// Strengt fortrolig adresse (formerly "kode 6").
    StrengtFortrolig,
}

/// A move between two kommuner of the dataset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Move {
    pub from: String,
    pub to: String,
    pub date: String,
}

/// A unit (enhet) of the kommune.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnitTruth {
    /// Organization id.
    pub id: String,
    pub orgnr: String,
    pub name: String,
    pub kind: UnitKind,
}

/// Kinds of kommunal units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum UnitKind {
    /// The kommune itself (the top of the organisation tree; no care relations).
    Kommune,
    Hjemmesykepleie,
    Sykehjem,
    Legevakt,
    Helsestasjon,
    Fastlegekontor,
    /// Tildelingskontor: saksbehandlere deciding vedtak.
    Tildelingskontor,
}

/// A helsepersonell (or saksbehandler) and where they work.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PractitionerTruth {
    /// Practitioner id.
    pub id: String,
    pub hpr: String,
    pub name: String,
    /// Volven 9060 category code, e.g. `SP` (sykepleier), `LE` (lege).
    pub category: &'static str,
    /// Unit (Organization) ids the practitioner has a PractitionerRole in.
    pub units: Vec<String>,
}

/// Why a unit may see a patient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CareBasis {
    /// A vedtak (EpisodeOfCare) held by the unit.
    Vedtak,
    /// A legevakt encounter.
    Legevakt,
    /// The patient is on the list of a fastlege at the unit.
    Fastlege,
    /// Helsestasjon follow-up of a child.
    Helsestasjon,
}

/// A care relation: `unit` has tjenstlig behov for `patient` from `start` until `end`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CareRelation {
    pub unit: String,
    pub patient: String,
    pub basis: CareBasis,
    /// `YYYY-MM-DD`.
    pub start: String,
    /// `YYYY-MM-DD`; `None` while ongoing.
    pub end: Option<String>,
}

impl CareRelation {
    /// Whether the relation is in force on `date` (`YYYY-MM-DD`; ISO dates compare as strings).
    pub fn active_on(&self, date: &str) -> bool {
        self.start.as_str() <= date && self.end.as_deref().is_none_or(|end| date <= end)
    }
}

/// Shielding categories (skjerming), docs/architecture.md §3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Skjerming {
    FortroligAdresse,
    StrengtFortroligAdresse,
    Krisesenter,
    Overgrepsmottak,
    SensitivtNotat,
    /// The patient asked for the item to be blocked (a Consent with a deny provision).
    Sperring,
}

impl Skjerming {
    /// The code in [`sandkasse_fhir::systems::SANDKASSE_SKJERMING`].
    pub fn code(self) -> &'static str {
        match self {
            Skjerming::FortroligAdresse => "fortrolig-adresse",
            Skjerming::StrengtFortroligAdresse => "strengt-fortrolig-adresse",
            Skjerming::Krisesenter => "krisesenter",
            Skjerming::Overgrepsmottak => "overgrepsmottak",
            Skjerming::SensitivtNotat => "sensitivt-notat",
            Skjerming::Sperring => "sperring",
        }
    }

    /// Parses a code of [`sandkasse_fhir::systems::SANDKASSE_SKJERMING`].
    pub fn from_code(code: &str) -> Option<Skjerming> {
        [
            Skjerming::FortroligAdresse,
            Skjerming::StrengtFortroligAdresse,
            Skjerming::Krisesenter,
            Skjerming::Overgrepsmottak,
            Skjerming::SensitivtNotat,
            Skjerming::Sperring,
        ]
        .into_iter()
        .find(|s| s.code() == code)
    }

    /// Display text in bokmål.
    pub fn display(self) -> &'static str {
        match self {
            Skjerming::FortroligAdresse => "Fortrolig adresse",
            Skjerming::StrengtFortroligAdresse => "Strengt fortrolig adresse",
            Skjerming::Krisesenter => "Opplysninger fra krisesenter",
            Skjerming::Overgrepsmottak => "Opplysninger fra overgrepsmottak",
            Skjerming::SensitivtNotat => "Notat merket sensitivt",
            Skjerming::Sperring => "Sperret etter ønske fra pasienten",
        }
    }
}

/// A shielded resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShieldedResource {
    pub resource_type: &'static str,
    pub id: String,
    pub patient: String,
    pub skjerming: Skjerming,
}

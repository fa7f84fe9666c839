//! The suite as data: the types of `conformance/suite.toml`, `conformance/vilkar/*.toml`,
//! `conformance/scenarios/*.toml` and `conformance/erklaeringer/*.toml`. Loading is strict — an
//! unknown key is an error — and a JSON Schema for each file kind is generated from these types
//! (`conformance/schemas/*.schema.json`).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Text in bokmål and English.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Text {
    pub nb: String,
    pub en: String,
}

/// `conformance/suite.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SuiteManifest {
    /// Stable id of the suite, e.g. `sandkasse-vilkar`.
    pub id: String,
    /// Semver version; every report names it. The vilkår change only with a new version.
    pub version: String,
    /// The adapter contract tested, e.g. `kommune:sandkasse@0.1.0`.
    pub contract: String,
    pub title: Text,
    /// The synthetic data every scenario sees unless it says otherwise.
    pub data: DataSpec,
    /// Newest first.
    pub changelog: Vec<ChangelogEntry>,
}

/// Which synthetic kommune to generate.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DataSpec {
    pub seed: u64,
    pub innbyggere: u32,
    /// Kommunenummer; default: the eight samarbeidskommuner.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kommuner: Vec<String>,
}

/// One version's changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangelogEntry {
    pub version: String,
    /// `YYYY-MM-DD`.
    pub date: String,
    pub changes: Vec<String>,
}

/// Category of a vilkår (docs/architecture.md §4).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    /// Informasjonsutveksling: profiles, codes, identifiers, references, paging, tolerant reading.
    Informasjonsutveksling,
    /// Informasjonssikkerhet: token, tjenstlig behov, nødtilgang, no egress, 401/403.
    Sikkerhet,
    /// Personvern: withheld notices, shielded data, logs, leakage, data minimisation.
    Personvern,
    /// Kontekst: launch patient used directly, practitioner carried into provenance.
    Kontekst,
    /// Robusthet: Retry-After, bounded retries, latency, malformed responses, determinism.
    Robusthet,
    /// Ressursbruk: fuel, memory, platform calls, component size.
    Ressursbruk,
    /// Hendelser: idempotent on redelivery, other kommuner's events ignored.
    Hendelser,
}

/// `skal` (mandatory: a failure means not godkjent) or `bør` (recommended: lowers the score).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Level {
    #[serde(rename = "skal")]
    Skal,
    #[serde(rename = "bør")]
    Bor,
}

/// The adapter roles of the contract; vilkår of roles an adapter does not claim are not
/// applicable.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Capability {
    Read,
    Write,
    Events,
}

/// Where a vilkår comes from: a seed document and the place in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// The document, e.g. `Tjenesteavtalen, Bilag 7 Personopplysninger`.
    pub document: String,
    /// Section, e.g. `§4.4`.
    pub section: String,
    /// The seed file and lines, e.g. `seeds/001_217335c2514637f3.txt:2780-2792`.
    pub reference: String,
    /// The statement the vilkår derives from, quoted in the original language.
    pub quote: String,
}

/// `conformance/vilkar/<id>.toml`: one requirement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Vilkar {
    /// Stable id, e.g. `SIK-02`. Never reused for another meaning.
    pub id: String,
    pub title: Text,
    /// The requirement as a vendor reads it.
    pub text: Text,
    pub category: Category,
    pub level: Level,
    /// Weight in the score (1–5).
    pub weight: u32,
    /// The role the vilkår concerns; `None`: every adapter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capability: Option<Capability>,
    pub source: Source,
    /// The checks that verify it; the vilkår passes when every applicable check passes.
    pub checks: Vec<CheckSpec>,
}

/// One check of a vilkår: an assertion evaluated on one scenario's evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckSpec {
    /// Id, unique within the vilkår, e.g. `token-on-every-request`.
    pub id: String,
    /// The scenario whose evidence is judged.
    pub scenario: String,
    /// What must hold.
    pub assert: Assertion,
}

/// The assertions the suite engine can evaluate. Every expectation is computed from the
/// scenario's evidence and the generated kommune's ground truth — never hand-copied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Assertion {
    /// Every call of the scenario completes (no trap, no limit) and returns `ok`.
    CallsSucceed,
    /// Every call completes without a trap or limit (`ok` or an `adapter-error`).
    NoTrap,
    /// The given step returns the given `adapter-error` code (e.g. `unauthorized`).
    StepReturnsError { step: usize, code: String },
    /// Every overview is a FHIR R4 `Bundle` of type `collection` whose resources are all valid
    /// against the R4 schema.
    OverviewIsValidBundle,
    /// The overview holds the context patient and every resource of `types` the platform let the
    /// practitioner see (ground truth minus shielded), e.g. Condition, MedicationStatement.
    OverviewComplete { types: Vec<String> },
    /// Every search an overview started was followed through `next` to its last page.
    PagingFollowed,
    /// When the platform withheld something, the overview carries an `OperationOutcome` notice
    /// with code `suppressed`.
    WithheldNoticeSurfaced,
    /// No shielded resource and no shielded address appears in any output.
    ShieldedNeverShown,
    /// Every request carries the bearer token of the launch context.
    TokenOnEveryRequest,
    /// The token appears only in the `Authorization` header: never in a URL, a request body, a
    /// log line, stdout/stderr or a call's result.
    TokenOnlyInHeader,
    /// No `next` link, `Location` or redirect to another host than the platform is followed.
    ForeignLinksNotFollowed,
    /// No request to any host but the platform.
    NoEgress,
    /// No `Patient` search: the launch patient is used directly.
    NoPatientSearch,
    /// Every request concerns only the patient of the step's context.
    OnlyContextPatient,
    /// Logs, stdout and stderr contain no fødselsnummer/D-nummer, patient name or address.
    NoPersonalDataInLogs,
    /// After a 429/503 with `Retry-After: s`, the next request comes at least `s` later.
    RetryAfterHonoured,
    /// At most `max` requests per call while the platform keeps failing.
    RetriesBounded { max: usize },
    /// At most `max` requests per call.
    RequestsWithin { max: usize },
    /// A request the platform refused with 401, 403 or 404 is not sent again in the same call.
    RefusalsNotRetried,
    /// Of the patient data the platform served in one overview call, at most
    /// `max_unshown_percent` % is missing from the overview (data minimisation: fetch what the
    /// view shows, not everything).
    NoOverFetching { max_unshown_percent: u32 },
    /// The output of step `a` and step `b` is identical.
    SameOutput { a: usize, b: usize },
    /// The output of step `step` contains nothing of the patients of other contexts.
    NoLeakBetweenContexts { step: usize },
    /// The item a sperring blocked mid-scenario is absent from step `step`'s output.
    SperringRespected { step: usize },
    /// Fuel per call at most `max`.
    FuelWithin { max: u64 },
    /// Peak memory at most `max_bytes`.
    MemoryWithin { max_bytes: u64 },
    /// The component is at most `max_bytes` large.
    ComponentSizeWithin { max_bytes: u64 },
    /// Every resource the adapter wrote was accepted (201/200) and validates against the R4
    /// schema; no write was refused with 422.
    WritesAccepted,
    /// Every written resource names the context's patient, the practitioner (author/performer)
    /// and carries a time.
    WritesCarryContext,
    /// The same entry documented twice is stored once.
    WritesIdempotent,
    /// What the platform stored for each entry says what the entry said, element by element
    /// (codes and systems, values and units, times and periods, labels, patient, practitioner,
    /// unit).
    WritesFaithful,
    /// Every resource an overview returns is a version the platform served to that call,
    /// unchanged (nothing added or altered, security labels kept).
    OverviewFaithful,
    /// A note the user marked sensitive is written with the sensitivity label.
    SensitiveLabelled,
    /// The ids the adapter returned are the ids the platform stored.
    ReturnedIdsMatch,
    /// An event of another kommune is ignored without any request.
    OtherKommuneIgnored { step: usize },
    /// The event's resource is fetched and named in `processed`.
    EventFetched { step: usize },
    /// A redelivered event causes no additional writes.
    RedeliveryHarmless,
    /// Every event kind handled as the contract says: `created`/`updated` fetched and named in
    /// `processed`, `deleted` answered without a request.
    EventsByKind,
    /// Emergency access is used only as the context says (the reason passes through to the
    /// platform's audit), never for ordinary contexts.
    EmergencyOnlyWithReason,
}

/// `conformance/scenarios/<id>.toml`: what the platform does and what is asked of the adapter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub id: String,
    pub title: Text,
    /// The role exercised; the scenario is skipped (not applicable) for adapters without it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capability: Option<Capability>,
    /// Data other than the suite's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<DataSpec>,
    /// Named launch contexts used by the steps.
    pub contexts: BTreeMap<String, ContextSpec>,
    /// Faults the platform injects (see `crates/platform/src/faults.rs`).
    #[serde(default)]
    #[schemars(with = "serde_json::Value")]
    pub faults: sandkasse_platform::FaultPlan,
    /// Calls in one instance, in order.
    pub steps: Vec<Step>,
}

/// Who opens which patient, for what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ContextSpec {
    /// Kommunenummer; default `4601`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kommune: Option<String>,
    /// Kind of unit: hjemmesykepleie, sykehjem, legevakt, helsestasjon, fastlegekontor,
    /// tildelingskontor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// Volven 9060 category of the practitioner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Which patient, from the ground truth.
    #[serde(default)]
    pub patient: PatientPick,
    /// Emergency access with this reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emergency_reason: Option<String>,
}

/// A patient chosen by what the ground truth says about them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum PatientPick {
    /// The first patient the unit has tjenstlig behov for (a vedtak holder for home care).
    #[default]
    WithRelation,
    /// A patient with tjenstlig behov and the richest record (most resources besides
    /// measurements).
    RichRecord,
    /// A patient with a shielded document of this category (`krisesenter`, `overgrepsmottak`,
    /// `sensitivt-notat`, `sperring`) or shielded address (`strengt-fortrolig-adresse`,
    /// `fortrolig-adresse`) that the unit has tjenstlig behov for.
    Shielded(String),
    /// A second, different patient with tjenstlig behov (for context switches).
    Another,
    /// A living patient the unit has no care relation with (no tjenstlig behov).
    WithoutRelation,
    /// A patient identified by D-nummer (not fødselsnummer), with tjenstlig behov.
    DNummer,
    /// A patient who moved here from another kommune of the dataset (the old kommune keeps a
    /// record too), with tjenstlig behov.
    Moved,
    /// A patient whose name has letters beyond ASCII (æ, ø, å, Sámi letters such as á, č, đ, ŋ,
    /// š, ŧ, ž) or a hyphen, with tjenstlig behov.
    SpecialName,
    /// The patient with the most resources of all, measurements included (long paging), with
    /// tjenstlig behov.
    LongRecord,
    /// A deceased patient a unit still has tjenstlig behov for (the fastlege, in the days after
    /// the death).
    Deceased,
}

/// One step of a scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "call", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Step {
    /// `info()`.
    Info,
    /// `patient-overview(ctx)`.
    PatientOverview { context: String },
    /// `document(ctx, entry)`; the entry is made from a template and the context.
    Document {
        context: String,
        entry: EntryTemplate,
    },
    /// `on-event(ctx, event)`.
    OnEvent {
        context: String,
        event: EventTemplate,
    },
    /// Not a call: the patient of `context` blocks their first visible resource of `resource`
    /// (default `DocumentReference`; a Consent written to the platform), as a sperring between
    /// two calls.
    Sperring {
        context: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        resource: Option<String>,
    },
}

/// Clinical entries a scenario can document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum EntryTemplate {
    /// Blood pressure, pulse and temperature, entry id `vs-1`.
    VitalSigns,
    /// A sykepleienotat, entry id `note-1`.
    CareNote,
    /// A sykepleienotat the user marked sensitive, entry id `note-sensitive-1`.
    SensitiveCareNote,
    /// A vedtak on helsetjenester i hjemmet, entry id `vedtak-1`.
    ServiceDecision,
    /// An open-ended vedtak (no end date) on praktisk bistand, entry id `vedtak-2`.
    ServiceDecisionOpenEnded,
    /// Paracetamol 1 g, entry id `med-1`.
    MedicationAdministration,
}

/// Events a scenario can deliver.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum EventTemplate {
    /// A new Observation of the context patient, event id `evt-1`.
    NewObservation,
    /// The same event again (redelivery).
    Redelivered,
    /// An event of another kommune, event id `evt-other`.
    OtherKommune,
    /// An updated Condition of the context patient, event id `evt-updated`.
    UpdatedCondition,
    /// The Observation of `new-observation` updated (the same resource, a new event), event id
    /// `evt-obs-updated`.
    UpdatedObservation,
    /// A deleted Observation of the context patient (gone from the platform: a read gives 404),
    /// event id `evt-deleted`.
    DeletedObservation,
}

/// `conformance/erklaeringer/<id>.toml`: a declaration (egenerklæring) for a vilkår no test can
/// run — the vendor answers it in the listing request, the reviewers accept or reject the answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Erklaering {
    /// Stable id, e.g. `ERK-01`. Never reused for another meaning.
    pub id: String,
    pub title: Text,
    /// What the vendor declares, as the vendor reads it.
    pub text: Text,
    /// What the answer must show for a reviewer to accept it (documents, certificates, links).
    pub evidence: Text,
    /// Whether a listing request must answer it (`true`), or may leave it out.
    pub required: bool,
    /// Whether the answer must come with at least one attachment.
    pub attachment_required: bool,
    pub source: Source,
}

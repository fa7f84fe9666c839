//! The resource types the platform serves, and what each supports.
//!
//! One table ([`TYPES`]) says for every type whether it is patient data (in a patient's
//! compartment, so a search needs `patient`), whether it can be written, and which search
//! parameters it has. The CapabilityStatement, the search parser and the write path all read it.

/// What the platform knows about a resource type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TypeInfo {
    pub name: &'static str,
    /// Patient data: belongs to a patient's compartment; reads and searches obey tjenstlig behov,
    /// searches need `patient`.
    pub patient_data: bool,
    /// Accepts create and update.
    pub writable: bool,
    /// Search parameters naming the patient (R4 names; `patient` first).
    pub patient_params: &'static [&'static str],
    /// Search parameters on the type's clinical date (R4 name first; `date` is accepted on every
    /// type that has a clinical date).
    pub date_params: &'static [&'static str],
    /// Search parameters on the status (R4 name first).
    pub status_params: &'static [&'static str],
    /// What the clinical date is, for documentation.
    pub date_doc: &'static str,
}

const fn t(
    name: &'static str,
    patient_data: bool,
    writable: bool,
    patient_params: &'static [&'static str],
    date_params: &'static [&'static str],
    status_params: &'static [&'static str],
    date_doc: &'static str,
) -> TypeInfo {
    TypeInfo {
        name,
        patient_data,
        writable,
        patient_params,
        date_params,
        status_params,
        date_doc,
    }
}

const PS: &[&str] = &["patient", "subject"];
const P: &[&str] = &["patient"];
const NONE: &[&str] = &[];
const DATE: &[&str] = &["date"];
const STATUS: &[&str] = &["status"];
const CLINICAL_STATUS: &[&str] = &["clinical-status", "status"];

/// Every type the platform serves, in CapabilityStatement order.
pub static TYPES: &[TypeInfo] = &[
    t("Patient", true, false, NONE, NONE, NONE, ""),
    t("Practitioner", false, false, NONE, NONE, NONE, ""),
    t("PractitionerRole", false, false, NONE, NONE, NONE, ""),
    t("Organization", false, false, NONE, NONE, NONE, ""),
    t("EpisodeOfCare", true, true, P, DATE, STATUS, "period"),
    t(
        "Condition",
        true,
        true,
        PS,
        &["onset-date", "date"],
        CLINICAL_STATUS,
        "onset[x], else recordedDate",
    ),
    t(
        "AllergyIntolerance",
        true,
        false,
        P,
        DATE,
        CLINICAL_STATUS,
        "recordedDate",
    ),
    t(
        "MedicationStatement",
        true,
        false,
        PS,
        &["effective", "date"],
        STATUS,
        "effective[x]",
    ),
    t(
        "MedicationAdministration",
        true,
        true,
        PS,
        &["effective-time", "date"],
        STATUS,
        "effective[x]",
    ),
    t("Observation", true, true, PS, DATE, STATUS, "effective[x]"),
    t(
        "DiagnosticReport",
        true,
        false,
        PS,
        DATE,
        STATUS,
        "effective[x], else issued",
    ),
    t("DocumentReference", true, true, PS, DATE, STATUS, "date"),
    t("Encounter", true, false, PS, DATE, STATUS, "period"),
    t("Consent", true, true, P, DATE, STATUS, "dateTime"),
    t(
        "Provenance",
        true,
        true,
        P,
        &["recorded", "date"],
        NONE,
        "recorded",
    ),
    t("AuditEvent", false, false, NONE, DATE, NONE, "recorded"),
];

/// The type named `name`, if the platform serves it.
pub fn type_info(name: &str) -> Option<&'static TypeInfo> {
    TYPES.iter().find(|t| t.name == name)
}

/// Interns a served type name as `&'static str`.
pub fn intern(name: &str) -> Option<&'static str> {
    type_info(name).map(|t| t.name)
}

/// Whether the type's resources are held in a patient's compartment.
pub fn is_patient_data(name: &str) -> bool {
    type_info(name).is_some_and(|t| t.patient_data)
}

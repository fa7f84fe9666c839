//! Identifier systems (no-basis) and code systems used across sandkasse.
//!
//! The OIDs are those of HL7 Norway's no-basis profiles; the code systems are the national ones
//! (Volven kodeverk, ICPC-2, ICD-10, ATC, NLK) plus the HL7 terminology the platform needs.

/// Fødselsnummer (Folkeregisteret).
pub const FNR: &str = "urn:oid:2.16.578.1.12.4.1.4.1";
/// D-nummer (Folkeregisteret).
pub const DNR: &str = "urn:oid:2.16.578.1.12.4.1.4.2";
/// HPR-nummer (Helsepersonellregisteret).
pub const HPR: &str = "urn:oid:2.16.578.1.12.4.1.4.4";
/// Organisasjonsnummer (Enhetsregisteret).
pub const ORGNR: &str = "urn:oid:2.16.578.1.12.4.1.4.101";
/// Kommunenummer (Volven 3402).
pub const KOMMUNENUMMER: &str = "urn:oid:2.16.578.1.12.4.1.1.3402";

/// Volven 9060: kategori helsepersonell.
pub const VOLVEN_9060: &str = "urn:oid:2.16.578.1.12.4.1.1.9060";
/// Volven 9151: kommunale helse- og omsorgstjenester (tjenestetype).
pub const VOLVEN_9151: &str = "urn:oid:2.16.578.1.12.4.1.1.9151";
/// Volven 8663: tjenestetyper for kommunal helse- og omsorgstjeneste mv. (helsestasjon).
pub const VOLVEN_8663: &str = "urn:oid:2.16.578.1.12.4.1.1.8663";
/// ICPC-2 (primærhelsetjenesten).
pub const ICPC2: &str = "urn:oid:2.16.578.1.12.4.1.1.7170";
/// ICD-10 (Norwegian edition).
pub const ICD10: &str = "urn:oid:2.16.578.1.12.4.1.1.7110";
/// ATC (WHO Anatomical Therapeutic Chemical classification).
pub const ATC: &str = "http://www.whocc.no/atc";
/// NLK: Norsk laboratoriekodeverk.
pub const NLK: &str = "urn:oid:2.16.578.1.12.4.1.1.7280";
/// LOINC (vital signs, as in the FHIR vital signs profile).
pub const LOINC: &str = "http://loinc.org";
/// UCUM units.
pub const UCUM: &str = "http://unitsofmeasure.org";
/// HL7 observation category (`vital-signs`, `laboratory`, …).
pub const OBSERVATION_CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/observation-category";

/// HL7 confidentiality codes (meta.security).
pub const V3_CONFIDENTIALITY: &str = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality";
/// HL7 act codes (sensitivity policies, meta.security).
pub const V3_ACT_CODE: &str = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
/// HL7 observation values used as security labels (e.g. REDACTED).
pub const V3_OBSERVATION_VALUE: &str = "http://terminology.hl7.org/CodeSystem/v3-ObservationValue";
/// HL7 purpose of use (TREAT, ETREAT, …).
pub const V3_ACT_REASON: &str = "http://terminology.hl7.org/CodeSystem/v3-ActReason";
/// sandkasse's own code system for the shielding categories (docs/architecture.md §3).
pub const SANDKASSE_SKJERMING: &str = "https://sandkasse.test/fhir/CodeSystem/skjerming";
/// sandkasse's own extension carrying a synthetic-data marker on every generated resource.
pub const SANDKASSE_SYNTHETIC_TAG: &str = "https://sandkasse.test/fhir/CodeSystem/syntetisk";

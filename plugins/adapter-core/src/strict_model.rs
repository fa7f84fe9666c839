//! The vendor model of the `flawed-strict-parser` sample: the R4 elements of the resource types it
//! knows, as its generated classes would have them. Generated from
//! `conformance/schemas/fhir.schema.json` (the `properties` of each type, without the `_element`
//! primitive-extension companions, which the parser allows for every listed element).

/// The top-level R4 elements of `rtype`, or `None` for a type the model does not cover.
pub fn known_elements(rtype: &str) -> Option<&'static [&'static str]> {
    Some(match rtype {
        "Bundle" => &[
            "resourceType", "id", "meta", "implicitRules", "language", "identifier", "type",
            "timestamp", "total", "link", "entry", "signature",
        ],
        "OperationOutcome" => &[
            "resourceType", "id", "meta", "implicitRules", "language", "text", "contained",
            "extension", "modifierExtension", "issue",
        ],
        "Patient" => &[
            "resourceType", "id", "meta", "implicitRules", "language", "text", "contained",
            "extension", "modifierExtension", "identifier", "active", "name", "telecom", "gender",
            "birthDate", "deceasedBoolean", "deceasedDateTime", "address", "maritalStatus",
            "multipleBirthBoolean", "multipleBirthInteger", "photo", "contact", "communication",
            "generalPractitioner", "managingOrganization", "link",
        ],
        "Practitioner" => &[
            "resourceType", "id", "meta", "implicitRules", "language", "text", "contained",
            "extension", "modifierExtension", "identifier", "active", "name", "telecom", "address",
            "gender", "birthDate", "photo", "qualification", "communication",
        ],
        "Organization" => &[
            "resourceType", "id", "meta", "implicitRules", "language", "text", "contained",
            "extension", "modifierExtension", "identifier", "active", "type", "name", "alias",
            "telecom", "address", "partOf", "contact", "endpoint",
        ],
        "Condition" => &[
            "resourceType", "id", "meta", "implicitRules", "language", "text", "contained",
            "extension", "modifierExtension", "identifier", "clinicalStatus", "verificationStatus",
            "category", "severity", "code", "bodySite", "subject", "encounter", "onsetDateTime",
            "onsetAge", "onsetPeriod", "onsetRange", "onsetString", "abatementDateTime",
            "abatementAge", "abatementPeriod", "abatementRange", "abatementString", "recordedDate",
            "recorder", "asserter", "stage", "evidence", "note",
        ],
        "MedicationStatement" => &[
            "resourceType", "id", "meta", "implicitRules", "language", "text", "contained",
            "extension", "modifierExtension", "identifier", "basedOn", "partOf", "status",
            "statusReason", "category", "medicationCodeableConcept", "medicationReference",
            "subject", "context", "effectiveDateTime", "effectivePeriod", "dateAsserted",
            "informationSource", "derivedFrom", "reasonCode", "reasonReference", "note", "dosage",
        ],
        "AllergyIntolerance" => &[
            "resourceType", "id", "meta", "implicitRules", "language", "text", "contained",
            "extension", "modifierExtension", "identifier", "clinicalStatus", "verificationStatus",
            "type", "category", "criticality", "code", "patient", "encounter", "onsetDateTime",
            "onsetAge", "onsetPeriod", "onsetRange", "onsetString", "recordedDate", "recorder",
            "asserter", "lastOccurrence", "note", "reaction",
        ],
        "Observation" => &[
            "resourceType", "id", "meta", "implicitRules", "language", "text", "contained",
            "extension", "modifierExtension", "identifier", "basedOn", "partOf", "status",
            "category", "code", "subject", "focus", "encounter", "effectiveDateTime",
            "effectivePeriod", "effectiveTiming", "effectiveInstant", "issued", "performer",
            "valueQuantity", "valueCodeableConcept", "valueString", "valueBoolean", "valueInteger",
            "valueRange", "valueRatio", "valueSampledData", "valueTime", "valueDateTime",
            "valuePeriod", "dataAbsentReason", "interpretation", "note", "bodySite", "method",
            "specimen", "device", "referenceRange", "hasMember", "derivedFrom", "component",
        ],
        "EpisodeOfCare" => &[
            "resourceType", "id", "meta", "implicitRules", "language", "text", "contained",
            "extension", "modifierExtension", "identifier", "status", "statusHistory", "type",
            "diagnosis", "patient", "managingOrganization", "period", "referralRequest",
            "careManager", "team", "account",
        ],
        "DocumentReference" => &[
            "resourceType", "id", "meta", "implicitRules", "language", "text", "contained",
            "extension", "modifierExtension", "masterIdentifier", "identifier", "status",
            "docStatus", "type", "category", "subject", "date", "author", "authenticator",
            "custodian", "relatesTo", "description", "securityLabel", "content", "context",
        ],
        "MedicationAdministration" => &[
            "resourceType", "id", "meta", "implicitRules", "language", "text", "contained",
            "extension", "modifierExtension", "identifier", "instantiates", "partOf", "status",
            "statusReason", "category", "medicationCodeableConcept", "medicationReference",
            "subject", "context", "supportingInformation", "effectiveDateTime", "effectivePeriod",
            "performer", "reasonCode", "reasonReference", "request", "device", "note", "dosage",
            "eventHistory",
        ],
        "Provenance" => &[
            "resourceType", "id", "meta", "implicitRules", "language", "text", "contained",
            "extension", "modifierExtension", "target", "occurredPeriod", "occurredDateTime",
            "recorded", "policy", "location", "reason", "activity", "agent", "entity", "signature",
        ],
        _ => return None,
    })
}

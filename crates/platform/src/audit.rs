//! The audit log: one [`AuditEntry`] for every access, rendered as a FHIR R4 `AuditEvent`.
//!
//! Every read, search, create, update, token issue and every refused attempt by a known
//! practitioner (401 for an expired token, 403, 404 of a resource, 412, 422) is logged with who
//! (HPR, category, unit), what (interaction, type, query, the resources returned and withheld),
//! which patients, why (purpose of use, emergency reason) and the outcome. Requests without a
//! valid token identify nobody and are not logged; nor are injected 429/503 faults (the request
//! never reached the data).
//!
//! Innsyn: `Platform::audit_events()` (typed) or `GET AuditEvent?patient=…` (FHIR, needs scope
//! `system/AuditEvent.read`) answers "who read what about me, when and why".
//!
//! The FHIR rendering ([`AuditEntry::to_fhir`]):
//! - `type` = `rest` (audit-event-type), or DICOM 110114 User Authentication for token issue;
//! - `subtype` = the FHIR restful interaction (`read`, `search-type`, `create`, `update`) or
//!   DICOM 110122 Login;
//! - `action` C/R/U/E, `recorded` from the platform clock, `outcome` 0 / 4 / 8;
//! - `purposeOfEvent` and `agent[0].purposeOfUse` = `TREAT`, or `ETREAT` + `BTG` with the reason
//!   as text for emergency access;
//! - `agent[0]` the practitioner (HPR identifier), `agent[1]` the unit (orgnr identifier);
//! - `entity[]`: each patient touched (role 1 Patient), each resource returned (description
//!   `returned`) and each withheld (description `withheld: <category>`), and the query.

use jiff::Timestamp;
use sandkasse_fhir::systems;
use sandkasse_kommune::Skjerming;
use serde::Serialize;
use serde_json::{Value, json};

use crate::token::{Grant, Purpose};

/// The interaction audited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Interaction {
    Read,
    Search,
    Create,
    Update,
    /// Token issue.
    Login,
}

impl Interaction {
    fn action(self) -> &'static str {
        match self {
            Interaction::Read => "R",
            Interaction::Search | Interaction::Login => "E",
            Interaction::Create => "C",
            Interaction::Update => "U",
        }
    }

    fn subtype(self) -> Value {
        let (system, code, display) = match self {
            Interaction::Read => ("http://hl7.org/fhir/restful-interaction", "read", "read"),
            Interaction::Search => (
                "http://hl7.org/fhir/restful-interaction",
                "search-type",
                "search type",
            ),
            Interaction::Create => (
                "http://hl7.org/fhir/restful-interaction",
                "create",
                "create",
            ),
            Interaction::Update => (
                "http://hl7.org/fhir/restful-interaction",
                "update",
                "update",
            ),
            Interaction::Login => (
                "http://dicom.nema.org/resources/ontology/DCM",
                "110122",
                "Login",
            ),
        };
        json!({"system": system, "code": code, "display": display})
    }
}

/// `AuditEvent.outcome`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuditOutcome {
    /// 0: success.
    Success,
    /// 4: refused or invalid request (4xx).
    MinorFailure,
    /// 8: the platform failed (5xx).
    SeriousFailure,
}

impl AuditOutcome {
    pub fn code(self) -> &'static str {
        match self {
            AuditOutcome::Success => "0",
            AuditOutcome::MinorFailure => "4",
            AuditOutcome::SeriousFailure => "8",
        }
    }

    /// The outcome for an HTTP status.
    pub fn of_status(status: u16) -> Self {
        match status {
            0..400 => AuditOutcome::Success,
            400..500 => AuditOutcome::MinorFailure,
            _ => AuditOutcome::SeriousFailure,
        }
    }
}

/// Who acted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Agent {
    pub practitioner_id: String,
    pub hpr: String,
    pub name: String,
    /// Volven 9060 category.
    pub category: String,
    pub unit_id: String,
    pub orgnr: String,
}

impl Agent {
    pub(crate) fn of(grant: &Grant) -> Agent {
        Agent {
            practitioner_id: grant.practitioner_id.clone(),
            hpr: grant.hpr.clone(),
            name: grant.practitioner_name.clone(),
            category: grant.category.clone(),
            unit_id: grant.unit_id.clone(),
            orgnr: grant.orgnr.clone(),
        }
    }
}

/// A resource withheld from a response, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Withheld {
    /// `Type/id`.
    pub reference: String,
    pub skjerming: Skjerming,
}

/// One audited access.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    /// `AuditEvent.id`, `ae-{n}` counting this platform's events.
    pub id: String,
    pub kommunenummer: String,
    pub recorded: Timestamp,
    pub interaction: Interaction,
    /// Resource type of the request (none for token issue).
    pub resource_type: Option<String>,
    /// The search query or the read/written `Type/id`.
    pub query: Option<String>,
    /// HTTP status answered.
    pub status: u16,
    pub outcome: AuditOutcome,
    /// What happened, bokmål / English (e.g. the denial reason).
    pub description: String,
    pub agent: Agent,
    pub purpose: Purpose,
    /// Emergency reason, when purpose is emergency.
    pub reason: Option<String>,
    /// Access rested on emergency purpose for at least one resource (break the glass).
    pub emergency: bool,
    /// Patient ids touched (asked for, returned, or refused).
    pub patients: Vec<String>,
    /// `Type/id` of each resource returned or written.
    pub returned: Vec<String>,
    /// Resources withheld.
    pub withheld: Vec<Withheld>,
}

impl AuditEntry {
    /// The entry as a FHIR R4 `AuditEvent`.
    pub fn to_fhir(&self) -> Value {
        let recorded = crate::clock::instant(self.recorded);
        let purpose = match self.purpose {
            Purpose::Treatment => json!([{
                "coding": [{"system": systems::V3_ACT_REASON, "code": "TREAT", "display": "treatment"}]
            }]),
            Purpose::Emergency => {
                let mut p = json!({"coding": [
                    {"system": systems::V3_ACT_REASON, "code": "ETREAT", "display": "Emergency Treatment"},
                    {"system": systems::V3_ACT_REASON, "code": "BTG", "display": "break the glass"}
                ]});
                if let Some(r) = &self.reason {
                    p["text"] = json!(r);
                }
                json!([p])
            }
        };
        let (type_system, type_code, type_display) = match self.interaction {
            Interaction::Login => (
                "http://dicom.nema.org/resources/ontology/DCM",
                "110114",
                "User Authentication",
            ),
            _ => (
                "http://terminology.hl7.org/CodeSystem/audit-event-type",
                "rest",
                "RESTful Operation",
            ),
        };
        let mut entities: Vec<Value> = Vec::new();
        for p in &self.patients {
            entities.push(json!({
                "what": {"reference": format!("Patient/{p}")},
                "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-entity-type", "code": "1", "display": "Person"},
                "role": {"system": "http://terminology.hl7.org/CodeSystem/object-role", "code": "1", "display": "Patient"},
            }));
        }
        for r in &self.returned {
            entities.push(json!({
                "what": {"reference": r},
                "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-entity-type", "code": "2", "display": "System Object"},
                "description": "returned",
            }));
        }
        for w in &self.withheld {
            entities.push(json!({
                "what": {"reference": w.reference},
                "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-entity-type", "code": "2", "display": "System Object"},
                "description": format!("withheld: {}", w.skjerming.code()),
                "securityLabel": [{"system": systems::SANDKASSE_SKJERMING, "code": w.skjerming.code()}],
            }));
        }
        if let Some(q) = &self.query {
            entities.push(json!({
                "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-entity-type", "code": "2", "display": "System Object"},
                "role": {"system": "http://terminology.hl7.org/CodeSystem/object-role", "code": "24", "display": "Query"},
                "description": q,
            }));
        }
        let mut event = json!({
            "resourceType": "AuditEvent",
            "id": self.id,
            "meta": {"versionId": "1", "lastUpdated": recorded},
            "type": {"system": type_system, "code": type_code, "display": type_display},
            "subtype": [self.interaction.subtype()],
            "action": self.interaction.action(),
            "recorded": recorded,
            "outcome": self.outcome.code(),
            "outcomeDesc": self.description,
            "purposeOfEvent": purpose,
            "agent": [
                {
                    "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": "IRCP", "display": "information recipient"}]},
                    "role": [{"coding": [{"system": systems::VOLVEN_9060, "code": self.agent.category}]}],
                    "who": {
                        "reference": format!("Practitioner/{}", self.agent.practitioner_id),
                        "identifier": {"system": systems::HPR, "value": self.agent.hpr},
                        "display": self.agent.name,
                    },
                    "requestor": true,
                    "purposeOfUse": purpose,
                },
                {
                    "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/extra-security-role-type", "code": "datacollector", "display": "data collector"}]},
                    "who": {
                        "reference": format!("Organization/{}", self.agent.unit_id),
                        "identifier": {"system": systems::ORGNR, "value": self.agent.orgnr},
                    },
                    "requestor": false,
                },
            ],
            "source": {
                "site": self.kommunenummer,
                "observer": {"display": "sandkasse syntetisk plattform"},
                "type": [{"system": "http://terminology.hl7.org/CodeSystem/security-source-type", "code": "4", "display": "Application Server"}],
            },
        });
        if !entities.is_empty() {
            event["entity"] = Value::Array(entities);
        }
        event
    }
}

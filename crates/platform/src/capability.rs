//! The `CapabilityStatement` served at `GET /{kommunenummer}/fhir/metadata`, generated from the
//! type table ([`crate::types::TYPES`]) so it always says what the platform really does.

use jiff::Timestamp;
use serde_json::{Value, json};

use crate::search::{DEFAULT_COUNT, MAX_COUNT};
use crate::types::TYPES;

fn param(name: &str, kind: &str, doc: &str) -> Value {
    json!({"name": name, "type": kind, "documentation": doc})
}

/// The CapabilityStatement of one kommune's API.
pub fn statement(kommunenummer: &str, navn: &str, fhir_base: &str, now: Timestamp) -> Value {
    let resources: Vec<Value> = TYPES
        .iter()
        .map(|t| {
            let mut interactions = vec![json!({"code": "read"}), json!({"code": "search-type"})];
            if t.writable {
                interactions.push(json!({"code": "create"}));
                interactions.push(json!({"code": "update"}));
            }
            let mut params = vec![
                param("_id", "token", "Logisk id, kommaseparert for flere / logical id, comma-separated for several"),
                param("_lastUpdated", "date", "meta.lastUpdated med prefiks eq/ne/gt/lt/ge/le/sa/eb / with prefixes"),
            ];
            if !matches!(t.name, "Provenance" | "AuditEvent") {
                params.push(param("identifier", "token", "system|value, value, system| eller |value"));
            }
            for p in t.patient_params {
                params.push(param(p, "reference", "Pasienten (Patient/<id> eller <id>); påkrevd for pasientopplysninger / the patient; required for patient data"));
            }
            if t.name == "AuditEvent" {
                params.push(param("patient", "reference", "Pasienten hendelsen gjelder / the patient concerned"));
                params.push(param("agent", "token", "HPR-nummeret til den som handlet / HPR number of the actor"));
            }
            for p in t.date_params {
                params.push(param(p, "date", &format!("Klinisk dato / clinical date: {}", if t.date_doc.is_empty() { "recorded" } else { t.date_doc })));
            }
            for p in t.status_params {
                params.push(param(p, "token", "Status"));
            }
            let mut r = json!({
                "type": t.name,
                "interaction": interactions,
                "versioning": "versioned-update",
                "readHistory": false,
                "updateCreate": false,
                "conditionalCreate": t.writable,
                "conditionalUpdate": false,
                "conditionalDelete": "not-supported",
                "searchParam": params,
            });
            if t.name == "AuditEvent" {
                r["documentation"] = json!("Krever scope system/AuditEvent.read / requires scope system/AuditEvent.read");
            }
            r
        })
        .collect();
    json!({
        "resourceType": "CapabilityStatement",
        "id": format!("sandkasse-{kommunenummer}"),
        "url": format!("{fhir_base}/metadata"),
        "name": "SandkasseSyntetiskPlattform",
        "title": format!("Syntetisk plattform for {navn} kommune"),
        "status": "active",
        "experimental": true,
        "date": crate::clock::instant(now),
        "publisher": "sandkasse",
        "description": format!(
            "Syntetisk FHIR R4-plattform for {navn} ({kommunenummer}): bare syntetiske data. Strenge søk (handling=strict), \
             _count standard {DEFAULT_COUNT}, maks {MAX_COUNT}. / Synthetic FHIR R4 platform: synthetic data only."
        ),
        "kind": "instance",
        "software": {"name": "sandkasse-platform", "version": env!("CARGO_PKG_VERSION")},
        "implementation": {"description": format!("{navn} kommune (syntetisk)"), "url": fhir_base},
        "fhirVersion": sandkasse_fhir::FHIR_VERSION,
        "format": ["application/fhir+json", "json"],
        "rest": [{
            "mode": "server",
            "documentation": "Token: POST ../auth/token med en launch-kontekst / with a launch context (docs/platform.md).",
            "security": {
                "cors": false,
                "service": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/restful-security-service", "code": "SMART-on-FHIR"}]}],
                "description": format!("Bearer-token fra POST {}/auth/token; tjenstlig behov, nødrett med begrunnelse, skjerming. / Bearer token; access by care relation, emergency access with a reason, shielding.", fhir_base.trim_end_matches("/fhir")),
            },
            "resource": resources,
        }],
    })
}

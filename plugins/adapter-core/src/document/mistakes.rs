//! The write role's mutant switches that need more than a line at their point of use: each
//! item serves one mistake of [`Behaviour`] and is used only when that switch is on.

use guest_kit::fhir::{self, Client, FHIR_JSON};
use guest_kit::http::{self, Request, Url};
use guest_kit::types::{AdapterError, VitalSigns};
use guest_kit::{Level, log};
use serde_json::{Value, json};

use crate::Behaviour;

/// [`Behaviour::wrong_ucum_system`]: UCUM's HL7 OID.
pub const UCUM_OID: &str = "urn:oid:2.16.840.1.113883.6.8";
/// [`Behaviour::wrong_loinc_system`]: LOINC's HL7 OID.
pub const LOINC_OID: &str = "urn:oid:2.16.840.1.113883.6.1";
/// [`Behaviour::wrong_atc_system`]: ATC's HL7 OID.
pub const ATC_OID: &str = "urn:oid:2.16.840.1.113883.6.73";
/// [`Behaviour::hardcodes_document_type`]: LOINC 11488-4, konsultasjonsnotat.
pub const KONSULTASJONSNOTAT: &str = "11488-4";
/// [`Behaviour::hardcodes_tjenestetype`]: Volven 9151 code 15, helsetjenester i hjemmet.
pub const HJEMMETJENESTER: &str = "15";
/// [`Behaviour::truncates_note`]: characters the vendor's note column holds.
pub const NOTE_COLUMN: usize = 255;
/// [`Behaviour::token_in_body`]: the vendor's "session" extension.
pub const SESSION_EXTENSION: &str = "https://leverandor.example/fhir/StructureDefinition/okt";
/// [`Behaviour::external_code_lookup`]: the public LOINC terminology server.
const LOINC_LOOKUP: &str = "https://fhir.loinc.org/CodeSystem/$lookup";

/// [`Behaviour::display_unit_codes`]: the unit as the vendor's screen shows it.
pub fn display_unit(ucum: &str) -> &str {
    match ucum {
        "mm[Hg]" => "mmHg",
        "Cel" => "°C",
        "/min" => "slag/min",
        other => other,
    }
}

/// [`Behaviour::effective_as_utc`]: `YYYY-MM-DDThh:mm:ss±hh:mm` → `YYYY-MM-DDThh:mm:ssZ`, the
/// clock time kept and the offset dropped.
pub fn local_as_utc(effective: &str) -> String {
    match effective.get(..19) {
        Some(local) if effective.len() > 19 => format!("{local}Z"),
        _ => effective.to_owned(),
    }
}

/// [`Behaviour::note_latin1`]: the text in ISO-8859-1, `?` for what it cannot hold.
pub fn latin1(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
        .collect()
}

/// [`Behaviour::first_practitioner`]: the id of the first Practitioner the platform lists.
pub fn first_practitioner(client: &Client) -> Result<String, AdapterError> {
    let bundle = client.search("Practitioner", &[("_count", "1")])?;
    bundle
        .get("entry")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|e| !fhir::is_outcome_entry(e))
        .find_map(|e| e.pointer("/resource/id").and_then(Value::as_str))
        .map(str::to_owned)
        .ok_or_else(|| AdapterError::InvalidInput("no Practitioner".into()))
}

/// [`Behaviour::manages_by_kommune`]: the Organization the unit is `partOf` (the kommune), or
/// the unit itself when it is part of nothing.
pub fn kommune_of(client: &Client, unit: &str) -> Result<String, AdapterError> {
    let org = client.read("Organization", unit)?;
    Ok(org
        .pointer("/partOf/reference")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("Organization/"))
        .unwrap_or(unit)
        .to_owned())
}

/// [`Behaviour::external_code_lookup`]: one lookup per LOINC code at the public server, without
/// the token; the outcome is ignored.
pub fn lookup_displays(v: &VitalSigns) {
    for m in &v.measurements {
        let Ok(url) = Url::parse(&format!(
            "{LOINC_LOOKUP}?system=http://loinc.org&code={}",
            fhir::encode(&m.code)
        )) else {
            continue;
        };
        let outcome = http::send(&Request::get(url).header("accept", FHIR_JSON));
        log(
            Level::Debug,
            &format!(
                "LOINC lookup: {}",
                if outcome.is_ok() {
                    "answered"
                } else {
                    "failed"
                }
            ),
        );
    }
}

/// The vendor's own conditional create, for [`Behaviour::follows_foreign_location`],
/// [`Behaviour::retry_returns_nothing`], [`Behaviour::retry_made_up_id`] and
/// [`Behaviour::retry_recreates`]; otherwise as [`Client::create`]. `None`: nothing to report
/// for this resource.
pub fn create(
    client: &Client,
    resource: &Value,
    condition: Option<&str>,
    key: &str,
    b: &Behaviour,
) -> Result<Option<(Value, bool)>, AdapterError> {
    let rtype = resource
        .get("resourceType")
        .and_then(Value::as_str)
        .unwrap_or("Resource");
    let what = format!("{rtype} create");
    let body =
        serde_json::to_vec(resource).map_err(|e| AdapterError::Internal(format!("{what}: {e}")))?;
    let mut request = Request::post(client.base().join(&format!("/{rtype}")), body)
        .header("content-type", FHIR_JSON);
    if let Some(condition) = condition {
        request = request.header("if-none-exist", condition);
    }
    let response = client.execute(request, &what)?;
    client.check(&response, &what)?;
    let created = response.status == 201;
    let stored = fhir::parse(&response, &what)?;
    let location = response.header("location");
    if b.follows_foreign_location
        && let Some(url) = location.and_then(|l| Url::parse(l).ok())
    {
        // "Read back what was stored", wherever Location points, with the token.
        let read_back = client.execute(Request::get(url), &format!("{rtype} read-back"));
        log(
            Level::Debug,
            &format!("{rtype} read-back: {}", read_back.map_or(0, |r| r.status)),
        );
    }
    if !fhir::is_operation_outcome(&stored) {
        return Ok(Some((stored, created)));
    }
    // A match exists and is withheld from this user: the platform names it in Location only.
    if b.retry_returns_nothing {
        log(
            Level::Info,
            &format!("{what}: no resource in the answer; nothing to report"),
        );
        return Ok(None);
    }
    if b.retry_made_up_id {
        return Ok(Some((
            json!({"resourceType": rtype, "id": key.replace(['/', '%', ','], "-")}),
            created,
        )));
    }
    if b.retry_recreates {
        log(
            Level::Info,
            &format!("{what}: no resource in the answer; creating it again"),
        );
        return client.create(resource, None).map(Some);
    }
    Ok(location
        .and_then(fhir::location_identity)
        .map(|(t, id)| (json!({"resourceType": t, "id": id}), created))
        .or(Some((stored, created))))
}

//! Read role: the patient overview.

use std::collections::HashSet;
use std::sync::Mutex;

use guest_kit::fhir::{self, Client};
use guest_kit::types::{AdapterError, LaunchContext};
use guest_kit::{Level, log};
use serde_json::{Value, json};

use crate::Behaviour;

mod mistakes;

/// Page size asked of every search.
const PAGE_SIZE: &str = "50";
/// Most pages followed per search: far beyond the suite's longest search (about 40 pages of 1–2
/// entries in `overview-long-record`), and 50 × 100 = 5000 resources of one type on full pages.
const MAX_PAGES: usize = 100;

/// The searches of the overview, all by the patient in context.
const SEARCHES: &[&str] = &[
    "Condition",
    "MedicationStatement",
    "AllergyIntolerance",
    "Observation",
    "EpisodeOfCare",
    "DocumentReference",
];

/// [`Behaviour::caches_overview`]: the first overview, served to every later call.
static CACHED: Mutex<Option<String>> = Mutex::new(None);

/// [`Behaviour::fetches_everything`]: page size and page cap.
const EVERYTHING_PAGE_SIZE: &str = "200";
const EVERYTHING_MAX_PAGES: usize = usize::MAX;
/// [`Behaviour::fetches_everything`]: other patients whose data the "sync" reads (every type,
/// every page). Kept small so that the call stays inside the sandbox's request and fuel limits
/// and fails on over-fetching rather than on a limit.
const EVERYTHING_OTHER_PATIENTS: usize = 5;

pub fn patient_overview(ctx: &LaunchContext, b: &Behaviour) -> Result<String, AdapterError> {
    if b.caches_overview
        && let Some(cached) = CACHED.lock().ok().and_then(|c| c.clone())
    {
        log(Level::Info, "overview: served from cache");
        return Ok(cached);
    }
    if b.greedy {
        burn();
    }
    let context_id = crate::patient_in_context(ctx)?;
    let client = crate::client(ctx, b)?;
    if b.logs_patient_id {
        log(Level::Info, &format!("overview for Patient/{context_id}"));
    }

    // The patient in context, read directly: never searched for by name or identifier.
    let mut patient = client.read("Patient", context_id)?;
    if b.rejects_dnummer
        && crate::national_id(&patient).is_some_and(|(system, _)| system == crate::DNR)
    {
        // The vendor validates the national id as a fødselsnummer (day of birth ≤ 31).
        return Err(AdapterError::InvalidInput(
            "pasienten har ikke gyldig fødselsnummer / the patient has no valid fødselsnummer"
                .into(),
        ));
    }
    if b.duplicate_check {
        mistakes::duplicate_check(&client, &patient);
    }
    mistakes::alter_patient(&mut patient, b);
    let deceased = patient.get("deceasedDateTime").is_some()
        || patient.get("deceasedBoolean") == Some(&json!(true));
    if b.logs_personal_data {
        log(
            Level::Info,
            &format!(
                "opening patient {} ({})",
                crate::national_id(&patient)
                    .map(|(_, v)| v)
                    .unwrap_or_default(),
                name_of(&patient)
            ),
        );
    }
    let found_id = if b.searches_patient {
        Some(crate::search_patient(&client, &patient, context_id)?)
    } else {
        None
    };
    let patient_id = found_id.as_deref().unwrap_or(context_id);
    let mut entries = vec![entry(&client, patient)];
    let mut seen: HashSet<String> = HashSet::new();
    let mut notices = 0;

    let (page_size, max_pages) = match (b.fetches_everything, b.first_page_only) {
        (_, true) => (PAGE_SIZE, 1),
        (true, false) => (EVERYTHING_PAGE_SIZE, EVERYTHING_MAX_PAGES),
        (false, false) if b.page_cap_five => (PAGE_SIZE, mistakes::FIVE_PAGES),
        (false, false) => (PAGE_SIZE, MAX_PAGES),
    };
    for rtype in SEARCHES {
        if b.wrong_bundle && (*rtype == "AllergyIntolerance" || *rtype == "EpisodeOfCare") {
            continue;
        }
        if b.hides_deceased && deceased {
            log(Level::Info, "overview: deceased patient, no searches");
            break;
        }
        let max_pages = if b.observation_page_cap && *rtype == "Observation" {
            mistakes::OBSERVATION_PAGES
        } else {
            max_pages
        };
        let params = [("patient", patient_id), ("_count", page_size)];
        let searched = if b.follows_foreign_next || b.drops_later_notices {
            mistakes::search_pages(&client, rtype, &params, max_pages, b)
        } else {
            client.search_all(rtype, &params, max_pages)
        };
        let paged = match searched {
            Ok(p) => p,
            // The token-less search failed: carry on without it.
            Err(e) if b.drops_token && *rtype == "DocumentReference" => {
                log(
                    Level::Warn,
                    &format!(
                        "{rtype} search failed ({}); left out",
                        crate::document::kind(&e)
                    ),
                );
                continue;
            }
            // The user's role may not see this type (e.g. saksbehandler and Observation): show
            // the rest, and say what is missing.
            Err(AdapterError::Forbidden(message)) => {
                log(
                    Level::Info,
                    &format!("{rtype} search: forbidden for this role; noted in the overview"),
                );
                notices += 1;
                entries.push(json!({ "resource": forbidden_notice(rtype, &message) }));
                continue;
            }
            Err(e) => return Err(e),
        };
        let mut matches = 0;
        let mut found = paged.entries;
        if b.shows_recent_observations && *rtype == "Observation" {
            mistakes::latest_observations(&mut found);
        }
        for e in found {
            let Some(mut resource) = e.get("resource").cloned() else {
                continue;
            };
            if fhir::is_outcome_entry(&e) {
                if b.drops_notices
                    || (b.document_notices_only && *rtype != "DocumentReference")
                    || (b.dedups_notices && notices > 0)
                {
                    continue;
                }
                // The platform's notice that something is withheld: the user must see it.
                notices += 1;
                if b.relabels_notices {
                    resource = mistakes::own_notice();
                }
                entries.push(json!({ "resource": resource }));
                continue;
            }
            if b.active_conditions_only && !mistakes::is_active(&resource) {
                continue;
            }
            mistakes::alter_resource(&mut resource, b);
            let key = format!(
                "{}/{}",
                resource
                    .get("resourceType")
                    .and_then(Value::as_str)
                    .unwrap_or(""),
                resource.get("id").and_then(Value::as_str).unwrap_or("")
            );
            if seen.insert(key) {
                matches += 1;
                let mut out = json!({ "resource": resource });
                if let Some(url) = e.get("fullUrl") {
                    out["fullUrl"] = url.clone();
                }
                entries.push(out);
            }
        }
        log(
            Level::Info,
            &format!(
                "{rtype} search: {matches} resources in {} page(s){}",
                paged.pages,
                if paged.truncated {
                    ", page cap reached"
                } else {
                    ""
                }
            ),
        );
    }

    if b.fetches_everything {
        sync_everything(&client, patient_id);
    }
    if b.prefetches_unused {
        mistakes::prefetch(&client, patient_id);
    }
    if b.unordered_overview {
        mistakes::shuffle(&mut entries);
    }
    if b.relative_full_urls {
        mistakes::relative_full_urls(&mut entries);
    }
    log(
        Level::Info,
        &format!(
            "overview: {} entries, {notices} notice(s), {} requests",
            entries.len(),
            client.requests()
        ),
    );
    let mut bundle = fhir::collection(entries);
    if b.wrong_bundle {
        bundle["type"] = json!("searchset");
        for e in bundle["entry"].as_array_mut().into_iter().flatten() {
            if let Some(e) = e.as_object_mut() {
                e.remove("fullUrl");
            }
        }
    }
    if let Some(clock) = b.nondeterministic {
        stamp(&mut bundle, clock);
    }
    let out = serde_json::to_string(&bundle)
        .map_err(|e| AdapterError::Internal(format!("overview: {e}")))?;
    if b.caches_overview
        && let Ok(mut cache) = CACHED.lock()
    {
        *cache = Some(out.clone());
    }
    Ok(out)
}

/// [`Behaviour::fetches_everything`]: the vendor's "sync" — every patient the unit can see
/// (`Patient?_count=200`, every page), then every type of data of other patients (the platform
/// searches clinical data per patient only), pages of 200, every page. Nothing of it reaches the
/// overview (the vendor filters locally). A refused search (403) is skipped; any other failure
/// stops the sync; it never fails the call.
fn sync_everything(client: &Client, patient_id: &str) {
    let patients = match client.search_all(
        "Patient",
        &[("_count", EVERYTHING_PAGE_SIZE)],
        EVERYTHING_MAX_PAGES,
    ) {
        Ok(paged) => paged.entries,
        Err(e) => {
            log(
                Level::Warn,
                &format!(
                    "sync: Patient failed ({}); sync stopped",
                    crate::document::kind(&e)
                ),
            );
            return;
        }
    };
    log(Level::Info, &format!("sync: {} patients", patients.len()));
    let others = patients
        .iter()
        .filter(|e| !fhir::is_outcome_entry(e))
        .filter_map(|e| e.pointer("/resource/id").and_then(Value::as_str))
        .filter(|id| *id != patient_id)
        .take(EVERYTHING_OTHER_PATIENTS);
    for other in others {
        for rtype in SEARCHES {
            match client.search_all(
                rtype,
                &[("patient", other), ("_count", EVERYTHING_PAGE_SIZE)],
                EVERYTHING_MAX_PAGES,
            ) {
                Ok(paged) => log(
                    Level::Info,
                    &format!("sync: {rtype}: {} entries", paged.entries.len()),
                ),
                Err(AdapterError::Forbidden(_)) => continue,
                Err(e) => {
                    log(
                        Level::Warn,
                        &format!(
                            "sync: {rtype} failed ({}); sync stopped",
                            crate::document::kind(&e)
                        ),
                    );
                    return;
                }
            }
        }
    }
}

/// [`Behaviour::logs_personal_data`]: the patient's first name as "given family".
fn name_of(patient: &Value) -> String {
    let Some(name) = patient.pointer("/name/0") else {
        return String::new();
    };
    let mut parts: Vec<&str> = name
        .get("given")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    if let Some(family) = name.get("family").and_then(Value::as_str) {
        parts.push(family);
    }
    parts.join(" ")
}

/// [`Behaviour::nondeterministic`]: a random `Bundle.id` (std's `RandomState`, seeded from
/// `wasi:random`, new keys per call) and the `clock`'s time as `Bundle.timestamp`.
fn stamp(bundle: &mut Value, clock: fn() -> std::time::SystemTime) {
    use std::hash::BuildHasher;
    let random = std::collections::hash_map::RandomState::new().hash_one(0u8);
    bundle["id"] = json!(format!("{random:016x}"));
    let now = clock()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    bundle["timestamp"] = json!(rfc3339(now));
}

/// `YYYY-MM-DDThh:mm:ss.sssZ` for a time since the Unix epoch.
fn rfc3339(since_epoch: std::time::Duration) -> String {
    let secs = since_epoch.as_secs();
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        since_epoch.subsec_millis()
    )
}

/// Iterations of [`burn`]'s loop: about 700 million instructions (fuel). Measured in the
/// sandbox: 21 units of fuel per iteration; the 80 MiB allocation adds about 85 million, and the
/// overview itself about 22 million — some 800 million per call in all, under the 2 000 million
/// limit.
const BURN_ITERATIONS: u64 = 33_000_000;
/// Memory [`burn`] allocates and touches.
const BURN_BYTES: usize = 80 << 20;

/// [`Behaviour::greedy`]: a busy loop the optimiser cannot remove, and 80 MiB allocated and
/// touched (one write per 4 KiB page), then freed.
fn burn() {
    let mut acc: u64 = 0x9E37_79B9_7F4A_7C15;
    for i in 0..BURN_ITERATIONS {
        acc = std::hint::black_box(acc.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(i));
    }
    let mut block = vec![0u8; BURN_BYTES];
    for (n, i) in (0..BURN_BYTES).step_by(4096).enumerate() {
        block[i] = (acc as u8).wrapping_add(n as u8) | 1;
    }
    std::hint::black_box(&block);
    log(Level::Debug, &format!("overview: warmed up ({})", acc & 1));
}

/// A bundle entry for a read resource, with its full URL.
fn entry(client: &Client, resource: Value) -> Value {
    let rtype = resource
        .get("resourceType")
        .and_then(Value::as_str)
        .unwrap_or("");
    let id = resource.get("id").and_then(Value::as_str).unwrap_or("");
    let full_url = client.base().join(&format!("/{rtype}/{id}")).to_string();
    json!({ "fullUrl": full_url, "resource": resource })
}

/// An `OperationOutcome` telling the user that a kind of information could not be shown.
fn forbidden_notice(rtype: &str, message: &str) -> Value {
    json!({
        "resourceType": "OperationOutcome",
        "issue": [{
            "severity": "information",
            "code": "forbidden",
            "diagnostics": format!("{rtype} vises ikke: ingen tilgang for rollen / {rtype} not shown: not permitted for the role ({message})"),
        }],
    })
}

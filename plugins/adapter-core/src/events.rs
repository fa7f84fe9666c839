//! Event role: react to a platform event by fetching the announced resource.

use std::collections::VecDeque;
use std::sync::Mutex;

use guest_kit::types::{AdapterError, Event, EventKind, EventOutcome, LaunchContext};
use guest_kit::{Level, log};
use serde_json::{Value, json};

use crate::Behaviour;

/// Event ids processed by this instance, oldest first (ids only — never patient data).
static PROCESSED: Mutex<VecDeque<String>> = Mutex::new(VecDeque::new());
/// How many event ids are remembered.
const REMEMBERED: usize = 1024;

pub fn on_event(
    ctx: &LaunchContext,
    event: &Event,
    b: &Behaviour,
) -> Result<EventOutcome, AdapterError> {
    if b.events_copy_all {
        return copy_all(ctx, event, b);
    }
    if event.kommunenummer != ctx.kommunenummer {
        if b.checks_kommune_late
            && is_resource_type(&event.resource_type)
            && crate::is_fhir_id(&event.resource_id)
        {
            // The vendor fetches first and looks at the kommune afterwards.
            crate::client(ctx, b)?.read(&event.resource_type, &event.resource_id)?;
        }
        log(Level::Info, "event: another kommune's event, ignored");
        return Ok(EventOutcome::Ignored(
            "the event belongs to another kommune".into(),
        ));
    }
    // Behaviour::dedups_events_by_resource: the resource, not the event, is remembered.
    let key = if b.dedups_events_by_resource {
        format!("{}/{}", event.resource_type, event.resource_id)
    } else {
        event.event_id.clone()
    };
    if PROCESSED
        .lock()
        .map(|seen| seen.contains(&key))
        .unwrap_or(false)
    {
        log(Level::Info, "event: redelivered, ignored");
        return Ok(EventOutcome::Ignored(
            "already processed (redelivered event)".into(),
        ));
    }
    if !is_resource_type(&event.resource_type) || !crate::is_fhir_id(&event.resource_id) {
        return Err(AdapterError::InvalidInput(
            "the event does not name a resource (Type and FHIR id)".into(),
        ));
    }
    let outcome = match event.kind {
        EventKind::Updated if b.ignores_updated => {
            log(
                Level::Info,
                &format!("event: {} updated, ignored", event.resource_type),
            );
            return Ok(EventOutcome::Ignored("updates are not handled".into()));
        }
        EventKind::Deleted if !b.fetches_deleted => {
            log(
                Level::Info,
                &format!("event: {} deleted, nothing to fetch", event.resource_type),
            );
            EventOutcome::Processed(Vec::new())
        }
        EventKind::Created | EventKind::Updated if b.events_noop => {
            log(
                Level::Info,
                &format!("event: {} noted", event.resource_type),
            );
            EventOutcome::Processed(Vec::new())
        }
        EventKind::Created | EventKind::Updated | EventKind::Deleted => {
            // Deleted only with Behaviour::fetches_deleted: fetched like any other event.
            let client = crate::client(ctx, b)?;
            let resource = client.read(&event.resource_type, &event.resource_id)?;
            let rtype = resource
                .get("resourceType")
                .and_then(serde_json::Value::as_str)
                .unwrap_or("");
            if rtype != event.resource_type {
                return Err(AdapterError::Internal(format!(
                    "event: asked for {}, got {rtype}",
                    event.resource_type
                )));
            }
            log(
                Level::Info,
                &format!("event: {} fetched", event.resource_type),
            );
            EventOutcome::Processed(vec![format!(
                "{}/{}",
                event.resource_type, event.resource_id
            )])
        }
    };
    if let Ok(mut seen) = PROCESSED.lock() {
        if seen.len() >= REMEMBERED {
            seen.pop_front();
        }
        seen.push_back(key);
    }
    Ok(outcome)
}

/// Whether `name` looks like a FHIR resource type (`[A-Z][A-Za-z]*`).
fn is_resource_type(name: &str) -> bool {
    name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_uppercase())
        && name.bytes().all(|b| b.is_ascii_alphabetic())
}

/// [`Behaviour::events_copy_all`]: every delivery is handled — no kommune check, no memory of
/// event ids. The resource is fetched from the event's kommune (the launch context's base with
/// the kommunenummer swapped), and an "acknowledgement" `Provenance` is written for it each time.
fn copy_all(
    ctx: &LaunchContext,
    event: &Event,
    b: &Behaviour,
) -> Result<EventOutcome, AdapterError> {
    if !is_resource_type(&event.resource_type) || !crate::is_fhir_id(&event.resource_id) {
        return Err(AdapterError::InvalidInput(
            "the event does not name a resource (Type and FHIR id)".into(),
        ));
    }
    if matches!(event.kind, EventKind::Deleted) {
        return Ok(EventOutcome::Processed(Vec::new()));
    }
    let mut source = ctx.clone();
    source.fhir_base_url = ctx.fhir_base_url.replace(
        &format!("/{}/fhir", ctx.kommunenummer),
        &format!("/{}/fhir", event.kommunenummer),
    );
    let client = crate::client(&source, b)?;
    let resource = client.read(&event.resource_type, &event.resource_id)?;
    let reference = format!("{}/{}", event.resource_type, event.resource_id);
    log(
        Level::Info,
        &format!("event: {} fetched", event.resource_type),
    );
    let recorded = resource
        .pointer("/meta/lastUpdated")
        .and_then(Value::as_str)
        .unwrap_or("1970-01-01T00:00:00Z");
    let acknowledgement = json!({
        "resourceType": "Provenance",
        "target": [{"reference": reference}],
        "recorded": recorded,
        "activity": {"text": "mottatt av fagsystemet / received by the EHR"},
        "agent": [{"who": {"identifier": {"system": "urn:oid:2.16.578.1.12.4.1.4.4", "value": ctx.practitioner_hpr}}}],
    });
    match client.create(&acknowledgement, None) {
        Ok(_) => log(Level::Info, "event: acknowledgement written"),
        Err(e) => log(
            Level::Warn,
            &format!(
                "event: acknowledgement not written ({})",
                crate::document::kind(&e)
            ),
        ),
    }
    Ok(EventOutcome::Processed(vec![reference]))
}

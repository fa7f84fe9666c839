//! What the steps hand the adapter: the clinical entry of a `document` step's template and the
//! event of an `on-event` step's template, built from the launch context and the world.

use sandkasse_sandbox::types::{
    CareNote, ClinicalEntry, Event, EventKind, LaunchContext, Measurement,
    MedicationAdministration, ServiceDecision, VitalSigns,
};

use super::World;
use crate::model::{EntryTemplate, EventTemplate};

/// The clinical entry of a template.
pub fn entry(template: &EntryTemplate, ctx: &LaunchContext) -> ClinicalEntry {
    let effective = "2026-10-01T14:30:00+02:00".to_owned();
    match template {
        EntryTemplate::VitalSigns => ClinicalEntry::VitalSigns(VitalSigns {
            entry_id: "vs-1".into(),
            effective,
            measurements: vec![
                Measurement {
                    code: "8480-6".into(),
                    value: 142.0,
                    unit: "mm[Hg]".into(),
                },
                Measurement {
                    code: "8462-4".into(),
                    value: 84.0,
                    unit: "mm[Hg]".into(),
                },
                Measurement {
                    code: "8867-4".into(),
                    value: 76.0,
                    unit: "/min".into(),
                },
                Measurement {
                    code: "8310-5".into(),
                    value: 37.2,
                    unit: "Cel".into(),
                },
            ],
        }),
        EntryTemplate::CareNote | EntryTemplate::SensitiveCareNote => {
            let sensitive = *template == EntryTemplate::SensitiveCareNote;
            ClinicalEntry::CareNote(CareNote {
                entry_id: if sensitive {
                    "note-sensitive-1".into()
                } else {
                    "note-1".into()
                },
                effective,
                document_type: "34746-8".into(),
                title: "Sykepleienotat".into(),
                // Longer than 255 characters, with æøå and Sámi letters, so a note cut short or
                // re-encoded on the way is seen.
                text: if sensitive {
                    "SYNTETISK TESTDATA. Pasienten ønsker at samtalen behandles fortrolig. Hun forteller om \
                     bekymringer for økonomien og familien i Kárášjohka, og om søvnvansker de siste ukene. \
                     Vi avtalte ny samtale om to uker; pasienten ble informert om retten til å be om sperring \
                     av opplysninger. Giitu – takk for samtalen."
                        .into()
                } else {
                    "SYNTETISK TESTDATA. Tilsyn utført, pasienten i god form. Blodtrykket er målt og \
                     medisinene gitt etter planen; såret på leggen er stelt og tørt, uten tegn til \
                     infeksjon. Pasienten har spist frokost og gått en tur med datteren Áile. Neste besøk \
                     i morgen tidlig; pårørende er orientert. Ingen endring i ernæring eller væskeinntak."
                        .into()
                },
                sensitive,
            })
        }
        EntryTemplate::ServiceDecision => ClinicalEntry::ServiceDecision(ServiceDecision {
            entry_id: "vedtak-1".into(),
            tjenestetype: "15".into(),
            start: "2026-10-01".into(),
            end: Some("2026-12-31".into()),
            unit_orgnr: ctx.unit_orgnr.clone(),
        }),
        EntryTemplate::ServiceDecisionOpenEnded => {
            ClinicalEntry::ServiceDecision(ServiceDecision {
                entry_id: "vedtak-2".into(),
                tjenestetype: "6".into(),
                start: "2026-11-01".into(),
                end: None,
                unit_orgnr: ctx.unit_orgnr.clone(),
            })
        }
        EntryTemplate::MedicationAdministration => {
            ClinicalEntry::MedicationAdministration(MedicationAdministration {
                entry_id: "med-1".into(),
                effective,
                atc: "N02BE01".into(),
                dose: "1 g".into(),
            })
        }
    }
}

/// The event of a template for the context; `None` when there is nothing to base it on (no such
/// resource in the world, or no earlier event to redeliver: `previous` is the one delivered last).
pub(super) fn event(
    world: &World,
    template: &EventTemplate,
    ctx: &LaunchContext,
    previous: Option<&Event>,
) -> Option<Event> {
    let observation_of = |kommune: &str, patient: Option<&str>| {
        let t = world.dataset.tenant(kommune)?;
        t.resources
            .iter()
            .find(|r| {
                r.resource_type == "Observation"
                    && patient.is_none_or(|p| r.patient.as_deref() == Some(p))
            })
            .map(|r| (r.id.clone(), r.patient.clone()))
    };
    match template {
        EventTemplate::NewObservation => {
            let (id, patient) = observation_of(&ctx.kommunenummer, ctx.patient.as_deref())?;
            Some(Event {
                event_id: "evt-1".into(),
                kommunenummer: ctx.kommunenummer.clone(),
                resource_type: "Observation".into(),
                resource_id: id,
                kind: EventKind::Created,
                patient,
            })
        }
        EventTemplate::UpdatedCondition => {
            let t = world.dataset.tenant(&ctx.kommunenummer)?;
            let r = t.resources.iter().find(|r| {
                r.resource_type == "Condition" && r.patient.is_some() && r.patient == ctx.patient
            })?;
            Some(Event {
                event_id: "evt-updated".into(),
                kommunenummer: ctx.kommunenummer.clone(),
                resource_type: "Condition".into(),
                resource_id: r.id.clone(),
                kind: EventKind::Updated,
                patient: r.patient.clone(),
            })
        }
        EventTemplate::UpdatedObservation => {
            let (id, patient) = observation_of(&ctx.kommunenummer, ctx.patient.as_deref())?;
            Some(Event {
                event_id: "evt-obs-updated".into(),
                kommunenummer: ctx.kommunenummer.clone(),
                resource_type: "Observation".into(),
                resource_id: id,
                kind: EventKind::Updated,
                patient,
            })
        }
        EventTemplate::DeletedObservation => {
            let (id, patient) = observation_of(&ctx.kommunenummer, ctx.patient.as_deref())?;
            Some(Event {
                event_id: "evt-deleted".into(),
                kommunenummer: ctx.kommunenummer.clone(),
                resource_type: "Observation".into(),
                // An id the platform does not have: the resource is gone.
                resource_id: format!("{id}-slettet"),
                kind: EventKind::Deleted,
                patient,
            })
        }
        EventTemplate::Redelivered => previous.cloned(),
        EventTemplate::OtherKommune => {
            let other = world
                .dataset
                .tenants
                .iter()
                .map(|t| t.kommune.nummer)
                .find(|k| *k != ctx.kommunenummer)?;
            let (id, patient) = observation_of(other, None)?;
            Some(Event {
                event_id: "evt-other".into(),
                kommunenummer: other.to_owned(),
                resource_type: "Observation".into(),
                resource_id: id,
                kind: EventKind::Created,
                patient,
            })
        }
    }
}

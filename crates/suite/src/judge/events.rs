//! Events: another kommune's ignored, fetched, redelivery harmless, handled by their kind.

use std::collections::BTreeSet;

use sandkasse_sandbox::Outcome as CallOutcome;
use sandkasse_sandbox::types::EventKind;
use serde_json::Value;

use super::{Evidence, Judgement, describe, error, fail, pass, pass_unless, platform_exchanges};
use crate::model::{EventTemplate, Step};

pub(super) fn other_kommune_ignored(e: &Evidence<'_>, step: &usize) -> Judgement {
    let s = e.s;
    match s.steps.get(*step).and_then(|st| st.call.as_ref()) {
        Some(c) => {
            let ignored =
                matches!(&c.outcome, CallOutcome::Ok { value } if value.get("ignored").is_some());
            if ignored && platform_exchanges(c).next().is_none() {
                pass(
                    "hendelsen fra en annen kommune ble ignorert / the other kommune's event was ignored",
                )
            } else {
                let mut ev = vec![describe(*step, c)];
                ev.extend(c.exchanges.iter().map(|x| x.request_line.clone()));
                fail(
                    "en hendelse fra en annen kommune ble behandlet / an event of another kommune was processed",
                    ev,
                )
            }
        }
        None => error("steget ble ikke kjørt / the step did not run"),
    }
}

pub(super) fn event_fetched(e: &Evidence<'_>, step: &usize) -> Judgement {
    let s = e.s;
    let Some(st) = s.steps.get(*step) else {
        return error("steget finnes ikke / the step does not exist");
    };
    let (Some(c), Some(e)) = (&st.call, &st.event) else {
        return error("steget ble ikke kjørt / the step did not run");
    };
    let reference = format!("{}/{}", e.resource_type, e.resource_id);
    let named = matches!(&c.outcome, CallOutcome::Ok { value } if value["processed"].as_array().is_some_and(|a| a.iter().any(|v| v == reference.as_str())));
    let fetched = platform_exchanges(c).any(|x| {
        x.request_line.starts_with("GET")
            && x.request_line.contains(&reference)
            && x.status == Some(200)
    });
    if named && fetched {
        pass(format!("{reference} ble hentet / was fetched"))
    } else {
        fail(
            format!(
                "hendelsen førte ikke til oppslag av {reference} / the event did not lead to a lookup of {reference}"
            ),
            vec![describe(*step, c)],
        )
    }
}

pub(super) fn redelivery_harmless(e: &Evidence<'_>) -> Judgement {
    let s = e.s;
    let mut bad = Vec::new();
    let mut judged = 0;
    for (i, st) in s.steps.iter().enumerate() {
        if let (
            Step::OnEvent {
                event: EventTemplate::Redelivered,
                ..
            },
            Some(c),
        ) = (&st.step, &st.call)
        {
            // Harmless only means something when the first delivery did something.
            let first = st.event.as_ref().and_then(|e| {
                s.steps
                    .iter()
                    .find(|o| o.event.as_ref().is_some_and(|x| x.event_id == e.event_id))
                    .and_then(|o| o.call.as_ref())
            });
            if first.is_none_or(|f| platform_exchanges(f).next().is_none()) {
                continue;
            }
            judged += 1;
            if matches!(c.outcome, CallOutcome::Failure { .. }) {
                bad.push(describe(i, c));
            }
            for x in platform_exchanges(c) {
                let write = x.request_line.starts_with("POST") || x.request_line.starts_with("PUT");
                if write && matches!(x.status, Some(200..=299)) {
                    bad.push(format!(
                        "steg {i}: gjentatt levering skrev / redelivery wrote: {} → {}",
                        x.request_line,
                        x.status.unwrap_or(0)
                    ));
                }
            }
        }
    }
    if judged == 0 {
        error(
            "ingen hendelse som ble behandlet ved første levering, ble levert på nytt / no event handled at its first delivery was delivered again",
        )
    } else {
        pass_unless(
            bad,
            "gjentatt levering endret ingenting / redelivery changed nothing",
            "en gjentatt hendelse ga nye skrivinger / a redelivered event caused new writes",
        )
    }
}

pub(super) fn events_by_kind(e: &Evidence<'_>) -> Judgement {
    let s = e.s;
    let kommune_of = |c| e.kommune_of(c);
    let mut seen = BTreeSet::new();
    let mut judged = 0;
    let mut bad = Vec::new();
    for (i, st) in s.steps.iter().enumerate() {
        let (Some(c), Some(e)) = (&st.call, &st.event) else {
            continue;
        };
        if e.kommunenummer
            != kommune_of(match &st.step {
                Step::OnEvent { context, .. } => Some(context.as_str()),
                _ => None,
            })
            || !seen.insert(e.event_id.clone())
        {
            continue; // another kommune's (HEN-03) or a redelivery (HEN-02)
        }
        judged += 1;
        let reference = format!("{}/{}", e.resource_type, e.resource_id);
        let requested = platform_exchanges(c).any(|x| x.request_line.contains(&reference));
        let processed: Option<Vec<&str>> = match &c.outcome {
            CallOutcome::Ok { value } => value["processed"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect()),
            _ => None,
        };
        let kind = match e.kind {
            EventKind::Created => "created",
            EventKind::Updated => "updated",
            EventKind::Deleted => "deleted",
        };
        match e.kind {
            EventKind::Deleted => {
                if requested || processed.is_none() {
                    bad.push(format!(
                        "steg {i}: `deleted` {reference} skal gi processed([]) uten forespørsel / should give processed([]) without a request: {}{}",
                        describe(i, c),
                        if requested { "; ressursen ble slått opp / the resource was looked up" } else { "" }
                    ));
                }
            }
            _ => {
                let fetched = platform_exchanges(c).any(|x| {
                    x.request_line.starts_with("GET")
                        && x.request_line.contains(&reference)
                        && x.status == Some(200)
                });
                if !fetched || !processed.is_some_and(|p| p.contains(&reference.as_str())) {
                    bad.push(format!("steg {i}: `{kind}` {reference} ble ikke hentet og navngitt i processed / was not fetched and named in processed: {}", describe(i, c)));
                }
            }
        }
    }
    if judged == 0 {
        error(
            "ingen hendelse fra egen kommune ble levert / no event of the context's kommune was delivered",
        )
    } else {
        pass_unless(
            bad,
            format!("{judged} hendelser håndtert etter sitt slag / events handled by their kind"),
            "en hendelse ble ikke håndtert slik slaget tilsier / an event was not handled as its kind requires",
        )
    }
}

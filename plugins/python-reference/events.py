"""The event role: `on-event(ctx, event)`.

- Another kommune's event → `ignored`, without a single request.
- An `event-id` this instance already processed → `ignored` (redelivery); only event ids are
  remembered, at most `REMEMBERED` of them, oldest forgotten first. Reading is the only effect, so
  a redelivery after the memory is gone is harmless too.
- `deleted` → `processed([])`, without a request (there is nothing to fetch).
- `created` / `updated` → `GET {resource-type}/{resource-id}` (both checked to be a FHIR type and
  id first) and `processed(["Type/id"])`. The resource is fetched, not kept.
"""

from collections import OrderedDict

from fhirclient import FHIR_ID, FHIR_TYPE, Client, fail, log
from wit_world.imports import logging as hostlog
from wit_world.imports.kommune_sandkasse_types import (
    AdapterError_Internal,
    AdapterError_InvalidInput,
    Event,
    EventKind,
    EventOutcome_Ignored,
    EventOutcome_Processed,
    LaunchContext,
)

# Event ids remembered per instance.
REMEMBERED = 1024
# The event ids processed in this instance (ids only: no patient data is kept between calls).
_processed: "OrderedDict[str, None]" = OrderedDict()


def on_event(ctx: LaunchContext, event: Event):
    if event.kommunenummer != ctx.kommunenummer:
        log(hostlog.Level.INFO, "event: another kommune's event, ignored")
        return EventOutcome_Ignored("the event belongs to another kommune")
    if event.event_id in _processed:
        log(hostlog.Level.INFO, "event: already processed, ignored")
        return EventOutcome_Ignored("the event was already processed (redelivery)")
    if event.kind == EventKind.DELETED:
        fetched = []
        log(hostlog.Level.INFO, f"event: {event.resource_type} deleted, nothing to fetch")
    else:
        fetched = [_fetch(ctx, event)]
    _remember(event.event_id)
    return EventOutcome_Processed(fetched)


def _fetch(ctx: LaunchContext, event: Event) -> str:
    kind, id_ = event.resource_type, event.resource_id
    if not FHIR_TYPE.match(kind) or not FHIR_ID.match(id_):
        raise fail(AdapterError_InvalidInput, "the event's resource type or id is not a FHIR type and id")
    client = Client(ctx)
    what = f"{kind} read"
    response = client.get(f"/{kind}/{id_}", what)
    log(hostlog.Level.INFO, f"event: {what}: HTTP {response.status}")
    if response.status != 200:
        raise client.error_for(response, what)
    resource = response.json(what)
    if resource.get("resourceType") != kind or resource.get("id") != id_:
        raise fail(AdapterError_Internal, f"{what}: the platform sent another resource than the event names")
    return f"{kind}/{id_}"


def _remember(event_id: str) -> None:
    _processed[event_id] = None
    while len(_processed) > REMEMBERED:
        _processed.popitem(last=False)

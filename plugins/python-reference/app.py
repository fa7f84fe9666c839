"""The Python reference adapter for sandkasse (componentize-py).

Implements the world `kommune:sandkasse/adapter` (`conformance/wit/adapter.wit`) with all three
roles, written from sandkasse's documentation alone (`docs/adapter-guide.md`, `docs/platform.md`,
`conformance/`), as an independent second implementation beside the Rust `reference` adapter:

- `overview.py`: `patient-overview` (read);
- `document.py`: `document` (write);
- `events.py`: `on-event` (events);
- `fhirclient.py`: `wasi:http` requests with the bearer token, retries, the status mapping.

Every exported call is guarded: an `adapter-error` raised inside passes through, and any other
exception becomes `internal` naming only the exception's type (its message could quote data), so
the instance never traps on a Python error.
"""

from componentize_py_types import Err
from wit_world import exports
from wit_world.imports import logging as hostlog
from wit_world.imports.kommune_sandkasse_types import AdapterError_Internal, AdapterInfo, Capability

import document
import events
import overview
from fhirclient import log

VERSION = "0.1.0"


def _guarded(call, what: str, *args):
    try:
        return call(*args)
    except Err:
        raise
    except Exception as e:  # noqa: BLE001 — the boundary: no exception may trap the instance
        log(hostlog.Level.ERROR, f"{what}: unexpected {type(e).__name__}")
        raise Err(AdapterError_Internal(f"{what}: unexpected error ({type(e).__name__})"))


class AdapterApi(exports.AdapterApi):
    def info(self) -> AdapterInfo:
        return AdapterInfo(
            vendor="sandkasse",
            product="Python-referanseadapter",
            version=VERSION,
            capabilities=[Capability.READ, Capability.WRITE, Capability.EVENTS],
        )

    def patient_overview(self, ctx):
        return _guarded(overview.patient_overview, "patient-overview", ctx)

    def document(self, ctx, entry):
        return _guarded(document.document, "document", ctx, entry)

    def on_event(self, ctx, event):
        return _guarded(events.on_event, "on-event", ctx, event)

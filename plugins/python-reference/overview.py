"""The read role: `patient-overview(ctx)`.

The view shows the patient in context and, for that patient, the types in `VIEW_TYPES`: problems
(Condition), the medicine list (MedicationStatement), allergies (AllergyIntolerance), vedtak
(EpisodeOfCare) and documents (DocumentReference). Nothing else is fetched.

1. `GET Patient/{ctx.patient}`: the patient is never searched for. Any failure fails the call.
2. Per type, `GET {Type}?patient={id}&_count=50`, then every `next` link (only under
   `fhir-base-url`, sent as given) up to `MAX_PAGES` pages.
3. The result is a `collection` Bundle: the Patient first, then each type's resources in the
   order served, each once (by `Type/id`), exactly as the platform served them; and every
   `search.mode = outcome` entry (the platform's withheld-information notices, code `suppressed`)
   of every page, as served. A type whose search is refused with 403 is left out, and an
   OperationOutcome of our own says so; any other failure fails the call.
"""

import json

from fhirclient import Client, fail, log, patient_in_context
from wit_world.imports import logging as hostlog
from wit_world.imports.kommune_sandkasse_types import (
    AdapterError_Internal,
    LaunchContext,
)

VIEW_TYPES = ("Condition", "MedicationStatement", "AllergyIntolerance", "EpisodeOfCare", "DocumentReference")
# Results per page asked for (the platform's default; it caps at 200).
PAGE_SIZE = 50
# Pages read per type at most. Pages may be far shorter than `PAGE_SIZE` (three entries in the
# suite's paging scenario), so the cap is generous; hitting it is logged and noted in the Bundle.
MAX_PAGES = 100


def patient_overview(ctx: LaunchContext) -> str:
    patient = patient_in_context(ctx)
    client = Client(ctx)

    response = client.get(f"/Patient/{patient}", "Patient read")
    if response.status != 200:
        raise client.error_for(response, "Patient read")
    resource = response.json("Patient read")
    if resource.get("resourceType") != "Patient" or resource.get("id") != patient:
        raise fail(AdapterError_Internal, "Patient read: the platform did not send the Patient in context")

    entries = [{"fullUrl": f"{client.base}/Patient/{patient}", "resource": resource}]
    seen = {f"Patient/{patient}"}
    for resource_type in VIEW_TYPES:
        entries.extend(_search(client, resource_type, patient, seen))

    log(hostlog.Level.INFO, f"overview: {len(entries)} entries from {client.requests} requests")
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": entries}
    return json.dumps(bundle, ensure_ascii=False, separators=(",", ":"))


def _search(client: Client, resource_type: str, patient: str, seen: set) -> list:
    """Every page of one type's search by patient, as collection entries."""
    what = f"{resource_type} search"
    url = f"/{resource_type}?patient={patient}&_count={PAGE_SIZE}"
    entries = []
    matches = notices = pages = 0
    while url is not None:
        if pages == MAX_PAGES:
            log(hostlog.Level.WARN, f"{what}: stopped at the cap of {MAX_PAGES} pages")
            entries.append(_notice("warning", "incomplete", f"{resource_type}: more than {MAX_PAGES} pages; the list is incomplete"))
            break
        response = client.get(url, what)
        pages += 1
        if response.status == 403 and pages == 1:
            log(hostlog.Level.INFO, f"{what}: HTTP 403, type left out")
            return [_notice("warning", "forbidden", f"{resource_type}: the platform does not let this role see this type (403)")]
        if response.status != 200:
            raise client.error_for(response, what)
        bundle = response.json(what)
        if bundle.get("resourceType") != "Bundle":
            raise fail(AdapterError_Internal, f"{what}: the platform did not send a Bundle")
        for entry in _list(bundle.get("entry"), what):
            if not isinstance(entry, dict) or not isinstance(entry.get("resource"), dict):
                raise fail(AdapterError_Internal, f"{what}: an entry without a resource")
            item = entry["resource"]
            search = entry.get("search")
            if isinstance(search, dict) and search.get("mode") == "outcome":
                entries.append({"resource": item})
                notices += 1
                continue
            kind, id_ = item.get("resourceType"), item.get("id")
            if not isinstance(kind, str) or not isinstance(id_, str):
                raise fail(AdapterError_Internal, f"{what}: a resource without a type or id")
            key = f"{kind}/{id_}"
            if key in seen:
                continue
            seen.add(key)
            entries.append({"fullUrl": f"{client.base}/{key}", "resource": item})
            matches += 1
        url = _next_link(client, bundle, what)
    log(hostlog.Level.INFO, f"{what}: {matches} resources, {notices} notices, {pages} pages")
    return entries


def _next_link(client: Client, bundle: dict, what: str) -> str | None:
    """The `next` link, if any; one outside `fhir-base-url` stops the call."""
    for link in _list(bundle.get("link"), what):
        if isinstance(link, dict) and link.get("relation") == "next":
            url = link.get("url")
            if not isinstance(url, str) or not url:
                raise fail(AdapterError_Internal, f"{what}: a next link without a URL")
            if not client.same_base(url):
                log(hostlog.Level.WARN, f"{what}: a next link outside fhir-base-url was not followed")
                raise fail(AdapterError_Internal, f"{what}: the platform's next link points outside fhir-base-url; not followed")
            return url
    return None


def _list(value, what: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise fail(AdapterError_Internal, f"{what}: the Bundle is malformed")
    return value


def _notice(severity: str, code: str, text: str) -> dict:
    """An OperationOutcome of the adapter's own (no id: the same on every call)."""
    return {"resource": {"resourceType": "OperationOutcome", "issue": [{"severity": severity, "code": code, "diagnostics": text}]}}


"""The write role: `document(ctx, entry)`.

Once per call, the practitioner is found by HPR
(`Practitioner?identifier=urn:oid:2.16.578.1.12.4.1.4.4|<hpr>`) and the unit by orgnr
(`Organization?identifier=urn:oid:2.16.578.1.12.4.1.4.101|<orgnr>`); a vedtak's delivering unit
is found the same way. Then the entry is written in the platform's write profiles:

| entry | resources |
|---|---|
| vital signs | one Observation per measurement; 8480-6 + 8462-4 as one 85354-9 panel with components |
| care note | one DocumentReference (base64 `text/plain; charset=utf-8`; labels when sensitive) |
| service decision | one EpisodeOfCare (Volven 9151 type, period, managingOrganization, careManager) |
| medication administration | one MedicationAdministration (ATC, `dosage.text`) |

Values are written as given (a value, a unit, a time are copied, never rounded or converted).

Idempotency: every resource carries two identifiers of our own, `ENTRY_SYSTEM|<entry-id>` and
`PART_SYSTEM|<key>/<part>` (`<part>` = the LOINC code of a vital sign, else the resource type;
`<key>` = the entry id, or its SHA-256 when it holds characters a search value would have to
escape). Each resource is created with `If-None-Exist: identifier=PART_SYSTEM|<key>/<part>&
patient=<id>`: 201 creates it, 200 returns the existing one; its id comes from the body, or from
`Location` when the platform withholds the body (200 + OperationOutcome, e.g. a retried
sensitive note). The ids are returned as `Type/id`, in entry order, the same on a retry.

After a call that created something, a Provenance (targets, `recorded` = the platform's
`meta.lastUpdated`, agent = the practitioner on behalf of the unit) is written; its failure is
logged, not returned, and it is not in the returned list.
"""

import base64
import datetime
import email.utils
import hashlib
import json
import math
import re

from componentize_py_types import Err
from fhirclient import FHIR_ID, Client, Response, encode, fail, log, patient_in_context
from wit_world.imports import logging as hostlog
from wit_world.imports.kommune_sandkasse_types import (
    AdapterError_Internal,
    AdapterError_InvalidInput,
    AdapterError_NotFound,
    CareNote,
    ClinicalEntry_CareNote,
    ClinicalEntry_MedicationAdministration,
    ClinicalEntry_ServiceDecision,
    ClinicalEntry_VitalSigns,
    LaunchContext,
    MedicationAdministration,
    ServiceDecision,
    VitalSigns,
)

HPR_SYSTEM = "urn:oid:2.16.578.1.12.4.1.4.4"
ORGNR_SYSTEM = "urn:oid:2.16.578.1.12.4.1.4.101"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
ATC = "http://www.whocc.no/atc"
VOLVEN_9151 = "urn:oid:2.16.578.1.12.4.1.1.9151"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
CONFIDENTIALITY = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
SKJERMING = "https://sandkasse.test/fhir/CodeSystem/skjerming"
PARTICIPANT_TYPE = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
# Our own identifier systems (the vendor's namespace; no request ever goes there).
ENTRY_SYSTEM = "https://python-reference.leverandor.example/fhir/NamingSystem/entry-id"
PART_SYSTEM = "https://python-reference.leverandor.example/fhir/NamingSystem/entry-part"

SYSTOLIC, DIASTOLIC, BP_PANEL = "8480-6", "8462-4", "85354-9"
NINE_DIGITS = re.compile(r"^\d{9}$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# An entry id usable as it is inside a search value (no `,` `|` `$` `\` `&` `%` or spaces).
PLAIN_KEY = re.compile(r"^[A-Za-z0-9._~-]{1,200}$")


def document(ctx: LaunchContext, entry) -> list:
    patient = patient_in_context(ctx)
    client = Client(ctx)
    writer = _Writer(client, ctx, patient)

    value = entry.value
    if isinstance(entry, ClinicalEntry_VitalSigns):
        ids = writer.vital_signs(value)
    elif isinstance(entry, ClinicalEntry_CareNote):
        ids = writer.care_note(value)
    elif isinstance(entry, ClinicalEntry_ServiceDecision):
        ids = writer.service_decision(value)
    elif isinstance(entry, ClinicalEntry_MedicationAdministration):
        ids = writer.medication_administration(value)
    else:
        raise fail(AdapterError_InvalidInput, "unknown kind of clinical entry")
    writer.provenance()
    log(hostlog.Level.INFO, f"document: {len(ids)} resources ({len(writer.created)} created) in {client.requests} requests")
    return ids


class _Writer:
    def __init__(self, client: Client, ctx: LaunchContext, patient: str):
        self.client = client
        self.patient_ref = f"Patient/{patient}"
        self.patient = patient
        self.practitioner = _resolve(client, "Practitioner", HPR_SYSTEM, ctx.practitioner_hpr, "the practitioner's HPR number")
        self.unit_orgnr = ctx.unit_orgnr
        self.unit = _resolve(client, "Organization", ORGNR_SYSTEM, ctx.unit_orgnr, "the unit's orgnr")
        self.created: list = []  # Type/id of resources this call created
        self.last_updated: list = []  # the platform's meta.lastUpdated (or Last-Modified) of those

    # ---- the four entries -------------------------------------------------------------------

    def vital_signs(self, entry: VitalSigns) -> list:
        if not entry.measurements:
            raise fail(AdapterError_InvalidInput, "vital signs without measurements")
        codes = [m.code for m in entry.measurements]
        # One systolic and one diastolic pressure: one panel, written where the first of them is.
        panel = codes.count(SYSTOLIC) == 1 and codes.count(DIASTOLIC) == 1
        first_pressure = min(codes.index(SYSTOLIC), codes.index(DIASTOLIC)) if panel else -1
        pressures = {m.code: m for m in entry.measurements}
        ids, parts = [], set()
        for i, m in enumerate(entry.measurements):
            if panel and m.code in (SYSTOLIC, DIASTOLIC):
                if i != first_pressure:
                    continue
                code = BP_PANEL
                extra = {"component": [{"code": _loinc(c), "valueQuantity": _quantity(pressures[c])} for c in (SYSTOLIC, DIASTOLIC)]}
            else:
                code = m.code
                extra = {"valueQuantity": _quantity(m)}
            part = code
            n = 2
            while part in parts:  # the same code twice in one entry: two resources
                part, n = f"{code}-{n}", n + 1
            parts.add(part)
            resource = {
                "resourceType": "Observation",
                "identifier": _identifiers(entry.entry_id, part),
                "status": "final",
                "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "vital-signs", "display": "Vital Signs"}]}],
                "code": _loinc(code),
                "subject": {"reference": self.patient_ref},
                "effectiveDateTime": entry.effective,
                "performer": [{"reference": self.practitioner}, {"reference": self.unit}],
            }
            resource.update(extra)
            ids.append(self._create(resource, entry.entry_id, part))
        return ids

    def care_note(self, entry: CareNote) -> list:
        resource = {"resourceType": "DocumentReference"}
        if entry.sensitive:
            resource["meta"] = {
                "security": [
                    {"system": CONFIDENTIALITY, "code": "V", "display": "very restricted"},
                    {"system": SKJERMING, "code": "sensitivt-notat"},
                ]
            }
        resource.update(
            {
                "identifier": _identifiers(entry.entry_id, "DocumentReference"),
                "status": "current",
                "type": _loinc(entry.document_type),
                "subject": {"reference": self.patient_ref},
                "date": entry.effective,
                "author": [{"reference": self.practitioner}, {"reference": self.unit}],
                "custodian": {"reference": self.unit},
                "description": entry.title,
                "content": [
                    {
                        "attachment": {
                            "contentType": "text/plain; charset=utf-8",
                            "data": base64.b64encode(entry.text.encode("utf-8")).decode("ascii"),
                            "title": entry.title,
                            "creation": entry.effective,
                        }
                    }
                ],
            }
        )
        return [self._create(resource, entry.entry_id, "DocumentReference")]

    def service_decision(self, entry: ServiceDecision) -> list:
        if not DATE.match(entry.start) or (entry.end is not None and not DATE.match(entry.end)):
            raise fail(AdapterError_InvalidInput, "a vedtak's start and end must be dates (YYYY-MM-DD)")
        if entry.end is not None and entry.end < entry.start:
            raise fail(AdapterError_InvalidInput, "a vedtak cannot end before it starts")
        if entry.unit_orgnr == self.unit_orgnr:
            delivering = self.unit
        else:
            delivering = _resolve(self.client, "Organization", ORGNR_SYSTEM, entry.unit_orgnr, "the delivering unit's orgnr")
        period = {"start": entry.start}
        if entry.end is not None:
            period["end"] = entry.end
        resource = {
            "resourceType": "EpisodeOfCare",
            "identifier": _identifiers(entry.entry_id, "EpisodeOfCare"),
            "status": _episode_status(entry.start, entry.end),
            "type": [{"coding": [{"system": VOLVEN_9151, "code": entry.tjenestetype}]}],
            "patient": {"reference": self.patient_ref},
            "managingOrganization": {"reference": delivering},
            "period": period,
            "careManager": {"reference": self.practitioner},
        }
        return [self._create(resource, entry.entry_id, "EpisodeOfCare")]

    def medication_administration(self, entry: MedicationAdministration) -> list:
        resource = {
            "resourceType": "MedicationAdministration",
            "identifier": _identifiers(entry.entry_id, "MedicationAdministration"),
            "status": "completed",
            "medicationCodeableConcept": {"coding": [{"system": ATC, "code": entry.atc}]},
            "subject": {"reference": self.patient_ref},
            "effectiveDateTime": entry.effective,
            "performer": [{"actor": {"reference": self.practitioner}}],
            "dosage": {"text": entry.dose},
        }
        return [self._create(resource, entry.entry_id, "MedicationAdministration")]

    # ---- writing ----------------------------------------------------------------------------

    def _create(self, resource: dict, entry_id: str, part: str) -> str:
        """Conditional create; returns `Type/id` of the created or matching resource."""
        kind = resource["resourceType"]
        what = f"{kind} create"
        condition = f"identifier={PART_SYSTEM}|{_key(entry_id)}/{part}&patient={self.patient}"
        response = self.client.post(f"/{kind}", resource, condition, what)
        if response.status not in (200, 201):
            raise self.client.error_for(response, what)
        ref, stored = self._stored(response, kind, what)
        if response.status == 201:
            self.created.append(ref)
            updated = (stored.get("meta") or {}).get("lastUpdated") if stored else None
            self.last_updated.append(updated if isinstance(updated, str) else _http_date(response.headers.get("last-modified")))
        log(hostlog.Level.INFO, f"{what}: HTTP {response.status} ({'created' if response.status == 201 else 'already stored'})")
        return ref

    def _stored(self, response: Response, kind: str, what: str) -> tuple:
        """(`Type/id`, the stored resource or None) from the body, else from `Location`."""
        try:
            body = json.loads(response.body) if response.body else None
        except (ValueError, UnicodeDecodeError):
            body = None
        if isinstance(body, dict) and body.get("resourceType") == kind and isinstance(body.get("id"), str) and FHIR_ID.match(body["id"]):
            return f"{kind}/{body['id']}", body
        location = response.headers.get("location")
        if location is None:
            raise fail(AdapterError_Internal, f"{what}: HTTP {response.status} without the resource or a Location")
        if "://" not in location:
            location = self.client.base + "/" + location.lstrip("/")
        ref = self.client.relative(location)
        if ref is None or not ref.startswith(kind + "/"):
            raise fail(AdapterError_Internal, f"{what}: the Location is not a {kind} under fhir-base-url")
        return ref, None

    def provenance(self) -> None:
        """After a call that created something: who wrote it, when, for which unit."""
        if not self.created:
            return
        recorded = max((t for t in self.last_updated if t), default=None)
        if recorded is None:
            log(hostlog.Level.WARN, "Provenance not written: the platform gave no time for what was created")
            return
        resource = {
            "resourceType": "Provenance",
            "target": [{"reference": ref} for ref in self.created],
            "recorded": recorded,
            "agent": [
                {
                    "type": {"coding": [{"system": PARTICIPANT_TYPE, "code": "author"}]},
                    "who": {"reference": self.practitioner},
                    "onBehalfOf": {"reference": self.unit},
                }
            ],
        }
        try:
            response = self.client.post("/Provenance", resource, None, "Provenance create")
        except Err:
            log(hostlog.Level.WARN, "Provenance create: no answer; not written")
            return
        if response.status != 201:
            log(hostlog.Level.WARN, f"Provenance create: HTTP {response.status}; not written")


def _resolve(client: Client, kind: str, system: str, value: str, what: str) -> str:
    """`Type/id` of the one directory resource with this identifier."""
    if not NINE_DIGITS.match(value):
        raise fail(AdapterError_InvalidInput, f"{what} is not nine digits")
    label = f"{kind} lookup"
    response = client.get(f"/{kind}?identifier={encode(system + '|' + value)}", label)
    if response.status != 200:
        raise client.error_for(response, label)
    bundle = response.json(label)
    found = []
    for entry in bundle.get("entry") or []:
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(resource, dict) and resource.get("resourceType") == kind and isinstance(resource.get("id"), str):
            found.append(resource["id"])
    if not found:
        raise fail(AdapterError_NotFound, f"{label}: no {kind} has {what}")
    if len(set(found)) > 1:
        raise fail(AdapterError_Internal, f"{label}: several {kind} resources have {what}")
    return f"{kind}/{found[0]}"


def _identifiers(entry_id: str, part: str) -> list:
    return [
        {"system": ENTRY_SYSTEM, "value": entry_id},
        {"system": PART_SYSTEM, "value": f"{_key(entry_id)}/{part}"},
    ]


def _key(entry_id: str) -> str:
    if PLAIN_KEY.match(entry_id):
        return entry_id
    return "sha256-" + hashlib.sha256(entry_id.encode("utf-8")).hexdigest()


def _loinc(code: str) -> dict:
    return {"coding": [{"system": LOINC, "code": code}]}


def _quantity(m) -> dict:
    if not math.isfinite(m.value):
        raise fail(AdapterError_InvalidInput, f"the value of {m.code} is not a finite number")
    return {"value": m.value, "unit": m.unit, "system": UCUM, "code": m.unit}


def _episode_status(start: str, end: str | None) -> str:
    """`planned` before the start, `finished` after the end, else `active` (by today's date)."""
    today = datetime.datetime.now(datetime.timezone.utc).date().isoformat()
    if start > today:
        return "planned"
    if end is not None and end < today:
        return "finished"
    return "active"


def _http_date(value: str | None) -> str | None:
    """An HTTP date (`Last-Modified`) as a FHIR instant, or None."""
    if value is None:
        return None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.timezone.utc)
    return when.isoformat()

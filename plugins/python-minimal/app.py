"""A minimal sandkasse adapter in Python (componentize-py).

Implements the world `kommune:sandkasse/adapter` (conformance/wit/adapter.wit) with the read role
only: `patient_overview` reads `{fhir_base_url}/Patient/{patient}` once, with the launch
context's bearer token, and returns a FHIR `collection` Bundle holding that Patient. `document`
and `on_event` are not supported. It exists to prove that sandkasse accepts and runs multi-MB
components from a toolchain other than Rust, and to measure their compile time.

HTTP goes through the generated `wasi:http` bindings directly, with blocking polls
(`subscribe().block()`); no asyncio, no poll loop. Nothing about the patient or the token is
logged, and error messages carry neither.
"""

import json
import re
from urllib.parse import urlsplit

from componentize_py_types import Err, Ok
from wit_world import exports
from wit_world.imports import logging, outgoing_handler
from wit_world.imports import wasi_http_types as http
from wit_world.imports.kommune_sandkasse_types import (
    AdapterError_Forbidden,
    AdapterError_Internal,
    AdapterError_InvalidInput,
    AdapterError_NotFound,
    AdapterError_Unauthorized,
    AdapterError_Unavailable,
    AdapterInfo,
    Capability,
    LaunchContext,
)
from wit_world.imports.streams import StreamError_Closed

VERSION = "0.1.0"
# A FHIR logical id (R4 `id` datatype).
FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
# Upper bound on a response body we are willing to buffer.
MAX_BODY = 8 * 1024 * 1024


def _log(level: logging.Level, message: str) -> None:
    logging.log(level, message)


def _get(url: str, token: str) -> tuple[int, bytes]:
    """One blocking GET of `url` with the bearer token; returns (status, body)."""
    parts = urlsplit(url)
    if parts.scheme == "https":
        scheme: http.Scheme = http.Scheme_Https()
    elif parts.scheme == "http":
        scheme = http.Scheme_Http()
    else:
        raise Err(AdapterError_InvalidInput("fhir-base-url has an unsupported scheme"))
    path = parts.path + ("?" + parts.query if parts.query else "")

    headers = http.Fields.from_list(
        [
            ("authorization", f"Bearer {token}".encode()),
            ("accept", b"application/fhir+json"),
        ]
    )
    request = http.OutgoingRequest(headers)
    request.set_method(http.Method_Get())
    request.set_scheme(scheme)
    request.set_authority(parts.netloc)
    request.set_path_with_query(path)

    try:
        future = outgoing_handler.handle(request, None)
    except Err as e:
        raise Err(AdapterError_Unavailable(f"request refused by the host: {_code(e.value)}"))

    with future:
        with future.subscribe() as pollable:
            pollable.block()
        got = future.get()
    if got is None:  # cannot happen after block(), but be explicit
        raise Err(AdapterError_Internal("response future not ready after block"))
    if isinstance(got, Err):
        raise Err(AdapterError_Internal("response future already consumed"))
    inner = got.value
    if isinstance(inner, Err):
        raise Err(AdapterError_Unavailable(f"HTTP request failed: {_code(inner.value)}"))

    with inner.value as response:
        status = response.status()
        body = bytearray()
        with response.consume() as incoming_body:
            with incoming_body.stream() as stream:
                while True:
                    try:
                        chunk = stream.blocking_read(64 * 1024)
                    except Err as e:
                        if isinstance(e.value, StreamError_Closed):
                            break
                        raise Err(AdapterError_Unavailable("reading the response body failed"))
                    body += chunk
                    if len(body) > MAX_BODY:
                        raise Err(AdapterError_Internal("response body too large"))
    return status, bytes(body)


def _code(error_code: object) -> str:
    """The variant name of a wasi:http error-code, without its payload."""
    return type(error_code).__name__.removeprefix("ErrorCode_")


class AdapterApi(exports.AdapterApi):
    def info(self) -> AdapterInfo:
        return AdapterInfo(
            vendor="sandkasse",
            product="Python-minimal",
            version=VERSION,
            capabilities=[Capability.READ],
        )

    def patient_overview(self, ctx: LaunchContext) -> str:
        patient = ctx.patient
        if patient is None:
            raise Err(AdapterError_InvalidInput("no patient in the launch context"))
        if not FHIR_ID.match(patient):
            raise Err(AdapterError_InvalidInput("the launch context's patient is not a FHIR id"))

        url = f"{ctx.fhir_base_url}/Patient/{patient}"
        status, body = _get(url, ctx.access_token)
        _log(logging.Level.INFO, f"patient-overview: GET Patient -> {status}, {len(body)} bytes")

        if status == 401:
            raise Err(AdapterError_Unauthorized("the platform refused the token (401)"))
        if status == 403:
            raise Err(AdapterError_Forbidden("the platform refused access to the Patient (403)"))
        if status == 404:
            raise Err(AdapterError_NotFound("the Patient in context does not exist (404)"))
        if status in (429, 503):
            raise Err(AdapterError_Unavailable(f"the platform is unavailable ({status})"))
        if status != 200:
            raise Err(AdapterError_Internal(f"unexpected status {status} reading the Patient"))

        try:
            resource = json.loads(body)
        except ValueError:
            raise Err(AdapterError_Internal("the platform sent a Patient that is not JSON"))
        if not isinstance(resource, dict) or resource.get("resourceType") != "Patient":
            raise Err(AdapterError_Internal("the platform did not send a Patient"))

        bundle = {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [
                {
                    "fullUrl": f"{ctx.fhir_base_url}/Patient/{resource.get('id', patient)}",
                    "resource": resource,
                }
            ],
        }
        return json.dumps(bundle, ensure_ascii=False, separators=(",", ":"))

    def document(self, ctx, entry):
        raise Err(AdapterError_Internal("not supported"))

    def on_event(self, ctx, event):
        raise Err(AdapterError_Internal("not supported"))

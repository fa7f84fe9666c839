"""The FHIR client of the Python reference adapter: one launch context, one call.

`Client(ctx)` is created at the start of an exported call and dropped at its end; nothing of the
context (token, patient, base URL) outlives the call. It offers:

- `get(path_or_url)` / `post(path, resource, if_none_exist)`: blocking `wasi:http` requests with
  `Authorization: Bearer <token>` and `Accept: application/fhir+json`, the token in that header
  only (never in a URL, a body or a log line);
- retries of 429/503 that honour `Retry-After`: at most `MAX_ATTEMPTS` attempts per request, none
  when asked to wait more than `MAX_SINGLE_WAIT_S`, and at most `MAX_TOTAL_WAIT_S` of waiting per
  call; then `unavailable`;
- `error_for(response, what)`: the adapter guide's status → `adapter-error` mapping, with the
  platform's diagnostics passed on for 4xx input errors, scrubbed of the patient id, the token,
  the HPR number and anything that looks like a fødselsnummer;
- `same_base(url)`: whether a URL the platform handed us (a `next` link, a `Location`) lies under
  `fhir-base-url` (same scheme, host and port, and below the base path). Requests to any other
  URL are refused before they are sent, so the token never goes anywhere else. Redirects (3xx)
  are never followed.

Request bodies are streamed in 4 KiB writes after `outgoing-handler.handle`; response bodies are
read to the end (capped at `MAX_BODY`). Every `wasi:http` resource is dropped in a `with` block,
children before parents.
"""

import json
import re
from urllib.parse import quote, urlsplit

from componentize_py_types import Err
from wit_world.imports import logging as hostlog
from wit_world.imports import monotonic_clock, outgoing_handler
from wit_world.imports import wasi_http_types as http
from wit_world.imports.kommune_sandkasse_types import (
    AdapterError_Forbidden,
    AdapterError_Internal,
    AdapterError_InvalidInput,
    AdapterError_NotFound,
    AdapterError_Unauthorized,
    AdapterError_Unavailable,
    LaunchContext,
)
from wit_world.imports.streams import StreamError_Closed

# Attempts per request when the platform answers 429/503.
MAX_ATTEMPTS = 3
# A single `Retry-After` longer than this is not waited for: give up at once.
MAX_SINGLE_WAIT_S = 10.0
# Total waiting for `Retry-After` per exported call.
MAX_TOTAL_WAIT_S = 20.0
# `Retry-After` missing or unreadable on a 429/503: wait this long.
DEFAULT_WAIT_S = 1.0
# Largest response body we buffer (the sandbox's own cap is the same).
MAX_BODY = 8 * 1024 * 1024
# Largest request body we send (the platform refuses more than 1 MiB with 413).
MAX_REQUEST_BODY = 1024 * 1024
# Bytes per write on a `wasi:io` output stream (`blocking-write-and-flush` takes at most 4096).
WRITE_CHUNK = 4096

# A FHIR logical id (R4 `id`) and a FHIR resource type name.
FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
FHIR_TYPE = re.compile(r"^[A-Z][A-Za-z]{1,63}$")
# Eleven digits in a row: a fødselsnummer or D-nummer (scrubbed from messages).
ELEVEN_DIGITS = re.compile(r"(?<!\d)\d{11}(?!\d)")


def log(level: hostlog.Level, message: str) -> None:
    """One line to the host's log. Callers log counts, statuses and types, never ids or names."""
    hostlog.log(level, message)


def sleep_s(seconds: float) -> None:
    """Sleeps on `wasi:clocks/monotonic-clock` (virtual time in sandkasse)."""
    with monotonic_clock.subscribe_duration(int(seconds * 1_000_000_000)) as pollable:
        pollable.block()


def patient_in_context(ctx: LaunchContext) -> str:
    """The launch context's patient, used as it is; `invalid-input` when there is none or it is
    not a FHIR id."""
    patient = ctx.patient
    if patient is None:
        raise fail(AdapterError_InvalidInput, "no patient in the launch context")
    if not FHIR_ID.match(patient):
        raise fail(AdapterError_InvalidInput, "the launch context's patient is not a FHIR id")
    return patient


def fail(kind, message: str) -> Err:
    """An `adapter-error` to raise: `raise fail(AdapterError_Internal, "...")`."""
    return Err(kind(message))


def encode(value: str) -> str:
    """Percent-encodes a search parameter value (`|`, `,`, `&`, `%`, spaces, ...)."""
    return quote(value, safe=":/")


class Response:
    """A complete HTTP response: status, the headers we use (lower-case name → first value), body."""

    def __init__(self, status: int, headers: dict, body: bytes):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self, what: str) -> dict:
        """The body as a JSON object, or `internal` (a truncated or malformed body is no trap)."""
        try:
            value = json.loads(self.body)
        except (ValueError, UnicodeDecodeError):
            raise fail(AdapterError_Internal, f"{what}: the platform's response is not valid JSON ({len(self.body)} bytes)")
        if not isinstance(value, dict):
            raise fail(AdapterError_Internal, f"{what}: the platform's response is not a JSON object")
        return value


class Client:
    """The platform as seen from one launch context, for one exported call."""

    def __init__(self, ctx: LaunchContext):
        parts = urlsplit(ctx.fhir_base_url)
        if parts.scheme not in ("https", "http") or not parts.netloc or parts.query or parts.fragment:
            raise fail(AdapterError_InvalidInput, "fhir-base-url is not an http(s) base URL")
        self._scheme = parts.scheme
        self._authority = parts.netloc
        self._origin = _origin(parts)
        self._base_path = parts.path.rstrip("/")
        self.base = ctx.fhir_base_url.rstrip("/")
        self._token = ctx.access_token
        self._secrets = [s for s in (ctx.access_token, ctx.patient, ctx.practitioner_hpr) if s]
        self._waited_s = 0.0
        self.requests = 0

    # ---- URLs -----------------------------------------------------------------------------

    def same_base(self, url: str) -> bool:
        """Whether `url` is under `fhir-base-url`: same scheme, host and port, below the base path."""
        try:
            parts = urlsplit(url)
            origin = _origin(parts)
        except ValueError:
            return False
        if origin != self._origin or parts.fragment:
            return False
        return parts.path.startswith(self._base_path + "/")

    def relative(self, url: str) -> str | None:
        """`Type/id` of a same-base URL like `…/Type/id` or `…/Type/id/_history/n`, else None."""
        if not self.same_base(url):
            return None
        rest = urlsplit(url).path[len(self._base_path) + 1 :].split("/")
        if len(rest) in (2, 4) and FHIR_TYPE.match(rest[0]) and FHIR_ID.match(rest[1]):
            if len(rest) == 2 or rest[2] == "_history":
                return f"{rest[0]}/{rest[1]}"
        return None

    # ---- requests -------------------------------------------------------------------------

    def get(self, path_or_url: str, what: str) -> Response:
        """GET `{base}{path}` (path starts with `/`) or an absolute same-base URL (a `next` link)."""
        url = path_or_url if "://" in path_or_url else self.base + path_or_url
        return self._send("GET", url, None, [], what)

    def post(self, path: str, resource: dict, if_none_exist: str | None, what: str) -> Response:
        """POST a resource to `{base}{path}`, conditionally when `if_none_exist` is given."""
        body = json.dumps(resource, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        if len(body) > MAX_REQUEST_BODY:
            raise fail(AdapterError_InvalidInput, f"{what}: the resource is {len(body)} bytes, over the platform's 1 MiB limit")
        extra = [("content-type", b"application/fhir+json; charset=utf-8")]
        if if_none_exist is not None:
            extra.append(("if-none-exist", if_none_exist.encode("utf-8")))
        return self._send("POST", self.base + path, body, extra, what)

    def _send(self, method: str, url: str, body: bytes | None, extra: list, what: str) -> Response:
        if not self.same_base(url):
            # Never send the token to another origin or tenant; the URL itself is not logged.
            raise fail(AdapterError_Internal, f"{what}: refused to follow a URL outside fhir-base-url")
        attempt = 1
        while True:
            response = self._once(method, url, body, extra, what)
            self.requests += 1
            if response.status not in (429, 503):
                return response
            wait = _retry_after(response.headers.get("retry-after"))
            if (
                attempt >= MAX_ATTEMPTS
                or wait > MAX_SINGLE_WAIT_S
                or self._waited_s + wait > MAX_TOTAL_WAIT_S
            ):
                log(hostlog.Level.WARN, f"{what}: HTTP {response.status}, giving up after {attempt} attempt(s)")
                return response
            log(hostlog.Level.INFO, f"{what}: HTTP {response.status}, retrying after {wait:g} s")
            sleep_s(wait)
            self._waited_s += wait
            attempt += 1

    def _once(self, method: str, url: str, body: bytes | None, extra: list, what: str) -> Response:
        parts = urlsplit(url)
        path = parts.path + ("?" + parts.query if parts.query else "")
        headers = http.Fields.from_list(
            [
                ("authorization", f"Bearer {self._token}".encode()),
                ("accept", b"application/fhir+json"),
            ]
            + extra
        )
        request = http.OutgoingRequest(headers)
        request.set_method(http.Method_Post() if method == "POST" else http.Method_Get())
        request.set_scheme(http.Scheme_Https() if self._scheme == "https" else http.Scheme_Http())
        request.set_authority(self._authority)
        request.set_path_with_query(path)
        outgoing = request.body() if body is not None else None
        try:
            future = outgoing_handler.handle(request, None)
        except Err as e:
            if outgoing is not None:
                outgoing.__exit__(None, None, None)
            raise fail(AdapterError_Unavailable, f"{what}: the request was refused by the host ({_code(e.value)})")
        with future:
            if outgoing is not None:
                _write_body(outgoing, body, what)
            with future.subscribe() as pollable:
                pollable.block()
            got = future.get()
        if got is None or isinstance(got, Err):
            raise fail(AdapterError_Unavailable, f"{what}: no response from the platform")
        inner = got.value
        if isinstance(inner, Err):
            raise fail(AdapterError_Unavailable, f"{what}: no response from the platform ({_code(inner.value)})")
        with inner.value as response:
            status = response.status()
            with response.headers() as fields:
                wanted = {}
                for name, value in fields.entries():
                    name = name.lower()
                    if name in ("location", "retry-after", "last-modified", "etag") and name not in wanted:
                        wanted[name] = value.decode("latin-1")
            data = bytearray()
            with response.consume() as incoming:
                with incoming.stream() as stream:
                    while True:
                        try:
                            data += stream.blocking_read(64 * 1024)
                        except Err as e:
                            if isinstance(e.value, StreamError_Closed):
                                break
                            raise fail(AdapterError_Unavailable, f"{what}: the response body could not be read")
                        if len(data) > MAX_BODY:
                            raise fail(AdapterError_Internal, f"{what}: the response body is larger than {MAX_BODY} bytes")
        return Response(status, wanted, bytes(data))

    # ---- errors ---------------------------------------------------------------------------

    def scrub(self, text: str) -> str:
        """Removes the token, the patient id, the HPR number and fødselsnummer-like digits."""
        for secret in self._secrets:
            text = text.replace(secret, "[…]")
        return ELEVEN_DIGITS.sub("[…]", text)

    def error_for(self, response: Response, what: str) -> Err:
        """The `adapter-error` for a non-success status (the adapter guide's mapping)."""
        status = response.status
        message = f"{what}: HTTP {status}"
        if status == 401:
            return fail(AdapterError_Unauthorized, message + " (the platform refused the token)")
        if status == 403:
            return fail(AdapterError_Forbidden, message + self._diagnostics(response))
        if status in (404, 410):
            return fail(AdapterError_NotFound, message)
        if status in (400, 409, 412, 422):
            return fail(AdapterError_InvalidInput, message + self._diagnostics(response))
        if status in (429, 503):
            return fail(AdapterError_Unavailable, message + " (the platform stayed unavailable)")
        return fail(AdapterError_Internal, message)

    def _diagnostics(self, response: Response) -> str:
        """The platform's OperationOutcome issues, one per element, scrubbed; "" if none."""
        try:
            outcome = json.loads(response.body)
        except (ValueError, UnicodeDecodeError):
            return ""
        if not isinstance(outcome, dict) or outcome.get("resourceType") != "OperationOutcome":
            return ""
        said = []
        for issue in outcome.get("issue") or []:
            if not isinstance(issue, dict):
                continue
            text = issue.get("diagnostics") or (issue.get("details") or {}).get("text") or issue.get("code") or ""
            where = ", ".join(e for e in issue.get("expression") or [] if isinstance(e, str))
            if text or where:
                said.append(f"{where}: {text}" if where else str(text))
        return (" — " + self.scrub("; ".join(said))[:2000]) if said else ""


def _origin(parts) -> tuple:
    """(scheme, host, port) with the scheme's default port filled in."""
    port = parts.port or (443 if parts.scheme == "https" else 80 if parts.scheme == "http" else None)
    return (parts.scheme.lower(), (parts.hostname or "").lower(), port)


def _retry_after(value: str | None) -> float:
    """`Retry-After` in seconds (delay-seconds form); unreadable or absent → `DEFAULT_WAIT_S`.
    An HTTP-date is not read: the platform documents seconds."""
    if value is None:
        return DEFAULT_WAIT_S
    try:
        seconds = float(value.strip())
    except ValueError:
        return DEFAULT_WAIT_S
    return seconds if seconds >= 0 else DEFAULT_WAIT_S


def _write_body(outgoing, body: bytes, what: str) -> None:
    """Writes the request body in 4 KiB pieces, then finishes it (the stream dropped first)."""
    try:
        with outgoing.write() as stream:
            for start in range(0, len(body), WRITE_CHUNK):
                stream.blocking_write_and_flush(body[start : start + WRITE_CHUNK])
        http.OutgoingBody.finish(outgoing, None)
    except Err:
        raise fail(AdapterError_Unavailable, f"{what}: the request body could not be sent")


def _code(error_code: object) -> str:
    """The variant name of a `wasi:http` error-code, without its payload."""
    return type(error_code).__name__.removeprefix("ErrorCode_")

"""The ADMS / iclock push server: plain-text HTTP that ZKTeco terminals call.

Terminals do not log in and cannot send a CSRF token; a terminal is known by its serial
number and counts punches only once HR approves it. Every answer is `text/plain` with a
correct `Date` header, because terminals set their clock from it.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from functools import wraps

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.http import http_date
from django.views.decorators.csrf import csrf_exempt

from ztk.core.context import client_ip

from .. import admission, ingest, protocol, protocol3
from ..models import Device, DeviceStatus, LogKind, PushProtocol

log = logging.getLogger(__name__)

PHOTO_TABLES = {"ATTPHOTO", "BIOPHOTO"}
# WSGI servers that always write a Date header themselves (wsgiref, behind runserver and
# the test live server, only adds one when the application did not).
SERVERS_SENDING_DATE = ("gunicorn/",)
# The query parameters we read; each one passes the shared text rule before use, here or
# (INFO, a list of fields refused one by one) in its parser.
PARAMETERS = (
    "table",
    "pushver",
    "Stamp",
    "OpStamp",
    "PhotoStamp",
    "tablename",
    "count",
    "type",
    "cmdid",
)
PARSED_PARAMETERS = ("INFO",)


def text(body: str, status: int = 200) -> HttpResponse:
    response = HttpResponse(body, status=status, content_type="text/plain")
    response["Date"] = http_date()
    response["Cache-Control"] = "no-store"
    return response


@dataclass
class Query:
    """The query parameters of a terminal request, each one clean or left out."""

    serial: str | None
    values: dict[str, str] = field(default_factory=dict)
    refused: list[protocol.LineError] = field(default_factory=list)

    def get(self, name: str) -> str | None:
        return self.values.get(name) or None

    def log_refused(self, device: Device) -> None:
        """Parameters left out for a forbidden character, in the terminal's log."""
        if self.refused:
            ingest.log_refusals(device, "query", ingest.line_refusals(self.refused))


def _query(request: HttpRequest) -> Query:
    """SN must match the serial pattern (it names the terminal, so no fallback); any other
    parameter with a character the shared text rule forbids is left out and logged."""
    serial = request.GET.get("SN") or request.GET.get("sn")
    serial = serial.strip() if serial and ingest.valid_serial(serial.strip()) else None
    query = Query(serial)
    for name in PARSED_PARAMETERS:
        if (value := request.GET.get(name)) is not None:
            query.values[name] = value
    for name in PARAMETERS:
        value = request.GET.get(name)
        if value is None:
            continue
        error = protocol.forbidden_text(None, value, f"parameter {name}", multiline=False)
        if error is not None:
            query.refused.append(error)
        else:
            query.values[name] = value
    return query


class _Refused(Exception):
    def __init__(self, response: HttpResponse) -> None:
        self.response = response


def _device(
    request: HttpRequest,
    query: Query,
    *,
    protocol: str | None = None,
    check_token: bool = True,
) -> Device:
    """The terminal, after its allow-lists, its 3.x session token and (when new) the
    registration limits. `protocol` is the push protocol this request announces."""
    assert query.serial is not None
    token = protocol3.cookie_token(request.META.get("HTTP_COOKIE")) if check_token else None
    try:
        device = ingest.device_contact(
            query.serial,
            ip=client_ip(request.META),
            push_version=query.get("pushver"),
            protocol=protocol,
            token=token,
        )
    except admission.RefusedError as exc:
        refusal = exc.refusal
        raise _Refused(text(f"ERROR: {refusal.message}", status=refusal.status)) from None
    query.log_refused(device)
    return device


def terminal_view(view=None, *, serial_required: bool = True):
    """csrf_exempt (terminals send no token), the query read once, refusals answered."""
    if view is None:
        return lambda view: terminal_view(view, serial_required=serial_required)

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        query = _query(request)
        if query.serial is None and serial_required:
            response = text("ERROR: SN missing or invalid", status=400)
        else:
            try:
                response = view(request, query, *args, **kwargs)
            except _Refused as refused:
                response = refused.response
        if request.META.get("SERVER_SOFTWARE", "").startswith(SERVERS_SENDING_DATE):
            del response["Date"]  # one Date header, not two: this server always writes its own
        return response

    return csrf_exempt(wrapper)


def _body(request: HttpRequest, device: Device, table: str) -> bytes | None:
    try:
        return request.body
    except RequestDataTooBig:
        ingest.log_entries(
            device,
            [(LogKind.ERROR, table, "too_large", "the body is larger than the upload limit",
              None, "")],
        )  # fmt: skip
        return None


def _handshake(query: Query, device: Device) -> HttpResponse:
    now = timezone.now()
    pushver = query.get("pushver")
    try:
        hours = device.utc_offset_hours(now)
        body = protocol.handshake_response(
            device.serial, device.stamps(), pushver=pushver, timezone_hours=hours
        )
    except (ValueError, KeyError) as exc:  # a bad stored stamp or zone: answer with defaults
        log.warning("handshake for %s fell back to defaults: %s", device.serial, exc)
        body = protocol.handshake_response(device.serial, {}, pushver=pushver, timezone_hours=8)
    return text(body)


def _config(device: Device) -> dict:
    return protocol3.config_values((device.options or {}).get("registry") or {})


def _init3(device: Device) -> HttpResponse:
    """A 3.x terminal's `GET cdata?options=all`: `OK` until it has registered (its cue to
    POST /iclock/registry), then `registry=ok`, its code and our configuration."""
    if not device.registry_code or device.status == DeviceStatus.DISABLED:
        return text("OK")
    session = ingest.ensure_session(device)
    return text(protocol3.init_answer(device.registry_code, session, **_config(device)))


@terminal_view
def cdata(request: HttpRequest, query: Query) -> HttpResponse:
    """GET: the start-up handshake; POST: an upload of one table."""
    if request.method != "POST":
        three = protocol3.is_protocol3(query.get("pushver"))
        version = PushProtocol.V3 if three else PushProtocol.V2
        device = _device(request, query, protocol=version, check_token=False)
        return _init3(device) if three else _handshake(query, device)
    device = _device(request, query)
    table = (query.get("table") or "").strip()
    key = table.upper()
    if device.status == DeviceStatus.DISABLED:
        ingest.log_refusal(device, table=table[:16])
        return text("ERROR: terminal disabled", status=403)
    body = _body(request, device, table[:16])
    if body is None:
        return text("ERROR: body too large", status=413)
    stamp = query.get("Stamp")
    if key == "ATTLOG":
        outcome = ingest.handle_attlog(device, body, stamp=stamp)
        return text(f"OK: {outcome.accepted}")
    if key == "RTLOG":
        outcome = ingest.handle_attlog(device, body, table="rtlog", stamp=stamp)
        if device.protocol == PushProtocol.V3:
            return text("OK")  # the 3.x answer; 2.x terminals posting rtlog read a count
        return text(f"OK: {outcome.accepted}")
    if key == "TABLEDATA":
        return _tabledata(device, query, body)
    if key == "OPERLOG":
        count = ingest.handle_operlog(device, body, stamp=query.get("OpStamp") or stamp)
        return text(f"OK: {count}")
    if key == "OPTIONS":
        ingest.handle_options(device, body)
        return text("OK")
    if key in PHOTO_TABLES:
        ingest.handle_photo(device, body, stamp=stamp or query.get("PhotoStamp"))
        return text("OK")
    # Tables we do not use (e.g. rtstate, ERRORLOG, USERINFO): accepted so the terminal
    # moves on; nothing of them is stored.
    return text("OK")


@terminal_view
def fdata(request: HttpRequest, query: Query) -> HttpResponse:
    """Older firmware posts punch photos here instead of cdata?table=ATTPHOTO."""
    device = _device(request, query)
    if request.method != "POST":
        return text("OK")
    if device.status == DeviceStatus.DISABLED:
        ingest.log_refusal(device, table="ATTPHOTO")
        return text("ERROR: terminal disabled", status=403)
    body = _body(request, device, "ATTPHOTO")
    if body is None:
        return text("ERROR: body too large", status=413)
    ingest.handle_photo(device, body, stamp=query.get("Stamp") or query.get("PhotoStamp"))
    return text("OK")


@terminal_view
def getrequest(request: HttpRequest, query: Query) -> HttpResponse:
    """The terminal's poll: queued commands as `C:<id>:<command>` lines, or `OK`."""
    device = _device(request, query)
    return text(ingest.handle_poll(device, info=query.get("INFO")))


@terminal_view
def devicecmd(request: HttpRequest, query: Query) -> HttpResponse:
    """Results of the commands handed out by getrequest, one `ID=…&Return=…&CMD=…` per line."""
    device = _device(request, query)
    if request.method == "POST":
        body = _body(request, device, "devicecmd")
        if body is None:
            return text("ERROR: body too large", status=413)
        ingest.handle_command_results(device, body)
    return text("OK")


_TABLE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,31}")


def _tabledata(device: Device, query: Query, body: bytes) -> HttpResponse:
    """`tabledata` uploads and `querydata` answers: `<tablename>=<rows taken>`."""
    tablename = (query.get("tablename") or "").strip()
    if _TABLE_NAME.fullmatch(tablename) is None:
        return text("ERROR: tablename missing or invalid", status=400)
    outcome = ingest.handle_tabledata(device, tablename, body)
    return text(protocol3.answer_count(tablename, outcome.accepted))


@terminal_view
def registry(request: HttpRequest, query: Query) -> HttpResponse:
    """Protocol 3.x registry: the capabilities in, `RegistryCode=…` out (and the session id
    as a cookie, as the vendor's server does). A disabled terminal gets `406`."""
    device = _device(request, query, protocol=PushProtocol.V3, check_token=False)
    if device.status == DeviceStatus.DISABLED:
        ingest.log_refusal(device, table="registry")
        return text("406", status=406)
    body = _body(request, device, "registry") if request.method == "POST" else b""
    if body is None:
        return text("ERROR: body too large", status=413)
    ingest.handle_registry(device, body)
    response = text(f"RegistryCode={device.registry_code}\n")
    response.set_cookie("JSESSIONID", device.session_id, path="/", httponly=True)
    return response


@terminal_view
def push(request: HttpRequest, query: Query) -> HttpResponse:
    """Protocol 3.x configuration download, after the registry: our options and SessionID."""
    device = _device(request, query, protocol=PushProtocol.V3)
    if device.status == DeviceStatus.DISABLED or not device.registry_code:
        if device.status == DeviceStatus.DISABLED:
            ingest.log_refusal(device, table="push")
        return text("406", status=406)
    session = ingest.ensure_session(device)
    return text(protocol3.config_answer(session, **_config(device)))


@terminal_view
def querydata(request: HttpRequest, query: Query) -> HttpResponse:
    """Protocol 3.x answer to a `DATA QUERY` command: rows of one table, possibly in packets."""
    device = _device(request, query)
    if request.method != "POST":
        return text("OK")
    if device.status == DeviceStatus.DISABLED:
        ingest.log_refusal(device, table="querydata")
        return text("ERROR: terminal disabled", status=403)
    body = _body(request, device, "querydata")
    if body is None:
        return text("ERROR: body too large", status=413)
    return _tabledata(device, query, body)


@terminal_view(serial_required=False)
def ping(request: HttpRequest, query: Query) -> HttpResponse:
    """Protocol 3.x keep-alive."""
    if query.serial is not None:
        _device(request, query)
    return text("OK")

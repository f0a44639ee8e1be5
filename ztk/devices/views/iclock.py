"""The ADMS / iclock push server: plain-text HTTP that ZKTeco terminals call.

Terminals do not log in and cannot send a CSRF token; a terminal is known by its serial
number and counts punches only once HR approves it. Every answer is `text/plain` with a
correct `Date` header, because terminals set their clock from it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import wraps

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.http import http_date
from django.views.decorators.csrf import csrf_exempt

from ztk.core.context import client_ip

from .. import admission, ingest, protocol
from ..models import Device, DeviceStatus, LogKind

log = logging.getLogger(__name__)

PHOTO_TABLES = {"ATTPHOTO", "BIOPHOTO"}
# WSGI servers that always write a Date header themselves (wsgiref, behind runserver and
# the test live server, only adds one when the application did not).
SERVERS_SENDING_DATE = ("gunicorn/",)
# The query parameters we read; each one passes the shared text rule before use, here or
# (INFO, a list of fields refused one by one) in its parser.
PARAMETERS = ("table", "pushver", "Stamp", "OpStamp", "PhotoStamp")
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


def _device(request: HttpRequest, query: Query) -> Device:
    """The terminal, after its allow-lists and (when new) the registration limits."""
    assert query.serial is not None
    try:
        device = ingest.device_contact(
            query.serial, ip=client_ip(request.META), push_version=query.get("pushver")
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


@terminal_view
def cdata(request: HttpRequest, query: Query) -> HttpResponse:
    """GET: the start-up handshake; POST: an upload of one table."""
    device = _device(request, query)
    if request.method != "POST":
        return _handshake(query, device)
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
        return text(f"OK: {outcome.accepted}")
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


@terminal_view(serial_required=False)
def ping(request: HttpRequest, query: Query) -> HttpResponse:
    """Protocol 3.x keep-alive."""
    if query.serial is not None:
        _device(request, query)
    return text("OK")

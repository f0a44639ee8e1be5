"""The ADMS / iclock push server: plain-text HTTP that ZKTeco terminals call.

Terminals do not log in and cannot send a CSRF token; a terminal is known by its serial
number and counts punches only once HR approves it. Every answer is `text/plain` with a
correct `Date` header, because terminals set their clock from it.
"""

from __future__ import annotations

import logging
from functools import wraps

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.http import http_date
from django.views.decorators.csrf import csrf_exempt

from ztk.core.context import client_ip

from . import ingest, protocol
from .models import Device, DeviceStatus, LogKind

log = logging.getLogger(__name__)

PHOTO_TABLES = {"ATTPHOTO", "BIOPHOTO"}
# WSGI servers that always write a Date header themselves (wsgiref, behind runserver and
# the test live server, only adds one when the application did not).
SERVERS_SENDING_DATE = ("gunicorn/",)


def text(body: str, status: int = 200) -> HttpResponse:
    response = HttpResponse(body, status=status, content_type="text/plain")
    response["Date"] = http_date()
    response["Cache-Control"] = "no-store"
    return response


def _serial(request: HttpRequest) -> str | None:
    serial = request.GET.get("SN") or request.GET.get("sn")
    return serial.strip() if serial and ingest.valid_serial(serial.strip()) else None


class _Refused(Exception):
    def __init__(self, response: HttpResponse) -> None:
        self.response = response


def _device(request: HttpRequest, serial: str) -> Device:
    try:
        return ingest.device_contact(
            serial,
            ip=client_ip(request.META),
            push_version=request.GET.get("pushver") or None,
        )
    except ingest.TooManyPendingError:
        raise _Refused(text("ERROR: too many terminals wait for approval", status=503)) from None


def terminal_view(view):
    """csrf_exempt (terminals send no token) and the refusal of unknown terminals in a flood."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            response = view(request, *args, **kwargs)
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


def _handshake(request: HttpRequest, device: Device) -> HttpResponse:
    now = timezone.now()
    try:
        hours = device.utc_offset_hours(now)
        body = protocol.handshake_response(
            device.serial,
            device.stamps(),
            pushver=request.GET.get("pushver") or None,
            timezone_hours=hours,
        )
    except (ValueError, KeyError) as exc:  # a bad stored stamp or zone: answer with defaults
        log.warning("handshake for %s fell back to defaults: %s", device.serial, exc)
        body = protocol.handshake_response(
            device.serial, {}, pushver=request.GET.get("pushver") or None, timezone_hours=8
        )
    return text(body)


@terminal_view
def cdata(request: HttpRequest) -> HttpResponse:
    """GET: the start-up handshake; POST: an upload of one table."""
    serial = _serial(request)
    if serial is None:
        return text("ERROR: SN missing or invalid", status=400)
    device = _device(request, serial)
    if request.method != "POST":
        return _handshake(request, device)
    table = (request.GET.get("table") or "").strip()
    key = table.upper()
    if device.status == DeviceStatus.DISABLED:
        ingest.log_refusal(device, table=table[:16])
        return text("ERROR: terminal disabled", status=403)
    body = _body(request, device, table[:16])
    if body is None:
        return text("ERROR: body too large", status=413)
    stamp = request.GET.get("Stamp")
    if key == "ATTLOG":
        outcome = ingest.handle_attlog(device, body, stamp=stamp)
        return text(f"OK: {outcome.accepted}")
    if key == "RTLOG":
        outcome = ingest.handle_attlog(device, body, table="rtlog", stamp=stamp)
        return text(f"OK: {outcome.accepted}")
    if key == "OPERLOG":
        count = ingest.handle_operlog(device, body, stamp=request.GET.get("OpStamp") or stamp)
        return text(f"OK: {count}")
    if key == "OPTIONS":
        ingest.handle_options(device, body)
        return text("OK")
    if key in PHOTO_TABLES:
        ingest.handle_photo(device, body, stamp=stamp or request.GET.get("PhotoStamp"))
        return text("OK")
    # Tables we do not use (e.g. rtstate, ERRORLOG): accepted so the terminal moves on.
    return text("OK")


@terminal_view
def fdata(request: HttpRequest) -> HttpResponse:
    """Older firmware posts punch photos here instead of cdata?table=ATTPHOTO."""
    serial = _serial(request)
    if serial is None:
        return text("ERROR: SN missing or invalid", status=400)
    device = _device(request, serial)
    if request.method != "POST":
        return text("OK")
    if device.status == DeviceStatus.DISABLED:
        ingest.log_refusal(device, table="ATTPHOTO")
        return text("ERROR: terminal disabled", status=403)
    body = _body(request, device, "ATTPHOTO")
    if body is None:
        return text("ERROR: body too large", status=413)
    ingest.handle_photo(device, body, stamp=request.GET.get("Stamp"))
    return text("OK")


@terminal_view
def getrequest(request: HttpRequest) -> HttpResponse:
    """The terminal's poll: queued commands as `C:<id>:<command>` lines, or `OK`."""
    serial = _serial(request)
    if serial is None:
        return text("ERROR: SN missing or invalid", status=400)
    device = _device(request, serial)
    return text(ingest.handle_poll(device, info=request.GET.get("INFO")))


@terminal_view
def devicecmd(request: HttpRequest) -> HttpResponse:
    """Results of the commands handed out by getrequest, one `ID=…&Return=…&CMD=…` per line."""
    serial = _serial(request)
    if serial is None:
        return text("ERROR: SN missing or invalid", status=400)
    device = _device(request, serial)
    if request.method == "POST":
        body = _body(request, device, "devicecmd")
        if body is None:
            return text("ERROR: body too large", status=413)
        ingest.handle_command_results(device, body)
    return text("OK")


@terminal_view
def ping(request: HttpRequest) -> HttpResponse:
    """Protocol 3.x keep-alive."""
    serial = _serial(request)
    if serial is not None:
        _device(request, serial)
    return text("OK")

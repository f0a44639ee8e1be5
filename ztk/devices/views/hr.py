"""HR pages for terminals: approve new ones, assign held punches, queue commands.

Thin: parse the form, call one service, report the outcome as a message, redirect.
"""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from ztk.core.errors import DomainError, NotFoundError
from ztk.core.parse import parse_ids, parse_moment
from ztk.org.models import AttendanceGroup
from ztk.org.selectors import employee_for

from .. import conf, photos, selectors, services
from ..ingest import valid_serial
from ..models import Device, DeviceStatus

PERMISSION = services.PERMISSION
QUICK_COMMANDS = ("INFO", "CHECK", "LOG", "REBOOT")


def _require(request: HttpRequest) -> None:
    if not request.user.has_perm(PERMISSION):
        raise PermissionDenied


@login_required
def index(request: HttpRequest) -> HttpResponse:
    _require(request)
    now = timezone.now()
    devices = list(selectors.device_list())
    working_days: dict[date, bool] = {}  # one calendar read per date for all terminals
    for device in devices:
        # A display-only attribute for the template, not a model field.
        device.online = selectors.is_online(device, now)  # type: ignore[attr-defined]
        device.silent = selectors.is_silent(device, now, working_days)  # type: ignore[attr-defined]
    return render(
        request,
        "devices/index.html",
        {
            "pending": [d for d in devices if d.status == DeviceStatus.PENDING],
            "devices": [d for d in devices if d.status != DeviceStatus.PENDING],
            "groups": AttendanceGroup.objects.filter(active=True).order_by("code"),
            "held_groups": selectors.held_groups(),
            "problems": selectors.device_problems(limit=30),
            "allow_lists": [
                (group, "\n".join(networks)) for group, networks in selectors.group_allow_lists()
            ],
        },
    )


def _detail(
    request: HttpRequest, device: Device, *, typed: dict | None = None, status: int = 200
) -> HttpResponse:
    """The terminal page; `typed` puts back what a refused form held, so nothing is retyped."""
    return render(
        request,
        "devices/detail.html",
        {
            "device": device,
            "online": selectors.is_online(device, timezone.now()),
            "silent": selectors.is_silent(device, timezone.now()),
            "drift_too_large": selectors.clock_drift_too_large(device),
            "drift_limit": conf.clock_drift_limit_seconds(),
            "command_timeout": conf.command_timeout_seconds(),
            "command_attempts": conf.command_max_attempts(),
            "groups": AttendanceGroup.objects.filter(active=True).order_by("code"),
            "commands": selectors.device_commands(device=device),
            "logs": selectors.device_logs(device=device),
            "quick_commands": QUICK_COMMANDS,
            "group_networks": device.group_networks,
            "device_networks_text": "\n".join(device.allowed_networks),
            "group_networks_text": "\n".join(device.group_networks),
            "photos": selectors.device_photos(device=device),
            "pins": selectors.terminal_pins(device),
            "terminal_users": selectors.terminal_user_count(device),
            "photo_usage": selectors.photo_usage(device),
            "typed_device": typed if typed and typed.get("form") == "device" else None,
            "typed_group": typed if typed and typed.get("form") == "group" else None,
        },
        status=status,
    )


def _device_or_404(serial: str) -> Device:
    return get_object_or_404(
        Device.objects.select_related("attendance_group__terminal_allow_list"), serial=serial
    )


@login_required
def detail(request: HttpRequest, serial: str) -> HttpResponse:
    _require(request)
    return _detail(request, _device_or_404(serial))


def _back_serial(request: HttpRequest) -> str:
    """The terminal page to return to; a value that is no serial is ignored, not reversed."""
    serial = request.POST.get("back_serial") or ""
    return serial if valid_serial(serial) else ""


def _done(request: HttpRequest, fallback: str = "devices:index") -> HttpResponse:
    serial = _back_serial(request)
    if serial:
        return redirect("devices:detail", serial=serial)
    return redirect(fallback)


@login_required
@require_POST
def approve(request: HttpRequest, serial: str) -> HttpResponse:
    _require(request)
    try:
        result = services.device_approve(
            actor=request.user,
            serial=serial,
            name=request.POST.get("name", "").strip() or None,
            attendance_group=request.POST.get("attendance_group") or None,
            time_zone=request.POST.get("time_zone", "").strip() or None,
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return _done(request)
    released = result.released
    messages.success(
        request,
        _(
            "Terminal %(serial)s approved: %(recorded)d held punches recorded, "
            "%(unknown)d still waiting for an employee, %(refused)d refused."
        )
        % {
            "serial": serial,
            "recorded": released.recorded + released.duplicate,
            "unknown": released.still_held,
            "refused": len(released.refused),
        },
    )
    return _done(request)


@login_required
@require_POST
def disable(request: HttpRequest, serial: str) -> HttpResponse:
    _require(request)
    try:
        services.device_disable(actor=request.user, serial=serial)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Terminal %(serial)s disabled.") % {"serial": serial})
    return _done(request)


@login_required
@require_POST
def update(request: HttpRequest, serial: str) -> HttpResponse:
    _require(request)
    try:
        services.device_update(
            actor=request.user,
            serial=serial,
            name=request.POST.get("name", "").strip(),
            attendance_group=request.POST.get("attendance_group", ""),
            time_zone=request.POST.get("time_zone", "").strip(),
            allowed_networks=request.POST.get("allowed_networks"),
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        typed = {"form": "device", **request.POST.dict()}
        return _detail(request, _device_or_404(serial), typed=typed, status=422)
    messages.success(request, _("Terminal %(serial)s saved.") % {"serial": serial})
    return redirect("devices:detail", serial=serial)


@login_required
@require_POST
def group_allow_list(request: HttpRequest, code: str) -> HttpResponse:
    """Save an attendance group's allow-list, from the terminal page or the list page."""
    _require(request)
    serial = _back_serial(request)
    try:
        services.group_allow_list_update(
            actor=request.user, group=code, networks=request.POST.get("networks", "")
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        typed = {"form": "group", "group": code, "networks": request.POST.get("networks", "")}
        if serial:
            return _detail(request, _device_or_404(serial), typed=typed, status=422)
        return redirect("devices:index")
    messages.success(request, _("Allowed addresses of group %(code)s saved.") % {"code": code})
    return _done(request)


@login_required
@require_safe
def photo(request: HttpRequest, serial: str, pk: int) -> FileResponse:
    """A terminal's punch photo, for HR only; never a public URL, never sniffed as HTML."""
    _require(request)
    item = selectors.photo_get(serial=serial, pk=pk)
    if item is None:
        raise Http404
    try:
        handle = photos.storage().open(item.file, "rb")
    except FileNotFoundError as missing:
        raise Http404 from missing
    response = FileResponse(handle, content_type=item.content_type)
    response["Content-Disposition"] = (
        f'inline; filename="photo-{item.pk}{photos.EXTENSIONS[item.content_type]}"'
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    return response


@login_required
@require_POST
def command(request: HttpRequest, serial: str) -> HttpResponse:
    _require(request)
    kind = request.POST.get("kind", "")
    try:
        if kind == "resend_all":
            services.device_resend_all(actor=request.user, serial=serial)
        elif kind == "range":
            start = parse_moment(request.POST.get("start"), naive=True)
            end = parse_moment(request.POST.get("end"), naive=True)
            if start is None or end is None:
                raise ValueError
            services.device_request_attlog(actor=request.user, serial=serial, start=start, end=end)
        elif kind == "set_clock":
            if services.device_set_clock(actor=request.user, serial=serial) is None:
                messages.info(request, _("A clock command is already waiting for the terminal."))
                return redirect("devices:detail", serial=serial)
        elif kind == "sync_all":
            result = services.device_sync_all(actor=request.user, serial=serial)
            messages.success(
                request,
                _("%(users)d users and %(templates)d templates queued for the terminal.")
                % {"users": result.users, "templates": result.templates},
            )
            return redirect("devices:detail", serial=serial)
        elif kind == "clear_photos":
            services.device_queue_command(actor=request.user, serial=serial, command="CLEAR PHOTO")
        elif kind in QUICK_COMMANDS:
            services.device_queue_command(actor=request.user, serial=serial, command=kind)
        else:
            raise DomainError("bad_command", services.MESSAGES["bad_command"])
    except ValueError:
        messages.error(request, _("Give the start and end of the range."))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Command queued; the terminal fetches it on its next poll."))
    return redirect("devices:detail", serial=serial)


@login_required
@require_POST
def assign(request: HttpRequest) -> HttpResponse:
    _require(request)
    number = request.POST.get("employee_no", "").strip()
    try:
        employee = employee_for(request.user, number) if number else None
    except NotFoundError:
        employee = None
    if employee is None:
        messages.error(request, _("No employee has the number “%(no)s”.") % {"no": number})
        return redirect("devices:index")
    held_ids = parse_ids(request.POST.getlist("held"))
    try:
        result = services.held_punch_assign(
            actor=request.user,
            employee=employee,
            held_ids=held_ids or None,
            pin=None if held_ids else request.POST.get("pin") or None,
            serial=request.POST.get("serial") or None,
            remember=request.POST.get("remember") == "1",
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("devices:index")
    released = result.released
    messages.success(
        request,
        _("%(n)d punches now count for %(name)s; %(refused)d refused.")
        % {
            "n": released.recorded + released.duplicate,
            "name": str(employee),
            "refused": len(released.refused),
        },
    )
    for _held_id, code, message in released.refused[:10]:
        messages.error(request, f"{code}: {message}")
    return redirect("devices:index")


@login_required
@require_POST
def dismiss(request: HttpRequest) -> HttpResponse:
    _require(request)
    try:
        held_ids = parse_ids(request.POST.getlist("held"))
        count = services.held_punch_dismiss(
            actor=request.user,
            reason=request.POST.get("reason", ""),
            held_ids=held_ids or None,
            pin=None if held_ids else request.POST.get("pin") or None,
            serial=request.POST.get("serial") or None,
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("%(n)d held punches set aside.") % {"n": count})
    return redirect("devices:index")

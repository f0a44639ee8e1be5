"""HR pages for people on terminals: PIN mappings and biometric data (consent).

Thin: parse the form, call one service, report the outcome, redirect. The biometric page
lists what is stored per employee (kinds, counts, terminals) and never a template.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from ztk.core.errors import DomainError, NotFoundError
from ztk.org.models import AttendanceGroup, Employee
from ztk.org.selectors import employee_for

from .. import selectors, services
from ..models import TemplateKind
from .hr import _require


def _employee(request: HttpRequest) -> Employee | None:
    number = request.POST.get("employee_no", "").strip()
    try:
        return employee_for(request.user, number) if number else None
    except NotFoundError:
        return None


def _no_employee(request: HttpRequest) -> None:
    number = request.POST.get("employee_no", "").strip()
    messages.error(request, _("No employee has the number “%(no)s”.") % {"no": number})


@login_required
@require_safe
def pins(request: HttpRequest) -> HttpResponse:
    _require(request)
    return render(
        request,
        "devices/pins.html",
        {
            "mappings": selectors.pin_mappings(),
            "groups": AttendanceGroup.objects.filter(active=True).order_by("code"),
            "devices": selectors.device_list(),
        },
    )


@login_required
@require_POST
def pin_save(request: HttpRequest) -> HttpResponse:
    """Add or change a mapping: scope "group:<code>" or "terminal:<serial>"."""
    _require(request)
    employee = _employee(request)
    if employee is None:
        _no_employee(request)
        return redirect("devices:pins")
    kind, _sep, value = request.POST.get("scope", "").partition(":")
    group = AttendanceGroup.objects.filter(code=value).first() if kind == "group" else None
    try:
        if kind == "terminal" and value:
            mapping = services.terminal_pin_set(
                actor=request.user,
                pin=request.POST.get("pin", ""),
                employee=employee,
                serial=value,
                card=request.POST.get("card", ""),
            )
        elif group is not None:
            mapping = services.terminal_pin_set(
                actor=request.user,
                pin=request.POST.get("pin", ""),
                employee=employee,
                group=group,
                card=request.POST.get("card", ""),
            )
        else:
            raise DomainError("group_not_found", services.MESSAGES["group_not_found"])
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("PIN %(pin)s now means %(name)s; the terminals are sent the change.")
            % {"pin": mapping.pin, "name": str(employee)},
        )
    return redirect("devices:pins")


@login_required
@require_POST
def pin_delete(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request)
    try:
        mapping = services.terminal_pin_delete(actor=request.user, pk=pk)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("PIN mapping %(pin)s deleted.") % {"pin": mapping.pin})
    return redirect("devices:pins")


@login_required
@require_safe
def biometrics(request: HttpRequest) -> HttpResponse:
    _require(request)
    return render(
        request,
        "devices/biometrics.html",
        {
            "rows": selectors.biometric_overview(),
            "opt_outs": selectors.biometric_opt_outs(),
            "kinds": TemplateKind.choices,
        },
    )


@login_required
@require_POST
def consent_withdraw(request: HttpRequest) -> HttpResponse:
    _require(request)
    employee = _employee(request)
    if employee is None:
        _no_employee(request)
        return redirect("devices:biometrics")
    try:
        deleted = services.biometric_consent_withdraw(
            actor=request.user, employee=employee, reason=request.POST.get("reason", "")
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _(
                "Consent withdrawn for %(name)s: %(n)d templates deleted here; the terminals "
                "are sent the deletions."
            )
            % {"name": str(employee), "n": deleted},
        )
    return redirect("devices:biometrics")


@login_required
@require_POST
def consent_restore(request: HttpRequest) -> HttpResponse:
    _require(request)
    employee = _employee(request)
    if employee is None:
        _no_employee(request)
        return redirect("devices:biometrics")
    try:
        services.biometric_consent_restore(actor=request.user, employee=employee)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("Consent recorded again for %(name)s: new enrolments are stored and shared.")
            % {"name": str(employee)},
        )
    return redirect("devices:biometrics")

"""/settings/reminders/: each attendance group's reminders (before check-in, at check-out,
the missed-punch alert, the cut-off reminder, the approvers' digest), its quiet hours and
which channels each kind of message uses (e-mail, Web Push, work apps; the inbox always).

HR and system admins change them; auditors read (a POST is 403). Thin: parse the form,
call ``notifications.reminder_services.reminder_settings_save``, show its refusal next to
the field it names with what was typed kept (HTTP 422).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from ztk.core.errors import DomainError
from ztk.notifications.channels import MessageKind, person_channels
from ztk.notifications.models import ReminderSettings
from ztk.notifications.reminder_services import (
    SETTINGS_FIELDS,
    reminder_settings_of,
    reminder_settings_save,
    reminder_settings_state,
)
from ztk.org import rules
from ztk.org.models import AttendanceGroup

from .. import selectors

FIELD_MAX = 20
_CHECKBOXES = ("punch_in", "punch_out", "missed_punch", "cutoff", "digest", "quiet")


def _viewer(request: HttpRequest) -> bool:
    if not rules.can_view_settings(request.user):
        raise PermissionDenied
    return bool(rules.can_change_settings(request.user))


def _group(code: str) -> AttendanceGroup:
    group = selectors.group_by_code(code)
    if group is None:
        raise Http404
    return group


@login_required
@require_safe
def index(request: HttpRequest) -> HttpResponse:
    editable = _viewer(request)
    groups = list(AttendanceGroup.objects.order_by("code"))
    saved = {s.group_id: s for s in ReminderSettings.objects.filter(group__in=groups)}
    rows = [(g, saved.get(g.pk) or ReminderSettings(group=g)) for g in groups]
    return render(request, "setup/reminders.html", {"rows": rows, "editable": editable})


def _posted(request: HttpRequest) -> dict[str, Any]:
    post = request.POST
    form: dict[str, Any] = {}
    for name in SETTINGS_FIELDS:
        if name == "channels":  # one checkbox per message kind and channel: ch.<kind>.<code>
            form[name] = {
                kind: {c.code: bool(post.get(f"ch.{kind}.{c.code}")) for c in person_channels()}
                for kind in MessageKind.values
            }
        elif name in _CHECKBOXES:
            form[name] = bool(post.get(name))
        else:
            form[name] = post.get(name, "")[:FIELD_MAX].strip()
    return form


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def edit(request: HttpRequest, code: str) -> HttpResponse:
    editable = _viewer(request)
    group = _group(code)
    form = reminder_settings_state(reminder_settings_of(group))
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        if not editable:
            raise PermissionDenied
        form = _posted(request)
        try:
            _row, changed = reminder_settings_save(actor=request.user, group=group, **form)
        except DomainError as exc:
            details = exc.details if isinstance(exc.details, dict) else {}
            errors[str(details.get("field") or "top")] = str(exc.message)
            status = 422
        else:
            if changed:
                messages.success(request, _("Reminders of %(name)s saved.") % {"name": group.name})
            else:
                messages.info(request, _("Nothing changed."))
            return redirect("settings:reminders")
    channels = person_channels()
    matrix = [
        (kind, label, [(c.code, form["channels"].get(kind, {}).get(c.code)) for c in channels])
        for kind, label in MessageKind.choices
    ]
    return render(
        request,
        "setup/reminder_edit.html",
        {
            "group": group,
            "form": form,
            "errors": errors,
            "editable": editable,
            "channels": channels,
            "matrix": matrix,
        },
        status=status,
    )

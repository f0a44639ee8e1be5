"""Pages: the inbox (everyone, own notifications only) and the group robots (HR).

Thin: parse, call one service or selector, render or redirect.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.request import RawPostDataException
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from ztk.core.errors import DomainError
from ztk.core.input_guard import text_checked
from ztk.core.parse import parse_local_url
from ztk.org.rules import can_see_findings

from . import rules, selectors, services
from .forms import RobotWebhookForm
from .models import Channel, OutboxStatus, Platform, ReminderKind, RobotWebhook, kind_label
from .reminder_services import reminder_opt_outs, reminder_opt_outs_set
from .webpush import application_server_key

PAGE_SIZE = 30


def _require_manager(request: HttpRequest) -> None:
    if not rules.can_manage_robots(request.user):
        raise PermissionDenied


def _reminder_kinds(user: Any) -> list[tuple[str, Any]]:
    """The reminders a person may switch off: the weekly oversight digest only for its
    readers (HR and auditors)."""
    return [
        (value, label)
        for value, label in ReminderKind.choices
        if value != ReminderKind.OVERSIGHT_DIGEST or can_see_findings(user)
    ]


# --- inbox ------------------------------------------------------------------------------


@login_required
@require_safe
def inbox(request: HttpRequest) -> HttpResponse:
    unread_only = request.GET.get("unread") == "1"
    items = selectors.notification_list(user=request.user, unread_only=unread_only)
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "notifications/inbox.html",
        {
            "page": page,
            "unread_only": unread_only,
            "unread_total": selectors.unread_count(request.user),
            "reminder_kinds": _reminder_kinds(request.user),
            "reminder_off": reminder_opt_outs(request.user),
            "push_key": application_server_key(),
            "push_devices": selectors.push_device_count(request.user),
        },
    )


@login_required
@require_POST
def reminders(request: HttpRequest) -> HttpResponse:
    """The person's own reminder choices: the ticked kinds stay on, the others go off."""
    on = set(request.POST.getlist("on")[:20])
    off = [k for k, _label in _reminder_kinds(request.user) if k not in on]
    services_done = reminder_opt_outs_set(user=request.user, off=off)
    if services_done:
        messages.success(request, _("Your reminders are saved; the ones you unticked are off."))
    else:
        messages.success(request, _("Your reminders are saved; all are on."))
    return redirect(reverse("notifications:inbox") + "#reminder-choices")


@login_required
@require_POST
def mark_read(request: HttpRequest) -> HttpResponse:
    """Mark some (`id`, repeatable) or all (`all=1`) of the caller's notifications read."""
    if request.POST.get("all") == "1":
        n = services.notification_mark_read(user=request.user, all=True)
        if n:
            messages.success(request, _("All notifications marked as read."))
    else:
        services.notification_mark_read(user=request.user, ids=request.POST.getlist("id"))
    back = parse_local_url(request.POST.get("next"))
    return redirect(back or "notifications:inbox")


@login_required
@require_safe
def open_notification(request: HttpRequest, pk: int) -> HttpResponse:
    """Follow a notification's link, marking it read (only the caller's own)."""
    notification = selectors.notification_get(user=request.user, pk=pk)
    if notification is None:
        raise Http404
    services.notification_mark_read(user=request.user, ids=[notification.pk])
    return redirect(parse_local_url(notification.url) or "notifications:inbox")


# --- group robots (HR) ------------------------------------------------------------------


@login_required
@require_safe
def robots(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    robot_rows = list(selectors.robot_list())
    # Display-only attributes for the template, not model fields.
    for robot in robot_rows:
        robot.redacted_url = services.redact_url(robot.url)  # type: ignore[attr-defined]
        robot.kind_names = [kind_label(k) for k in robot.kinds or []]  # type: ignore[attr-defined]
    problems = selectors.outbox_problems()
    names = {str(r.pk): r.name for r in robot_rows}
    for message in problems:
        message.target_label = names.get(message.target, message.target)  # type: ignore[attr-defined]
    return render(
        request,
        "notifications/robots.html",
        {"robots": robot_rows, "problems": problems, "counts": selectors.outbox_counts()},
    )


@text_checked
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def robot_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    _require_manager(request)
    robot = get_object_or_404(RobotWebhook, pk=pk) if pk is not None else None
    form = RobotWebhookForm(request.POST or None, instance=robot or RobotWebhook())
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in services.ROBOT_FIELDS}
        try:
            saved = services.robot_webhook_save(actor=request.user, robot=robot, **fields)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Group robot “%(name)s” saved.") % {"name": saved.name})
            return redirect("notifications:robots")
    return render(request, "notifications/robot_form.html", {"form": form, "robot": robot})


@login_required
@require_POST
def robot_delete(request: HttpRequest, pk: int) -> HttpResponse:
    _require_manager(request)
    try:
        services.robot_webhook_delete(actor=request.user, robot_id=pk)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Group robot removed."))
    return redirect("notifications:robots")


@login_required
@require_POST
def robot_test(request: HttpRequest, pk: int) -> HttpResponse:
    _require_manager(request)
    try:
        services.robot_webhook_test(actor=request.user, robot_id=pk)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("Test message queued; its outcome shows below within a minute.")
        )
    return redirect("notifications:robots")


@login_required
@require_POST
def outbox_retry(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    n = services.outbox_retry(actor=request.user, ids=request.POST.getlist("id"))
    messages.success(request, _("%(n)d messages will be sent again.") % {"n": n})
    back = parse_local_url(request.POST.get("next"))
    return redirect(back or "notifications:robots")


# --- Web Push on this device (docs/pwa.md) ---------------------------------------------------

PUSH_BODY_MAX = 4096


def _json_body(request: HttpRequest) -> dict[str, Any]:
    """The JSON object push.js sent; {} for anything else (a form post, too big, not JSON)."""
    if request.content_type != "application/json":
        return {}
    try:
        raw = request.body
        if len(raw) > PUSH_BODY_MAX:
            return {}
        data = json.loads(raw.decode("utf-8"))
    except (RawPostDataException, UnicodeDecodeError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _refused(exc: DomainError) -> JsonResponse:
    return JsonResponse({"code": exc.code, "message": str(exc.message)}, status=exc.status)


@login_required
@require_POST
def push_subscribe(request: HttpRequest) -> JsonResponse:
    """push.js sends the browser's subscription (``PushSubscription.toJSON()``)."""
    data = _json_body(request)
    given = data.get("keys")
    keys: dict[str, Any] = given if isinstance(given, dict) else {}
    try:
        services.push_subscribe(
            user=request.user,
            endpoint=data.get("endpoint"),
            p256dh=keys.get("p256dh"),
            auth=keys.get("auth"),
            user_agent=request.headers.get("User-Agent", ""),
            language=translation.get_language() or "",
        )
    except DomainError as exc:
        return _refused(exc)
    return JsonResponse({"subscribed": True}, status=201)


@login_required
@require_POST
def push_unsubscribe(request: HttpRequest) -> JsonResponse:
    data = _json_body(request)
    removed = services.push_unsubscribe(user=request.user, endpoint=data.get("endpoint"))
    return JsonResponse({"removed": removed})


# --- the delivery log (HR) ------------------------------------------------------------------


@login_required
@require_safe
def deliveries(request: HttpRequest) -> HttpResponse:
    """Every message sent outside the inbox: to whom, over which channel, its status,
    attempts and last error; failed ones can be sent again (``outbox_retry``)."""
    _require_manager(request)
    channel = request.GET.get("channel", "")
    status = request.GET.get("status", "")
    filters = selectors.DeliveryFilters(
        channel=channel if channel in Channel.values else "",
        status=status if status in OutboxStatus.values else "",
        person=" ".join(request.GET.get("person", "")[:60].split()),
    )
    page = Paginator(selectors.delivery_log(filters), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page)
    robots = {str(r.pk): r.name for r in selectors.robot_list()}
    devices = selectors.push_device_labels([m.target for m in rows if m.channel == Channel.WEBPUSH])
    for message in rows:
        if message.channel == Channel.WEBPUSH:
            label = devices.get(message.target) or _("a device no longer subscribed")
        elif message.channel in Platform.values:
            label = robots.get(message.target, message.target)
        else:
            label = message.target
        message.target_label = label  # type: ignore[attr-defined]
        recipient = message.notification.recipient if message.notification else None
        employee = getattr(recipient, "employee", None) if recipient else None
        message.person = (  # type: ignore[attr-defined]
            f"{employee.name} ({employee.employee_no})"
            if employee
            else (recipient.get_username() if recipient else "")
        )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "notifications/deliveries.html",
        {
            "page": page,
            "rows": rows,
            "filters": filters,
            "channels": Channel.choices,
            "statuses": OutboxStatus.choices,
            "query": query.urlencode(),
            "counts": selectors.outbox_counts(),
        },
    )

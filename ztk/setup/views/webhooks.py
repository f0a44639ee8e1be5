"""/settings/webhooks/: outgoing payroll webhooks — list, create (the secret shown once),
edit, rotate the secret (the new one shown once), the delivery log with "retry", and
"send a test event". HR and system admins change them; auditors read.

Thin: parse the form, call one of ``reports.services``, show its refusal next to the field
it names with what was typed kept (HTTP 422).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from ztk.core.errors import DomainError
from ztk.core.input_guard import text_checked
from ztk.core.parse import parse_int
from ztk.core.text import add_text_validators
from ztk.org import rules
from ztk.org.models import AttendanceGroup
from ztk.reports import selectors, services
from ztk.reports.models import DeliveryStatus, PayrollEvent, PayrollWebhook

RETRYABLE = (DeliveryStatus.FAILED, DeliveryStatus.DEAD)


class WebhookForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name (which system receives it)"),
        max_length=services.NAME_MAX,
        required=False,
    )
    url = forms.CharField(
        label=gettext_lazy("Address (https://…)"),
        max_length=services.URL_MAX,
        required=False,
        widget=forms.URLInput(attrs={"inputmode": "url", "autocomplete": "off"}),
    )
    events = forms.MultipleChoiceField(
        label=gettext_lazy("Events to send"),
        choices=PayrollEvent.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    # Choices (group ids as text) are set per form: a ModelMultipleChoiceField would send a
    # 20-digit id to the database, which SQLite refuses with an OverflowError.
    groups = forms.MultipleChoiceField(
        label=gettext_lazy("Attendance groups"),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=gettext_lazy("None ticked: every group."),
    )
    active = forms.BooleanField(label=gettext_lazy("On: send events to it"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.all_groups = {str(g.pk): g for g in AttendanceGroup.objects.order_by("name", "code")}
        self.fields["groups"].choices = [(pk, str(g)) for pk, g in self.all_groups.items()]
        add_text_validators(self.fields)

    def save(self, actor: Any, webhook: PayrollWebhook | None = None) -> Any:
        """Call the service; a refusal lands on its field (or the form) and None is returned."""
        data = self.cleaned_data
        args = {
            "actor": actor,
            "name": data["name"],
            "url": data["url"],
            "events": data["events"],
            "groups": [self.all_groups[pk] for pk in data["groups"]],
            "active": data["active"],
        }
        try:
            if webhook is None:
                return services.webhook_create(**args)
            return services.webhook_update(webhook=webhook, **args)
        except DomainError as exc:
            field = (exc.details or {}).get("field") if isinstance(exc.details, dict) else None
            self.add_error(field if field in self.fields else None, exc.message)
            return None


def _initial(hook: PayrollWebhook) -> dict[str, Any]:
    return {
        "name": hook.name,
        "url": hook.url,
        "events": list(hook.events or []),
        "groups": [str(g.pk) for g in hook.groups.all()],
        "active": hook.active,
    }


def _require_viewer(request: HttpRequest) -> bool:
    """True when the user may change webhooks, False when only read; 403 for the rest."""
    if not rules.can_view_settings(request.user):
        raise PermissionDenied
    return bool(rules.can_change_settings(request.user))


def _hook_or_404(webhook_id: str) -> PayrollWebhook:
    pk = parse_int(webhook_id)
    hook = selectors.webhook(pk) if pk is not None else None
    if hook is None:
        raise Http404
    return hook


def _listed(hooks: Any) -> list[Any]:
    for hook in hooks:
        hook.shown_url = selectors.shown_url(hook.url)  # type: ignore[attr-defined]  # display
    return list(hooks)


@login_required
@text_checked
@require_http_methods(["GET", "POST"])
def index(request: HttpRequest) -> HttpResponse:
    can_change = _require_viewer(request)
    blank = {"events": list(PayrollEvent.values), "active": True}
    form = WebhookForm(initial=blank)
    created = secret = None
    if request.method == "POST":
        if not can_change:
            raise PermissionDenied
        form = WebhookForm(request.POST)
        if form.is_valid():
            result = form.save(request.user)
            if result is not None:
                created, secret = result
                form = WebhookForm(initial=blank)  # created: ready for the next one
    return render(
        request,
        "setup/webhooks.html",
        {
            "webhooks": _listed(selectors.webhooks()),
            "can_change": can_change,
            "form": form,
            "created": created,
            "secret": secret,  # in this one response only
        },
        status=422 if form.errors else 200,
    )


def _detail(
    request: HttpRequest,
    hook: PayrollWebhook,
    *,
    can_change: bool,
    form: WebhookForm | None = None,
    secret: str | None = None,
) -> HttpResponse:
    if form is None:
        form = WebhookForm(initial=_initial(hook))
    rows = selectors.deliveries(hook)
    return render(
        request,
        "setup/webhook.html",
        {
            "hook": hook,
            "shown_url": selectors.shown_url(hook.url),
            "event_labels": [
                PayrollEvent(e).label for e in hook.events or [] if e in PayrollEvent.values
            ],
            "groups": list(hook.groups.all()),
            "deliveries": rows,
            "retryable": RETRYABLE,
            "any_retryable": any(r.status in RETRYABLE for r in rows),
            "can_change": can_change,
            "form": form,
            "secret": secret,
        },
        status=422 if form.errors else 200,
    )


@login_required
@text_checked
@require_http_methods(["GET", "POST"])
def detail(request: HttpRequest, webhook_id: str) -> HttpResponse:
    can_change = _require_viewer(request)
    hook = _hook_or_404(webhook_id)
    if request.method == "GET":
        return _detail(request, hook, can_change=can_change)
    if not can_change:
        raise PermissionDenied
    form = WebhookForm(request.POST)
    if form.is_valid() and form.save(request.user, hook) is not None:
        messages.success(
            request, _("Webhook “%(name)s” saved.") % {"name": form.cleaned_data["name"]}
        )
        return redirect("settings:webhook", hook.pk)
    return _detail(request, hook, can_change=True, form=form)


def _changer_hook(request: HttpRequest, webhook_id: str) -> PayrollWebhook:
    if not rules.can_change_settings(request.user):
        raise PermissionDenied
    return _hook_or_404(webhook_id)


@login_required
@require_POST
def rotate(request: HttpRequest, webhook_id: str) -> HttpResponse:
    hook = _changer_hook(request, webhook_id)
    hook, secret = services.webhook_rotate_secret(actor=request.user, webhook=hook)
    return _detail(request, hook, can_change=True, secret=secret)


@login_required
@require_POST
def send_test(request: HttpRequest, webhook_id: str) -> HttpResponse:
    hook = _changer_hook(request, webhook_id)
    row = services.webhook_send_test(actor=request.user, webhook=hook)
    messages.success(
        request,
        _("Test event #%(id)s queued; its result appears in the delivery log below.")
        % {"id": row.pk},
    )
    return redirect("settings:webhook", hook.pk)


@login_required
@require_POST
def retry(request: HttpRequest, webhook_id: str) -> HttpResponse:
    hook = _changer_hook(request, webhook_id)
    ids = [i for i in (parse_int(v) for v in request.POST.getlist("delivery")[:500]) if i]
    n = services.webhook_deliveries_retry(actor=request.user, webhook=hook, ids=ids)
    if n:
        messages.success(request, _("%(n)d deliveries will be sent again.") % {"n": n})
    else:
        messages.error(
            request, _("Nothing to retry: only failed or given-up deliveries can be sent again.")
        )
    return redirect("settings:webhook", hook.pk)

"""Oversight findings pages (/hr/oversight/findings/): HR and auditors.

Thin: parse, check the section (``org.rules.can_see_findings``), call the selector or the
service, render. Whether a finding may be handled is ``ztk.oversight.rules.can_handle``,
asked by the page (to show the form) and by the service (to refuse).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from ztk.core.errors import DomainError, PermissionDeniedError
from ztk.core.text import add_text_validators
from ztk.org.rules import can_change_finding_thresholds, can_see_findings, is_hr

from .. import presentation, selectors, services
from ..models import Finding, FindingThresholds, Rule, Severity, State
from ..rules import can_handle

PAGE_SIZE = 30


def _require(request: HttpRequest) -> None:
    if not can_see_findings(request.user):
        raise PermissionDenied


def _choice(value: str, choices: list[tuple[str, Any]]) -> str:
    return value if value in {c for c, _label in choices} else ""


@login_required
@require_safe
def index(request: HttpRequest) -> HttpResponse:
    """Findings, filtered by rule, state and severity; open and severe first."""
    _require(request)
    rule = _choice(request.GET.get("rule", ""), Rule.choices)
    state = _choice(request.GET.get("state", State.OPEN), State.choices)
    if request.GET.get("state") == "all":
        state = ""
    severity = _choice(request.GET.get("severity", ""), Severity.choices)
    rows = selectors.finding_list(rule=rule, state=state, severity=severity)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    for finding in page:
        finding.subject = presentation.subject(finding)  # type: ignore[attr-defined]
        finding.summary = presentation.summary(finding)  # type: ignore[attr-defined]
    query = {
        k: v for k, v in (("rule", rule), ("state", state or "all"), ("severity", severity)) if v
    }
    return render(
        request,
        "oversight/index.html",
        {
            "page": page,
            "rule": rule,
            "state": state or "all",
            "severity": severity,
            "rules": Rule.choices,
            "states": State.choices,
            "severities": Severity.choices,
            "open_counts": selectors.finding_counts(),
            "last_run": selectors.last_run(),
            "can_change_thresholds": can_change_finding_thresholds(request.user),
            "is_hr": is_hr(request.user),
            "query": urlencode(query),
        },
    )


@login_required
@require_safe
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request)
    finding = get_object_or_404(
        Finding.objects.select_related("employee", "other_employee", "user", "handled_by"), pk=pk
    )
    return render(request, "oversight/detail.html", _detail_context(request, finding))


def _detail_context(request: HttpRequest, finding: Finding, **extra: object) -> dict:
    return {
        "finding": finding,
        "subject": presentation.subject(finding),
        "summary": presentation.summary(finding),
        "evidence": presentation.evidence_rows(finding, request.user),
        "can_handle": finding.is_open and can_handle(request.user, finding),
        "note_max": services.NOTE_MAX,
        **extra,
    }


def _handle(request: HttpRequest, pk: int, action) -> HttpResponse:
    _require(request)
    finding = get_object_or_404(Finding, pk=pk)
    if not can_handle(request.user, finding):
        raise PermissionDenied
    note = request.POST.get("note", "")
    try:
        action(actor=request.user, finding=finding, note=note)
    except PermissionDeniedError:
        raise PermissionDenied from None
    except DomainError as exc:
        context = _detail_context(request, finding, error=exc.message, note=note[:600])
        return render(request, "oversight/detail.html", context, status=422)
    messages.success(request, gettext("Finding #%(id)s handled.") % {"id": finding.pk})
    return redirect("findings:detail", pk=finding.pk)


@login_required
@require_POST
def acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    return _handle(request, pk, services.finding_acknowledge)


@login_required
@require_POST
def dismiss(request: HttpRequest, pk: int) -> HttpResponse:
    return _handle(request, pk, services.finding_dismiss)


@login_required
@require_POST
def run(request: HttpRequest) -> HttpResponse:
    """Run every rule now (the nightly task does the same)."""
    _require(request)
    result = services.findings_run(actor=request.user)
    messages.success(
        request,
        gettext("Rules run: %(new)d new findings, %(updated)d found again.")
        % {"new": result.created, "updated": result.updated},
    )
    return redirect("findings:index")


class ThresholdsForm(forms.ModelForm):
    class Meta:
        model = FindingThresholds
        fields = FindingThresholds.field_names()

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        add_text_validators(self.fields)
        for field in self.fields.values():
            field.widget.attrs.setdefault("inputmode", "decimal")


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def thresholds(request: HttpRequest) -> HttpResponse:
    """The thresholds: HR changes them, auditors read them."""
    _require(request)
    row = selectors.thresholds()
    editable = can_change_finding_thresholds(request.user)
    status = 200
    if request.method == "POST":
        if not editable:
            raise PermissionDenied
        form = ThresholdsForm(request.POST, instance=FindingThresholds.objects.get(pk=row.pk))
        if form.is_valid():
            try:
                services.thresholds_update(actor=request.user, values=form.cleaned_data)
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, gettext("Thresholds saved."))
                return redirect(reverse("findings:thresholds"))
        status = 422
    else:
        form = ThresholdsForm(instance=row)
    if not editable:
        for field in form.fields.values():
            field.disabled = True
    return render(
        request, "oversight/thresholds.html", {"form": form, "editable": editable}, status=status
    )

"""Oversight findings (HR and auditor keys): list them, acknowledge or dismiss one.

`GET /api/v1/oversight/warnings?kind=&state=` lists the early warnings the key's user may
see (HR and auditors: all; a department head: those sent to them).

`GET /api/v1/oversight/findings?rule=&state=&severity=` → `{items, count, next}`, newest
period first, open and severe first within one; `POST …/{id}/acknowledge` (note optional)
and `…/{id}/dismiss` (note required) call the same services as the pages. Who may handle
which finding: ``ztk.oversight.rules.can_handle`` (403 ``permission_denied`` otherwise);
a handled finding answers 422 ``finding_not_open``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from ninja import Field, Path, Query, Router, Schema

from ztk.core.errors import NotFoundError, PermissionDeniedError
from ztk.core.parse import MAX_ID
from ztk.org.rules import can_see_findings
from ztk.oversight import presentation, selectors, services, warning_presentation, warning_selectors
from ztk.oversight.models import EarlyWarning, Finding

from .pagination import Page, PageParams, paginate
from .schemas import ErrorOut, Multiline

router = Router(tags=["oversight"])
ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
ID_PATH = "/oversight/findings/{int:finding_id}"
PathId = Annotated[int, Path(ge=1, le=MAX_ID, description="Finding id.")]

RuleCode = Literal[
    "frequent_corrector",
    "rubber_stamp",
    "cutoff_cluster",
    "repeated_reason",
    "buddy_punch",
    "hr_activity",
    "outside_fence",
    "implausible_jump",
    "new_device",
]
WarningCode = Literal["close_to_limit", "department_jump", "overdue_pileup", "silent_terminal"]


class EvidenceOut(Schema):
    kind: Literal["request", "punch", "audit", "day", "device"] = Field(
        ...,
        description="a correction request, a punch, an audit event (by its seq), an "
        "employee's day (id: the employee, note: the date) or a terminal (warnings)",
    )
    id: int
    at: datetime | None
    note: str
    tag: str = Field(..., description="why it is evidence: no_proof, bulk, off_hours, …")


class PersonOut(Schema):
    employee_no: str
    name: str


class FindingOut(Schema):
    id: int
    rule: RuleCode
    severity: Literal["low", "medium", "high"]
    state: Literal["open", "acknowledged", "dismissed"]
    subject: str = Field(..., description="who or what it is about, as shown on the page")
    summary: str = Field(..., description="the figures that made the rule fire, in words")
    employee: PersonOut | None
    other_employee: PersonOut | None = Field(..., description="the second of a buddy-punch pair")
    user: str | None = Field(..., description="the approver's or HR operator's login name")
    period_start: date
    period_end: date
    params: dict[str, Any] = Field(..., description="the rule's figures (docs/oversight.md)")
    evidence: list[EvidenceOut]
    note: str
    handled_by: str | None
    handled_at: datetime | None
    first_found_at: datetime
    last_found_at: datetime


def _person(employee: Any) -> dict[str, str] | None:
    if employee is None:
        return None
    return {"employee_no": employee.employee_no, "name": employee.name}


def finding_out(f: Finding) -> dict[str, Any]:
    return {
        "id": f.pk,
        "rule": f.rule,
        "severity": f.severity,
        "state": f.state,
        "subject": presentation.subject(f),
        "summary": presentation.summary(f),
        "employee": _person(f.employee),
        "other_employee": _person(f.other_employee),
        "user": f.user.get_username() if f.user is not None else None,
        "period_start": f.period_start,
        "period_end": f.period_end,
        "params": f.params or {},
        "evidence": [
            {
                "kind": e.get("kind"),
                "id": e.get("id"),
                "at": e.get("at"),
                "note": e.get("note", ""),
                "tag": e.get("tag", ""),
            }
            for e in (f.evidence or [])
            if isinstance(e, dict)
        ],
        "note": f.note,
        "handled_by": f.handled_by.get_username() if f.handled_by is not None else None,
        "handled_at": f.handled_at,
        "first_found_at": f.first_found_at,
        "last_found_at": f.last_found_at,
    }


class FindingFilter(PageParams):
    rule: RuleCode | None = Field(None, description="only this rule")
    state: Literal["open", "acknowledged", "dismissed"] | None = Field(
        None, description="only this state (default: every state)"
    )
    severity: Literal["low", "medium", "high"] | None = Field(
        None, description="only this severity"
    )


class FindingPage(Page):
    items: list[FindingOut]


class HandleIn(Schema):
    note: str = Multiline("", max_length=services.NOTE_MAX)


class DismissIn(Schema):
    note: str = Multiline(..., max_length=services.NOTE_MAX, min_length=1)


def _require(user: Any) -> None:
    if not can_see_findings(user):
        raise PermissionDeniedError()


def _get(user: Any, finding_id: int) -> Finding:
    _require(user)
    finding = selectors.finding_list().filter(pk=finding_id).first()
    if finding is None:
        raise NotFoundError()
    return finding


@router.get(
    "/oversight/findings",
    response={200: FindingPage, **ERRORS},
    summary="Oversight findings (HR and auditors), newest period first",
)
def findings_list(request, q: Query[FindingFilter]):
    _require(request.auth)
    rows = selectors.finding_list(rule=q.rule or "", state=q.state or "", severity=q.severity or "")
    return paginate(request, rows, q, finding_out)


@router.post(
    f"{ID_PATH}/acknowledge",
    response={200: FindingOut, **ERRORS},
    summary="Acknowledge an open finding (the note is optional)",
)
def finding_acknowledge(request, finding_id: PathId, payload: HandleIn):
    finding = services.finding_acknowledge(
        actor=request.auth, finding=_get(request.auth, finding_id), note=payload.note
    )
    return finding_out(_get(request.auth, finding.pk))


@router.post(
    f"{ID_PATH}/dismiss",
    response={200: FindingOut, **ERRORS},
    summary="Dismiss an open finding with a note saying why",
)
def finding_dismiss(request, finding_id: PathId, payload: DismissIn):
    finding = services.finding_dismiss(
        actor=request.auth, finding=_get(request.auth, finding_id), note=payload.note
    )
    return finding_out(_get(request.auth, finding.pk))


# --- early warnings -----------------------------------------------------------------------


class WarningOut(Schema):
    id: int
    kind: WarningCode
    severity: Literal["low", "medium", "high"]
    state: Literal["open", "resolved", "closed"]
    title: str = Field(..., description="the warning as its notification said it")
    summary: str
    subject: str
    employee: PersonOut | None
    department: str | None = Field(..., description="the department's code")
    user: str | None = Field(..., description="the approver's login name")
    terminal: str | None = Field(..., description="the terminal's serial number")
    head: PersonOut | None = Field(..., description="the department head it was sent to")
    period_start: date
    period_end: date
    params: dict[str, Any]
    evidence: list[EvidenceOut]
    url: str = Field(..., description="the warning's page")
    note: str
    handled_by: str | None
    handled_at: datetime | None
    raised_at: datetime


def warning_out(w: EarlyWarning) -> dict[str, Any]:
    return {
        "id": w.pk,
        "kind": w.kind,
        "severity": w.severity,
        "state": w.state,
        "title": warning_presentation.title(w),
        "summary": warning_presentation.summary(w),
        "subject": warning_presentation.subject(w),
        "employee": _person(w.employee),
        "department": w.department.code if w.department is not None else None,
        "user": w.user.get_username() if w.user is not None else None,
        "terminal": w.device.serial if w.device is not None else None,
        "head": _person(w.head),
        "period_start": w.period_start,
        "period_end": w.period_end,
        "params": w.params or {},
        "evidence": [
            {
                "kind": e.get("kind"),
                "id": e.get("id"),
                "at": e.get("at"),
                "note": e.get("note", ""),
                "tag": e.get("tag", ""),
            }
            for e in (w.evidence or [])
            if isinstance(e, dict)
        ],
        "url": warning_presentation.url(w),
        "note": w.note,
        "handled_by": w.handled_by.get_username() if w.handled_by is not None else None,
        "handled_at": w.handled_at,
        "raised_at": w.raised_at,
    }


class WarningFilter(PageParams):
    kind: WarningCode | None = Field(None, description="only this condition")
    state: Literal["open", "resolved", "closed"] | None = Field(
        None, description="only this state (default: every state)"
    )


class WarningPage(Page):
    items: list[WarningOut]


@router.get(
    "/oversight/warnings",
    response={200: WarningPage, **ERRORS},
    summary="Early warnings (HR and auditors: all; department heads: those sent to them)",
)
def warnings_list(request, q: Query[WarningFilter]):
    if not warning_selectors.can_see_warnings(request.auth):
        raise PermissionDeniedError()
    rows = warning_selectors.warning_list(user=request.auth, kind=q.kind or "", state=q.state or "")
    return paginate(request, rows, q, warning_out)

"""The approver's one inbox over the API: ``GET /api/v1/inbox``.

Every step waiting for the caller — corrections (补卡), leave, outings, business trips,
overtime and the cancellations of approved ones (撤销/销假) — in the order of the inbox page
(审批): overdue first, then expedited, then the longest waiting. The same reader as the
page (``corrections.page_selectors.one_inbox``). Deciding stays on each type's own
endpoint (``POST /api/v1/<type>/{id}/approve``), given by ``approve`` on each item.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from django.urls import reverse
from django.utils import timezone
from ninja import Field, Query, Router, Schema

from ztk.approvals.inboxes import InboxRow
from ztk.corrections import page_selectors as ps

from .pagination import Page, PageParams, paginate
from .schemas import ErrorOut, Text

router = Router(tags=["approvals"])
ERRORS = {401: ErrorOut, 403: ErrorOut, 422: ErrorOut}
TYPES = Literal["correction", "leave", "outing", "trip", "overtime", "cancellation"]
# Where each request type is decided over the API (the Decidable's name → its path).
APPROVE_PATHS = {"corrections": "corrections", "absences": "absences", "overtime": "overtime"}


class InboxQuery(PageParams):
    type: TYPES | None = Field(
        None, description="One request type; `cancellation`: every 撤销/销假 request."
    )
    q: str | None = Text(None, max_length=60, description="Employee name or number.")


class InboxPerson(Schema):
    employee_no: str
    name: str


class InboxItemOut(Schema):
    type: str = Field(..., description="correction, leave, outing, trip or overtime")
    type_label: str
    id: int
    employee: InboxPerson
    first_day: date
    last_day: date
    cancellation: bool = Field(..., description="Asks to cancel an approved request.")
    urgent: bool
    waiting_since: datetime | None
    deadline: datetime | None
    overdue: bool
    reason: str
    url: str = Field(..., description="The request's page.")
    approve: str = Field(..., description="POST here to approve the current step.")


class InboxPage(Page):
    items: list[InboxItemOut]


def _item(now: datetime):
    def convert(row: Any) -> dict[str, Any]:
        if isinstance(row, InboxRow):
            return {
                "type": row.type,
                "type_label": row.type_label,
                "id": row.pk,
                "employee": {"employee_no": row.employee_no, "name": row.employee_name},
                "first_day": row.first_day,
                "last_day": row.last_day,
                "cancellation": row.cancellation,
                "urgent": row.urgent,
                "waiting_since": row.waiting_since,
                "deadline": row.deadline,
                "overdue": row.overdue(now),
                "reason": row.reason,
                "url": row.url,
                "approve": f"/api/v1/{APPROVE_PATHS.get(row.source, row.source)}/{row.pk}/approve",
            }
        req = row.req
        return {
            "type": ps.CORRECTION,
            "type_label": row.type_label,
            "id": req.pk,
            "employee": {"employee_no": req.employee.employee_no, "name": req.employee.name},
            "first_day": req.date,
            "last_day": req.date,
            "cancellation": False,
            "urgent": req.expedited,
            "waiting_since": req.step_started_at,
            "deadline": row.deadline,
            "overdue": row.overdue,
            "reason": req.reason,
            "url": reverse("requests:detail", args=[req.pk]),
            "approve": f"/api/v1/corrections/{req.pk}/approve",
        }

    return convert


@router.get(
    "/inbox",
    response={200: InboxPage, **ERRORS},
    summary="Every request waiting for my decision, all types, overdue first",
)
def inbox(request, q: Query[InboxQuery]):
    now = timezone.now()
    filters = ps.InboxFilters(search=(q.q or "").strip(), type=q.type or "")
    rows, _truncated = ps.one_inbox(request.auth, filters, now=now)
    return paginate(request, rows, q, _item(now))

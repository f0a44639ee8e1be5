"""The monthly attendance report for payroll (HR or system-admin keys only).

`GET /api/v1/reports/monthly?period=2026-10&group=STD` → one row per employee with the
figures of ``ztk.reports.columns`` under their stable machine keys (plus one per leave type,
``leave_<code>_days`` / ``leave_<code>_hours``, listed in ``columns``), the totals, and
``complete``: true once the period is over and none of its days is provisional — payroll
should import only complete reports. ``format=csv`` returns the same rows as a CSV file
(UTF-8 with BOM; headers in ``lang``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from ninja import Field, Query, Router, Schema
from pydantic import BaseModel, ConfigDict, create_model

from ztk.core.errors import NotFoundError, PermissionDeniedError
from ztk.org.models import AttendanceGroup, Department
from ztk.org.rules import is_hr, is_sysadmin
from ztk.reports import columns as C
from ztk.reports import export
from ztk.reports.summary import department_totals, is_complete, monthly_summary, parse_period

from .schemas import CODE_PATTERN, ErrorOut, Period

router = Router(tags=["reports"])
ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
UNKNOWN_GROUP = "unknown_group"
UNKNOWN_DEPARTMENT = "unknown_department"

_TYPES: dict[str, Any] = {"int": int, "days": float, "hours": float}


def _figure(column: C.Column) -> tuple[Any, Any]:
    return (_TYPES[column.kind], Field(..., description=f"{column.zh} / {column.en}"))


LEAVE_TYPE_KEYS = (
    "按假别 / leave by type: one more number per leave type HR has configured (every active "
    "type, and an inactive one with approved leave in the period), keyed by the type's code "
    "and unit — `leave_<code>_days` for a day or half-day type (annual: `leave_annual_days`), "
    "`leave_<code>_hours` for an hour type (调休: `leave_compensatory_hours`). The response's "
    "`columns` lists them in HR's order with their Chinese and English labels and kind."
)


class FiguresBase(BaseModel):
    # The leave types' figures: keys that depend on HR's configuration (documented above).
    # A pydantic model, not ninja's Schema: Schema reads only the declared fields of a dict.
    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "description": LEAVE_TYPE_KEYS,
            "patternProperties": {C.LEAVE_KEY_PATTERN: {"type": "number"}},
        },
    )


Figures = create_model(  # the figures under their machine keys, typed from the column table
    "ReportFigures",
    __base__=FiguresBase,
    **{c.key: _figure(c) for c in C.ReportColumns().figures},  # type: ignore[call-overload]
)


class ReportRow(Figures):  # type: ignore[misc,valid-type]
    employee_no: str
    name: str
    department: str = Field(..., description="department name ('' when none)")
    department_code: str
    group: str = Field(..., description="attendance group name ('' when none)")
    group_code: str


class ReportTotals(Figures):  # type: ignore[misc,valid-type]
    employees: int


class DepartmentRow(ReportTotals):
    department_code: str
    department: str


class PeriodOut(Schema):
    start: date
    end: date


class ColumnOut(Schema):
    key: str
    zh: str
    en: str
    kind: str


class MonthlyOut(Schema):
    period: PeriodOut
    group: str | None
    department: str | None
    generated_at: datetime
    complete: bool = Field(
        ..., description="the period is over and no day in it is provisional any more"
    )
    columns: list[ColumnOut] = Field(
        ...,
        description="every column of the rows in order: the fixed figures, then one per leave "
        "type (HR's order, the type's unit), then outings and trips in days",
    )
    rows: list[ReportRow]
    totals: ReportTotals
    departments: list[DepartmentRow]


class MonthlyQuery(Schema):
    period: str = Period()
    group: str | None = Field(None, pattern=CODE_PATTERN, description="attendance group code")
    department: str | None = Field(
        None, pattern=CODE_PATTERN, description="department code (its sub-departments included)"
    )
    format: Literal["json", "csv"] = "json"
    lang: Literal["zh-hans", "en"] = Field("zh-hans", description="CSV header language")


@router.get(
    "/reports/monthly",
    response={200: MonthlyOut, **ERRORS},
    summary="Monthly attendance summary per employee (payroll)",
    openapi_extra={
        "responses": {
            200: {
                "description": "JSON, or a CSV file (UTF-8 with BOM) with format=csv",
                "content": {"text/csv": {"schema": {"type": "string"}}},
            }
        }
    },
)
def monthly(request, q: Query[MonthlyQuery]):
    user = request.auth
    if not (is_hr(user) or is_sysadmin(user)):
        raise PermissionDeniedError()
    start, end = parse_period(q.period)
    group = department = None
    if q.group:
        group = AttendanceGroup.objects.filter(code=q.group).first()
        if group is None:
            raise NotFoundError(
                _("There is no attendance group with this code."), code=UNKNOWN_GROUP
            )
    if q.department:
        department = Department.objects.filter(code=q.department).first()
        if department is None:
            raise NotFoundError(
                _("There is no department with this code."), code=UNKNOWN_DEPARTMENT
            )
    summaries = monthly_summary(
        period_start=start, period_end=end, group=group, department=department
    )
    if q.format == "csv":
        response = HttpResponse(
            export.csv_summary(summaries, q.lang), content_type=export.CSV_CONTENT_TYPE
        )
        name = export.file_name(start, "summary", q.lang, "csv")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    departments, grand = department_totals(summaries, lang=q.lang)
    return {
        "period": {"start": start, "end": end},
        "group": group.code if group else None,
        "department": department.code if department else None,
        "generated_at": timezone.now(),
        "complete": is_complete(summaries, end),
        "columns": [
            {"key": c.key, "zh": c.zh, "en": c.en, "kind": c.kind}
            for c in summaries.columns.summary
        ],
        "rows": [s.as_dict(summaries.columns) for s in summaries],
        "totals": {"employees": grand.employees, **grand.values},
        "departments": [d.as_dict() for d in departments],
    }

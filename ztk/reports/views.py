"""Report pages: the monthly summary with department totals and downloads, and the printable
personal attendance sheet (个人考勤表).

Views only parse the filters, check permission, call the selectors of ``summary.py`` and
render or hand the result to ``export.py``. HR and system admins see everything
(``ztk.org.rules.can_see_reports``); an employee may open and print their own sheet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from ztk.core.errors import DomainError, NotFoundError
from ztk.org.models import AttendanceGroup, Department, Employee
from ztk.org.rules import can_see_reports, employee_of, is_self
from ztk.org.selectors import employee_for

from . import columns as C
from . import export
from .summary import (
    company_settings,
    daily_detail,
    department_totals,
    is_complete,
    max_segments,
    monthly_summary,
    parse_period,
    period_label,
)

PAGE_SIZE = 100
# The workbook's 每日明细 sheet is written only up to this many employee-days (1,000
# people × 31 days); larger selections get the detail as CSV instead. The limit was set
# when openpyxl wrote the workbook (a minute for 310,000 days); ztk/core/xlsx.py is about
# ten times faster, so it could be raised (docs/reports.md).
DETAIL_XLSX_MAX_ROWS = 31_000
FILES = ("xlsx", "csv", "departments_csv", "detail_csv")


@dataclass
class Filters:
    period: str
    start: date
    end: date
    group: AttendanceGroup | None
    department: Department | None
    errors: list[str]

    def query(self) -> dict[str, str]:
        out = {"period": self.period}
        if self.group is not None:
            out["group"] = self.group.code
        if self.department is not None:
            out["department"] = self.department.code
        return out


def _require_reports(request: HttpRequest) -> None:
    if not can_see_reports(request.user):
        raise PermissionDenied


def _filters(request: HttpRequest) -> Filters:
    """Period (YYYY-MM, default the current one), group and department codes from the query."""
    errors: list[str] = []
    _name, start_day = company_settings()
    raw = request.GET.get("period", "").strip()[:7]
    try:
        start, end = parse_period(raw, start_day=start_day)
    except DomainError as exc:
        errors.append(exc.message)
        start, end = parse_period("", start_day=start_day)
    group = department = None
    code = request.GET.get("group", "").strip()[:32]
    if code:
        group = AttendanceGroup.objects.filter(code=code).first()
        if group is None:
            errors.append(
                _("There is no attendance group with the code %(code)s.") % {"code": code}
            )
    code = request.GET.get("department", "").strip()[:32]
    if code:
        department = Department.objects.filter(code=code).first()
        if department is None:
            errors.append(_("There is no department with the code %(code)s.") % {"code": code})
    return Filters(period_label(start), start, end, group, department, errors)


def _lang() -> str:
    return C.normalise_lang(get_language())


def _cell(column: C.Column, value: Any, *, short_date: bool = False) -> str:
    if value is None or value == "":
        return ""
    if column.kind == "date" and short_date:
        return f"{value:%m-%d}"
    if column.kind == "hours":
        return f"{value:.2f}"
    if column.kind == "days":
        return f"{value:g}"
    return str(value)


def _table(columns: tuple[C.Column, ...], rows: list[Any]) -> list[list[str]]:
    return [[_cell(c, row.value(c.key)) for c in columns] for row in rows]


@login_required
@require_safe
def monthly(request: HttpRequest) -> HttpResponse:
    """月度汇总: one row per employee, department totals and the downloads."""
    _require_reports(request)
    filters = _filters(request)
    summaries = monthly_summary(
        period_start=filters.start,
        period_end=filters.end,
        group=filters.group,
        department=filters.department,
    )
    lang = _lang()
    columns = summaries.columns
    departments, grand = department_totals(summaries, lang=lang)
    page = Paginator(summaries, PAGE_SIZE).get_page(request.GET.get("page"))
    provisional = sum(s.provisional_days for s in summaries)
    stored_days = sum(s.days for s in summaries)
    query = urlencode(filters.query())
    return render(
        request,
        "reports/monthly.html",
        {
            "filters": filters,
            "filter_query": query,
            "groups": AttendanceGroup.objects.order_by("code"),
            "departments_list": Department.objects.order_by("code"),
            "summary_columns": [c.label(lang) for c in columns.summary],
            "page": page,
            "page_rows": list(
                zip(page.object_list, _table(columns.summary, page.object_list), strict=True)
            ),
            "department_columns": [c.label(lang) for c in columns.departments],
            "department_rows": _table(columns.departments, departments),
            "grand_row": _table(columns.departments, [grand])[0],
            "employee_count": len(summaries),
            "provisional_days": provisional,
            "complete": is_complete(summaries, filters.end),
            "period_over": timezone.localdate() > filters.end,
            "detail_in_xlsx": stored_days <= DETAIL_XLSX_MAX_ROWS,
            "detail_limit": DETAIL_XLSX_MAX_ROWS,
            "header_lang": lang,
        },
    )


@login_required
@require_safe
def download(request: HttpRequest) -> HttpResponse:
    """The report as a file: ?file=xlsx|csv|departments_csv|detail_csv&lang=zh-hans|en."""
    _require_reports(request)
    filters = _filters(request)
    if filters.errors:
        return HttpResponse("\n".join(filters.errors), status=400, content_type="text/plain")
    kind = request.GET.get("file", "xlsx")
    if kind not in FILES:
        return HttpResponse(_("Unknown file type."), status=400, content_type="text/plain")
    lang = C.normalise_lang(request.GET.get("lang") or get_language())
    scope = {
        "period_start": filters.start,
        "period_end": filters.end,
        "group": filters.group,
        "department": filters.department,
    }
    if kind == "detail_csv":
        content = export.csv_detail(daily_detail(**scope, lang=lang), lang)
        return _attachment(content, export.file_name(filters.start, "detail", lang, "csv"))
    summaries = monthly_summary(**scope)
    if kind == "csv":
        content = export.csv_summary(summaries, lang)
        return _attachment(content, export.file_name(filters.start, "summary", lang, "csv"))
    departments, grand = department_totals(summaries, lang=lang)
    if kind == "departments_csv":
        content = export.csv_departments(departments, grand, lang, summaries.columns)
        return _attachment(content, export.file_name(filters.start, "departments", lang, "csv"))
    detail = None
    if sum(s.days for s in summaries) <= DETAIL_XLSX_MAX_ROWS:
        detail = daily_detail(**scope, lang=lang)
    content = export.xlsx_report(
        summaries=summaries, departments=departments, grand_total=grand, detail=detail, lang=lang
    )
    return _attachment(content, export.file_name(filters.start, "report", lang, "xlsx"))


def _attachment(content: bytes, name: str) -> HttpResponse:
    content_type = export.XLSX_CONTENT_TYPE if name.endswith(".xlsx") else export.CSV_CONTENT_TYPE
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "private, no-store"
    return response


# --- 个人考勤表 ---------------------------------------------------------------------------


@login_required
@require_safe
def my_sheet(request: HttpRequest) -> HttpResponse:
    """The signed-in employee's own sheet (a stable link for the employee's pages)."""
    me = employee_of(request.user)
    if me is None:
        raise Http404
    query = f"?{request.GET.urlencode()}" if request.GET else ""
    return redirect(reverse("reports:sheet", args=[me.employee_no]) + query)


def may_see_sheet(user: Any, employee: Employee) -> bool:
    return bool(is_self(user, employee) or can_see_reports(user))


@login_required
@require_safe
def sheet(request: HttpRequest, employee_no: str) -> HttpResponse:
    """个人考勤表: one employee's period on one printable A4 page, with signature lines."""
    try:  # 404 alike for unknown numbers and other people's sheets
        employee = employee_for(request.user, employee_no, may=may_see_sheet)
    except NotFoundError:
        raise Http404 from None
    filters = _filters(request)
    lang = _lang()
    summaries = monthly_summary(
        period_start=filters.start, period_end=filters.end, employees=[employee]
    )
    rows = daily_detail(
        period_start=filters.start, period_end=filters.end, employees=[employee], lang=lang
    )
    columns = C.detail_columns(max_segments(rows))[3:]  # no number / name / department
    summary = summaries[0] if summaries else None
    totals = [
        (c.label(lang), _cell(c, summary.value(c.key) if summary else 0))
        for c in summaries.columns.figures
        if c.key not in ("rest_days", "holiday_days")
    ]
    company, _start_day = company_settings()
    return render(
        request,
        "reports/sheet.html",
        {
            "employee": employee,
            "own": is_self(request.user, employee),
            "filters": filters,
            "company": company,
            "columns": [c.label(lang) for c in columns],
            "rows": [
                (row, [_cell(c, row.value(c.key), short_date=True) for c in columns])
                for row in rows
            ],
            "totals": totals,
            "summary": summary,
            "complete": summary is not None and is_complete([summary], filters.end),
            "printed_at": timezone.localtime(),
            "back_url": reverse("reports:monthly") if can_see_reports(request.user) else None,
        },
    )

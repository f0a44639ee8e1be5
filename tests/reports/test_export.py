"""XLSX and CSV files, opened the way a user's tools open them and checked cell by cell.

Expected rows are worked out in this module from the day tables of data.py with plain
sums (``expected_summary_row``), independently of ztk.reports.summary.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from tests.reports.data import LI, NOV_END, NOV_START, ZHANG, ZHAO, november
from ztk.reports import export
from ztk.reports.summary import daily_detail, department_totals, monthly_summary

pytestmark = pytest.mark.django_db

ZH_SUMMARY_HEADER = [
    "工号", "姓名", "部门", "考勤组", "应出勤天数", "实际出勤天数", "迟到次数", "迟到分钟",
    "严重迟到次数", "早退次数", "早退分钟", "上班缺卡次数", "下班缺卡次数", "旷工天数",
    "补卡次数", "手动补录次数", "全天请假天数", "请假(小时)", "外出(小时)", "出差(小时)",
    "出勤工时(小时)", "工作日加班(小时)", "休息日加班(小时)", "节假日加班(小时)", "休息天数",
    "节假日天数", "未定稿天数",
    "年假(天)", "病假(天)", "事假(天)", "婚假(天)", "产假(天)", "丧假(天)", "调休(小时)",
    "外出(天)", "出差(天)",  # 按假别 (issue 15): no request in this month
]  # fmt: skip
LEAVE_BY_TYPE_ZEROS = [0.0] * 9
EN_SUMMARY_HEADER = [
    "Employee no.", "Name", "Department", "Attendance group", "Required days",
    "Days attended", "Late (times)", "Late (minutes)", "Seriously late (times)",
    "Left early (times)", "Left early (minutes)", "Missing check-in (times)",
    "Missing check-out (times)", "Absent days", "Corrections (times)",
    "HR manual adds (times)", "Full leave days", "Leave (hours)", "Outing (hours)",
    "Business trip (hours)", "Worked (hours)", "Overtime on workdays (hours)",
    "Overtime on rest days (hours)", "Overtime on holidays (hours)", "Rest days", "Holidays",
    "Provisional days",
    "Annual leave (days)", "Sick leave (days)", "Personal leave (days)",
    "Marriage leave (days)", "Maternity leave (days)", "Bereavement leave (days)",
    "Time off in lieu (hours)", "Outing (days)", "Business trip (days)",
]  # fmt: skip
# Number format per summary column after the four text columns.
G = "General"  # whole numbers: Excel shows them as they are
FORMATS = [
    G, "0.0", G, G, G, G, G, G, G, "0.0", G, G, G, "0.00", "0.00", "0.00", "0.00",
    "0.00", "0.00", "0.00", G, G, G,
    "0.0", "0.0", "0.0", "0.0", "0.0", "0.0", "0.00", "0.0", "0.0",
]  # fmt: skip
PEOPLE = [
    # employee_no, name, department, days
    ("1000", "王部长", "研发部", []),
    ("1001", "李主管", "研发部", []),
    ("1002", "张三", "研发部", ZHANG),
    ("1003", "李四", "研发部", LI),
    ("2001", "赵六", "销售部", ZHAO),
    ("4001", "陈人事", "销售部", []),
    ("4002", "周审计", "销售部", []),
]


def expected_summary_row(no, name, dept, days):
    """The report's row worked out from a day table with plain sums."""
    work = [f for _n, kind, _s, f, _sl in days if kind == "work"]
    full_leave = [
        f
        for _n, kind, status, f, _sl in days
        if kind == "work" and status == "leave" and set(f.get("exempt", {})) == {"leave"}
    ]
    absent = sum(Decimal(f.get("absent", "0")) for f in work)

    def total(name, index=None):
        values = [f.get(name, (0, 0) if index is not None else 0) for f in work]
        return sum(v[index] if index is not None else v for v in values)

    def hours(kind):
        return round(sum(f.get("exempt", {}).get(kind, 0) for f in work) / 60, 2)

    return [
        no, name, dept, "标准工时组",
        len(work),
        float(len(work) - len(full_leave) - absent),
        total("late", 0), total("late", 1), total("serious"),
        total("early", 0), total("early", 1),
        total("missing_in"), total("missing_out"),
        float(absent),
        total("corrected"), total("manual"),
        len(full_leave),
        hours("leave"), hours("outing"), hours("trip"),
        round(total("worked") / 60, 2),
        0.0, 0.0, 0.0,  # no overtime in this month (tests/overtime has it)
        sum(1 for d in days if d[1] == "rest"),
        sum(1 for d in days if d[1] == "holiday"),
        sum(1 for f in work if f.get("provisional")),
        *LEAVE_BY_TYPE_ZEROS,
    ]  # fmt: skip


def values(ws):
    return [["" if c.value is None else c.value for c in row] for row in ws.iter_rows()]


def build(lang="zh-hans", detail=True):
    summaries = monthly_summary(period_start=NOV_START, period_end=NOV_END)
    departments, grand = department_totals(summaries, lang=lang)
    rows = daily_detail(period_start=NOV_START, period_end=NOV_END, lang=lang) if detail else None
    return summaries, departments, grand, rows


def test_the_xlsx_summary_sheet_cell_by_cell(org):
    # given
    november(org)
    summaries, departments, grand, rows = build()

    # when
    content = export.xlsx_report(
        summaries=summaries, departments=departments, grand_total=grand, detail=rows
    )

    # then
    wb = load_workbook(io.BytesIO(content))
    assert wb.sheetnames == ["月度汇总", "部门汇总", "每日明细"]
    ws = wb["月度汇总"]
    table = values(ws)
    assert table[0] == ZH_SUMMARY_HEADER
    assert table[1:] == [expected_summary_row(*p) for p in PEOPLE]
    # the hand-worked row of test_summary, once more as plain numbers
    assert table[3][4:8] == [20, 17.5, 3, 212]
    # look: bold frozen header, widths, number formats
    assert all(cell.font.b for cell in ws[1])
    assert ws.freeze_panes == "A2"
    assert ws.column_dimensions["A"].width == 10
    assert ws.column_dimensions["E"].width == 11
    assert [c.number_format for c in ws[4][4:]] == FORMATS


def test_the_xlsx_department_sheet_ends_with_the_bold_total(org):
    november(org)
    summaries, departments, grand, _rows = build(detail=False)

    content = export.xlsx_report(summaries=summaries, departments=departments, grand_total=grand)

    wb = load_workbook(io.BytesIO(content))
    assert wb.sheetnames == ["月度汇总", "部门汇总"]  # no detail given, no detail sheet
    ws = wb["部门汇总"]
    table = values(ws)
    assert table[0][:5] == ["部门编码", "部门", "人数", "应出勤天数", "实际出勤天数"]
    people = [expected_summary_row(*p) for p in PEOPLE]

    def summed(rows, column):
        total = sum(r[column] for r in rows)
        return round(total, 2) if isinstance(total, float) else total

    rd, sales = people[:4], people[4:]
    for line, code, name, members in (
        (table[1], "RD", "研发部", rd),
        (table[2], "SALES", "销售部", sales),
        (table[3], "", "合计", people),
    ):
        assert line[:3] == [code, name, len(members)]
        assert line[3:] == [summed(members, column) for column in range(4, 36)]
    assert all(cell.font.b for cell in ws[4])
    assert len(table) == 4


def test_the_xlsx_detail_sheet_cell_by_cell(org):
    november(org)
    summaries, departments, grand, rows = build()

    content = export.xlsx_report(
        summaries=summaries, departments=departments, grand_total=grand, detail=rows
    )

    ws = load_workbook(io.BytesIO(content))["每日明细"]
    table = values(ws)
    assert table[0] == [
        "工号", "姓名", "部门", "日期", "星期", "班次", "状态", "上班打卡", "下班打卡",
        "出勤分钟", "说明",
    ]  # fmt: skip
    expected_days = [
        (no, name, n, figures.get("worked", 0))
        for no, name, _dept, days in PEOPLE
        for n, _kind, _status, figures, _slots in days
    ]
    assert [(r[0], r[1], r[3].day, r[9]) for r in table[1:]] == expected_days
    assert table[3] == [
        "1002", "张三", "研发部", datetime(2026, 11, 3), "二", "白班", "异常",
        "09:17 迟到17分钟", "18:00 正常", 523, "上班：迟到 17 分钟。",
    ]  # fmt: skip
    assert table[10][6:9] == ["请假", "请假", "请假"]  # the 10th: status, in, out
    assert table[1][4:9] == ["日", "", "休息", "", ""]
    assert ws["D2"].number_format == "yyyy-mm-dd"


def test_the_xlsx_in_english(org):
    november(org)
    summaries, departments, grand, rows = build("en")

    content = export.xlsx_report(
        summaries=summaries, departments=departments, grand_total=grand, detail=rows, lang="en"
    )

    wb = load_workbook(io.BytesIO(content))
    assert wb.sheetnames == ["Monthly summary", "Departments", "Daily detail"]
    assert values(wb["Monthly summary"])[0] == EN_SUMMARY_HEADER
    assert values(wb["Departments"])[3][:3] == ["", "Total", 7]
    detail = values(wb["Daily detail"])
    assert detail[0][3:9] == ["Date", "Weekday", "Shift", "Status", "Check-in", "Check-out"]
    assert detail[3][4:9] == ["Tue", "白班", "Abnormal", "09:17 Late 17 min", "18:00 Normal"]


def read_csv(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def test_the_csv_has_a_bom_and_chinese_headers(org):
    november(org)
    summaries, *_ = build(detail=False)

    content = export.csv_summary(summaries, "zh-hans")

    assert content.startswith(b"\xef\xbb\xbf")  # Excel reads it as UTF-8
    assert b"\r\n" in content
    table = read_csv(content)
    assert table[0] == ZH_SUMMARY_HEADER
    as_text = [[str(v) for v in expected_summary_row(*p)] for p in PEOPLE]
    assert table[1:] == as_text
    assert table[3][:8] == ["1002", "张三", "研发部", "标准工时组", "20", "17.5", "3", "212"]


def test_the_csv_in_english_and_the_other_tables(org):
    november(org)
    summaries, departments, grand, rows = build("en")

    summary = read_csv(export.csv_summary(summaries, "en"))
    totals = read_csv(export.csv_departments(departments, grand, "en"))
    detail = read_csv(export.csv_detail(rows, "en"))

    assert summary[0] == EN_SUMMARY_HEADER
    assert totals[0][:3] == ["Department code", "Department", "Employees"]
    assert totals[-1][:5] == ["", "Total", "7", "24", "20.5"]
    assert detail[0][:4] == ["Employee no.", "Name", "Department", "Date"]
    assert detail[3][:9] == [
        "1002", "张三", "研发部", "2026-11-03", "Tue", "白班", "Abnormal",
        "09:17 Late 17 min", "18:00 Normal",
    ]  # fmt: skip
    assert len(detail) == 1 + 27 + 3 + 2


def test_file_names_say_period_table_and_language():
    from datetime import date

    assert export.file_name(date(2026, 10, 1), "report", "zh-hans", "xlsx") == (
        "attendance-2026-10-zh.xlsx"
    )
    assert export.file_name(date(2026, 10, 26), "summary", "en", "csv") == (
        "attendance-2026-10-summary-en.csv"
    )

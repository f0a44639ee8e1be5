"""The report workbook, cell by cell and style by style, against hand-written expectations.

Written before the workbook writer was replaced (openpyxl's write-only mode → the project's
streaming writer, ``ztk/core/xlsx.py``) and passing with both: what a user sees in the file —
sheet names, headers, values, number formats, bold header and total rows, the header fill,
column widths, the frozen header row and the printed title row — is unchanged.

The rows are built by hand (no database): two employees, one with a name that a spreadsheet
would take for a formula, and one day of detail.
"""

from __future__ import annotations

import io
from datetime import date, datetime

from openpyxl import load_workbook

from ztk.reports import columns as C
from ztk.reports import export
from ztk.reports.summary import DetailRow, EmployeeSummary, department_totals

ANNUAL = C.Column("leave_annual_days", "年假(天)", "Annual leave (days)", "days", 10, True)
TOIL = C.Column("leave_compensatory_hours", "调休(小时)", "Time off in lieu (hours)", "hours",
                10, True)  # fmt: skip
WEDDING = C.Column("leave_wedding_days", "婚礼假(天)", "Wedding leave (days)", "days", 10, True)
LEAVE = (ANNUAL, TOIL, WEDDING)

HEADER = [
    "工号", "姓名", "部门", "考勤组", "应出勤天数", "实际出勤天数", "迟到次数", "迟到分钟",
    "严重迟到次数", "早退次数", "早退分钟", "上班缺卡次数", "下班缺卡次数", "旷工天数",
    "补卡次数", "手动补录次数", "全天请假天数", "请假(小时)", "外出(小时)", "出差(小时)",
    "出勤工时(小时)", "工作日加班(小时)", "休息日加班(小时)", "节假日加班(小时)", "休息天数",
    "节假日天数", "未定稿天数", "年假(天)", "调休(小时)", "婚礼假(天)", "外出(天)", "出差(天)",
]  # fmt: skip
ZHANG_ROW = [
    "1002", "张三", "研发部", "标准工时组", 21, 19.5, 2, 17, 0, 1, 5, 0, 1, 0.5, 1, 0, 1,
    12.0, 2.5, 0.0, 160.25, 3.5, 8.5, 0.0, 10, 0, 0, 1.5, 3.0, 2.0, 0.0, 1.0,
]  # fmt: skip
FORMULA_ROW = [
    "1003", "'=HYPERLINK(\"x\")", "", "", 0, 0.0, 0, 0, 0, 0, 0, 0, 0, 0.0, 0, 0, 0,
    0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0, 0, 0, 0.0, 0.0, 0.0, 0.0, 0.0,
]  # fmt: skip
G = "General"
# Number format per summary column: text and whole numbers General, days 0.0, hours 0.00.
FORMATS = [
    G, G, G, G, G, "0.0", G, G, G, G, G, G, G, "0.0", G, G, G, "0.00", "0.00", "0.00",
    "0.00", "0.00", "0.00", "0.00", G, G, G, "0.0", "0.00", "0.0", "0.0", "0.0",
]  # fmt: skip
WIDTHS = [10, 12, 16, 14, 11, 12, 9, 9, 12, 9, 9, 12, 12, 9, 9, 12, 12, 10, 10, 10, 12, 12,
          12, 12, 9, 10, 10, 10, 10, 10, 10, 10]  # fmt: skip


def people() -> list[EmployeeSummary]:
    zhang = EmployeeSummary(1, "1002", "张三", "RD", "研发部", "STD", "标准工时组")
    figures = {
        "required_days": 21, "attended_days": 19.5, "late_count": 2, "late_minutes": 17,
        "early_count": 1, "early_minutes": 5, "missing_out_count": 1, "absent_days": 0.5,
        "corrected_count": 1, "leave_days": 1, "leave_hours": 12.0, "outing_hours": 2.5,
        "worked_hours": 160.25, "overtime_weekday_hours": 3.5, "overtime_rest_hours": 8.5,
        "rest_days": 10, "days": 31,
    }  # fmt: skip
    for key, value in figures.items():
        setattr(zhang, key, value)
    zhang.leave.update(
        leave_annual_days=1.5, leave_compensatory_hours=3.0, leave_wedding_days=2.0,
        leave_trip_days=1.0,
    )  # fmt: skip
    formula = EmployeeSummary(2, "1003", '=HYPERLINK("x")', "", "", "", "")
    return [zhang, formula]


def workbook(lang: str = "zh-hans"):
    summaries = people()
    columns = C.report_columns(LEAVE)
    departments, grand = department_totals(summaries, lang=lang, columns=columns)
    detail = [
        DetailRow("1002", "张三", "研发部", date(2026, 11, 2), "一", "标准班", "正常", "normal",
                  False, {"in1": "08:55 正常", "out1": "18:02 正常"}, 487, "", 1),
    ]  # fmt: skip
    content = export.xlsx_report(
        summaries=summaries,
        departments=departments,
        grand_total=grand,
        detail=detail,
        lang=lang,
        columns=columns,
    )
    return load_workbook(io.BytesIO(content))


def values(ws):
    return [[c.value for c in row] for row in ws.iter_rows()]


def test_the_summary_sheet_looks_as_it_did():
    wb = workbook()
    assert wb.sheetnames == ["月度汇总", "部门汇总", "每日明细"]
    ws = wb["月度汇总"]
    rows = values(ws)
    assert rows[0] == HEADER
    blank = [None if v == "" else v for v in FORMULA_ROW]
    assert rows[1:] == [ZHANG_ROW, blank]
    assert [c.number_format for c in ws[2]] == FORMATS
    header = ws[1]
    assert all(c.font.b for c in header)
    assert {c.fill.fgColor.rgb[-6:] for c in header} == {"DDEBF7"}
    assert {c.fill.fill_type for c in header} == {"solid"}
    assert {(c.alignment.horizontal, c.alignment.vertical, c.alignment.wrap_text)
            for c in header} == {("center", "center", True)}  # fmt: skip
    assert not any(c.font.b for c in ws[2])
    assert ws.freeze_panes == "A2"
    assert ws.print_title_rows == "$1:$1"
    widths = [ws.column_dimensions[chr(ord("A") + i)].width for i in range(26)]
    widths += [ws.column_dimensions["A" + chr(ord("A") + i)].width for i in range(6)]
    assert widths == WIDTHS


def test_the_department_sheet_ends_with_the_bold_total():
    ws = workbook()["部门汇总"]
    rows = values(ws)
    assert rows[0][:5] == ["部门编码", "部门", "人数", "应出勤天数", "实际出勤天数"]
    assert rows[0][-5:] == ["年假(天)", "调休(小时)", "婚礼假(天)", "外出(天)", "出差(天)"]
    assert [r[:6] for r in rows[1:]] == [
        [None, "(无部门)", 1, 0, 0.0, 0],
        ["RD", "研发部", 1, 21, 19.5, 2],
        [None, "合计", 2, 21, 19.5, 2],
    ]
    assert rows[3][-5:] == [1.5, 3.0, 2.0, 0.0, 1.0]
    assert all(c.font.b for c in ws[4])
    assert not any(c.font.b for c in ws[3])
    assert [c.number_format for c in ws[4][3:6]] == [G, "0.0", G]
    assert ws.freeze_panes == "A2"


def test_the_detail_sheet_keeps_its_date_format():
    ws = workbook()["每日明细"]
    rows = values(ws)
    assert rows == [
        ["工号", "姓名", "部门", "日期", "星期", "班次", "状态", "上班打卡", "下班打卡",
         "出勤分钟", "说明"],
        ["1002", "张三", "研发部", datetime(2026, 11, 2), "一", "标准班", "正常",
         "08:55 正常", "18:02 正常", 487, None],
    ]  # fmt: skip
    assert ws["D2"].number_format == "yyyy-mm-dd"
    assert ws.column_dimensions["K"].width == 60


def test_english_sheet_names_and_headers():
    wb = workbook("en")
    assert wb.sheetnames == ["Monthly summary", "Departments", "Daily detail"]
    header = values(wb["Monthly summary"])[0]
    assert header[:3] == ["Employee no.", "Name", "Department"]
    assert header[-5:] == [
        "Annual leave (days)", "Time off in lieu (hours)", "Wedding leave (days)",
        "Outing (days)", "Business trip (days)",
    ]  # fmt: skip

"""The one column table of the reports: machine key, Chinese and English label, format.

Every output — the XLSX sheets, the CSV files, the pages and the payroll API — takes its
columns from here, so a key means the same thing everywhere and a header is translated in
one place. Labels are data, not UI strings: an export's header language is chosen by the
caller (``lang="zh-hans"`` or ``"en"``), independently of the language of the page.
"""

from __future__ import annotations

from dataclasses import dataclass

ZH = "zh-hans"
EN = "en"
LANGS = (ZH, EN)


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    zh: str
    en: str
    kind: str = "text"  # text | int | days | hours | date
    width: int = 10  # XLSX column width in characters
    total: bool = False  # summed in department totals

    def label(self, lang: str = ZH) -> str:
        return self.en if lang == EN else self.zh

    @property
    def number_format(self) -> str | None:
        return NUMBER_FORMATS.get(self.kind)


# Whole numbers stay in Excel's General format, which shows them exactly as "0" would:
# a styled cell costs openpyxl several times a plain one, and 10,000 rows hold 150,000
# whole-number cells. Days keep one decimal, hours two, dates their ISO shape.
NUMBER_FORMATS = {"days": "0.0", "hours": "0.00", "date": "yyyy-mm-dd"}


def normalise_lang(lang: str | None) -> str:
    """'en', 'en-us' → 'en'; anything else (zh-hans, zh-cn, None) → 'zh-hans'."""
    return EN if (lang or "").lower().startswith("en") else ZH


# --- 月度汇总: one row per employee ------------------------------------------------------

IDENTITY = (
    Column("employee_no", "工号", "Employee no.", width=10),
    Column("name", "姓名", "Name", width=12),
    Column("department", "部门", "Department", width=16),
    Column("group", "考勤组", "Attendance group", width=14),
)

# The figures every report has; ReportColumns.figures adds the leave types' columns.
FIXED_FIGURES = (
    Column("required_days", "应出勤天数", "Required days", "int", 11, True),
    Column("attended_days", "实际出勤天数", "Days attended", "days", 12, True),
    Column("late_count", "迟到次数", "Late (times)", "int", 9, True),
    Column("late_minutes", "迟到分钟", "Late (minutes)", "int", 9, True),
    Column("serious_late_count", "严重迟到次数", "Seriously late (times)", "int", 12, True),
    Column("early_count", "早退次数", "Left early (times)", "int", 9, True),
    Column("early_minutes", "早退分钟", "Left early (minutes)", "int", 9, True),
    Column("missing_in_count", "上班缺卡次数", "Missing check-in (times)", "int", 12, True),
    Column("missing_out_count", "下班缺卡次数", "Missing check-out (times)", "int", 12, True),
    Column("absent_days", "旷工天数", "Absent days", "days", 9, True),
    Column("corrected_count", "补卡次数", "Corrections (times)", "int", 9, True),
    Column("manual_count", "手动补录次数", "HR manual adds (times)", "int", 12, True),
    Column("leave_days", "全天请假天数", "Full leave days", "int", 12, True),
    Column("leave_hours", "请假(小时)", "Leave (hours)", "hours", 10, True),
    Column("outing_hours", "外出(小时)", "Outing (hours)", "hours", 10, True),
    Column("trip_hours", "出差(小时)", "Business trip (hours)", "hours", 10, True),
    Column("worked_hours", "出勤工时(小时)", "Worked (hours)", "hours", 12, True),
    Column("rest_days", "休息天数", "Rest days", "int", 9, True),
    Column("holiday_days", "节假日天数", "Holidays", "int", 10, True),
    Column("provisional_days", "未定稿天数", "Provisional days", "int", 10, True),
)

# Overtime that counts (approved, or computed when the group needs no request), by the
# category of the day it was worked on (中国劳动法 art. 44: 1.5× / 2× / 3×). docs/overtime.md.
OVERTIME = (
    Column("overtime_weekday_hours", "工作日加班(小时)", "Overtime on workdays (hours)",
           "hours", 12, True),
    Column("overtime_rest_hours", "休息日加班(小时)", "Overtime on rest days (hours)",
           "hours", 12, True),
    Column("overtime_holiday_hours", "节假日加班(小时)", "Overtime on holidays (hours)",
           "hours", 12, True),
)  # fmt: skip
# before the rest / holiday / provisional days
FIXED_FIGURES = FIXED_FIGURES[:-3] + OVERTIME + FIXED_FIGURES[-3:]

# 按假别 (reports/leave_columns.py): one column per leave type HR has configured — the active
# types and any inactive one with approved leave in the period — in HR's order and in the
# type's unit, keyed ``leave_<code>_days`` or ``leave_<code>_hours``; then outings and
# business trips asked in days (those asked in hours are in outing_hours / trip_hours).
ABSENCE_DAYS = (
    Column("leave_outing_days", "外出(天)", "Outing (days)", "days", 10, True),
    Column("leave_trip_days", "出差(天)", "Business trip (days)", "days", 10, True),
)
# Keys a leave type's column may not take (a type coded "outing" or "trip" gets
# ``leave_<code>_leave_days`` instead).
RESERVED_KEYS = frozenset(c.key for c in (*IDENTITY, *FIXED_FIGURES, *ABSENCE_DAYS))
LEAVE_KEY_PATTERN = r"^leave_[a-z0-9_-]+_(days|hours)$"


def leave_type_column(code: str, hours: bool, zh: str, en: str) -> Column:
    """The column of one leave type: ``leave_<code>_days`` (天) or ``leave_<code>_hours``."""
    unit = "hours" if hours else "days"
    key = f"leave_{code}_{unit}"
    if key in RESERVED_KEYS:
        key = f"leave_{code}_leave_{unit}"
    zh_unit, en_unit = ("小时", "hours") if hours else ("天", "days")
    return Column(key, f"{zh}({zh_unit})", f"{en} ({en_unit})", unit, 10, True)


DEPARTMENT_HEAD = (
    Column("department_code", "部门编码", "Department code", width=14),
    Column("department", "部门", "Department", width=16),
    Column("employees", "人数", "Employees", "int", 8),
)


@dataclass(frozen=True, slots=True)
class ReportColumns:
    """The columns of one monthly report: the fixed figures, then one column per leave
    type (``leave``), then outings and trips in days."""

    leave: tuple[Column, ...] = ()

    @property
    def figures(self) -> tuple[Column, ...]:
        return FIXED_FIGURES + self.leave + ABSENCE_DAYS

    @property
    def summary(self) -> tuple[Column, ...]:
        return IDENTITY + self.figures

    @property
    def departments(self) -> tuple[Column, ...]:
        return DEPARTMENT_HEAD + self.figures

    @property
    def total_keys(self) -> tuple[str, ...]:
        return tuple(c.key for c in self.figures if c.total)

    @property
    def by_type_keys(self) -> tuple[str, ...]:
        """按假别: the leave types' columns and the outing / trip days."""
        return tuple(c.key for c in self.leave + ABSENCE_DAYS)


def report_columns(leave: tuple[Column, ...] = ()) -> ReportColumns:
    return ReportColumns(tuple(leave))


# --- 每日明细: one row per employee-day --------------------------------------------------

DETAIL_HEAD = (
    Column("employee_no", "工号", "Employee no.", width=10),
    Column("name", "姓名", "Name", width=12),
    Column("department", "部门", "Department", width=16),
    Column("date", "日期", "Date", "date", 11),
    Column("weekday", "星期", "Weekday", width=7),
    Column("shift", "班次", "Shift", width=14),
    Column("status", "状态", "Status", width=14),
)
DETAIL_TAIL = (
    Column("worked_minutes", "出勤分钟", "Worked (minutes)", "int", 10),
    Column("explanation", "说明", "Explanation", width=60),
)


def detail_columns(segments: int = 1) -> tuple[Column, ...]:
    """The detail columns with one check-in and one check-out column per shift segment."""
    slots: list[Column] = []
    for n in range(1, max(1, segments) + 1):
        suffix = str(n) if segments > 1 else ""
        slots.append(Column(f"in{n}", f"上班打卡{suffix}", f"Check-in {suffix}".strip(), width=16))
        slots.append(
            Column(f"out{n}", f"下班打卡{suffix}", f"Check-out {suffix}".strip(), width=16)
        )
    return DETAIL_HEAD + tuple(slots) + DETAIL_TAIL


# --- words used inside cells (export language, not page language) ------------------------

WEEKDAYS = {
    ZH: ("一", "二", "三", "四", "五", "六", "日"),
    EN: ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
}
DAY_STATUS = {
    "normal": ("正常", "Normal"),
    "abnormal": ("异常", "Abnormal"),
    "absent": ("旷工", "Absent"),
    "rest": ("休息", "Rest day"),
    "holiday": ("节假日", "Holiday"),
    "leave": ("请假", "Leave"),
}
PROVISIONAL = ("未定稿", "provisional")
EXEMPTION = {
    "leave": ("请假", "Leave"),
    "outing": ("外出", "Outing"),
    "trip": ("出差", "Business trip"),
}
SLOT_STATUS = {
    "normal": ("正常", "Normal"),
    "late": ("迟到{m}分钟", "Late {m} min"),
    "early": ("早退{m}分钟", "Left {m} min early"),
    "missing": ("缺卡", "Missing"),
    "corrected": ("补卡", "Corrected"),
    "manual": ("手动补录", "Added by HR"),
    "exempt": ("免打卡", "Exempt"),
    "pending": ("未打卡", "Not yet punched"),
}
# Where a corrected slot's punch came from (the punch source), shown after 补卡.
CORRECTION_SOURCE = {
    "correction": ("申请", "request"),
    "paper": ("纸质", "paper form"),
    "history": ("导入", "import"),
}
TOTAL_LABEL = ("合计", "Total")
NO_DEPARTMENT = ("(无部门)", "(no department)")


def word(table: dict[str, tuple[str, str]], key: str, lang: str) -> str:
    pair = table.get(key)
    if pair is None:
        return key
    return pair[1] if lang == EN else pair[0]


def pick(pair: tuple[str, str], lang: str) -> str:
    return pair[1] if lang == EN else pair[0]

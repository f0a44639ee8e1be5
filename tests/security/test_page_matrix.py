"""Who may open and send what: every web page × every role, GET and POST, as one table.

The pages are enumerated from the URL resolver: a page without a row fails
``test_every_page_has_a_row`` (so a new page cannot be forgotten), and a row naming a page
that no longer exists fails ``test_rows_name_real_pages``. Terminals (/iclock/) and the
JSON API have their own matrices (tests/devices, tests/api/test_authorization.py); the
Django admin's model pages are swept by ``test_admin_model_pages`` below.

Roles (tests/security/page_world.py): anonymous, the employee 张三, an employee of another
department, 张三's supervisor, the supervisor of another team, the head of 张三's
department, HR, the auditor and a superuser. Rows name objects — 张三's day, another
department's day, 张三's request waiting for his supervisor, another team's request — so
each cell checks object-level access, not only the section.

Outcomes: ``LOGIN`` (302 to the log-in page), ``REDIRECT`` (302 elsewhere: a form that
worked or sends you on), or the HTTP status. The rules the expectations follow (the
product's): employees see only their own data; supervisors and department heads that of
their reports and departments; HR everything; the auditor the audit log; the superuser is
the system admin (settings, terminals, reports, every request) with no attendance of their
own. Whoever may not see an object gets 404 where its existence is private (requests,
files) or named by an employee number (a probe must not learn who works here:
`org.selectors.employee_for`), 403 where the section is closed.

The organisation is built once per module; every cell runs inside a savepoint that is
rolled back, so one role's write never changes the next cell. A refused cell must write no
audit event.
"""

from __future__ import annotations

from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from ztk.oversight.checks import Limits

from .page_world import NOW, ROLES, PageWorld, build, png

# Each test runs in its own savepoint inside the module's transaction (see `world`).
pytestmark = pytest.mark.django_db

LOGIN = "login"
REDIRECT = "redirect"
SIGNED_IN = ROLES[1:]

# Namespaces with their own matrices, and why.
ELSEWHERE = {
    "admin": "the Django admin: test_admin_model_pages below, tests/web/test_access.py",
    "api": "the JSON API: tests/api/test_authorization.py",
    "iclock": "terminal protocol (no session, no roles): tests/devices",
}


def signed_in(outcome: Any, **by_role: Any) -> dict[str, Any]:
    """`outcome` for every signed-in role except those named; anonymous → the log-in page."""
    assert set(by_role) <= set(ROLES), by_role
    return {**dict.fromkeys(SIGNED_IN, outcome), "anonymous": LOGIN, **by_role}


def only(outcome: Any, *roles: str, others: Any = 403, **by_role: Any) -> dict[str, Any]:
    """`outcome` for the named roles, `others` (403) for the rest signed in."""
    return signed_in(others, **{**dict.fromkeys(roles, outcome), **by_role})


def everyone(outcome: Any) -> dict[str, Any]:
    return dict.fromkeys(ROLES, outcome)


Body = dict[str, Any] | None


class CsvText(str):
    """A CSV file's text in a row's body: sent as a fresh upload in each cell."""


@dataclass(frozen=True)
class Page:
    name: str  # the URL name, namespace:name
    path: str  # the request path; "{name}" is an id of the PageWorld
    get: dict[str, Any]
    post: dict[str, Any]
    body: Body = None  # the POST body (files as page_world.png())
    case: str = ""

    @property
    def label(self) -> str:
        return f"{self.name} [{self.case}]" if self.case else self.name


HR_ONLY = ("hr",)
ADMINS = ("hr", "superuser")
GEOFENCE_FORM = {
    "code": "GATE",
    "name": "大门",
    "latitude": "31.2304",
    "longitude": "121.4737",
    "radius_m": "200",
    "active": "1",
    "groups": ["STD"],
}
NOT_ALLOWED = signed_in(405)  # the method is refused (after the log-in check)

GET_ONLY = signed_in(405)  # a page that only shows: POST is refused
POST_ONLY = signed_in(405)  # an action: GET is refused
SETTINGS_READERS = ("hr", "auditor", "superuser")  # settings pages: the auditor reads
HR_PAGE = only(200, *ADMINS)  # HR's desk pages: HR and the system admin
HR_ACTION = only(REDIRECT, *ADMINS)  # … and their actions (done, back to the page)
DAY = "2026-11-23"
FINDINGS_READERS = ("hr", "auditor")  # oversight findings: HR and auditors
FINDINGS_PAGE = only(200, *FINDINGS_READERS)
WARNINGS_READERS = ("hr", "auditor", "head")  # early warnings: + the head they were sent to
WARNINGS_PAGE = only(200, *WARNINGS_READERS)
ANALYTICS_PAGE = only(200, "hr", "head")  # analytics: HR, and department heads (scoped)
THRESHOLDS_FORM = {name: str(getattr(Limits(), name)) for name in Limits.__dataclass_fields__}
PERIOD = "/hr/periods/{group}/2026-11-01"
NEW_FOR_ZHANG = "/requests/new/?day=2026-11-24&slot=out1&employee=1002"
SUBMISSION = {
    "day": "2026-11-24",
    "employee": "1002",
    "slot": "out1",
    "time_out1": "18:05",
    "category": "forgot",
    "reason": "下班忘记打卡了",
}
OVERTIME_FORM = {
    "day": "2026-11-24",
    "employee": "1002",
    "start": "18:00",
    "end": "20:30",
    "compensation": "pay",
    "reason": "赶项目上线",
}
GROUP_FORM = {
    "name": "标准工时组",
    "time_zone": "Asia/Shanghai",
    "day_boundary_hour": "2",
    "active": "1",
    "web_punch_enabled": "1",
    "outside_rule": "field",
}
SHIFT_FORM = {
    "code": "N1",
    "name": "夜班",
    "kind": "fixed",
    "seg-0-start": "22:00",
    "seg-0-end": "06:00",
    **{
        f"seg-0-{name}": value
        for name, value in [("in_earliest", 120), ("out_latest", 240), ("grace_in", 0)]
        + [("grace_out", 0), ("late_as_missing", 120), ("early_as_missing", 120)]
        + [("serious_late", 30)]
    },
}
POLICY_FORM = {
    "monthly_limit": "5",
    "window_days": "3",
    "window_mode": "calendar",
    "correct_missing": "on",
    "min_reason_length": "5",
    "self_apply": "on",
    "chain_preset": "single",
    "cat-0-code": "forgot",
    "cat-0-name": "忘记打卡",
    "cat-0-active": "1",
}
# A public address written as an IP, so saving it needs no DNS.
WEBHOOK_FORM = {
    "name": "工资系统",
    "url": "https://93.184.216.34/payroll",
    "events": "period.closed",
    "active": "on",
}
# The people who may see 张三's requests and files: himself, his supervisor and head, HR,
# the system admin; everyone else signed in gets 404 (the request is private).
ZHANG_VIEWERS = ("employee", "supervisor", "head", "hr", "superuser")
ZHAO_VIEWERS = ("other_department", "other_supervisor", "hr", "superuser")

PAGES: list[Page] = [
    # --- accounts: signing in and out works for anyone; the rest is one's own account ------
    Page(
        "accounts:login",
        "/accounts/login/",
        get={**everyone(REDIRECT), "anonymous": 200},  # signed in: sent on
        post={**everyone(REDIRECT), "anonymous": 200},  # wrong password: the form again
        body={"username": "employee", "password": "wrong"},
    ),
    Page(
        "accounts:login_code",
        "/accounts/login/code/",
        get=everyone(LOGIN),  # no password entered first: back to the log-in page
        post=everyone(LOGIN),
        body={"code": "123456"},
    ),
    Page("accounts:logout", "/accounts/logout/", get=everyone(405), post=everyone(LOGIN)),
    Page(
        "accounts:password_change", "/accounts/password/", get=signed_in(200), post=signed_in(200)
    ),
    Page("accounts:otp_setup", "/accounts/otp/", get=signed_in(200), post=signed_in(200)),
    Page(
        "accounts:lockouts",
        "/accounts/lockouts/",
        get=only(200, *ADMINS),
        post=only(REDIRECT, *ADMINS),
        body={"username": "employee"},
    ),
    # --- attendance: one's own; a report's for supervisors and heads; anyone's for HR -------
    Page("attendance:home", "/attendance/", get=signed_in(200), post=GET_ONLY),
    Page(
        "attendance:day",
        f"/attendance/day/{DAY}/",
        get=signed_in(200, superuser=404),  # the superuser has no attendance of their own
        post=GET_ONLY,
    ),
    Page(
        "attendance:employee_day",
        f"/attendance/people/1002/{DAY}/",
        get=only(200, *ZHANG_VIEWERS, others=404),
        post=GET_ONLY,
        case="张三's day",
    ),
    Page(
        "attendance:employee_day",
        f"/attendance/people/1003/{DAY}/",
        get=only(200, "supervisor", "head", "hr", "superuser", others=404),
        post=GET_ONLY,
        case="a colleague's day (same team)",
    ),
    Page(
        "attendance:employee_day",
        f"/attendance/people/2001/{DAY}/",
        get=only(200, *ZHAO_VIEWERS, others=404),
        post=GET_ONLY,
        case="another department's day",
    ),
    Page(
        "attendance:employee_month",
        "/attendance/people/1002/",
        get=only(200, *ZHANG_VIEWERS, employee=REDIRECT, others=404),  # one's own: to /
        post=GET_ONLY,
        case="张三's month",
    ),
    Page(
        "attendance:employee_month",
        "/attendance/people/2001/",
        get=only(200, *ZHAO_VIEWERS, other_department=REDIRECT, others=404),
        post=GET_ONLY,
        case="another department's month",
    ),
    Page("attendance:lookup", "/attendance/lookup/?q=%E5%BC%A0", get=HR_PAGE, post=GET_ONLY),
    Page(
        "attendance:team",
        "/attendance/team/",
        get=only(200, "supervisor", "other_supervisor", "head", "hr", "superuser"),
        post=GET_ONLY,
    ),
    Page(
        "attendance:punch_photo",
        "/attendance/punch/photo/",
        get=POST_ONLY,
        post=signed_in(REDIRECT),  # each for their own field punch
        body={"photo": png()},
    ),
    # a photo that does not exist: nobody learns more than 404 (who may see a real one is
    # tested with real files in tests/security/test_upload_abuse.py)
    Page(
        "attendance:punch_photo_file",
        "/attendance/punch/999999/photo/",
        get=signed_in(404),
        post=GET_ONLY,
    ),
    # --- correction proofs: whoever may see the request ------------------------------------
    Page(
        "corrections:attachment",
        "/corrections/attachments/{attachment}/",
        get=only(200, *ZHANG_VIEWERS, others=404),
        post=everyone(405),
        case="张三's proof",
    ),
    Page(
        "corrections:attachment",
        "/corrections/attachments/{other_attachment}/",
        get=only(200, *ZHAO_VIEWERS, others=404),
        post=everyone(405),
        case="another team's proof",
    ),
    # --- terminals (HR's desk) ------------------------------------------------------------
    Page("devices:index", "/hr/devices/", get=HR_PAGE, post=HR_PAGE),
    Page("devices:detail", "/hr/devices/{device}/", get=HR_PAGE, post=HR_PAGE),
    Page("devices:approve", "/hr/devices/{device}/approve/", get=POST_ONLY, post=HR_ACTION),
    Page(
        "devices:update",
        "/hr/devices/{device}/update/",
        get=POST_ONLY,
        post=HR_ACTION,
        body={"name": "前台"},
    ),  # fmt: skip
    Page(
        "devices:command",
        "/hr/devices/{device}/command/",
        get=POST_ONLY,
        post=HR_ACTION,
        body={"kind": "INFO"},
    ),  # fmt: skip
    Page(
        "devices:group_allow_list",
        "/hr/devices/groups/{group}/allow-list/",
        get=POST_ONLY,
        post=HR_ACTION,
        body={"networks": "10.0.0.0/8"},
    ),
    # a terminal photo that does not exist (real ones: tests/devices/test_photos_http.py)
    Page(
        "devices:photo",
        "/hr/devices/{device}/photos/999999/",
        get=only(404, *ADMINS),
        post=GET_ONLY,
    ),
    # HR's punch-file import (USB attlog.dat or CSV/XLSX): the form, then its own job
    Page("devices:import", "/hr/devices/import/", get=HR_PAGE, post=GET_ONLY),
    Page(
        "devices:import_check",
        "/hr/devices/import/check/",
        get=POST_ONLY,
        post=only(422, *ADMINS),  # no file chosen: the form says so
    ),
    Page("devices:import_commit", "/hr/devices/import/commit/", get=POST_ONLY, post=HR_ACTION),
    Page(
        "devices:import_job",
        "/hr/devices/import/jobs/{device_job}/",
        get=only(200, "hr", superuser=404),
        post=GET_ONLY,
    ),
    Page(
        "devices:import_job_status",
        "/hr/devices/import/jobs/{device_job}/status/",
        get=only(200, "hr", superuser=404),
        post=GET_ONLY,
    ),
    Page("devices:disable", "/hr/devices/{device}/disable/", get=POST_ONLY, post=HR_ACTION),
    Page(
        "devices:assign",
        "/hr/devices/held/assign/",
        get=POST_ONLY,
        post=HR_ACTION,
        body={"employee_no": "1002"},
    ),  # fmt: skip
    Page(
        "devices:dismiss",
        "/hr/devices/held/dismiss/",
        get=POST_ONLY,
        post=HR_ACTION,
        body={"reason": "测试"},
    ),  # fmt: skip
    # PIN mappings and biometric data (consent): HR's pages and actions
    Page("devices:pins", "/hr/devices/pins/", get=HR_PAGE, post=GET_ONLY),
    Page(
        "devices:pin_save",
        "/hr/devices/pins/save/",
        get=POST_ONLY,
        post=HR_ACTION,
        body={"employee_no": "1002", "pin": "88", "scope": "terminal:{device}"},
    ),  # fmt: skip
    Page(
        "devices:pin_delete",
        "/hr/devices/pins/999999/delete/",
        get=POST_ONLY,
        post=HR_ACTION,  # none such: said on the page it returns to
    ),
    Page("devices:biometrics", "/hr/devices/biometrics/", get=HR_PAGE, post=GET_ONLY),
    Page(
        "devices:consent_withdraw",
        "/hr/devices/biometrics/withdraw/",
        get=POST_ONLY,
        post=HR_ACTION,
        body={"employee_no": "1002", "reason": "本人撤回"},
    ),  # fmt: skip
    Page(
        "devices:consent_restore",
        "/hr/devices/biometrics/restore/",
        get=POST_ONLY,
        post=HR_ACTION,
        body={"employee_no": "1002"},
    ),  # fmt: skip
    # --- HR desk: paper forms and imports ----------------------------------------------------
    Page("hrdesk:index", "/hr/desk/", get=HR_PAGE, post=GET_ONLY),
    Page("hrdesk:import", "/hr/desk/import/", get=HR_PAGE, post=GET_ONLY),
    Page(
        "hrdesk:import_preview",
        "/hr/desk/import/preview/",
        get=POST_ONLY,
        post=only(422, *ADMINS),  # no file chosen: the form says so
    ),
    # HR's own import job: the system admin may not watch someone else's (404)
    Page(
        "hrdesk:import_job",
        "/hr/desk/import/jobs/{job}/",
        get=only(200, "hr", superuser=404),
        post=GET_ONLY,
    ),
    Page(
        "hrdesk:import_job_status",
        "/hr/desk/import/jobs/{job}/status/",
        get=only(200, "hr", superuser=404),
        post=GET_ONLY,
    ),
    Page("hrdesk:import_commit", "/hr/desk/import/commit/", get=POST_ONLY, post=HR_ACTION),
    Page("hrdesk:import_template_csv", "/hr/desk/import/template.csv", get=HR_PAGE, post=GET_ONLY),
    Page(
        "hrdesk:import_template_xlsx", "/hr/desk/import/template.xlsx", get=HR_PAGE, post=GET_ONLY
    ),  # fmt: skip
    Page("hrdesk:paper_list", "/hr/desk/paper/", get=HR_PAGE, post=GET_ONLY),
    Page("hrdesk:paper_new", "/hr/desk/paper/new/", get=HR_PAGE, post=only(422, *ADMINS)),
    Page("hrdesk:paper_detail", "/hr/desk/paper/{paper_form}/", get=HR_PAGE, post=GET_ONLY),
    Page(
        "hrdesk:paper_scan",
        "/hr/desk/paper/{paper_form}/scan/",
        get=only(200, "employee", *ADMINS, others=404),  # the scan of 张三's own form
        post=GET_ONLY,
    ),
    Page(
        "hrdesk:paper_slots",
        f"/hr/desk/paper/slots/?employee=1003&day={DAY}",
        get=HR_PAGE,
        post=GET_ONLY,
    ),
    # --- HR manual add --------------------------------------------------------------------
    Page("manual:index", "/hr/manual/", get=HR_PAGE, post=GET_ONLY),
    Page("manual:search", "/hr/manual/search/?q=%E6%9D%8E", get=HR_PAGE, post=GET_ONLY),
    Page(
        "manual:add",
        "/hr/manual/add/",
        get=POST_ONLY,
        post=HR_ACTION,
        body={
            "employee": "1003",
            "day": DAY,
            "slot": "in1",
            "time_in1": "08:59",
            "remark": "补录上班卡",
        },  # fmt: skip
    ),
    Page(
        "manual:void",
        "/hr/manual/void/{manual_punch}/",
        get=POST_ONLY,
        post=HR_ACTION,
        body={"reason": "录错了"},
    ),  # fmt: skip
    # --- notifications: one's own inbox; robots are HR's -------------------------------------
    Page("notifications:inbox", "/notifications/", get=signed_in(200), post=GET_ONLY),
    Page(
        "notifications:open",
        "/notifications/{notification}/open/",
        get=only(REDIRECT, "employee", others=404),  # 张三's notification: nobody else's
        post=GET_ONLY,
    ),
    Page(
        "notifications:read",
        "/notifications/read/",
        get=POST_ONLY,
        post=signed_in(REDIRECT),
        body={"all": "1"},
    ),  # fmt: skip
    Page(
        "notifications:reminders",
        "/notifications/reminders/",
        get=POST_ONLY,
        post=signed_in(REDIRECT),
        body={"on": ["punch_in"]},
    ),
    # Web Push on one's own device (push.js posts JSON; a form post is not a subscription)
    Page(
        "notifications:push_subscribe",
        "/notifications/push/subscribe/",
        get=POST_ONLY,
        post=signed_in(422),
    ),
    Page(
        "notifications:push_unsubscribe",
        "/notifications/push/unsubscribe/",
        get=POST_ONLY,
        post=signed_in(200),
    ),
    Page("notifications:deliveries", "/notifications/deliveries/", get=HR_PAGE, post=GET_ONLY),
    Page("notifications:robots", "/notifications/robots/", get=HR_PAGE, post=GET_ONLY),
    Page("notifications:robot_new", "/notifications/robots/new/", get=HR_PAGE, post=HR_PAGE),
    Page(
        "notifications:robot_edit", "/notifications/robots/{robot}/", get=HR_PAGE, post=HR_PAGE
    ),  # fmt: skip
    Page(
        "notifications:robot_delete",
        "/notifications/robots/{robot}/delete/",
        get=POST_ONLY,
        post=HR_ACTION,
    ),  # fmt: skip
    Page(
        "notifications:robot_test",
        "/notifications/robots/{robot}/test/",
        get=POST_ONLY,
        post=HR_ACTION,
    ),  # fmt: skip
    Page(
        "notifications:outbox_retry", "/notifications/outbox/retry/", get=POST_ONLY, post=HR_ACTION
    ),  # fmt: skip
    # --- settings: the correction policy (HR edits, the auditor reads) ----------------------
    Page(
        "policy_settings:index",
        "/settings/corrections/",
        get=only(200, *ADMINS, "auditor"),
        post=GET_ONLY,
    ),
    Page(
        "policy_settings:edit",
        "/settings/corrections/{group}/",
        get=only(200, *ADMINS, "auditor"),
        post=only(REDIRECT, *ADMINS),
        body=POLICY_FORM,
    ),
    # --- delegation while away: one's own; HR sets and ends anyone's -------------------------
    Page(
        "delegations:index",
        "/settings/delegations/",
        get=signed_in(200),
        post=signed_in(REDIRECT, head=422),  # 王部长 cannot decide for himself
        body={"delegate": "1000", "start": "2026-11-25", "end": "2026-11-27"},
    ),
    Page(
        "delegations:cancel",
        "/settings/delegations/{delegation}/cancel/",
        get=POST_ONLY,
        post=only(REDIRECT, "supervisor", *ADMINS, head=403, others=404),
    ),
    # --- approvals oversight: HR and superusers read; escalating is HR's ---------------------
    Page("oversight:index", "/hr/oversight/", get=HR_PAGE, post=GET_ONLY),
    Page(
        "oversight:escalate",
        "/hr/oversight/{pending}/escalate/",
        get=POST_ONLY,
        post=only(REDIRECT, "hr"),
        body={"note": "请尽快"},
    ),
    # --- oversight findings: HR and auditors read, run and handle; HR sets the thresholds --
    Page("findings:index", "/hr/oversight/findings/", get=FINDINGS_PAGE, post=GET_ONLY),
    Page("findings:detail", "/hr/oversight/findings/{finding}/", get=FINDINGS_PAGE, post=GET_ONLY),
    Page(
        "findings:acknowledge",
        "/hr/oversight/findings/{finding}/acknowledge/",
        get=POST_ONLY,
        post=only(REDIRECT, *FINDINGS_READERS),
        body={"note": "已核实"},
    ),
    Page(
        "findings:dismiss",
        "/hr/oversight/findings/{finding}/dismiss/",
        get=POST_ONLY,
        post=only(REDIRECT, *FINDINGS_READERS),
        body={"note": "设备故障属实"},
    ),
    Page(
        "findings:run",
        "/hr/oversight/findings/run/",
        get=POST_ONLY,
        post=only(REDIRECT, *FINDINGS_READERS),
    ),
    Page(
        "findings:thresholds",
        "/hr/oversight/findings/thresholds/",
        get=FINDINGS_PAGE,
        post=only(REDIRECT, "hr"),
        body=THRESHOLDS_FORM,
    ),
    # --- early warnings: HR and auditors see all, a head those sent to them -----------------
    Page("warnings:index", "/hr/oversight/warnings/", get=WARNINGS_PAGE, post=GET_ONLY),
    Page("warnings:detail", "/hr/oversight/warnings/{warning}/", get=WARNINGS_PAGE, post=GET_ONLY),
    Page(
        "warnings:resolve",
        "/hr/oversight/warnings/{warning}/resolve/",
        get=POST_ONLY,
        post=only(REDIRECT, *WARNINGS_READERS),
        body={"note": "已提醒"},
    ),
    Page(
        "warnings:close",
        "/hr/oversight/warnings/{warning}/close/",
        get=POST_ONLY,
        post=only(REDIRECT, *WARNINGS_READERS),
        body={"note": "限额已调整"},
    ),
    # --- analytics: HR everyone, a department head their departments (docs/analytics.md) --
    Page("analytics:index", "/hr/analytics/", get=ANALYTICS_PAGE, post=GET_ONLY),
    Page(
        "analytics:index",
        "/hr/analytics/?format=csv&chart=trend-1&by=department",
        get=ANALYTICS_PAGE,
        post=GET_ONLY,
        case="csv",
    ),
    Page("analytics:corrections", "/hr/analytics/corrections/", get=ANALYTICS_PAGE, post=GET_ONLY),
    Page("analytics:approvals", "/hr/analytics/approvals/", get=ANALYTICS_PAGE, post=GET_ONLY),
    Page("analytics:reminders", "/hr/analytics/reminders/", get=ANALYTICS_PAGE, post=GET_ONLY),
    Page(
        "analytics:reminders",
        "/hr/analytics/reminders/?format=csv&chart=reminded-groups",
        get=ANALYTICS_PAGE,
        post=GET_ONLY,
        case="csv of reminded → punched per group",
    ),
    Page(
        "analytics:people",
        "/hr/analytics/people/?metric=reminder_punched&by=group&key=STD&from=2026-11-01"
        "&to=2026-11-30",
        get=ANALYTICS_PAGE,
        post=GET_ONLY,
        case="reminded but not punched",
    ),
    Page("analytics:patterns", "/hr/analytics/patterns/", get=ANALYTICS_PAGE, post=GET_ONLY),
    Page(
        "analytics:people",
        "/hr/analytics/people/?metric=late&by=all&from=2026-11-01&to=2026-11-30",
        get=ANALYTICS_PAGE,
        post=GET_ONLY,
    ),
    # --- month-end close: HR ---------------------------------------------------------------
    Page("periods:index", "/hr/periods/", get=only(200, "hr"), post=GET_ONLY),
    Page("periods:detail", f"{PERIOD}/", get=only(200, "hr"), post=GET_ONLY),
    Page("periods:finalise", f"{PERIOD}/finalise/", get=POST_ONLY, post=only(REDIRECT, "hr")),
    Page("periods:confirm", f"{PERIOD}/confirm/", get=only(200, "hr"), post=GET_ONLY),
    Page("periods:close", f"{PERIOD}/close/", get=POST_ONLY, post=only(REDIRECT, "hr")),
    Page(
        "periods:reopen",
        f"{PERIOD}/reopen/",
        get=POST_ONLY,
        post=only(REDIRECT, "hr"),
        body={"reason": "补录"},
    ),  # fmt: skip
    # --- reports: HR and the system admin; one's own printable sheet -----------------------
    Page("reports:monthly", "/reports/", get=HR_PAGE, post=GET_ONLY),
    Page(
        "reports:download", "/reports/download/?period=2026-11&file=csv", get=HR_PAGE, post=GET_ONLY
    ),  # fmt: skip
    Page(
        "reports:my_sheet",
        "/reports/sheet/",
        get=signed_in(REDIRECT, superuser=404),  # to one's own sheet; no employee record: 404
        post=GET_ONLY,
    ),
    Page(
        "reports:sheet",
        "/reports/sheet/1002/",
        get=only(200, "employee", *ADMINS, others=404),  # a payroll document: not for supervisors
        post=GET_ONLY,
        case="张三's sheet",
    ),
    Page(
        "reports:sheet",
        "/reports/sheet/2001/",
        get=only(200, "other_department", *ADMINS, others=404),
        post=GET_ONLY,
        case="another department's sheet",
    ),
    # --- leave, outings, business trips (issue 15) --------------------------------------------
    Page("absences:mine", "/absences/", get=signed_in(200), post=GET_ONLY),
    Page(
        "absences:new",
        "/absences/new/?day=2026-11-27",
        get=signed_in(200, superuser=404),  # each for themselves; the admin is nobody's
        post=signed_in(422, superuser=404),  # no dates in the body: refused, nothing written
        case="one's own",
    ),
    Page(
        "absences:new",
        "/absences/new/?employee=1002",
        get=only(200, "employee", "supervisor", "head", "hr", others=404),
        post=only(REDIRECT, "employee", "supervisor", "head", "hr", others=404),
        body={
            "employee": "1002",
            "kind": "outing",
            "start_date": "2026-11-27",
            "destination": "客户现场",
        },  # fmt: skip
        case="for 张三 (self, or on his behalf)",
    ),
    Page(
        "absences:preview",
        "/absences/preview/",
        get=POST_ONLY,
        post=only(200, "employee", "supervisor", "head", "hr", others=404),
        body={"employee": "1002", "kind": "outing", "start_date": "2026-11-27"},
    ),
    Page(
        "absences:away",
        "/absences/away/",
        get=only(200, "supervisor", "other_supervisor", "head", "hr", "superuser"),
        post=GET_ONLY,
    ),
    Page(
        "absences:ledger",
        "/absences/balances/",
        get=signed_in(200, superuser=404),
        post=GET_ONLY,
        case="one's own",
    ),  # fmt: skip
    Page(
        "absences:ledger",
        "/absences/balances/?employee=1002",
        get=only(200, *ZHANG_VIEWERS, others=404),
        post=GET_ONLY,
        case="张三's",
    ),
    Page(
        "absences:hr_balances",
        "/absences/hr/balances/?employee=1002",
        get=HR_PAGE,
        post=HR_ACTION,
        body={"employee": "1002", "action": "opening", "leave_type": "annual", "amount": "3"},
    ),  # fmt: skip
    Page(
        "absences:hr_import",
        "/absences/hr/balances/import/",
        get=POST_ONLY,
        post=HR_ACTION,
        body={"file": CsvText("employee_no,type,balance\n1002,annual,4\n")},
    ),  # fmt: skip
    Page("absences:report", "/absences/hr/report/", get=HR_PAGE, post=GET_ONLY),
    Page(
        "absences:detail",
        "/absences/{absence}/",
        get=only(200, *ZHANG_VIEWERS, others=404),
        post=GET_ONLY,
    ),
    Page(
        "absences:withdraw",
        "/absences/{absence}/withdraw/",
        get=POST_ONLY,
        post=only(403, *ZHANG_VIEWERS, others=404, employee=REDIRECT),
    ),
    Page(
        "absences:cancel",  # not approved yet: refused with a message, nothing written
        "/absences/{absence}/cancel/",
        get=POST_ONLY,
        post=only(REDIRECT, "employee", "supervisor", "head", "hr", others=404, superuser=403),
    ),
    Page(
        "absences:approve",
        "/absences/{absence}/approve/",
        get=POST_ONLY,
        post=only(403, *ZHANG_VIEWERS, others=404, supervisor=REDIRECT),
    ),
    Page(
        "absences:reject",
        "/absences/{absence}/reject/",
        get=POST_ONLY,
        post=only(403, *ZHANG_VIEWERS, others=404, supervisor=REDIRECT),
        body={"reason": "人手不够"},
    ),
    # --- correction requests ----------------------------------------------------------------
    Page("requests:mine", "/requests/", get=signed_in(200), post=GET_ONLY),
    Page("requests:inbox", "/requests/inbox/", get=signed_in(200), post=GET_ONLY),
    Page(
        "requests:new",
        f"/requests/new/?day={DAY}&slot=in1",
        get=signed_in(200, superuser=404),  # each for their own day
        post=signed_in(404),  # a POST names its day in the body: none here
        case="one's own",
    ),
    Page(
        "requests:new",
        NEW_FOR_ZHANG,
        get=only(200, "employee", "supervisor", "head", "hr", others=404),
        post=only(REDIRECT, "employee", "supervisor", "head", "hr", others=404),  # filed (for) 张三
        body=SUBMISSION,
        case="for 张三 (self, or on his behalf)",
    ),
    Page(
        "requests:batch",
        f"/requests/batch/?slot={DAY}:in1",
        get=signed_in(200, superuser=404),  # each for their own days
        post=signed_in(422, superuser=404),  # nothing ticked: refused, nothing written
        case="one's own",
    ),
    Page(
        "requests:batch",
        "/requests/batch/?slot=2026-11-24:out1&employee=1002",
        get=only(200, "employee", "supervisor", "head", "hr", others=404),
        post=only(REDIRECT, "employee", "supervisor", "head", "hr", others=404),  # filed (for) 张三
        body={
            "employee": "1002",
            "slot": "2026-11-24:out1",
            "time_2026-11-24_out1": "18:05",
            "category": "forgot",
            "reason": "下班忘记打卡了",
        },
        case="for 张三 (self, or on his behalf)",
    ),
    Page(
        "requests:preview",
        "/requests/preview/",
        get=POST_ONLY,
        post=only(200, "employee", "supervisor", "head", "hr", others=404),
        body={"day": "2026-11-24", "employee": "1002"},
    ),
    Page(
        "requests:detail",
        "/requests/{pending}/",
        get=only(200, *ZHANG_VIEWERS, others=404),
        post=GET_ONLY,
        case="张三's request",
    ),
    Page(
        "requests:detail",
        "/requests/{other_pending}/",
        get=only(200, *ZHAO_VIEWERS, others=404),
        post=GET_ONLY,
        case="another team's request",
    ),
    Page(
        "requests:detail_preview",
        "/requests/{pending}/preview/",
        get=POST_ONLY,
        post=only(200, *ZHANG_VIEWERS, others=404),
    ),
    # deciding: only the current step's approver; those who may see it get 403, others 404
    Page(
        "requests:approve",
        "/requests/{pending}/approve/",
        get=POST_ONLY,
        post=only(403, *ZHANG_VIEWERS, others=404, supervisor=REDIRECT),
        body={"comment": "属实"},
        case="waiting for 张三's supervisor",
    ),
    Page(
        "requests:approve",
        "/requests/{at_hr_step}/approve/",
        get=POST_ONLY,
        post=only(403, *ZHANG_VIEWERS, others=404, hr=REDIRECT),
        case="waiting for HR",
    ),
    Page(
        "requests:approve",
        "/requests/{other_pending}/approve/",
        get=POST_ONLY,
        post=only(403, *ZHAO_VIEWERS, others=404, other_supervisor=REDIRECT),
        case="another team's, waiting for its supervisor",
    ),
    Page(
        "requests:reject",
        "/requests/{pending}/reject/",
        get=POST_ONLY,
        post=only(403, *ZHANG_VIEWERS, others=404, supervisor=REDIRECT),
        body={"reason": "当天未到岗"},
    ),
    Page(
        "requests:transfer",
        "/requests/{pending}/transfer/",
        get=POST_ONLY,
        post=only(403, *ZHANG_VIEWERS, others=404, supervisor=REDIRECT),
        body={"to": "1000"},
    ),
    # batch approval re-renders the inbox with the reason of each refused id (422)
    Page(
        "requests:batch_approve",
        "/requests/inbox/approve/",
        get=POST_ONLY,
        post=signed_in(422, supervisor=REDIRECT),
        body={"ids": "{pending}"},
    ),
    Page(
        "requests:comment",
        "/requests/{pending}/comment/",
        get=POST_ONLY,
        post=only(REDIRECT, *ZHANG_VIEWERS, others=404),
        body={"comment": "请补充"},
    ),
    Page(
        "requests:withdraw",
        "/requests/{pending}/withdraw/",
        get=POST_ONLY,
        post=only(403, *ZHANG_VIEWERS, others=404, employee=REDIRECT),
    ),
    # the transfer picker's people (htmx partial): approvers only
    Page(
        "requests:transfer_people",
        "/requests/people/?to=li",
        get=only(200, "supervisor", "other_supervisor", "head", "hr", "superuser"),
        post=NOT_ALLOWED,
    ),
    # the confirmation before withdrawing: 张三's page; those who may see it are sent back
    Page(
        "requests:withdraw_confirm",
        "/requests/{pending}/withdraw/confirm/",
        get=only(REDIRECT, *ZHANG_VIEWERS, others=404, employee=200),
        post=NOT_ALLOWED,
    ),
    # the one-tap approve page of approval e-mails: the step's approver gets it, others
    # who may see the request are sent to it, the rest 404
    Page(
        "requests:approve_confirm",
        "/requests/{pending}/approve/confirm/",
        get=only(REDIRECT, *ZHANG_VIEWERS, others=404, supervisor=200),
        post=NOT_ALLOWED,
    ),
    Page(
        "requests:attach",
        "/requests/{pending}/attachments/",
        get=POST_ONLY,
        post=only(403, *ZHANG_VIEWERS, others=404, employee=REDIRECT, hr=REDIRECT),
        body={"attachments": png()},
    ),
    Page(
        "requests:resubmit",
        "/requests/{rejected}/resubmit/",
        # 张三 gets the form; those who may see the request are sent back to it
        get=only(REDIRECT, *ZHANG_VIEWERS, others=404, employee=200),
        post=only(403, *ZHANG_VIEWERS, others=404, employee=REDIRECT),
        body={
            **SUBMISSION,
            "day": "2026-11-23",
            "fixed_slot": "out1",
            "slot": "out1",
            "employee": "",
        },  # fmt: skip
    ),
    # --- overtime requests (加班) ---------------------------------------------------------
    Page("overtime:mine", "/overtime/", get=signed_in(200), post=GET_ONLY),
    Page(
        "overtime:inbox",
        "/overtime/inbox/",
        get=only(200, "supervisor", "other_supervisor", "head", "hr", "superuser"),
        post=GET_ONLY,
    ),
    Page(
        "overtime:new",
        f"/overtime/new/?day={DAY}",
        get=signed_in(200, superuser=404),  # each for their own day
        post=signed_in(422, superuser=404),  # no reason given: refused, nothing written
        case="one's own",
    ),
    Page(
        "overtime:new",
        "/overtime/new/?day=2026-11-24&employee=1002",
        get=only(200, "employee", "supervisor", "head", "hr", others=404),
        post=only(REDIRECT, "employee", "supervisor", "head", "hr", others=404),
        body=OVERTIME_FORM,
        case="for 张三 (self, or on his behalf)",
    ),
    Page(
        "overtime:detail",
        "/overtime/{ot_pending}/",
        get=only(200, *ZHANG_VIEWERS, others=404),
        post=GET_ONLY,
        case="张三's request",
    ),
    Page(
        "overtime:detail",
        "/overtime/{ot_other}/",
        get=only(200, *ZHAO_VIEWERS, others=404),
        post=GET_ONLY,
        case="another team's request",
    ),
    Page(
        "overtime:approve",
        "/overtime/{ot_pending}/approve/",
        get=POST_ONLY,
        post=only(403, *ZHANG_VIEWERS, others=404, supervisor=REDIRECT),
        body={"comment": "同意"},
    ),
    Page(
        "overtime:reject",
        "/overtime/{ot_pending}/reject/",
        get=POST_ONLY,
        post=only(403, *ZHANG_VIEWERS, others=404, supervisor=REDIRECT),
        body={"reason": "无需加班"},
    ),
    Page(
        "overtime:withdraw",
        "/overtime/{ot_pending}/withdraw/",
        get=POST_ONLY,
        post=only(403, *ZHANG_VIEWERS, others=404, employee=REDIRECT),
    ),
    Page(
        "overtime:cancel",
        "/overtime/{ot_approved}/cancel/",  # asks to cancel (撤销): approved on the chain
        get=POST_ONLY,
        post=only(REDIRECT, "employee", "supervisor", "head", "hr", others=404, superuser=403),
        body={"reason": "登记错误"},
    ),
    Page(
        "overtime_settings:policy",
        "/settings/overtime/",
        get=only(200, *ADMINS, "auditor"),
        post=only(REDIRECT, *ADMINS),
        body={
            "group": "STD",
            "min_block_minutes": "60",
            "unit_minutes": "30",
            "needs_request": "on",
            "chain_preset": "multi",
        },
    ),  # fmt: skip
    # --- the rest -------------------------------------------------------------------------
    Page(
        "set_language",
        "/i18n/setlang/",
        get=everyone(REDIRECT),
        post=everyone(REDIRECT),
        body={"language": "en"},
    ),  # fmt: skip
    # --- settings (/settings/): HR and the system admin change them; the auditor reads ---
    Page("settings:index", "/settings/", get=only(200, *SETTINGS_READERS), post=GET_ONLY),
    Page(
        "settings:api_keys",
        "/settings/api-keys/",
        get=only(200, *SETTINGS_READERS),
        post=only(200, *ADMINS),  # the new key is shown once, in this response
        body={"name": "ERP", "expires_on": "2027-06-30"},
    ),
    Page(
        "settings:api_key_revoke",
        "/settings/api-keys/{api_key}/revoke/",
        get=POST_ONLY,
        post=only(REDIRECT, *ADMINS),
    ),
    Page(
        "settings:holidays_current",
        "/settings/holidays/",
        get=only(REDIRECT, *SETTINGS_READERS),
        post=GET_ONLY,
    ),
    Page(
        "settings:holidays",
        "/settings/holidays/2026/",
        get=only(200, *SETTINGS_READERS),
        post=only(REDIRECT, *ADMINS),
        body={"date": "2026-06-18", "kind": "holiday", "name": "司庆"},
    ),
    Page(
        "settings:holidays_import",
        "/settings/holidays/2026/import/",
        get=POST_ONLY,
        post=only(REDIRECT, *ADMINS),
    ),
    Page(
        "settings:holidays_import_file",
        "/settings/holidays/2027/import-file/",
        get=POST_ONLY,
        post=only(REDIRECT, *ADMINS),
        body={"file": CsvText("date,kind,name\n2027-01-01,holiday,元旦\n")},
    ),
    Page(
        "settings:holidays_confirm",
        "/settings/holidays/2031/confirm/",
        get=POST_ONLY,
        post=only(REDIRECT, *ADMINS),
    ),
    Page(
        "settings:geofences",
        "/settings/geofences/",
        get=only(200, *SETTINGS_READERS),
        post=GET_ONLY,
    ),
    Page(
        "settings:geofence_new",
        "/settings/geofences/new/",
        get=only(200, *ADMINS),
        post=only(REDIRECT, *ADMINS),
        body=GEOFENCE_FORM,
    ),
    Page(
        "settings:geofence_edit",
        "/settings/geofences/{fence}/edit/",
        get=only(200, *SETTINGS_READERS),
        post=only(REDIRECT, *ADMINS),
        body={**GEOFENCE_FORM, "radius_m": "250"},
    ),
    # --- settings: the work apps hold secrets: HR and the system admin only ----------------
    Page(
        "settings:work_apps",
        "/settings/work-apps/",
        get=HR_PAGE,
        post=HR_ACTION,
        body={"platform": "feishu", "app_id": "cli_matrix", "app_secret": "s3cret"},
    ),
    Page(
        "settings:work_app_users",
        "/settings/work-apps/dingtalk/users/",
        get=POST_ONLY,
        post=HR_ACTION,
        body={"how": "employee_no"},
    ),
    # HR's own sync job: the system admin may not watch someone else's (404)
    Page(
        "settings:work_app_sync",
        "/settings/work-apps/sync/{sync_job}/",
        get=only(200, "hr", superuser=404),
        post=GET_ONLY,
    ),
    Page(
        "settings:work_app_sync_status",
        "/settings/work-apps/sync/{sync_job}/status/",
        get=only(200, "hr", superuser=404),
        post=GET_ONLY,
    ),
    # --- settings: attendance groups (HR and the system admin change; the auditor reads) ---
    Page(
        "settings:reminders",
        "/settings/reminders/",
        get=only(200, *SETTINGS_READERS),
        post=GET_ONLY,
    ),
    Page(
        "settings:reminder_edit",
        "/settings/reminders/{group}/",
        get=only(200, *SETTINGS_READERS),
        post=only(REDIRECT, *ADMINS),
        body={
            "punch_in": "1",
            "punch_in_minutes": "15",
            "cutoff_days": "2",
            "digest_time": "09:00",
            "quiet_start": "22:00",
            "quiet_end": "07:00",
        },
    ),  # fmt: skip
    Page("settings:groups", "/settings/groups/", get=only(200, *SETTINGS_READERS), post=GET_ONLY),
    Page(
        "settings:group_new",
        "/settings/groups/new/",
        get=only(200, *ADMINS),
        post=only(REDIRECT, *ADMINS),
        body=GROUP_FORM | {"code": "NEWG"},
    ),
    Page(
        "settings:group_people",
        "/settings/groups/people/?person=张",
        get=only(200, *ADMINS),
        post=signed_in(405),
    ),
    Page(
        "settings:group_edit",
        "/settings/groups/{group}/edit/",
        get=only(200, *SETTINGS_READERS),
        post=only(REDIRECT, *ADMINS),
        body=GROUP_FORM,
    ),
    Page(
        "settings:group_terminals",
        "/settings/groups/{group}/terminals/",
        get=POST_ONLY,
        post=only(REDIRECT, *ADMINS),
        body={"terminals": []},
    ),
    Page(
        "settings:group_members",
        "/settings/groups/{group}/members/",
        get=only(200, *SETTINGS_READERS),
        post=GET_ONLY,
    ),
    Page(
        "settings:group_members_add",
        "/settings/groups/{group}/members/add/",
        get=POST_ONLY,
        post=only(REDIRECT, *ADMINS),
        body={"how": "person", "person": "1002"},
    ),
    Page(
        "settings:group_members_remove",
        "/settings/groups/{group}/members/remove/",
        get=POST_ONLY,
        post=only(422, *ADMINS),  # nobody ticked: the page says so
        body={"to": ""},
    ),
    Page(
        "settings:group_members_import",
        "/settings/groups/{group}/members/import/",
        get=POST_ONLY,
        post=only(200, *ADMINS),  # the dry run: what would change, nothing written
        body={"numbers": "1002\n1003"},
    ),
    Page("settings:shifts", "/settings/shifts/", get=only(200, *SETTINGS_READERS), post=GET_ONLY),
    Page(
        "settings:shift_create",
        "/settings/shifts/new/",
        get=only(200, *ADMINS),
        post=only(REDIRECT, *ADMINS),
        body=SHIFT_FORM,
    ),
    Page(
        "settings:shift_preview",
        "/settings/shifts/preview/?seg-0-start=22:00&seg-0-end=06:00",
        get=only(200, *SETTINGS_READERS),
        post=GET_ONLY,
    ),
    Page(
        "settings:shift_edit",
        "/settings/shifts/D9/edit/",
        get=only(200, *SETTINGS_READERS),
        post=only(REDIRECT, *ADMINS),
        body={**SHIFT_FORM, "code": "D9"},
    ),
    # --- settings: schedules (weekly patterns, the roster grid; the auditor reads) ----------
    Page(
        "settings:schedules",
        "/settings/schedules/",
        get=only(200, *SETTINGS_READERS),
        post=GET_ONLY,
    ),
    Page(
        "settings:pattern",
        "/settings/schedules/patterns/{group}/",
        get=only(200, *SETTINGS_READERS),
        post=only(REDIRECT, *ADMINS),
        body={"effective_from": "2027-01-01", "day-0": "D9", "use_work_calendar": "1"},
    ),
    Page(
        "settings:pattern_delete",
        "/settings/schedules/patterns/{group}/2026-01-01/delete/",
        get=POST_ONLY,
        post=only(REDIRECT, *ADMINS),
    ),
    Page(
        "settings:roster",
        "/settings/schedules/roster/?group={group}&month=2026-11",
        get=only(200, *SETTINGS_READERS),
        post=GET_ONLY,
    ),
    Page(
        "settings:roster_set",
        "/settings/schedules/roster/set/",
        get=POST_ONLY,
        post=only(REDIRECT, *ADMINS),
        body={"group": "{group}", "employee": "1002", "day": "2026-11-28", "value": "D9"},
    ),
    Page(
        "settings:roster_fill",
        "/settings/schedules/roster/fill/",
        get=POST_ONLY,
        post=only(REDIRECT, *ADMINS),
        body={
            "group": "{group}",
            "employees": "1002",
            "start": "2026-11-28",
            "end": "2026-11-29",
            "value": "休",
        },
    ),
    Page(
        "settings:roster_copy",
        "/settings/schedules/roster/copy/",
        get=POST_ONLY,
        post=only(REDIRECT, *ADMINS),
        body={"group": "{group}", "month": "2026-12"},
    ),
    Page(
        "settings:roster_export",
        "/settings/schedules/roster/export/?group={group}&month=2026-11",
        get=only(200, *SETTINGS_READERS),
        post=GET_ONLY,
    ),
    Page(
        "settings:roster_import",
        "/settings/schedules/roster/import/",
        get=only(200, *SETTINGS_READERS),
        post=only(422, *ADMINS),  # no file chosen: the form again with the refusal
    ),
    # --- settings: outgoing payroll webhooks (HR changes, the auditor reads) ----------------
    Page(
        "settings:webhooks",
        "/settings/webhooks/",
        get=only(200, *SETTINGS_READERS),
        post=only(200, *ADMINS),  # the new webhook's secret is shown once, in this response
        body=WEBHOOK_FORM,
    ),
    Page(
        "settings:webhook",
        "/settings/webhooks/{webhook}/",
        get=only(200, *SETTINGS_READERS),
        post=only(REDIRECT, *ADMINS),
        body=WEBHOOK_FORM,
    ),
    Page(
        "settings:webhook_rotate",
        "/settings/webhooks/{webhook}/rotate/",
        get=POST_ONLY,
        post=only(200, *ADMINS),  # the new secret is shown once, in this response
    ),
    Page(
        "settings:webhook_test",
        "/settings/webhooks/{webhook}/test/",
        get=POST_ONLY,
        post=only(REDIRECT, *ADMINS),
    ),
    Page(
        "settings:webhook_retry",
        "/settings/webhooks/{webhook}/retry/",
        get=POST_ONLY,
        post=only(REDIRECT, *ADMINS),
        body={"delivery": "{delivery}"},
    ),
    Page("web:home", "/", get=signed_in(200), post=GET_ONLY),
    Page("web:approvals", "/approvals/", get=signed_in(200), post=GET_ONLY),
    Page("web:hr", "/hr/", get=only(200, "hr"), post=only(200, "hr")),
    Page(
        "web:audit",
        "/audit/",
        get=only(200, "auditor", "superuser"),
        post=only(200, "auditor", "superuser"),
    ),  # fmt: skip
    Page(
        "web:employee_profile",
        "/people/1002/",
        get=only(200, *ZHANG_VIEWERS, others=404),
        post=only(200, *ZHANG_VIEWERS, others=404),
        case="张三's profile",
    ),
    Page(
        "web:employee_profile",
        "/people/2001/",
        get=only(200, *ZHAO_VIEWERS, others=404),
        post=only(200, *ZHAO_VIEWERS, others=404),
        case="another department's profile",
    ),
    Page("web:healthz", "/healthz", get=everyone(200), post=everyone(200)),
    Page("web:healthz_live", "/healthz/live", get=everyone(200), post=everyone(200)),
    # Prometheus metrics answer a bearer token, never a session: without METRICS_TOKEN
    # (as here) the route does not exist for anyone (tests/web/test_metrics.py: with it).
    Page("web:metrics", "/metrics", get=everyone(404), post=everyone(404)),
    # The installable app's worker and offline page hold no one's data: open to all.
    Page("web:service_worker", "/sw.js", get=everyone(200), post=everyone(405)),
    Page("web:offline", "/offline/", get=everyone(200), post=everyone(405)),
    # The work apps' card callbacks: no session, a platform's signature (none configured
    # here, so every call is refused; tests/notifications/test_workapps_callbacks.py).
    Page(
        "web:workapp_callback", "/workapps/wecom/callback", get=everyone(403), post=everyone(403)
    ),  # fmt: skip
    # Sign in from the work app: open to all (it is a way in). No app is set up here, so
    # the entry is the page saying so (audited: HR sees who was sent there); the way back
    # without this session's state is refused (400, logged only). The flows with a
    # platform: tests/notifications/test_workapps_signin.py.
    Page("web:workapp_signin", "/workapps/wecom/signin", get=everyone(200), post=everyone(405)),
    Page(
        "web:workapp_signin_done",
        "/workapps/wecom/signin/done",
        get=everyone(400),
        post=everyone(400),
    ),
]


# --- running a cell -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """The organisation, built once for the module inside a transaction rolled back at the
    end; a signed-in client per role. The clock stands at Wednesday 25 November, 10:00."""
    import time_machine
    from django.test.utils import override_settings

    traveller = time_machine.travel(NOW, tick=False)
    traveller.start()
    media = override_settings(MEDIA_ROOT=str(tmp_path_factory.mktemp("media")))
    media.enable()
    try:
        with django_db_blocker.unblock(), transaction.atomic():
            built = build()
            clients = {"anonymous": Client()}
            for role, user in built.users.items():
                clients[role] = Client()
                clients[role].force_login(user)
            built.clients = clients
            yield built
            transaction.set_rollback(True)
    finally:
        media.disable()
        traveller.stop()


def outcome(response) -> Any:
    if response.status_code == 302:
        return LOGIN if response["Location"].startswith("/accounts/login/") else REDIRECT
    return response.status_code


def _body(body: Body) -> dict[str, Any]:
    """A fresh copy (uploaded files are read once)."""
    if not body:
        return {}
    return {k: _fresh(v) for k, v in body.items()}


def _fresh(value: Any) -> Any:
    if isinstance(value, CsvText):
        return SimpleUploadedFile("calendar.csv", value.encode(), content_type="text/csv")
    return png(value.name) if hasattr(value, "read") else value


def send(world: PageWorld, role: str, method: str, path: str, body: Body) -> tuple[Any, int]:
    """The outcome of one request, and how many audit events it wrote; rolled back."""
    from ztk.audit.models import AuditEvent

    client = world.clients[role]
    cookies = SimpleCookie()
    cookies.load(client.cookies.output(header="", sep=";"))
    try:
        with transaction.atomic():
            before = AuditEvent.objects.count()
            response = client.get(path) if method == "GET" else client.post(path, _body(body))
            written = AuditEvent.objects.count() - before
            transaction.set_rollback(True)
    finally:
        client.cookies = cookies  # a log-out or a language switch does not carry over
    return outcome(response), written


# --- the matrix -----------------------------------------------------------------------------


def _cells() -> list:
    labels = [page.label for page in PAGES]
    assert len(labels) == len(set(labels)), "two rows with the same label: give them a `case`"
    return [pytest.param(page, id=page.label) for page in PAGES]


@pytest.mark.parametrize("page", _cells())
def test_page_matrix(world, page: Page):
    """Every role, GET and POST; all mismatches of a row reported at once."""
    path = page.path.format_map(world.ids)
    body = {
        k: (v.format_map(world.ids) if isinstance(v, str) else v)
        for k, v in (page.body or {}).items()
    }
    wrong, unaudited = [], []
    for method, expected in (("GET", page.get), ("POST", page.post)):
        for role in ROLES:
            got, written = send(world, role, method, path, body)
            if got != expected[role]:
                wrong.append(f"{method} as {role}: {got}, expected {expected[role]}")
            refused = got in (403, 404, 405) or (got == LOGIN and role == "anonymous")
            if written and (refused or got != expected[role]):
                unaudited.append(f"{method} as {role}: {written} audit event(s) for a refusal")
    assert not wrong + unaudited, "\n".join([page.label, *wrong, *unaudited])


def test_rows_cover_every_role():
    for page in PAGES:
        assert set(page.get) == set(page.post) == set(ROLES), page.label


def _patterns(resolvers=None, prefix="", namespace=""):
    """(URL name, route) of every pattern the project's URLconf serves."""
    for entry in resolvers if resolvers is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            inner = ":".join(n for n in (namespace, entry.namespace or "") if n)
            yield from _patterns(entry.url_patterns, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            name = ":".join(n for n in (namespace, entry.name or "") if n)
            yield name, prefix + str(entry.pattern)


def test_every_page_has_a_row():
    """A page served by the project but missing from PAGES fails here: add its row."""
    covered = {page.name for page in PAGES}
    missing = sorted(
        f"{name} ({route})"
        for name, route in _patterns()
        if name.split(":", 1)[0] not in ELSEWHERE and name not in covered
    )
    assert not missing, f"add rows for these pages to PAGES in {__file__}: {missing}"


def test_rows_name_real_pages():
    served = {name for name, _route in _patterns()}
    assert not {page.name for page in PAGES} - served


# --- the Django admin (the settings area) ---------------------------------------------------

OUTSIDE_ADMIN = ("employee", "other_department", "supervisor", "other_supervisor", "head",
                 "auditor")  # fmt: skip
# The apps whose lists HR opens in the settings area (the organisation and its attendance
# rules); accounts, API keys, the audit log, lock-outs and second factors are the system
# admin's. A new model admin HR may open must be added here on purpose. (approvals: the
# delegations, which moved there from corrections.)
HR_ADMIN_APPS = {
    "approvals",
    "corrections",
    "devices",
    "notifications",
    "org",
    "reports",
    "scheduling",
}


def _admin_pages() -> list[tuple[str, str, str]]:
    """(kind, app label, path): the index, then each model's list, add page and the change
    page of its first object (when the module's world has one)."""
    from django.contrib import admin
    from django.urls import reverse

    pages = [("index", "", reverse("admin:index"))]
    for model in sorted(admin.site._registry, key=lambda m: m._meta.label):
        opts = model._meta
        prefix = f"admin:{opts.app_label}_{opts.model_name}"
        pages.append(("changelist", opts.app_label, reverse(f"{prefix}_changelist")))
        pages.append(("add", opts.app_label, reverse(f"{prefix}_add")))
        first = model._default_manager.order_by("pk").values_list("pk", flat=True).first()
        if first is not None:
            pages.append(("change", opts.app_label, reverse(f"{prefix}_change", args=[first])))
    return pages


def test_admin_model_pages(world):
    """Every model page of the settings area: anonymous → log-in, the roles outside it →
    403 for GET and POST with nothing written (one of them per page, in turn); the
    superuser opens every list, HR the lists of HR_ADMIN_APPS (403 for the rest); add and
    change pages answer them 200 or 403 (read-only models), never an error."""
    wrong = []
    for index, (kind, app, path) in enumerate(_admin_pages()):
        # One guard (AdminSite.admin_view) stands before every admin view: each page is
        # tried by one of the roles outside it in turn, so all of them meet every kind of
        # page without 1,000 requests through the same check.
        outside = OUTSIDE_ADMIN[index % len(OUTSIDE_ADMIN)]
        expected = {"anonymous": {LOGIN}, outside: {403}}
        if kind == "index":
            expected |= {"hr": {200}, "superuser": {200}}
        elif kind == "changelist":
            expected |= {"hr": {200 if app in HR_ADMIN_APPS else 403}, "superuser": {200}}
        else:
            expected |= {"hr": {200, 403} if app in HR_ADMIN_APPS else {403},
                         "superuser": {200, 403}}  # fmt: skip
        for role, allowed in expected.items():
            for method in ("GET", "POST") if role in ("anonymous", outside) else ("GET",):
                got, written = send(world, role, method, path, {})
                if got not in allowed or written:
                    wrong.append(f"{method} {path} as {role}: {got} ({written} events), "
                                 f"expected {sorted(map(str, allowed))}")  # fmt: skip
    assert not wrong, "\n".join(wrong)

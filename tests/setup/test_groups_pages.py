"""/settings/groups/: HR sets up attendance groups — create, edit, punch rules, terminals,
members by department, by person and by import — every change audited; auditors read."""

from __future__ import annotations

from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from tests import factories
from ztk.audit.models import AuditEvent
from ztk.devices.models import Device, DeviceStatus
from ztk.org.models import AttendanceGroup, Employee
from ztk.punches.models import OutsideGeofenceRule, PunchSettings

pytestmark = pytest.mark.django_db

LIST = "/settings/groups/"
NEW = "/settings/groups/new/"
NEW_GROUP = {
    "code": "SH",
    "name": "上海办公室",
    "time_zone": "Asia/Shanghai",
    "day_boundary_hour": "4",
    "active": "1",
    "web_punch_enabled": "1",
    "outside_rule": "refuse",
}


def edit_url(code: str) -> str:
    return f"/settings/groups/{code}/edit/"


def members_url(code: str, action: str = "") -> str:
    return f"/settings/groups/{code}/members/" + (f"{action}/" if action else "")


def error_at(body: str, field: str) -> bool:
    """Is a refusal shown in the box of the input named `field` (before the next box)?"""
    after = body.split(f'name="{field}"', 1)[1]
    error, next_box = after.find('class="errors"'), after.find('class="field')
    return error != -1 and (next_box == -1 or error < next_box)


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("seq"))


@pytest.fixture
def hr(client, org):
    client.force_login(org.hr.user)
    return client


# --- the list ---------------------------------------------------------------------------


def test_the_list_shows_each_group_with_zone_members_terminals_and_state(hr, org):
    Device.objects.create(
        serial="CQZ7232260001",
        name="前台",
        status=DeviceStatus.APPROVED,
        attendance_group=org.group,
    )
    Device.objects.create(serial="PENDING0001", attendance_group=org.group)  # not approved
    factories.AttendanceGroupFactory(code="OLD", name="旧组", active=False)

    page = hr.get(LIST)

    assert page.status_code == 200
    body = page.content.decode()
    row = body.split('id="group-STD"', 1)[1].split("</tr>", 1)[0]
    # 7 active members in the small org, the approved terminal only
    assert "标准工时组" in row and "Asia/Shanghai" in row and ">7<" in row
    assert "前台" in row and "PENDING0001" not in row
    old = body.split('id="group-OLD"', 1)[1].split("</tr>", 1)[0]
    assert "旧组" in old and "status bad" in old
    assert 'href="/settings/groups/new/"' in body


def test_the_settings_index_links_the_groups_page(hr):
    assert 'href="/settings/groups/"' in hr.get("/settings/").content.decode()


# --- create and edit --------------------------------------------------------------------


def test_hr_creates_a_group_with_its_punch_rules_audited(hr, org):
    response = hr.post(NEW, NEW_GROUP)

    assert response.status_code == 302 and response["Location"] == edit_url("SH")
    group = AttendanceGroup.objects.get(code="SH")
    assert (group.name, group.time_zone, group.day_boundary_hour, group.active) == (
        "上海办公室",
        "Asia/Shanghai",
        4,
        True,
    )
    rules = PunchSettings.objects.get(group=group)
    assert rules.web_punch_enabled and rules.outside_rule == OutsideGeofenceRule.REFUSE
    (created,) = events("org.group.create")
    assert created.actor_id == org.hr.user.pk and created.changes["after"]["code"] == "SH"
    assert events("punches.settings.create")
    page = hr.get(edit_url("SH")).content.decode()
    assert "上海办公室" in page and 'value="refuse" checked' in page


def test_a_taken_code_is_refused_on_the_form_with_what_was_typed_kept(hr, org):
    response = hr.post(NEW, {**NEW_GROUP, "code": "STD"})

    assert response.status_code == 422
    body = response.content.decode()
    assert error_at(body, "code") and "STD" in body
    assert 'value="上海办公室"' in body
    assert AttendanceGroup.objects.get(code="STD").name == "标准工时组"
    assert not events("org.group.create") and not PunchSettings.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"time_zone": "other", "time_zone_other": "Mars/Olympus"}, "time_zone"),
        ({"time_zone": "other", "time_zone_other": ""}, "time_zone"),
        ({"day_boundary_hour": "24"}, "day_boundary_hour"),
        ({"day_boundary_hour": "-1"}, "day_boundary_hour"),
        ({"day_boundary_hour": "four"}, "day_boundary_hour"),
        ({"code": "上海"}, "code"),
        ({"code": ""}, "code"),
        ({"code": ".."}, "code"),
        ({"name": "   "}, "name"),
        ({"outside_rule": "maybe"}, "outside_rule"),
    ],
)
def test_bad_input_is_refused_next_to_its_field_and_nothing_is_written(hr, change, field):
    response = hr.post(NEW, {**NEW_GROUP, **change})

    assert response.status_code == 422
    assert error_at(response.content.decode(), field)
    assert not AttendanceGroup.objects.filter(code__in=["SH", "上海", "", ".."]).exists()
    assert not PunchSettings.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="org.group").exists()


def test_any_iana_zone_may_be_typed_and_the_form_shows_it_again(hr):
    response = hr.post(NEW, {**NEW_GROUP, "time_zone": "other", "time_zone_other": "Asia/Almaty"})

    assert response.status_code == 302
    assert AttendanceGroup.objects.get(code="SH").time_zone == "Asia/Almaty"
    page = hr.get(edit_url("SH")).content.decode()
    assert 'value="other" selected' in page and 'value="Asia/Almaty"' in page


def test_edit_changes_name_zone_boundary_and_rules_but_never_the_code(hr, org):
    body = {**NEW_GROUP, "code": "HACKED", "name": "标准组", "time_zone": "Asia/Urumqi"}
    body.pop("web_punch_enabled")  # unticked

    response = hr.post(edit_url("STD"), body)

    assert response.status_code == 302
    org.group.refresh_from_db()
    assert (org.group.code, org.group.name, org.group.time_zone) == (
        "STD",
        "标准组",
        "Asia/Urumqi",
    )
    assert not AttendanceGroup.objects.filter(code="HACKED").exists()
    assert not PunchSettings.objects.get(group=org.group).web_punch_enabled
    (update,) = events("org.group.update")
    assert update.changes["before"]["time_zone"] == "Asia/Shanghai"
    assert update.changes["after"]["time_zone"] == "Asia/Urumqi"
    # the same form again changes nothing and writes no event
    hr.post(edit_url("STD"), body)
    assert len(events("org.group.update")) == 1


def test_a_group_with_active_members_cannot_be_deactivated(hr, org):
    body = {**NEW_GROUP, "name": org.group.name, "time_zone": "Asia/Shanghai"}
    body.pop("active")

    response = hr.post(edit_url("STD"), body)

    assert response.status_code == 422
    assert error_at(response.content.decode(), "active")
    org.group.refresh_from_db()
    assert org.group.active and org.group.day_boundary_hour == 0  # nothing half-written
    assert not PunchSettings.objects.exists()


def test_the_auditor_reads_the_pages_but_every_post_is_refused(client, org):
    client.force_login(org.auditor.user)
    assert client.get(LIST).status_code == 200
    page = client.get(edit_url("STD"))
    assert page.status_code == 200 and "<fieldset disabled" in page.content.decode()
    assert client.get(members_url("STD")).status_code == 200
    assert client.get(NEW).status_code == 403
    for url, body in [
        (NEW, NEW_GROUP),
        (edit_url("STD"), NEW_GROUP),
        ("/settings/groups/STD/terminals/", {"terminals": []}),
        (members_url("STD", "add"), {"how": "department", "department": "RD"}),
        (members_url("STD", "remove"), {"employees": [org.employee.pk]}),
        (members_url("STD", "import"), {"numbers": "1002"}),
    ]:
        assert client.post(url, body).status_code == 403, url
    assert not AuditEvent.objects.filter(
        action__in=["org.group.create", "org.group.update", "org.employee.group_change"]
    ).exists()


def test_an_employee_may_not_open_the_group_pages(client, org):
    client.force_login(org.employee.user)
    assert client.get(LIST).status_code == 403
    assert client.get(edit_url("STD")).status_code == 403


def test_an_unknown_group_is_404(hr):
    assert hr.get(edit_url("NOPE")).status_code == 404
    assert hr.get(members_url("NOPE")).status_code == 404


# --- terminals and geofences -----------------------------------------------------------


def test_hr_assigns_and_unassigns_approved_terminals(hr, org):
    other = factories.AttendanceGroupFactory(code="NIGHT", name="夜班组")
    front = Device.objects.create(
        serial="FRONT0001", status=DeviceStatus.APPROVED, attendance_group=org.group
    )
    gate = Device.objects.create(
        serial="GATE0001", status=DeviceStatus.APPROVED, attendance_group=other
    )
    page = hr.get(edit_url("STD")).content.decode()
    assert 'value="FRONT0001" checked' in page and "夜班组" in page

    response = hr.post("/settings/groups/STD/terminals/", {"terminals": ["GATE0001"]})

    assert response.status_code == 302
    front.refresh_from_db(), gate.refresh_from_db()
    assert front.attendance_group is None and gate.attendance_group == org.group
    assert len(events("devices.device.update")) == 2


def test_a_terminal_that_is_not_approved_is_refused_and_nothing_changes(hr, org):
    front = Device.objects.create(
        serial="FRONT0001", status=DeviceStatus.APPROVED, attendance_group=org.group
    )
    Device.objects.create(serial="WAIT0001", status=DeviceStatus.PENDING)

    response = hr.post("/settings/groups/STD/terminals/", {"terminals": ["WAIT0001"]})

    assert response.status_code == 422 and "WAIT0001" in response.content.decode()
    front.refresh_from_db()
    assert front.attendance_group == org.group
    assert not events("devices.device.update")


def test_the_groups_geofences_are_listed_read_only(hr, org):
    org.group.geofences.create(name="总部", latitude=31.2304, longitude=121.4737, radius_m=300)
    page = hr.get(edit_url("STD")).content.decode()
    section = page.split('id="geofences"', 1)[1]
    assert "总部" in section and "300" in section and "<input" not in section.split("</section>")[0]


# --- members ----------------------------------------------------------------------------


@pytest.fixture
def night(org):
    return factories.AttendanceGroupFactory(code="NIGHT", name="夜班组")


def test_adding_a_department_moves_its_active_people_and_those_of_sub_departments(hr, org, night):
    sub = factories.DepartmentFactory(code="RD-QA", name="测试组", parent=org.department)
    tester = factories.EmployeeFactory(
        employee_no="3001", name="钱测试", department=sub, attendance_group=None
    )
    gone = factories.EmployeeFactory(
        employee_no="3002", department=sub, attendance_group=None, active=False
    )

    response = hr.post(members_url("NIGHT", "add"), {"how": "department", "department": "RD"})

    assert response.status_code == 302
    members = Employee.objects.filter(attendance_group=night)
    moved = set(members.values_list("employee_no", flat=True))
    assert moved == {"1000", "1001", "1002", "1003", "3001"}
    gone.refresh_from_db()
    assert gone.attendance_group is None
    changes = {e.changes["after"]["employee_no"]: e for e in events("org.employee.group_change")}
    assert set(changes) == moved
    assert changes["1002"].changes["before"]["attendance_group"] == "STD"
    assert changes["1002"].changes["after"]["attendance_group"] == "NIGHT"
    assert changes["3001"].changes["before"]["attendance_group"] is None
    assert changes["1002"].actor_id == org.hr.user.pk
    assert changes["1002"].changes["via"] == "department"
    page = hr.get(members_url("NIGHT")).content.decode()
    assert f'id="member-{tester.employee_no}"' in page and "钱测试" in page


def test_adding_a_person_by_pinyin_initials(hr, org, night):
    Employee.objects.filter(pk=org.employee.pk).update(name_initials="zs")

    response = hr.post(members_url("NIGHT", "add"), {"how": "person", "person": "zs"})

    assert response.status_code == 302
    org.employee.refresh_from_db()
    assert org.employee.attendance_group == night
    (event,) = events("org.employee.group_change")
    assert event.changes["via"] == "person"


def test_the_person_picker_suggests_people_by_name_or_number(hr, org):
    body = hr.get("/settings/groups/people/", {"person": "张"}).content.decode()
    assert 'value="1002"' in body and "张三" in body


def test_a_name_that_fits_several_people_lists_them_and_moves_nobody(hr, org, night):
    factories.EmployeeFactory(employee_no="5001", name="张三丰")

    response = hr.post(members_url("NIGHT", "add"), {"how": "person", "person": "张三"})

    # "张三" is exactly one person's name: that one is meant
    assert response.status_code == 302
    response = hr.post(members_url("NIGHT", "add"), {"how": "person", "person": "张"})
    assert response.status_code == 422
    body = response.content.decode()
    assert "5001" in body and 'value="张"' in body
    assert Employee.objects.get(employee_no="5001").attendance_group.code != "NIGHT"


def test_nobody_can_be_added_to_an_inactive_group(hr, org):
    factories.AttendanceGroupFactory(code="OLD", name="旧组", active=False)
    response = hr.post(members_url("OLD", "add"), {"how": "person", "person": "1002"})
    assert response.status_code == 422
    org.employee.refresh_from_db()
    assert org.employee.attendance_group == org.group


def test_removing_moves_to_no_group_or_to_another_group(hr, org, night):
    response = hr.post(members_url("STD", "remove"), {"employees": [org.employee.pk], "to": ""})
    assert response.status_code == 302
    org.employee.refresh_from_db()
    assert org.employee.attendance_group is None

    response = hr.post(
        members_url("STD", "remove"), {"employees": [org.colleague.pk], "to": "NIGHT"}
    )
    assert response.status_code == 302
    org.colleague.refresh_from_db()
    assert org.colleague.attendance_group == night
    first, second = events("org.employee.group_change")
    assert (first.changes["after"]["attendance_group"], first.changes["via"]) == (None, "remove")
    assert second.changes["after"]["attendance_group"] == "NIGHT"


def test_removing_someone_who_is_not_a_member_moves_nobody(hr, org, night):
    stranger = factories.EmployeeFactory(employee_no="6001", attendance_group=night)
    response = hr.post(members_url("STD", "remove"), {"employees": [stranger.pk]})
    assert response.status_code == 422
    stranger.refresh_from_db()
    assert stranger.attendance_group == night


CSV = "工号\n1002\n1003\n9999\nab-c\n1002\n"


def test_an_import_dry_run_shows_each_line_and_writes_nothing(hr, org, night):
    file = SimpleUploadedFile("members.csv", CSV.encode("utf-8"), content_type="text/csv")

    response = hr.post(members_url("NIGHT", "import"), {"file": file})

    assert response.status_code == 200
    body = response.content.decode()
    line = {n: body.split(f'id="line-{n}"', 1)[1].split("</tr>", 1)[0] for n in (2, 3, 4, 5, 6)}
    assert "张三" in line[2] and "STD → NIGHT" in line[2]
    assert "9999" in line[4] and 'class="error"' in line[4]
    assert 'class="error"' in line[5]  # not an employee number
    assert 'class="error"' in line[6] and "2" in line[6]  # repeated, first on line 2
    assert 'id="apply-import"' not in body  # errors: nothing to confirm
    assert Employee.objects.filter(attendance_group=night).count() == 0
    assert not events("org.employee.group_change")


def test_a_clean_import_is_confirmed_then_applied(hr, org, night):
    Employee.objects.filter(pk=org.colleague.pk).update(attendance_group=night)
    dry = hr.post(members_url("NIGHT", "import"), {"numbers": "1002\n1003\n"})
    body = dry.content.decode()
    assert 'id="apply-import"' in body
    checked = body.split('name="checked" hidden>', 1)[1].split("</textarea>", 1)[0]
    assert checked.split() == ["1:1002", "2:1003"]
    assert Employee.objects.get(pk=org.employee.pk).attendance_group == org.group

    response = hr.post(members_url("NIGHT", "import"), {"apply": "1", "checked": checked})

    assert response.status_code == 302
    org.employee.refresh_from_db()
    assert org.employee.attendance_group == night
    (event,) = events("org.employee.group_change")  # 1003 was there already
    assert event.changes["via"] == "import" and event.changes["before"]["attendance_group"] == "STD"


def test_an_apply_with_an_unknown_number_is_refused_whole(hr, org, night):
    response = hr.post(
        members_url("NIGHT", "import"), {"apply": "1", "checked": "1:1002\n2:9999\n"}
    )

    assert response.status_code == 422
    body = response.content.decode()
    assert "9999" in body and 'id="line-2"' in body
    org.employee.refresh_from_db()
    assert org.employee.attendance_group == org.group
    assert not events("org.employee.group_change")


def test_a_file_that_is_not_a_table_is_refused_clearly(hr, night):
    file = SimpleUploadedFile("x.csv", b"\x00\x01\x02binary", content_type="text/csv")
    response = hr.post(members_url("NIGHT", "import"), {"file": file})
    assert response.status_code == 422
    assert 'class="errors" role="alert"' in response.content.decode()


def test_an_import_names_people_who_left_and_reads_numbers_from_a_spreadsheet(hr, org, night):
    factories.EmployeeFactory(employee_no="7001", name="已离职", active=False)
    book = Workbook()
    sheet = book.active
    for row in (["工号"], [1002], ["7001"]):
        sheet.append(row)
    data = BytesIO()
    book.save(data)
    file = SimpleUploadedFile("members.xlsx", data.getvalue())

    response = hr.post(members_url("NIGHT", "import"), {"file": file})

    body = response.content.decode()
    assert "STD → NIGHT" in body.split('id="line-2"', 1)[1].split("</tr>", 1)[0]
    left = body.split('id="line-3"', 1)[1].split("</tr>", 1)[0]
    assert "7001" in left and 'class="error"' in left
    assert not events("org.employee.group_change")

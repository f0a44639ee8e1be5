"""`ztk demo`: the demo company an evaluator logs into, loaded once and never twice."""

from __future__ import annotations

import re
import stat
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command

from tests import factories
from ztk.audit.models import AuditChainHead, AuditEvent
from ztk.audit.selectors import audit_verify
from ztk.core.errors import DomainError
from ztk.org.demo import COMPANY, DEMO_LOGINS, credentials_path, load_demo
from ztk.org.models import AttendanceGroup, Company, Department, Employee
from ztk.punches.geofence_selectors import active_fences
from ztk.punches.models import Geofence

pytestmark = pytest.mark.django_db
User = get_user_model()
CHINESE_NAME = re.compile(r"^[\u4e00-\u9fff]{2,4}$")


@pytest.fixture(autouse=True)
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    return tmp_path


@pytest.fixture
def passwords():
    return load_demo()


def employee(login: str) -> Employee:
    return Employee.objects.select_related("department", "supervisor").get(user__username=login)


def read_credentials() -> dict[str, str]:
    lines = credentials_path().read_text(encoding="utf-8").splitlines()
    return {line.split("\t")[0]: line.split("\t")[1] for line in lines if not line.startswith("#")}


def state() -> dict:
    """Everything the demo writes, to show that a second run writes nothing."""
    head = AuditChainHead.objects.get(id=1)
    return {
        "companies": Company.objects.count(),
        "departments": list(Department.objects.values_list("code", "name", "head_id")),
        "employees": list(
            Employee.objects.values_list("employee_no", "name", "supervisor_id", "department_id")
        ),
        "groups": AttendanceGroup.objects.count(),
        "users": list(User.objects.order_by("pk").values_list("username", "password")),
        "audit": (AuditEvent.objects.count(), head.seq, head.hash),
        "credentials": credentials_path().read_bytes(),
    }


def test_one_company_with_three_or_four_departments_each_with_a_head(passwords):
    # then
    assert list(Company.objects.values_list("name", flat=True)) == [COMPANY]
    departments = list(Department.objects.select_related("head"))
    assert 3 <= len(departments) <= 4
    for department in departments:
        assert department.head is not None, department
        assert department.head.department_id == department.pk
        assert department.head.supervisor is None


def test_about_forty_employees_with_distinct_chinese_names_in_one_attendance_group(passwords):
    names = list(Employee.objects.values_list("name", flat=True))
    assert 35 <= len(names) <= 45
    assert all(CHINESE_NAME.match(name) for name in names), names
    assert len(set(names)) == len(names)
    group = AttendanceGroup.objects.get()
    assert Employee.objects.exclude(attendance_group=group).count() == 0


def test_everyone_but_the_heads_has_a_supervisor_in_their_own_department(passwords):
    for person in Employee.objects.select_related("supervisor"):
        if person.headed_departments.exists():
            continue
        assert person.supervisor is not None, person
        assert person.supervisor.department_id == person.department_id
    # supervisors below the heads exist, so approvals see a real two-level organisation
    team_leads = Employee.objects.filter(
        reports__isnull=False, headed_departments__isnull=True
    ).distinct()
    assert team_leads.count() >= 2


def test_manager_supervises_employee_and_is_not_a_department_head(passwords):
    manager, staff = employee("manager"), employee("employee")
    assert staff.supervisor == manager
    assert manager.reports.filter(active=True).count() >= 2
    assert not manager.headed_departments.exists()
    assert manager.supervisor is not None and manager.supervisor.headed_departments.exists()


def test_one_hr_admin_and_one_auditor_and_no_roles_for_the_others(passwords):
    assert list(Group.objects.get(name="hr").user_set.values_list("username", flat=True)) == ["hr"]
    assert list(Group.objects.get(name="auditor").user_set.values_list("username", flat=True)) == [
        "auditor"
    ]
    for login in ("manager", "employee"):
        assert not User.objects.get(username=login).groups.exists()
    assert User.objects.get(username="hr").employee.department.code == "HRADM"


def test_the_demo_logins_get_random_passwords_and_nobody_else_can_log_in(passwords):
    assert set(DEMO_LOGINS) <= set(passwords)
    assert len(set(passwords.values())) == len(passwords)
    for login, password in passwords.items():
        user = User.objects.get(username=login)
        assert len(password) >= 12
        assert user.check_password(password), login
    others = User.objects.exclude(username__in=passwords)
    assert others.count() >= 30
    assert not any(user.has_usable_password() for user in others)


def test_passwords_are_written_to_var_with_mode_600(passwords, var_dir):
    path = credentials_path()
    assert path.parent == var_dir
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_credentials() == passwords


def test_an_existing_credentials_file_is_narrowed_to_600(var_dir):
    # given a file left behind with a wide mode
    credentials_path().write_text("old\n")
    credentials_path().chmod(0o644)
    # when
    load_demo()
    # then
    assert stat.S_IMODE(credentials_path().stat().st_mode) == 0o600


def test_every_demo_write_is_in_a_verifiable_audit_chain(passwords):
    result = audit_verify()
    assert result.ok, result
    actions = list(AuditEvent.objects.order_by("seq").values_list("action", flat=True))
    assert actions[-1] == "demo.load"
    assert actions.count("org.employee.create") == Employee.objects.count()
    assert not any(
        password in str(event.changes)
        for event in AuditEvent.objects.all()
        for password in passwords.values()
    )


def test_running_twice_changes_nothing_not_even_the_audit_log(passwords):
    # given
    before = state()
    # when
    again = load_demo()
    out = StringIO()
    call_command("demo", stdout=out)
    call_command("demo", "--if-empty", stdout=out)
    # then
    assert again is None
    assert state() == before
    assert "nothing changed" in out.getvalue()
    assert "skipped" in out.getvalue()


def test_the_command_prints_the_logins_it_wrote():
    out = StringIO()
    call_command("demo", stdout=out)
    printed = out.getvalue()
    for login, password in read_credentials().items():
        assert login in printed and password in printed


def test_the_demo_group_punches_inside_a_punch_area_around_the_office():
    call_command("demo", stdout=StringIO())

    fence = Geofence.objects.get()
    assert (fence.code, fence.active, fence.radius_m) == ("HQ", True, 300)
    assert [g.code for g in fence.groups.all()] == ["STD"]
    assert active_fences(AttendanceGroup.objects.get(code="STD").pk) == [(31.2304, 121.4737, 300.0)]


def test_the_demo_refuses_to_mix_into_a_real_organisation():
    # given a database that already has people
    factories.EmployeeFactory(name="真实员工")
    # when / then
    with pytest.raises(DomainError) as refused:
        load_demo()
    assert refused.value.code == "demo_not_empty"
    with pytest.raises(CommandError):
        call_command("demo", stdout=StringIO())
    assert not Company.objects.exists()
    assert not credentials_path().exists()

"""The correction settings page (/settings/corrections/): its service, summary and page."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import translation

from tests import factories
from ztk.audit.models import AuditEvent
from ztk.core.errors import DomainError, PermissionDeniedError
from ztk.corrections import policy_selectors as ps
from ztk.corrections import policy_services as svc
from ztk.corrections.models import ApproverKind, CorrectionPolicy, ReasonCategory
from ztk.corrections.services import categories_for, policy_row_for

pytestmark = pytest.mark.django_db

FIELDS = {
    "monthly_limit": 3,
    "window_days": 5,
    "window_mode": "working",
    "cutoff_day": 3,
    "correct_missing": True,
    "correct_late": True,
    "correct_early": False,
    "min_reason_length": 5,
    "self_apply": True,
    "expedite_allowed": False,
    "chain_preset": "custom",
    "manual_adds_count": False,
    "paper_counts": True,
}


@pytest.fixture
def org(categories):
    return factories.small_org()


SEEDED = {"忘记打卡": "forgot", "设备故障": "device"}  # the company-wide ones (conftest)


def cats(*names, att=()):
    """Categories as the page sends them: the listed ones keep their code, new ones none."""
    return [svc.CategoryIn(n, n in att, True, SEEDED.get(n, "")) for n in names]


def save(org, actor=None, fields=None, categories=None, steps=None):
    return svc.correction_policy_save(
        actor=actor or org.hr.user,
        group=org.group,
        fields={**FIELDS, **(fields or {})},
        categories=categories if categories is not None else cats("忘记打卡", "设备故障"),
        steps=steps if steps is not None else [svc.StepIn(ApproverKind.SUPERVISOR, None, 3)],
    )


def test_save_writes_policy_steps_categories_and_audit(org):
    row = save(
        org,
        categories=cats("忘记打卡", "设备故障", "外出办事", att=("设备故障",)),
        steps=[
            svc.StepIn(ApproverKind.SUPERVISOR, None, 3),
            svc.StepIn(ApproverKind.USER, org.head.user, None),
        ],
    )
    assert row.monthly_limit == 3 and row.window_mode == "working"
    assert [(s.approver_kind, s.user_id, s.deadline) for s in row.steps.all()] == [
        ("supervisor", None, 3),
        ("user", org.head.user.pk, 2),
    ]
    offered = categories_for(row)
    assert [c.name for c in offered.values()] == ["忘记打卡", "设备故障", "外出办事"]
    assert offered["device"].requires_attachment
    # the unchanged company-wide category needs no row of the group's own
    assert not ReasonCategory.objects.filter(policy=row, code="forgot").exists()
    event = AuditEvent.objects.get(action="corrections.policy.save")
    assert event.changes.get("before") is None
    assert event.changes["after"]["monthly_limit"] == 3
    save(org, fields={"monthly_limit": 4})
    last = AuditEvent.objects.filter(action="corrections.policy.save").order_by("-pk")[0]
    assert last.changes["before"]["monthly_limit"] == 3
    assert last.changes["after"]["monthly_limit"] == 4


def test_removing_a_company_category_hides_it_for_this_group_only(org):
    row = save(org, categories=cats("设备故障"))
    assert list(categories_for(row)) == ["device"]
    assert {"forgot", "device"} <= set(categories_for(CorrectionPolicy()))
    row = save(org, categories=cats("忘记打卡", "设备故障"))
    assert set(categories_for(row)) == {"forgot", "device"}


@pytest.mark.parametrize(
    ("fields", "categories", "steps", "field"),
    [
        ({"monthly_limit": 32}, None, None, "monthly_limit"),
        ({"monthly_limit": -1}, None, None, "monthly_limit"),
        ({"window_days": 63}, None, None, "window_days"),
        ({"cutoff_day": 29}, None, None, "cutoff_day"),
        ({"min_reason_length": 201}, None, None, "min_reason_length"),
        ({"window_mode": "weeks"}, None, None, "window_mode"),
        ({"chain_preset": "x"}, None, None, "chain_preset"),
        ({"correct_missing": False, "correct_late": False}, None, None, "correct_missing"),
        ({}, None, [], "steps"),
        ({}, None, [svc.StepIn(ApproverKind.USER, None, None)], "steps"),
        ({}, None, [svc.StepIn(ApproverKind.HR, None, 31)], "steps"),
        ({}, None, [svc.StepIn("boss", None, None)], "steps"),
        ({}, cats("忘记打卡", "忘记打卡"), None, "categories"),
        ({}, [svc.CategoryIn("x", active=False)], None, "categories"),
        ({}, cats("  "), None, "categories"),
        ({}, cats("x" * 61), None, "categories"),
    ],
)
def test_refusals_name_their_field_and_save_nothing(org, fields, categories, steps, field):
    with pytest.raises(DomainError) as refused:
        save(org, fields=fields, categories=categories, steps=steps)
    assert refused.value.details["field"] == field
    assert not CorrectionPolicy.objects.exists()
    assert not AuditEvent.objects.filter(action="corrections.policy.save").exists()


def test_presets_need_no_steps(org):
    row = save(org, fields={"chain_preset": "single"}, steps=[])
    assert row.chain_preset == "single"


@pytest.mark.parametrize("who", ["employee", "supervisor", "auditor"])
def test_only_hr_and_admins_save(org, who):
    with pytest.raises(PermissionDeniedError):
        save(org, actor=getattr(org, who).user)
    save(org, actor=org.sysadmin)


def test_summary_reads_the_saved_values(org):
    row = save(
        org,
        categories=cats("忘记打卡", "设备故障", att=("设备故障",)),
        steps=[
            svc.StepIn(ApproverKind.SUPERVISOR, None, 3),
            svc.StepIn(ApproverKind.USER, org.head.user, None),
        ],
    )
    with translation.override("zh-hans"):
        zh = ps.policy_summary(CorrectionPolicy.objects.get(pk=row.pk))
    with translation.override("en"):
        en = ps.policy_summary(CorrectionPolicy.objects.get(pk=row.pk))
    assert en[0] == "At most 3 corrections per month."
    assert "Apply within 5 working days after the anomaly." in en
    assert "After day 3 of the following month, a month can no longer be corrected." in en
    assert "Can be corrected: missing punches, late arrivals." in en
    assert "Reasons to choose from: 忘记打卡, 设备故障 (attachment required)." in en
    assert any("王部长 (within 2 working days)" in line for line in en)
    assert "Requests cannot be marked urgent (加急)." in en
    assert zh[0] == "每月最多补卡 3 次。"
    assert "需在异常发生后 5 个工作日内申请。" in zh


def test_summary_of_the_defaults(org):
    with translation.override("en"):
        lines = ps.policy_summary(policy_row_for(org.group))
    assert lines[0] == "At most 3 corrections per month."
    assert "Apply within 3 days after the anomaly." in lines
    assert any(line.startswith("Approved by: Direct supervisor") for line in lines)


def post_body(**over):
    body = {
        "monthly_limit": "3",
        "window_days": "5",
        "window_mode": "calendar",
        "cutoff_day": "",
        "correct_missing": "on",
        "min_reason_length": "5",
        "self_apply": "on",
        "chain_preset": "custom",
        "cat-0-code": "forgot",
        "cat-0-name": "忘记打卡",
        "cat-0-active": "1",
        "cat-1-code": "",
        "cat-1-name": "外出办事",
        "cat-1-att": "1",
        "cat-1-active": "1",
        "step-0-kind": "supervisor",
        "step-0-user": "",
        "step-0-deadline": "2",
        "step-1-kind": "user",
        "step-1-user": "王部长",
        "step-1-deadline": "",
    }
    body.update(over)
    return body


def client_for(user):
    c = Client()
    c.force_login(user)
    return c


def test_page_saves_and_shows_the_summary(org):
    c = client_for(org.hr.user)
    url = f"/settings/corrections/{org.group.code}/"
    assert c.get("/settings/corrections/").status_code == 200
    response = c.post(url, post_body(), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302
    row = CorrectionPolicy.objects.get(group=org.group)
    assert [s.user_id for s in row.steps.all()] == [None, org.head.user.pk]
    assert [c.name for c in categories_for(row).values()] == ["忘记打卡", "外出办事"]
    page = c.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "外出办事 (attachment required)" in page


def test_page_refusal_keeps_what_was_typed(org):
    c = client_for(org.hr.user)
    url = f"/settings/corrections/{org.group.code}/"
    response = c.post(
        url, post_body(monthly_limit="99", **{"cat-1-name": "新理由"}), HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert "must be a whole number from 0 to 31" in page
    assert 'value="99"' in page and 'value="新理由"' in page
    response = c.post(url, post_body(**{"step-1-user": "nobody-here"}))
    assert response.status_code == 422
    response = c.post(url, post_body(**{"step-0-deadline": "soon"}))
    assert response.status_code == 422
    assert not CorrectionPolicy.objects.exists()


def test_auditor_reads_only(org):
    c = client_for(org.auditor.user)
    url = f"/settings/corrections/{org.group.code}/"
    page = c.get(url)
    assert page.status_code == 200 and b"<fieldset disabled" in page.content
    assert c.post(url, post_body()).status_code == 403
    assert client_for(org.employee.user).get(url).status_code == 403

"""The admin: every correction page opens for HR; a policy with its inline steps and
categories saves and each row is audited; requests are read-only there."""

from __future__ import annotations

import pytest
from django.urls import reverse

from ztk.audit.models import AuditEvent
from ztk.corrections.models import ApprovalStepConfig, CorrectionPolicy, ReasonCategory

from .conftest import MON, only_checkout, submit

pytestmark = pytest.mark.django_db

MODELS = [
    "correctionpolicy",
    "reasoncategory",
    "correctionrequest",
    "approvalaction",
    "attachment",
    "quotacounter",
]


@pytest.mark.parametrize("model", MODELS)
def test_pages_open_for_hr(client, week, model):
    only_checkout(week.employee, MON)
    (req,) = submit(week.employee.user, week.employee)
    client.force_login(week.hr.user)
    assert client.get(reverse(f"admin:corrections_{model}_changelist")).status_code == 200
    if model == "correctionrequest":
        page = client.get(reverse("admin:corrections_correctionrequest_change", args=[req.pk]))
        assert page.status_code == 200
        assert 'id="actions-group"' in page.content.decode()  # the trail is shown
        assert client.get(reverse("admin:corrections_correctionrequest_add")).status_code == 403


def test_employees_do_not_get_in(client, week):
    client.force_login(week.employee.user)
    response = client.get(reverse("admin:corrections_correctionpolicy_changelist"))
    assert response.status_code in (302, 403)


def test_policy_with_inline_steps_and_categories_is_audited(client, week):
    client.force_login(week.hr.user)
    data = {
        "group": week.group.pk,
        "chain_preset": "custom",
        "monthly_limit": 4,
        "window_days": 5,
        "window_mode": "working",
        "cutoff_day": "",
        "manual_adds_count": "",
        "paper_counts": "on",
        "correct_missing": "on",
        "correct_late": "on",
        "self_apply": "on",
        "min_reason_length": 5,
        "expedite_allowed": "on",
        "steps-TOTAL_FORMS": "2",
        "steps-INITIAL_FORMS": "0",
        "steps-MIN_NUM_FORMS": "0",
        "steps-MAX_NUM_FORMS": "1000",
        "steps-0-position": "1",
        "steps-0-approver_kind": "department_head",
        "steps-0-deadline_working_days": "3",
        "steps-1-position": "2",
        "steps-1-approver_kind": "hr",
        "categories-TOTAL_FORMS": "1",
        "categories-INITIAL_FORMS": "0",
        "categories-MIN_NUM_FORMS": "0",
        "categories-MAX_NUM_FORMS": "1000",
        "categories-0-order": "5",
        "categories-0-code": "lab",
        "categories-0-name": "实验室封闭作业",
        "categories-0-requires_attachment": "on",
        "categories-0-active": "on",
    }
    response = client.post(reverse("admin:corrections_correctionpolicy_add"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    policy = CorrectionPolicy.objects.get(group=week.group)
    assert policy.correctable == frozenset({"missing", "late"})
    assert [(s.position, s.approver_kind, s.deadline) for s in policy.steps.all()] == [
        (1, "department_head", 3),
        (2, "hr", 1),
    ]
    assert ReasonCategory.objects.get(policy=policy).requires_attachment
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        "corrections.correctionpolicy.create",
        "corrections.approvalstepconfig.create",
        "corrections.reasoncategory.create",
    } <= actions

    # and the chain follows the new steps
    only_checkout(week.employee, MON)
    (req,) = submit(week.employee.user, week.employee)
    assert [s["kind"] for s in req.chain] == ["department_head", "hr"]
    assert ApprovalStepConfig.objects.count() == 2

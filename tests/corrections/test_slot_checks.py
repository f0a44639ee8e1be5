"""Issue 12, the first week: the day page and the month view say up front whether each red
slot can be corrected and, if not, why and whom to ask — with the very reasons a
submission for that slot would be refused with (``policy.check_slot`` is the one owner).
"""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest
from django.db import transaction
from django.urls import reverse
from hypothesis import given, settings

from ztk.core.errors import DomainError
from ztk.corrections import policy as p
from ztk.corrections.models import CorrectionPolicy
from ztk.corrections.services import slot_checks
from ztk.punches.services import PunchInput, record_punches

from .conftest import MON, NOW, TUE, at, item, only_checkout, submit
from .test_pages import find, find_all, page
from .test_policy_properties import any_facts, policies

THU_BEFORE = date(2026, 11, 19)  # its window (3 days) ended on Sunday 22 November
FRI = date(2026, 11, 27)  # still to come on Wednesday 25 November


# --------------------------------------------------------------------------- the pure rule


@settings(max_examples=400)
@given(policy=policies, facts=any_facts)
def test_the_submission_starts_with_exactly_the_slot_check(policy, facts):
    """Whatever the policy and the facts: the slot rules a submission breaks are the ones
    the up-front check names, in the same order, and the rest concern only the form."""
    slot_refusals = p.check_slot(policy, facts.slot())
    submitted = p.check_submission(policy, facts)

    assert submitted[: len(slot_refusals)] == slot_refusals
    assert not any(r.code in p.SLOT_CODES for r in submitted[len(slot_refusals) :])
    assert {r.code for r in slot_refusals} <= p.SLOT_CODES


def test_a_day_still_to_come_is_refused_as_such():
    facts = p.SlotFacts(
        employee_active=True,
        on_behalf=False,
        applicant_may_file_on_behalf=False,
        day=date(2026, 11, 27),
        slot_key="in1",
        slot_status="pending",
        today=date(2026, 11, 25),
    )
    assert [r.code for r in p.check_slot(p.Policy(), facts)] == [p.FUTURE_DAY, p.NOT_AN_ANOMALY]
    assert p.check_slot(p.Policy(), dataclasses.replace(facts, day=date(2026, 11, 25))) == [
        p.Refusal(p.NOT_AN_ANOMALY, {"day": "2026-11-25", "slot": "in1", "status": "pending"})
    ]


# --------------------------------------------------------------------------- up front = refusal


def _late(employee, day):
    """Checked in at 09:20 (late) and out at 18:05."""
    record_punches(
        [
            PunchInput(at=at(day, 9, 20), source="device", employee_id=employee.pk, device_sn="S"),
            PunchInput(at=at(day, 18, 5), source="device", employee_id=employee.pk, device_sn="S"),
        ]
    )


def _policy(org, **fields):
    CorrectionPolicy.objects.update_or_create(group=org.group, defaults=fields)


def case_open(org):
    only_checkout(org.employee, MON)
    return MON, "in1"


def case_deadline_passed(org):
    only_checkout(org.employee, THU_BEFORE)
    return THU_BEFORE, "in1"


def case_quota_used(org):
    _policy(org, monthly_limit=1)
    only_checkout(org.employee, MON, TUE)
    submit(org.employee.user, org.employee, item(TUE))
    return MON, "in1"


def case_future_day(org):
    return FRI, "in1"


def case_self_apply_off(org):
    _policy(org, self_apply=False)
    only_checkout(org.employee, MON)
    return MON, "in1"


def case_late_not_correctable(org):
    _late(org.employee, MON)
    return MON, "in1"


def case_late_correctable(org):
    _policy(org, correct_late=True)
    _late(org.employee, MON)
    return MON, "in1"


def case_request_pending(org):
    only_checkout(org.employee, MON)
    submit(org.employee.user, org.employee, item(MON))
    return MON, "in1"


def case_already_punched(org):
    only_checkout(org.employee, MON)
    return MON, "out1"


CASES = {
    "open": (case_open, []),
    "deadline passed": (case_deadline_passed, [p.WINDOW_EXPIRED]),
    "monthly quota used": (case_quota_used, [p.MONTHLY_LIMIT_REACHED]),
    "future day": (case_future_day, [p.FUTURE_DAY, p.NOT_AN_ANOMALY]),
    "self-apply off": (case_self_apply_off, [p.NOT_ALLOWED_TO_SELF_APPLY]),
    "late, not correctable": (case_late_not_correctable, [p.NOT_AN_ANOMALY]),
    "late, correctable": (case_late_correctable, []),
    "request pending": (case_request_pending, [p.DUPLICATE_PENDING]),
    "already punched": (case_already_punched, [p.SLOT_ALREADY_PUNCHED]),
}


def _submitted_codes(org, day, slot):
    """What a submission of that slot alone (with a good reason, in its window) is refused
    with, as slot rules; rolled back either way."""
    hh, mm = (8, 58) if slot.startswith("in") else (18, 1)
    try:
        with transaction.atomic():
            submit(org.employee.user, org.employee, item(day, slot, hh, mm))
            transaction.set_rollback(True)
    except DomainError as refused:
        details = refused.details if isinstance(refused.details, list) else []
        return [d["code"] for d in details if d["code"] in p.SLOT_CODES]
    return []


@pytest.mark.django_db
@pytest.mark.parametrize("name", list(CASES))
def test_the_reason_shown_up_front_is_the_refusal_of_a_submission(week, name):
    arrange, expected = CASES[name]
    day, slot = arrange(week)

    up_front = slot_checks(actor=week.employee.user, employee=week.employee, days=[day], now=NOW)
    codes = [r.code for r in up_front[(day, slot)]]

    assert codes == expected
    assert codes == _submitted_codes(week, day, slot)


@pytest.fixture
def reader(client):
    def sign_in(user):
        client.force_login(user)
        client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
        return client

    return sign_in


@pytest.mark.django_db
def test_the_day_page_says_why_a_late_slot_cannot_be_corrected_and_whom_to_ask(week, reader):
    _late(week.employee, MON)

    html = page(reader(week.employee.user).get(reverse("attendance:day", args=[MON.isoformat()])))

    why = find(html, "div", class_="slot-why")
    assert why.attrs["data-codes"] == p.NOT_AN_ANOMALY
    assert "Late arrivals cannot be corrected under your group's correction policy" in why.text
    # Whom to ask, by name: the supervisor and HR.
    assert "李主管" in why.text and "陈人事" in why.text
    assert not find_all(html, "a", class_="apply-link")


@pytest.mark.django_db
def test_the_day_page_offers_the_form_for_a_late_slot_the_policy_lets_people_correct(week, reader):
    _policy(week, correct_late=True)
    _late(week.employee, MON)

    html = page(reader(week.employee.user).get(reverse("attendance:day", args=[MON.isoformat()])))

    assert find(html, "a", class_="apply-link").attrs["data-slot"] == "in1"
    assert not find_all(html, "div", class_="slot-why")


@pytest.mark.django_db
def test_the_day_page_says_the_deadline_passed_and_that_hr_can_still_help(week, reader):
    only_checkout(week.employee, THU_BEFORE)

    html = page(
        reader(week.employee.user).get(reverse("attendance:day", args=[THU_BEFORE.isoformat()]))
    )

    why = find(html, "div", class_="slot-why")
    assert "The deadline to correct 2026-11-19 has passed" in why.text
    assert "HR can still record the punch by hand" in why.text and "陈人事" in why.text
    assert not find_all(html, "a", class_="apply-link")


@pytest.mark.django_db
def test_self_apply_off_names_the_supervisor_and_hr_to_file_it(week, reader):
    _policy(week, self_apply=False)
    only_checkout(week.employee, MON)

    html = page(reader(week.employee.user).get(reverse("attendance:day", args=[MON.isoformat()])))

    why = find(html, "div", class_="slot-why")
    assert "Ask your supervisor 李主管 or HR (陈人事) to file the correction" in why.text
    # The supervisor, on the employee's day, may file it on their behalf: the form is offered.
    url = reverse("attendance:employee_day", args=[week.employee.employee_no, MON.isoformat()])
    html = page(reader(week.supervisor.user).get(url))
    assert find(html, "a", class_="apply-link").attrs["data-slot"] == "in1"


@pytest.mark.django_db
def test_the_quota_reason_is_shown_on_the_day_page_in_chinese(week, client):
    _policy(week, monthly_limit=1)
    only_checkout(week.employee, MON, TUE)
    submit(week.employee.user, week.employee, item(TUE))
    client.force_login(week.employee.user)

    html = page(client.get(reverse("attendance:day", args=[MON.isoformat()])))

    why = find(html, "div", class_="slot-why")
    assert why.attrs["data-codes"] == p.MONTHLY_LIMIT_REACHED
    assert "已达上限" in why.text or "上限" in why.text


@pytest.mark.django_db
def test_a_day_still_to_come_says_so(week, reader):
    html = page(reader(week.employee.user).get(reverse("attendance:day", args=[FRI.isoformat()])))

    assert "2026-11-27 has not come yet" in find(html, "span", class_="day-reason").text


@pytest.mark.django_db
def test_the_month_view_lists_each_red_slot_with_its_verdict(week, reader):
    _policy(week, monthly_limit=2)
    only_checkout(week.employee, THU_BEFORE, MON, TUE)
    _late(week.employee, date(2026, 11, 20))

    html = page(reader(week.employee.user).get(reverse("attendance:home") + "?month=2026-11"))

    slots = {
        (li.attrs["data-day"], li.attrs["data-slot"]): li
        for li in find_all(html, "li", class_="red-slot")
    }
    assert set(slots) == {
        ("2026-11-19", "in1"),
        ("2026-11-20", "in1"),
        ("2026-11-23", "in1"),
        ("2026-11-24", "in1"),
    }
    assert "has passed" in slots[("2026-11-19", "in1")].text
    assert "Late arrivals cannot be corrected" in slots[("2026-11-20", "in1")].text
    assert "Apply for this one" in slots[("2026-11-23", "in1")].text
    assert "Apply for this one" in slots[("2026-11-24", "in1")].text
    picks = [i.attrs["value"] for i in find_all(html, "input", class_="red-pick")]
    assert picks == ["2026-11-23:in1", "2026-11-24:in1"]


@pytest.mark.django_db
def test_the_month_views_verdicts_cost_the_same_for_two_red_days_or_five(week, client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(week.employee.user)
    url = reverse("attendance:home") + "?month=2026-11"
    only_checkout(week.employee, date(2026, 11, 2), MON)  # one expired, one open
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    only_checkout(week.employee, date(2026, 11, 3), date(2026, 11, 4), TUE)
    with CaptureQueriesContext(connection) as five:
        client.get(url)
    assert len(five) == len(one)


@pytest.mark.django_db
def test_the_api_gives_the_same_verdicts_with_codes_and_params(week, client):
    _late(week.employee, MON)
    only_checkout(week.employee, TUE)
    client.force_login(week.employee.user)

    response = client.get("/api/v1/corrections/slot-checks?from=2026-11-23&to=2026-11-24")

    assert response.status_code == 200
    found = {(c["date"], c["slot"]): c for c in response.json()["items"]}
    assert found[("2026-11-24", "in1")]["correctable"] is True
    late = found[("2026-11-23", "in1")]
    assert late["correctable"] is False
    assert [r["code"] for r in late["refusals"]] == [p.NOT_AN_ANOMALY]
    assert late["refusals"][0]["params"]["status"] == "late"
    assert [r["code"] for r in found[("2026-11-23", "out1")]["refusals"]] == [
        p.SLOT_ALREADY_PUNCHED
    ]

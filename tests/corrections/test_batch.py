"""Several days in one go (issue 12; the seed's Q&A: 多天连续未打可以一起申诉): the month view
chooses red slots, the batch page files them with one reason, category and proof — one
request per slot, all or nothing; a refusal is shown on its slot and nothing is written."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from ztk.approvals import services as approval_services
from ztk.audit.models import AuditEvent
from ztk.corrections.models import Attachment, CorrectionPolicy, CorrectionRequest
from ztk.notifications.models import Notification

from .conftest import MON, TUE, item, only_checkout, submit
from .test_pages import find, find_all, page

THU_BEFORE = date(2026, 11, 19)  # its window ended on Sunday 22 November
BATCH = reverse("requests:batch")
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)


def _limit(org, n):
    CorrectionPolicy.objects.update_or_create(group=org.group, defaults={"monthly_limit": n})


@pytest.fixture
def reader(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"

    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in


def _post(client, *names, **fields):
    data = {
        "slot": list(names),
        "category": "forgot",
        "reason": "门禁卡坏了，连续两天没打上",
        **fields,
    }
    return client.post(BATCH, data)


def _nothing_written(before_events: int) -> None:
    assert not CorrectionRequest.objects.exists()
    assert not Attachment.objects.exists()
    assert not Notification.objects.exists()
    assert AuditEvent.objects.count() == before_events


# --------------------------------------------------------------------------- the month view


@pytest.mark.django_db
def test_the_month_view_offers_a_checkbox_per_correctable_red_slot(week, reader):
    only_checkout(week.employee, THU_BEFORE, MON, TUE)

    html = page(reader(week.employee.user).get(reverse("attendance:home") + "?month=2026-11"))

    form = find(html, "form", class_="red-form")
    assert form.attrs["action"] == BATCH and form.attrs.get("method") == "get"
    picks = [i.attrs["value"] for i in find_all(html, "input", class_="red-pick")]
    assert picks == ["2026-11-23:in1", "2026-11-24:in1"]  # not the expired Thursday


@pytest.mark.django_db
def test_the_batch_page_shows_the_chosen_slots_with_their_shift_times(week, reader):
    only_checkout(week.employee, MON, TUE)

    response = reader(week.employee.user).get(BATCH + "?slot=2026-11-23:in1&slot=2026-11-24:in1")

    html = page(response)
    assert response.status_code == 200
    rows = find_all(html, "div", class_="apply-slot")
    assert [r.attrs["data-slot"] for r in rows] == ["2026-11-23:in1", "2026-11-24:in1"]
    assert find(html, "input", name="time_2026-11-23_in1").attrs["value"] == "09:00"


# --------------------------------------------------------------------------- submitting


@pytest.mark.django_db
def test_two_days_in_one_go_make_two_requests_with_one_reason_and_shared_proof(week, reader):
    only_checkout(week.employee, MON, TUE)
    client = reader(week.employee.user)
    proof = SimpleUploadedFile("proof.png", PNG, content_type="image/png")

    response = _post(client, "2026-11-23:in1", "2026-11-24:in1", attachments=proof)

    assert response.status_code == 302
    assert response["Location"] == reverse("attendance:home") + "?month=2026-11"
    made = list(CorrectionRequest.objects.order_by("date"))
    assert [(r.date, r.slot_key) for r in made] == [(MON, "in1"), (TUE, "in1")]
    assert {r.reason for r in made} == {"门禁卡坏了，连续两天没打上"}
    assert {r.category.code for r in made} == {"forgot"}
    assert [r.attachments.count() for r in made] == [1, 1]
    files = {a.file.name for a in Attachment.objects.all()}
    assert len(files) == 1  # one stored file, shared


@pytest.mark.django_db
def test_three_slots_with_two_places_left_are_refused_together_saying_so(week, reader):
    _limit(week, 3)
    # No punches on Monday or Tuesday: both slots of each day are missing.
    (used,) = submit(week.employee.user, week.employee, item(MON, "out1", 18))  # 2 left
    client = reader(week.employee.user)
    events = AuditEvent.objects.count()
    notices = Notification.objects.count()

    response = _post(client, "2026-11-23:in1", "2026-11-24:in1", "2026-11-24:out1")

    assert response.status_code == 422
    assert list(CorrectionRequest.objects.values_list("pk", flat=True)) == [used.pk]
    assert AuditEvent.objects.count() == events
    assert Notification.objects.count() == notices
    html = page(response)
    summary = find(html, "div", id="form-errors").text
    assert "You chose 3 punches, but only 2 corrections are left in this period" in summary
    rows = {r.attrs["data-slot"]: r for r in find_all(html, "div", class_="apply-slot")}
    assert "Beyond the limit of 3 corrections" in rows["2026-11-24:out1"].text
    assert "limit" not in rows["2026-11-23:in1"].text
    assert "limit" not in rows["2026-11-24:in1"].text


@pytest.mark.django_db
def test_one_refused_day_refuses_the_batch_and_says_why_on_that_day(week, reader):
    only_checkout(week.employee, THU_BEFORE, MON)
    client = reader(week.employee.user)
    events = AuditEvent.objects.count()

    response = _post(client, "2026-11-19:in1", "2026-11-23:in1")

    assert response.status_code == 422
    _nothing_written(events)
    rows = {r.attrs["data-slot"]: r for r in find_all(page(response), "div", class_="apply-slot")}
    assert "The deadline to correct 2026-11-19 has passed" in rows["2026-11-19:in1"].text
    assert "has passed" not in rows["2026-11-23:in1"].text


@pytest.mark.django_db
def test_a_batch_with_nothing_ticked_is_refused_clearly(week, reader):
    only_checkout(week.employee, MON)
    response = reader(week.employee.user).post(
        BATCH, {"category": "forgot", "reason": "门禁卡坏了没打上"}
    )
    assert response.status_code == 422
    assert "Choose at least one day and punch to correct." in page(response)


@pytest.mark.django_db
def test_someone_elses_slots_are_not_found(week, reader):
    only_checkout(week.colleague, MON)
    response = reader(week.employee.user).get(BATCH + "?slot=2026-11-23:in1&employee=1003")
    assert response.status_code == 404


# --------------------------------------------------------------------------- all or nothing


@pytest.mark.django_db(transaction=True)
def test_a_failure_while_writing_the_second_request_leaves_nothing_written(
    org, categories, time_machine, monkeypatch, reader
):
    """Committed for real (no test transaction around it), on SQLite and on PostgreSQL."""
    from .conftest import NOW, week_for

    time_machine.move_to(NOW, tick=False)
    week_for(org)
    events = AuditEvent.objects.count()
    real = approval_services.enter_first_step
    calls = []

    def fail_on_the_second(req, now):
        calls.append(req.pk)
        if len(calls) == 2:
            raise RuntimeError("the database went away")
        return real(req, now)

    monkeypatch.setattr(approval_services, "enter_first_step", fail_on_the_second)
    client = reader(org.employee.user)
    client.raise_request_exception = False

    response = _post(client, "2026-11-23:in1", "2026-11-24:in1")

    assert response.status_code == 500
    assert len(calls) == 2
    _nothing_written(events)


@pytest.mark.django_db
def test_a_slot_left_unticked_stays_on_the_page_after_a_refusal(week, reader):
    only_checkout(week.employee, MON, TUE)
    shown = ("2026-11-23:in1", "2026-11-24:in1")

    response = _post(reader(week.employee.user), "2026-11-23:in1", shown=shown, reason="门")

    assert response.status_code == 422
    html = page(response)
    rows = find_all(html, "div", class_="apply-slot")
    assert [r.attrs["data-slot"] for r in rows] == list(shown)
    ticked = [
        i.attrs["value"] for i in find_all(html, "input", name="slot") if "checked" in i.attrs
    ]
    assert ticked == ["2026-11-23:in1"]

"""/settings/shifts/: HR lists, creates and edits shifts with a 24-hour picture; auditors
read; every refusal sits beside its field with what was typed kept, nothing written."""

from __future__ import annotations

import re
from datetime import date, time

import pytest
import time_machine

from ztk.audit.models import AuditEvent
from ztk.scheduling import hooks, services
from ztk.scheduling.models import RosterEntry, SegmentSpec, Shift

pytestmark = pytest.mark.django_db
LIST = "/settings/shifts/"
NEW = "/settings/shifts/new/"
PREVIEW = "/settings/shifts/preview/"
SEGMENT_DEFAULTS = {
    "in_earliest": "120",
    "out_latest": "240",
    "grace_in": "0",
    "grace_out": "0",
    "late_as_missing": "120",
    "early_as_missing": "120",
    "serious_late": "30",
    "late_as_half_day_absent": "",
}


def form(code="D9", name="白班", segments=(("09:00", "18:00"),), kind="fixed", **extra):
    data = {"code": code, "name": name, "kind": kind, "active": "on"}
    for i in range(3):
        times = segments[i] if i < len(segments) else ("", "")
        data[f"seg-{i}-start"], data[f"seg-{i}-end"] = times
        for key, value in SEGMENT_DEFAULTS.items():
            data[f"seg-{i}-{key}"] = value
    data.update(extra)
    return data


def make(hr, code="D9", segments=(("09:00", "18:00"),), **kw):
    specs = [SegmentSpec(time.fromisoformat(a), time.fromisoformat(b)) for a, b in segments]
    shift, _ = services.shift_create(actor=hr, code=code, name=kw.pop("name", code), segments=specs)
    return shift


def field_errors(body: str, field_id: str) -> str:
    """The error text beside an input (its .field block)."""
    block = body.split(f'id="{field_id}"', 1)[1].split('<div class="field', 1)[0]
    found = re.search(r'<div class="errors">(.*?)</div>', block, re.S)
    return re.sub(r"<[^>]+>", " ", found.group(1)) if found else ""


@pytest.fixture
def hr(client, org):
    client.force_login(org.hr.user)
    return org.hr.user


def test_hr_creates_a_two_segment_shift_and_it_is_listed_with_its_times(client, hr):
    response = client.post(NEW, form(segments=(("09:00", "12:00"), ("13:00", "18:00"))))

    assert response.status_code == 302
    assert response["Location"] == "/settings/shifts/D9/edit/"
    shift = Shift.objects.get(code="D9")
    assert [str(s) for s in shift.segments.order_by("position")] == ["09:00–12:00", "13:00–18:00"]
    assert AuditEvent.objects.filter(action="scheduling.shift.create", actor=hr).count() == 1
    listing = client.get(LIST).content.decode()
    assert "09:00–12:00, 13:00–18:00" in listing and "白班" in listing
    assert "Not scheduled anywhere" in listing or "未被任何" in listing


def test_the_list_marks_night_and_flexible_shifts_and_says_who_uses_them(client, hr, org):
    night = make(hr, "N1", (("22:00", "06:00"),))
    services.pattern_set(actor=hr, group=org.group, shifts=[night] * 5 + [None, None])
    with time_machine.travel("2026-12-01 10:00 +0800", tick=False):
        services.roster_set(
            actor=hr, employees=[org.employee], start=date(2026, 12, 10), end=date(2026, 12, 11),
            shift=night,
        )  # fmt: skip
        client.cookies["django_language"] = "en"
        body = client.get(LIST, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    card = body.split('id="shift-N1"', 1)[1].split("</li>", 1)[0]
    assert "22:00–06:00" in card and "crosses midnight" in card
    assert org.group.name in card and "2 roster days from today" in card


def test_overlapping_segments_are_refused_on_the_segment_with_everything_kept(client, hr):
    data = form(code="BAD", name="坏班", segments=(("09:00", "12:00"), ("11:00", "18:00")))

    response = client.post(NEW, data)

    assert response.status_code == 422
    body = response.content.decode()
    assert "overlap" in field_errors(body, "id_seg-1-start") or "重叠" in field_errors(
        body, "id_seg-1-start"
    )
    assert 'value="坏班"' in body and 'value="11:00"' in body
    assert not Shift.objects.filter(code="BAD").exists()
    assert not AuditEvent.objects.filter(action__startswith="scheduling.shift").exists()


@pytest.mark.parametrize(
    ("changes", "field_id", "words"),
    [
        ({"seg-0-grace_in": "300"}, "id_seg-0-grace_in", ("grace", "宽限")),
        (
            {"seg-0-grace_in": "30", "seg-0-late_as_missing": "10"},
            "id_seg-0-grace_in",
            ("grace", "宽限"),
        ),
        ({"seg-0-out_latest": "1440"}, "id_seg-0-out_latest", ("24:00",)),
        ({"seg-0-start": "09:00", "seg-0-end": ""}, "id_seg-0-end", ("HH:MM",)),
        ({"seg-0-in_earliest": "2000"}, "id_seg-0-in_earliest", ("1440",)),
        ({"code": "bad code!"}, "id_code", ("_",)),
        ({"name": ""}, "id_name", ("不能为空", "blank")),
    ],
)
def test_each_refusal_is_shown_on_its_field(client, hr, changes, field_id, words):
    data = form(
        segments=(("22:00", "06:00"),) if "out_latest" in str(changes) else (("09:00", "18:00"),)
    )
    data.update(changes)

    response = client.post(NEW, data)

    assert response.status_code == 422
    text = field_errors(response.content.decode(), field_id)
    assert any(w in text for w in words), text
    assert not Shift.objects.exists()


def test_back_to_back_segments_are_refused_as_the_check_out_window_would_miss_its_end(client, hr):
    response = client.post(NEW, form(segments=(("09:00", "12:00"), ("12:00", "18:00"))))
    assert response.status_code == 422
    assert "12:00" not in field_errors(response.content.decode(), "id_seg-0-end")
    assert "休息" in field_errors(response.content.decode(), "id_seg-1-start")
    assert not Shift.objects.exists()


def test_a_flexible_shift_with_an_arrival_outside_its_window_is_refused(client, hr):
    data = form(
        code="F", kind="flexible", segments=(("07:00", "22:00"),),
        arrive_from="08:00", arrive_until="23:00", required_minutes="540",
    )  # fmt: skip
    response = client.post(NEW, data)
    assert response.status_code == 422
    assert "22:00" in field_errors(response.content.decode(), "id_arrive_until")
    data["arrive_until"] = "10:00"
    assert client.post(NEW, data).status_code == 302
    assert Shift.objects.get(code="F").required_minutes == 540


def test_a_fourth_segment_cannot_be_sent(client, hr):
    data = form(segments=(("08:00", "09:00"), ("10:00", "11:00"), ("12:00", "13:00")))
    data.update({"seg-3-start": "14:00", "seg-3-end": "15:00"})
    assert client.post(NEW, data).status_code == 302
    assert Shift.objects.get(code="D9").segments.count() == 3  # the page offers three rows


def test_editing_a_shift_in_use_says_so_and_recomputes_its_days(
    client, hr, org, django_capture_on_commit_callbacks
):
    shift = make(hr)
    services.pattern_set(actor=hr, group=org.group, shifts=[shift] * 5 + [None, None])
    url = f"/settings/shifts/{shift.code}/edit/"
    page = client.get(url).content.decode()
    assert 'id="shift-in-use"' in page and org.group.name in page
    heard: list = []
    hooks.connect(heard.append)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(url, form(segments=(("08:30", "17:30"),)), follow=True)
    finally:
        hooks.disconnect(heard.append)
    assert response.status_code == 200
    assert str(Shift.objects.get(pk=shift.pk).segments.get()) == "08:30–17:30"
    assert heard and any(c.reason == "scheduling.shift" for batch in heard for c in batch)
    messages = [str(m) for m in response.context["messages"]]
    assert any("recomputed" in m or "重新计算" in m for m in messages), messages


def test_the_code_cannot_be_changed_by_editing(client, hr):
    shift = make(hr)
    client.post(f"/settings/shifts/{shift.code}/edit/", form(code="OTHER", name="改名"))
    shift.refresh_from_db()
    assert shift.code == "D9" and shift.name == "改名"
    assert not Shift.objects.filter(code="OTHER").exists()


def test_the_bar_shows_a_night_shift_crossing_midnight(client, hr):
    shift = make(hr, "N1", (("22:00", "06:00"),))
    body = client.get(f"/settings/shifts/{shift.code}/edit/").content.decode()
    svg = body.split('<svg class="shiftbar', 1)[1].split("</svg>", 1)[0]
    # the axis runs from 00:00 to 12:00 of the next day (36 hours): the next day is shaded,
    # midnight is marked, and the segment 22:00 → 06:00 runs across the midnight line
    assert 'class="other-day"' in svg
    midnight = float(re.search(r'class="midnight" x1="([\d.]+)%"', svg).group(1))
    assert midnight == pytest.approx(66.667)
    left, width = map(float, re.search(
        r'class="segment"[^>]*x="([\d.]+)%"[^>]*width="([\d.]+)%"', svg
    ).groups())  # fmt: skip
    assert left < midnight < left + width
    assert left == pytest.approx(22 / 36 * 100, abs=0.01)
    assert left + width == pytest.approx(30 / 36 * 100, abs=0.01)
    assert "06:00 +1" in body  # the words under the picture say so too


def test_the_preview_follows_the_typed_values_and_shows_refusals(client, hr):
    params = form(segments=(("22:00", "06:00"),))
    body = client.get(PREVIEW, params).content.decode()
    assert 'class="midnight"' in body and "<svg" in body
    params["seg-0-out_latest"] = "1440"
    body = client.get(PREVIEW, params).content.decode()
    assert "24:00" in body
    params = form(segments=(("09:00", "12:00"), ("11:00", "18:00")))
    body = client.get(PREVIEW, params).content.decode()
    assert "<svg" not in body
    assert not Shift.objects.exists()


def test_a_no_javascript_preview_redraws_without_saving(client, hr):
    response = client.post(NEW, {**form(segments=(("20:00", "04:00"),)), "preview": "1"})
    assert response.status_code == 200
    assert "04:00 +1" in response.content.decode()
    assert not Shift.objects.exists()


def test_the_auditor_reads_but_cannot_change(client, org):
    shift = make(org.hr.user)
    client.force_login(org.auditor.user)
    assert client.get(LIST).status_code == 200
    page = client.get(f"/settings/shifts/{shift.code}/edit/")
    assert page.status_code == 200 and "<fieldset disabled" in page.content.decode()
    assert client.post(f"/settings/shifts/{shift.code}/edit/", form(name="x")).status_code == 403
    assert client.get(NEW).status_code == 403
    assert Shift.objects.get().name == "D9"


def test_an_employee_is_refused(client, org):
    client.force_login(org.employee.user)
    assert client.get(LIST).status_code == 403
    assert client.get(PREVIEW).status_code == 403


def test_an_unknown_shift_is_404(client, hr):
    assert client.get("/settings/shifts/NOPE/edit/").status_code == 404


def test_retiring_a_shift_keeps_it_listed_as_retired(client, hr):
    shift = make(hr)
    data = form()
    del data["active"]
    assert client.post(f"/settings/shifts/{shift.code}/edit/", data).status_code == 302
    assert not Shift.objects.get().active
    assert "tag retired" in client.get(LIST).content.decode()
    assert RosterEntry.objects.count() == 0


def test_creating_a_shift_with_a_code_in_use_is_refused_on_the_code_and_changes_nothing(client, hr):
    make(hr, name="白班")
    response = client.post(NEW, form(name="别的班", segments=(("08:00", "17:00"),)))
    assert response.status_code == 422
    assert "D9" in response.content.decode() and field_errors(response.content.decode(), "id_code")
    shift = Shift.objects.get()
    assert shift.name == "白班" and str(shift.segments.get()) == "09:00–18:00"

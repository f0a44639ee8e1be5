"""PUT/GET /api/v1/rosters: the roster sync for integrators (same service as the grid)."""

from __future__ import annotations

from datetime import date, time

import pytest

from ztk.api.schedules import MAX_ITEMS
from ztk.audit.models import AuditEvent
from ztk.scheduling.models import RosterEntry, Shift, ShiftSegment

from .conftest import call

URL = "/api/v1/rosters"


@pytest.fixture
def shifts(db):
    for code, start, end, active in (
        ("D9", 9, 18, True),
        ("N8", 22, 6, True),
        ("OLD", 8, 17, False),
    ):
        shift = Shift.objects.create(code=code, name=code, active=active)
        ShiftSegment.objects.create(shift=shift, position=1, start=time(start), end=time(end))


def _put(client, key, *items):
    return call(client, "PUT", URL, key=key, body={"items": list(items)})


def test_put_sets_shifts_and_rest_days_and_a_repeat_changes_nothing(client, keys, shifts):
    items = (
        {"employee_no": "1002", "date": "2026-12-01", "shift_code": "N8"},
        {"employee_no": "1002", "date": "2026-12-02", "shift_code": None},
        {"employee_no": "1003", "date": "2026-12-01", "shift_code": "D9"},
    )

    first = _put(client, keys["hr"], *items)
    again = _put(client, keys["hr"], *items)

    assert first.status == 200 and first.body == {"changed": 3, "unchanged": 0}
    assert again.status == 200 and again.body == {"changed": 0, "unchanged": 3}
    assert set(RosterEntry.objects.values_list("employee__employee_no", "date", "shift__code")) == {
        ("1002", date(2026, 12, 1), "N8"),
        ("1002", date(2026, 12, 2), None),
        ("1003", date(2026, 12, 1), "D9"),
    }
    assert AuditEvent.objects.filter(action="scheduling.roster.apply").count() == 1
    # follow_pattern removes the entry
    back = _put(
        client,
        keys["hr"],
        {"employee_no": "1002", "date": "2026-12-02", "shift_code": None, "follow_pattern": True},
    )
    assert back.body == {"changed": 1, "unchanged": 0}
    assert not RosterEntry.objects.filter(date=date(2026, 12, 2)).exists()


def test_one_bad_item_refuses_all_with_each_error(client, keys, shifts):
    reply = _put(
        client,
        keys["hr"],
        {"employee_no": "1002", "date": "2026-12-01", "shift_code": "D9"},
        {"employee_no": "9999", "date": "2026-12-01", "shift_code": "D9"},
        {"employee_no": "1003", "date": "2026-12-01", "shift_code": "NOPE"},
    )

    assert reply.status == 422 and reply.body["code"] == "roster_invalid"
    assert [(d["index"], d["code"]) for d in reply.body["details"]] == [
        (1, "unknown_employee"),
        (2, "unknown_shift"),
    ]
    assert not RosterEntry.objects.exists()
    retired = _put(
        client,
        keys["hr"],
        {"employee_no": "1002", "date": "2026-12-01", "shift_code": "D9"},
        {"employee_no": "1002", "date": "2026-12-01", "shift_code": "N8"},
        {"employee_no": "1003", "date": "2026-12-01", "shift_code": "OLD"},
    )
    assert retired.status == 422
    assert [(d["index"], d["code"]) for d in retired.body["details"]] == [
        (1, "roster_duplicate"),
        (2, "shift_inactive"),
    ]
    assert not RosterEntry.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="scheduling.roster").exists()


def test_put_has_a_size_limit(client, keys, shifts):
    item = {"employee_no": "1002", "date": "2026-12-01", "shift_code": "D9"}

    reply = _put(client, keys["hr"], *([item] * (MAX_ITEMS + 1)))

    assert reply.status == 422 and reply.body["code"] == "validation_error"
    assert not RosterEntry.objects.exists()


def test_get_lists_entries_of_a_range_and_group_paged(client, keys, shifts, org):
    _put(
        client,
        keys["hr"],
        {"employee_no": "1002", "date": "2026-12-01", "shift_code": "N8"},
        {"employee_no": "1003", "date": "2026-12-01", "shift_code": None},
        {"employee_no": "1002", "date": "2026-12-31", "shift_code": "D9"},
    )

    page = call(
        client, "GET", f"{URL}?from=2026-12-01&to=2026-12-10&group=STD&limit=1", key=keys["hr"]
    )
    rest = call(client, "GET", page.body["next"], key=keys["hr"])
    too_long = call(client, "GET", f"{URL}?from=2026-01-01&to=2026-12-31", key=keys["hr"])
    unknown = call(client, "GET", f"{URL}?from=2026-12-01&to=2026-12-02&group=NOPE", key=keys["hr"])

    assert page.status == 200 and page.body["count"] == 2
    assert page.body["items"] == [{"employee_no": "1002", "date": "2026-12-01", "shift_code": "N8"}]
    assert rest.body["items"] == [{"employee_no": "1003", "date": "2026-12-01", "shift_code": None}]
    assert rest.body["next"] is None
    assert too_long.status == 422 and too_long.body["code"] == "range_too_long"
    assert unknown.status == 404

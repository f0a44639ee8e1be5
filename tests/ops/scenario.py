"""Run inside an installation's own process (``python -m tests.ops.scenario CMD``), with the
environment of a real deployment (no ZTK_TESTING): what the real-process tests do to the
database besides starting the worker.

- ``queue SERIAL [--compare]``: one evening terminal punch (it moves every day's last
  punch) for every active employee on each of the 31 days up to the day before yesterday
  (about 1,300 employee-days of the demo company), recorded through ``record_punches`` in
  batches of 500, as a terminal upload is: the batches are above RECOMPUTE_DEFER_ABOVE,
  so their days are queued for the worker. Prints JSON: the queue length (and, with
  ``--compare``, what ``compare`` prints).
- ``several-nodes-setup PASSWORD``: see several_nodes_setup (tests/ops/test_several_nodes.py).
- ``compare``: the stored AttendanceDay rows of that range against a full recompute
  (inside a transaction that is rolled back). Prints JSON: the queue length, the rows and
  how many of them a full recompute would change.

The range ends two days back: a day within reach of now is provisional, and its note
says "as of" the minute it was computed, which two computations never share.
"""

from __future__ import annotations

import json
import os
import sys
import zlib
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def _range() -> tuple[date, date]:
    from django.utils import timezone

    end = timezone.localdate() - timedelta(days=2)
    return end - timedelta(days=30), end


def queue(serial: str, *, with_compare: bool) -> dict:
    from ztk.attendance.models import PendingRecompute
    from ztk.org.models import Employee
    from ztk.punches.services import PunchInput, record_punches

    start, end = _range()
    shift = zlib.crc32(serial.encode()) % 40  # other minutes for every serial: new punches
    items = []
    for employee in Employee.objects.filter(active=True).select_related("attendance_group"):
        zone = ZoneInfo(employee.attendance_group.time_zone if employee.attendance_group else "UTC")
        day = start
        while day <= end:
            at = datetime.combine(day, time(19, shift, 7), tzinfo=zone)
            items.append(
                PunchInput(
                    at=at,
                    source="device",
                    employee_id=employee.pk,
                    device_sn=serial,
                    pin=employee.employee_no,
                )
            )
            day += timedelta(days=1)
    for i in range(0, len(items), 500):
        result = record_punches(items[i : i + 500])
        assert result.new == len(items[i : i + 500]), result
    queued = PendingRecompute.objects.count()
    return compare() if with_compare else {"pending": queued}


def compare() -> dict:
    from django.db import transaction

    from ztk.attendance.models import AttendanceDay, PendingRecompute
    from ztk.attendance.services import UPDATE_FIELDS, recompute_range

    start, end = _range()
    fields = ["employee_id", "day", *(f for f in UPDATE_FIELDS if f != "computed_at")]

    def rows() -> dict:
        found = AttendanceDay.objects.filter(day__gte=start, day__lte=end)
        return {(row[0], row[1]): row for row in found.values_list(*fields)}

    stored = rows()

    class Rollback(Exception):
        pass

    try:
        with transaction.atomic():
            recompute_range(start=start, end=end, workers=1)
            full = rows()
            raise Rollback
    except Rollback:
        pass
    keys = sorted(k for k in stored.keys() | full.keys() if stored.get(k) != full.get(k))
    return {
        "pending": PendingRecompute.objects.count(),
        "rows": len(stored),
        "differ": len(keys),
        # What differs, for the failure message: (stored, recomputed) of the first few.
        "examples": [[str(stored.get(k)), str(full.get(k))] for k in keys[:2]],
    }


def several_nodes_setup(password: str) -> dict:
    """For the several-nodes test: known passwords for the demo supervisor and HR, and a new
    colleague of theirs who punched in but never out on the last five working days (their
    check-outs are open to correct)."""
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.utils import timezone

    from ztk.attendance.finalise import finalise_due
    from ztk.attendance.services import recompute_range
    from ztk.org.models import Employee
    from ztk.punches.services import PunchInput, record_punches

    User = get_user_model()
    manager = Employee.objects.select_related("user").get(employee_no="1001")
    with transaction.atomic():
        for login in ("manager", "hr"):
            account = User.objects.get(username=login)
            account.set_password(password)
            account.save()
        user = User.objects.create_user("multinode", password=password)
        person = Employee.objects.create(
            user=user,
            employee_no="9901",
            name="多节点测试员",
            department=manager.department,
            supervisor=manager,
            attendance_group=manager.attendance_group,
            hire_date=timezone.localdate() - timedelta(days=60),
        )
    zone = ZoneInfo(person.attendance_group.time_zone)
    days, day = [], timezone.localdate() - timedelta(days=1)
    while len(days) < 5:
        if day.weekday() < 5:
            days.append(day)
        day -= timedelta(days=1)
    record_punches(
        [
            PunchInput(
                at=datetime.combine(d, time(8, 50), tzinfo=zone),
                source="device",
                employee_id=person.pk,
                device_sn="DEMO-ZK-01",
                pin=person.employee_no,
            )
            for d in days
        ]
    )
    # Their days from before the range `compare` looks at, as the nightly refresh would have.
    recompute_range(start=_range()[0] - timedelta(days=1), end=max(days), workers=1)
    finalise_due(lookback_days=45)  # final, like everyone else's days of the demo
    return {"employee": person.employee_no, "days": [d.isoformat() for d in days]}


if __name__ == "__main__":
    _setup()
    if sys.argv[1] == "queue":
        print(json.dumps(queue(sys.argv[2], with_compare="--compare" in sys.argv)))
    elif sys.argv[1] == "compare":
        print(json.dumps(compare()))
    elif sys.argv[1] == "several-nodes-setup":
        print(json.dumps(several_nodes_setup(sys.argv[2])))
    else:
        raise SystemExit(f"unknown command {sys.argv[1]!r}")

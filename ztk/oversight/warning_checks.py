"""Early warnings (预警, issue 13 item 3) as pure functions over plain rows.

Four conditions, each with a subject and a period; ``key`` (condition + subject + period)
is unique in the table, so each warning is raised — and sent — at most once per period:

- ``close_to_limit`` — an employee with at most ``warn_limit_margin`` corrections left
  before the monthly limit of their group's policy (period: the attendance period);
- ``department_jump`` — a department whose anomaly rate of the last seven days is at least
  ``warn_dept_factor`` times its rate of the ``warn_dept_history_weeks`` seven-day windows
  before, with at least ``warn_dept_min_anomalies`` anomalies (period: the calendar week);
- ``overdue_pileup`` — an approver with at least ``warn_overdue_min`` steps past their
  deadline waiting for them (period: the calendar week);
- ``silent_terminal`` — an approved terminal silent during working hours (period: the day).

No ORM, no clock: ``warning_selectors`` reads the rows, ``warning_services`` stores and
sends what these return.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from .checks import EVIDENCE_MAX, HIGH, LOW, MEDIUM, REQUEST, Evidence, Limits

CLOSE_TO_LIMIT = "close_to_limit"
DEPARTMENT_JUMP = "department_jump"
OVERDUE_PILEUP = "overdue_pileup"
SILENT_TERMINAL = "silent_terminal"
KINDS = (CLOSE_TO_LIMIT, DEPARTMENT_JUMP, OVERDUE_PILEUP, SILENT_TERMINAL)

# Evidence kinds beside ``checks``' request/punch/audit: an employee's day (id: the
# employee, note: the date) and a terminal (id: the device).
DAY, DEVICE = "day", "device"


@dataclass(frozen=True)
class Alert:
    kind: str
    key: str
    severity: str
    start: date
    end: date
    employee_id: int | None = None
    department_id: int | None = None
    user_id: int | None = None
    device_id: int | None = None
    params: dict[str, Any] = field(default_factory=dict)
    evidence: tuple[Evidence, ...] = ()


# --- rows ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuotaRow:
    """An employee's corrections counted against the limit in one period."""

    employee_id: int
    period_start: date
    period_end: date
    limit: int  # the group's monthly limit (0: none)
    request_ids: tuple[int, ...] = ()  # pending and approved requests that count
    request_times: tuple[datetime, ...] = ()

    @property
    def used(self) -> int:
        return len(self.request_ids)


@dataclass(frozen=True)
class WindowCount:
    """A department's days in one seven-day window: anomalies (abnormal or absent days)
    and working days (normal, abnormal or absent)."""

    anomalies: int = 0
    days: int = 0

    @property
    def rate(self) -> float:
        return self.anomalies / self.days if self.days else 0.0


@dataclass(frozen=True)
class OverdueRow:
    """One step past its deadline waiting for an approver (a user)."""

    user_id: int
    request_id: int
    deadline: datetime
    is_correction: bool = True  # evidence links to correction requests only


@dataclass(frozen=True)
class SilentRow:
    device_id: int
    serial: str
    last_seen: datetime | None
    day: date  # the terminal's local date


# --- conditions ---------------------------------------------------------------------------


def close_to_limit(rows: Iterable[QuotaRow], *, limits: Limits) -> list[Alert]:
    """Employees with at most ``warn_limit_margin`` corrections left (the limit reached
    counts: nothing left). Groups without a limit never warn."""
    alerts = []
    for row in sorted(rows, key=lambda r: (r.period_start, r.employee_id)):
        if row.limit <= 0 or row.used == 0:
            continue
        left = row.limit - row.used
        if left > limits.warn_limit_margin:
            continue
        alerts.append(
            Alert(
                kind=CLOSE_TO_LIMIT,
                key=f"{CLOSE_TO_LIMIT}:e{row.employee_id}:{row.period_start.isoformat()}",
                severity=HIGH if left <= 0 else MEDIUM,
                start=row.period_start,
                end=row.period_end,
                employee_id=row.employee_id,
                params={"used": row.used, "limit": row.limit, "left": max(left, 0)},
                evidence=tuple(
                    Evidence(REQUEST, pk, at)
                    for pk, at in list(zip(row.request_ids, row.request_times, strict=False))[
                        :EVIDENCE_MAX
                    ]
                ),
            )
        )
    return alerts


def department_jumps(
    windows: Mapping[int, Sequence[WindowCount]],
    *,
    week: tuple[date, date],
    last_days: Mapping[int, Sequence[tuple[int, date]]],
    limits: Limits,
) -> list[Alert]:
    """``windows``: per department its seven-day windows, oldest first, the last one the
    window judged (the seven days up to yesterday). A warning when the judged rate is at
    least ``warn_dept_factor`` times the rate of the earlier windows taken together, with
    at least ``warn_dept_min_anomalies`` anomalies, and the history has working days (a
    new department has nothing to jump against). ``last_days``: the judged window's
    (employee, day) anomalies per department, the evidence. ``week``: the calendar week
    of the judged window's last day — the period of the key."""
    alerts = []
    for department, counts in sorted(windows.items()):
        if len(counts) < 2:
            continue
        judged, history = counts[-1], counts[:-1]
        days = sum(w.days for w in history)
        if days == 0 or judged.anomalies < max(1, limits.warn_dept_min_anomalies):
            continue
        usual = sum(w.anomalies for w in history) / days
        if judged.rate < usual * limits.warn_dept_factor or judged.rate <= usual:
            continue
        factor = judged.rate / usual if usual else None
        steep = factor is None or factor >= 2 * limits.warn_dept_factor
        alerts.append(
            Alert(
                kind=DEPARTMENT_JUMP,
                key=f"{DEPARTMENT_JUMP}:d{department}:{week[0].isoformat()}",
                severity=HIGH if steep else MEDIUM,
                start=week[0],
                end=week[1],
                department_id=department,
                params={
                    "anomalies": judged.anomalies,
                    "days": judged.days,
                    "rate": round(judged.rate, 3),
                    "usual_rate": round(usual, 3),
                    "factor": round(factor, 1) if factor is not None else None,
                    "history": [[w.anomalies, w.days] for w in history],
                },
                evidence=tuple(
                    Evidence(DAY, employee, None, day.isoformat())
                    for employee, day in sorted(
                        last_days.get(department, ()), key=lambda e: (e[1], e[0])
                    )[:EVIDENCE_MAX]
                ),
            )
        )
    return alerts


def overdue_pileups(
    rows: Iterable[OverdueRow], *, week: tuple[date, date], limits: Limits
) -> list[Alert]:
    """Approvers with at least ``warn_overdue_min`` overdue steps waiting for them; once
    per approver and calendar week. 0 switches it off."""
    if limits.warn_overdue_min <= 0:
        return []
    by_user: dict[int, list[OverdueRow]] = {}
    for row in rows:
        by_user.setdefault(row.user_id, []).append(row)
    alerts = []
    for user, steps in sorted(by_user.items()):
        if len(steps) < limits.warn_overdue_min:
            continue
        steps.sort(key=lambda r: (r.deadline, r.request_id))
        alerts.append(
            Alert(
                kind=OVERDUE_PILEUP,
                key=f"{OVERDUE_PILEUP}:u{user}:{week[0].isoformat()}",
                severity=HIGH if len(steps) >= 2 * limits.warn_overdue_min else MEDIUM,
                start=week[0],
                end=week[1],
                user_id=user,
                params={"overdue": len(steps), "oldest_deadline": steps[0].deadline.isoformat()},
                evidence=tuple(
                    Evidence(REQUEST, r.request_id, r.deadline, "overdue")
                    for r in steps[:EVIDENCE_MAX]
                    if r.is_correction
                ),
            )
        )
    return alerts


def silent_terminals(rows: Iterable[SilentRow]) -> list[Alert]:
    """Every silent terminal, once per terminal and (its local) day."""
    return [
        Alert(
            kind=SILENT_TERMINAL,
            key=f"{SILENT_TERMINAL}:t{row.device_id}:{row.day.isoformat()}",
            severity=MEDIUM if row.last_seen is not None else LOW,
            start=row.day,
            end=row.day,
            device_id=row.device_id,
            params={
                "serial": row.serial,
                "last_seen": row.last_seen.isoformat() if row.last_seen else None,
            },
            evidence=(Evidence(DEVICE, row.device_id, row.last_seen, row.serial),),
        )
        for row in sorted(rows, key=lambda r: (r.day, r.device_id))
    ]

"""The finding rules (定期审计异常数据) as pure functions over plain rows.

No ORM, no clock, no Django: ``ztk.oversight.selectors`` reads the rows (a few set-based
queries per period) and ``ztk.oversight.services.findings_run`` stores what these return.
Each rule takes its rows and a :class:`Limits` and returns :class:`Hit` s; a hit carries
its rule, its subject (an employee, a user, a pair of employees or a reason text), the
period, the numbers that made it fire (``params``) and the rows behind it (``evidence``).

``key`` is unique per rule + subject + period, so a rerun updates a finding instead of
adding a second one. docs/oversight.md describes each rule, its evidence and thresholds.
"""

from __future__ import annotations

import bisect
import hashlib
import math
import statistics
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from operator import attrgetter
from typing import Any

FREQUENT_CORRECTOR = "frequent_corrector"
RUBBER_STAMP = "rubber_stamp"
CUTOFF_CLUSTER = "cutoff_cluster"
REPEATED_REASON = "repeated_reason"
BUDDY_PUNCH = "buddy_punch"
HR_ACTIVITY = "hr_activity"
OUTSIDE_FENCE = "outside_fence"
IMPLAUSIBLE_JUMP = "implausible_jump"
NEW_DEVICE = "new_device"
RULES = (
    FREQUENT_CORRECTOR,
    RUBBER_STAMP,
    CUTOFF_CLUSTER,
    REPEATED_REASON,
    BUDDY_PUNCH,
    HR_ACTIVITY,
    OUTSIDE_FENCE,
    IMPLAUSIBLE_JUMP,
    NEW_DEVICE,
)

LOW, MEDIUM, HIGH = "low", "medium", "high"
EVIDENCE_MAX = 50  # rows kept per finding; params carry the full counts

# Evidence kinds: a correction request, a punch, an audit event (by seq).
REQUEST, PUNCH, AUDIT = "request", "punch", "audit"


@dataclass(frozen=True)
class Limits:
    """The thresholds (HR edits them: ``FindingThresholds``); the defaults are the product's."""

    corrector_percentile: int = 95
    corrector_min_count: int = 3
    corrector_streak_periods: int = 3
    approver_min_decisions: int = 10
    approver_rate: float = 0.95
    approver_median_seconds: int = 60
    approver_bulk_seconds: int = 5
    approver_bulk_min: int = 10
    approver_no_proof_min: int = 1
    cutoff_hours: int = 24
    cutoff_min_count: int = 3
    cutoff_share: float = 0.5
    reason_min_length: int = 4
    reason_min_requests: int = 8
    reason_min_people: int = 4
    buddy_window_seconds: int = 10
    buddy_min_days: int = 3
    buddy_min_share: float = 0.3
    hr_manual_add_limit: int = 20
    hr_void_limit: int = 10
    hr_own_team_limit: int = 1
    hr_reopen_limit: int = 2
    hr_off_hours_limit: int = 5
    work_start_hour: int = 8
    work_end_hour: int = 20
    # suspicious web/phone punches (ztk.oversight.punch_checks)
    fence_outside_min: int = 3
    jump_speed_kmh: int = 200
    jump_min_km: int = 2
    device_history_days: int = 60
    device_min_history: int = 5
    device_new_min: int = 1
    # early warnings (ztk.oversight.warning_checks)
    warn_limit_margin: int = 1
    warn_dept_factor: float = 2.0
    warn_dept_min_anomalies: int = 5
    warn_dept_history_weeks: int = 4
    warn_overdue_min: int = 3


@dataclass(frozen=True)
class Evidence:
    kind: str  # REQUEST | PUNCH | AUDIT
    id: int
    at: datetime | None = None
    note: str = ""  # a short fact shown beside the link: a day, a terminal, an action
    tag: str = ""  # why this row is evidence: "no_proof", "bulk", "off_hours", …

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "id": self.id,
            "at": self.at.isoformat() if self.at else None,
            "note": self.note,
            "tag": self.tag,
        }


@dataclass(frozen=True)
class Hit:
    rule: str
    key: str
    severity: str
    start: date
    end: date
    employee_id: int | None = None
    other_employee_id: int | None = None
    user_id: int | None = None
    params: dict[str, Any] = field(default_factory=dict)
    evidence: tuple[Evidence, ...] = ()


Period = tuple[date, date]


# --- rows ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CorrectionRow:
    """One correction request (withdrawn and cancelled ones are not read)."""

    id: int
    employee_id: int
    group_id: int | None
    period_start: date
    day: date
    created_at: datetime
    reason: str = ""
    deadline: datetime | None = None  # the last moment to file it (cut-off or period close)


@dataclass(frozen=True)
class DecisionRow:
    """One approve/reject of a request step by an approver."""

    id: int
    request_id: int
    approver_id: int
    at: datetime
    approved: bool
    assigned_at: datetime  # when the step reached the approver (the trail's entry before)
    period_start: date
    needs_proof: bool = False  # the request's category requires an attachment
    has_proof: bool = False


@dataclass(frozen=True)
class PunchRow:
    """One punch with the place it came from: ``device:SN`` or ``ip:ADDRESS``."""

    id: int
    employee_id: int
    at: datetime
    place: str
    day: date
    period_start: date


@dataclass(frozen=True)
class OperatorRow:
    """One thing an HR operator did: a manual add, a void, a reopening, any audited change."""

    operator_id: int
    kind: str  # MANUAL_ADD | VOID | REOPEN | CHANGE
    at: datetime
    local_at: datetime  # the same moment on the operator's wall clock (naive)
    period_start: date
    ref: Evidence
    own_team: bool = False  # a manual add for oneself, one's report or one's department


MANUAL_ADD, VOID, REOPEN, CHANGE = "manual_add", "void", "reopen", "change"


def _evidence_order(e: Evidence) -> tuple[float, int]:
    return (e.at.timestamp() if e.at else 0.0, e.id)


def _period_end(periods: Mapping[date, date], start: date) -> date:
    return periods.get(start, start)


# --- frequent correctors ------------------------------------------------------------------


def percentile(values: Sequence[int], pct: int) -> int:
    """Nearest-rank percentile (the smallest value with ``pct`` % of the values at or
    below it); 0 for no values."""
    if not values:
        return 0
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def percentile_without(ordered: Sequence[int], value: int, pct: int) -> int:
    """``percentile`` of the sorted ``ordered`` with one ``value`` taken out (the rest of
    the group, without the person judged); O(log n)."""
    others = len(ordered) - 1
    if others <= 0:
        return 0
    rank = min(max(1, math.ceil(pct / 100 * others)), others)
    removed = bisect.bisect_right(ordered, value) - 1  # the last occurrence of value
    return ordered[rank - 1] if rank - 1 < removed else ordered[rank]


def frequent_correctors(
    rows: Iterable[CorrectionRow],
    *,
    periods: Sequence[Period],
    members: Mapping[int | None, Iterable[int]],
    monthly_limits: Mapping[int | None, int],
    limits: Limits,
    check: Iterable[date] | None = None,
) -> list[Hit]:
    """Per employee and period: more corrections than the ``corrector_percentile`` of the
    other members of their attendance group (and at least ``corrector_min_count``), or at or
    above the group's monthly limit ``corrector_streak_periods`` periods running.

    ``periods`` are consecutive, oldest first; only those in ``check`` (default: all)
    produce findings, the earlier ones feed the streak. ``members`` lists every active
    employee per group (those without a request count 0)."""
    ends = dict(periods)
    order = [start for start, _end in periods]
    to_check = set(order if check is None else check)
    counts: dict[tuple[int, date], list[CorrectionRow]] = defaultdict(list)
    group_of: dict[int, int | None] = {}
    for gid, people in members.items():
        for pk in people:
            group_of[pk] = gid
    for row in rows:
        counts[(row.employee_id, row.period_start)].append(row)
        group_of.setdefault(row.employee_id, row.group_id)
    people_of: dict[int | None, set[int]] = defaultdict(set)
    for pk, gid in group_of.items():
        people_of[gid].add(pk)
    hits: list[Hit] = []
    for index, start in enumerate(order):
        if start not in to_check:
            continue
        for gid, people in people_of.items():
            ordered = sorted(len(counts.get((pk, start), ())) for pk in people)
            limit = monthly_limits.get(gid, 0)
            for pk in sorted(people):
                mine = counts.get((pk, start), [])
                n = len(mine)
                if n == 0:
                    continue
                p = percentile_without(ordered, n, limits.corrector_percentile)
                above = n >= limits.corrector_min_count and n > p
                streak: list[int] = []
                if limit > 0 and limits.corrector_streak_periods > 0:
                    window = order[max(0, index - limits.corrector_streak_periods + 1) : index + 1]
                    streak = [len(counts.get((pk, s), ())) for s in window]
                    if len(window) < limits.corrector_streak_periods:
                        streak = []
                over_limit = bool(streak) and all(c >= limit for c in streak)
                if not (above or over_limit):
                    continue
                severity = (
                    HIGH if over_limit or n >= 2 * max(p, limits.corrector_min_count, 1) else MEDIUM
                )
                hits.append(
                    Hit(
                        rule=FREQUENT_CORRECTOR,
                        key=f"{FREQUENT_CORRECTOR}:e{pk}:{start.isoformat()}",
                        severity=severity,
                        start=start,
                        end=_period_end(ends, start),
                        employee_id=pk,
                        params={
                            "count": n,
                            "percentile": limits.corrector_percentile,
                            "group_percentile_value": p,
                            "group_size": len(people),
                            "min_count": limits.corrector_min_count,
                            "above_percentile": above,
                            "monthly_limit": limit,
                            "streak": streak if over_limit else [],
                        },
                        evidence=tuple(
                            Evidence(REQUEST, r.id, r.created_at, r.day.isoformat())
                            for r in sorted(mine, key=lambda r: (r.created_at, r.id))[:EVIDENCE_MAX]
                        ),
                    )
                )
    return hits


# --- rubber-stamp approvers ---------------------------------------------------------------


def rubber_stamp_approvers(
    rows: Iterable[DecisionRow], *, periods: Sequence[Period], limits: Limits
) -> list[Hit]:
    """Per approver and period, with at least ``approver_min_decisions`` decisions:
    - *fast*: approval rate ≥ ``approver_rate`` and median seconds from the step reaching
      them to their decision ≤ ``approver_median_seconds``;
    - *bulk*: ≥ ``approver_bulk_min`` decisions each within ``approver_bulk_seconds`` of
      their previous decision;
    - *no proof*: ≥ ``approver_no_proof_min`` approvals of requests whose category requires
      an attachment and that have none (counted whatever the number of decisions)."""
    ends = dict(periods)
    by_approver: dict[tuple[int, date], list[DecisionRow]] = defaultdict(list)
    for row in rows:
        if row.period_start in ends:
            by_approver[(row.approver_id, row.period_start)].append(row)
    hits: list[Hit] = []
    for (approver, start), decisions in sorted(by_approver.items()):
        decisions.sort(key=lambda d: (d.at, d.id))
        n = len(decisions)
        approvals = sum(1 for d in decisions if d.approved)
        rate = approvals / n
        median = statistics.median(
            max(0.0, (d.at - d.assigned_at).total_seconds()) for d in decisions
        )
        bulk = [
            d
            for prev, d in zip(decisions, decisions[1:], strict=False)
            if (d.at - prev.at).total_seconds() <= limits.approver_bulk_seconds
        ]
        no_proof = [d for d in decisions if d.approved and d.needs_proof and not d.has_proof]
        enough = n >= limits.approver_min_decisions
        triggers = []
        if enough and rate >= limits.approver_rate and median <= limits.approver_median_seconds:
            triggers.append("fast")
        if enough and len(bulk) >= limits.approver_bulk_min:
            triggers.append("bulk")
        if limits.approver_no_proof_min > 0 and len(no_proof) >= limits.approver_no_proof_min:
            triggers.append("no_proof")
        if not triggers:
            continue
        severity = HIGH if len(triggers) >= 2 or "no_proof" in triggers else MEDIUM
        fastest = sorted(decisions, key=lambda d: (d.at - d.assigned_at, d.id))
        chosen: dict[int, Evidence] = {}
        for d in [*no_proof, *bulk, *fastest]:
            if len(chosen) >= EVIDENCE_MAX:
                break
            if d.id in chosen:
                continue
            seconds = int(max(0.0, (d.at - d.assigned_at).total_seconds()))
            note = f"{'approved' if d.approved else 'rejected'} {seconds}s"
            tag = "no_proof" if d in no_proof else "bulk" if d in bulk else "fast"
            chosen[d.id] = Evidence(REQUEST, d.request_id, d.at, note, tag)
        hits.append(
            Hit(
                rule=RUBBER_STAMP,
                key=f"{RUBBER_STAMP}:u{approver}:{start.isoformat()}",
                severity=severity,
                start=start,
                end=_period_end(ends, start),
                user_id=approver,
                params={
                    "triggers": triggers,
                    "decisions": n,
                    "approvals": approvals,
                    "approval_rate": round(rate, 3),
                    "median_seconds": round(median, 1),
                    "bulk_decisions": len(bulk),
                    "no_proof_approvals": len(no_proof),
                },
                evidence=tuple(sorted(chosen.values(), key=_evidence_order)),
            )
        )
    return hits


# --- cut-off clustering -------------------------------------------------------------------


def cutoff_clusters(
    rows: Iterable[CorrectionRow], *, periods: Sequence[Period], limits: Limits
) -> list[Hit]:
    """Per employee and period: at least ``cutoff_min_count`` requests filed in the last
    ``cutoff_hours`` before their deadline, and at least ``cutoff_share`` of the
    employee's requests of the period."""
    ends = dict(periods)
    by_employee: dict[tuple[int, date], list[CorrectionRow]] = defaultdict(list)
    for row in rows:
        if row.period_start in ends:
            by_employee[(row.employee_id, row.period_start)].append(row)
    window = limits.cutoff_hours * 3600
    hits: list[Hit] = []
    for (pk, start), mine in sorted(by_employee.items()):
        late = [
            r
            for r in mine
            if r.deadline is not None and 0 <= (r.deadline - r.created_at).total_seconds() <= window
        ]
        share = len(late) / len(mine)
        if len(late) < max(1, limits.cutoff_min_count) or share < limits.cutoff_share:
            continue
        severity = HIGH if share >= 1 and len(late) >= 2 * limits.cutoff_min_count else MEDIUM
        late.sort(key=lambda r: (r.created_at, r.id))
        hits.append(
            Hit(
                rule=CUTOFF_CLUSTER,
                key=f"{CUTOFF_CLUSTER}:e{pk}:{start.isoformat()}",
                severity=severity,
                start=start,
                end=_period_end(ends, start),
                employee_id=pk,
                params={
                    "late": len(late),
                    "total": len(mine),
                    "share": round(share, 3),
                    "hours": limits.cutoff_hours,
                },
                evidence=tuple(
                    Evidence(
                        REQUEST,
                        r.id,
                        r.created_at,
                        f"{r.day.isoformat()} "
                        f"{int((r.deadline - r.created_at).total_seconds() // 3600)}h",
                    )
                    for r in late[:EVIDENCE_MAX]
                    if r.deadline is not None
                ),
            )
        )
    return hits


# --- repeated reasons ---------------------------------------------------------------------


def normalise_reason(text: str) -> str:
    """The reason as compared: NFKC (full-width → half-width), case-folded, without spaces,
    punctuation and symbols, every digit as 0 (“9点忘打卡！” = “8 点忘打卡”)."""
    out = []
    for char in unicodedata.normalize("NFKC", text).casefold():
        category = unicodedata.category(char)
        if category[0] in "PZSC":
            continue
        out.append("0" if char.isdigit() else char)
    return "".join(out)


def reason_key(normalised: str) -> str:
    return hashlib.sha256(normalised.encode()).hexdigest()[:16]


def repeated_reasons(
    rows: Iterable[CorrectionRow], *, periods: Sequence[Period], limits: Limits
) -> list[Hit]:
    """Per period: a normalised reason of at least ``reason_min_length`` characters used
    in ``reason_min_requests`` requests or by ``reason_min_people`` people."""
    ends = dict(periods)
    by_text: dict[tuple[str, date], list[CorrectionRow]] = defaultdict(list)
    for row in rows:
        if row.period_start not in ends:
            continue
        text = normalise_reason(row.reason)
        if len(text) >= limits.reason_min_length:
            by_text[(text, row.period_start)].append(row)
    hits: list[Hit] = []
    for (text, start), used in sorted(by_text.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        people = {r.employee_id for r in used}
        many_requests = len(used) >= limits.reason_min_requests
        many_people = len(people) >= limits.reason_min_people
        if not (many_requests or many_people):
            continue
        used.sort(key=lambda r: (r.created_at, r.id))
        single = next(iter(people)) if len(people) == 1 else None
        hits.append(
            Hit(
                rule=REPEATED_REASON,
                key=f"{REPEATED_REASON}:r{reason_key(text)}:{start.isoformat()}",
                severity=MEDIUM if many_people else LOW,
                start=start,
                end=_period_end(ends, start),
                employee_id=single,
                params={
                    "text": used[0].reason[:200],
                    "normalised": text[:200],
                    "requests": len(used),
                    "people": len(people),
                },
                evidence=tuple(
                    Evidence(REQUEST, r.id, r.created_at, r.day.isoformat())
                    for r in used[:EVIDENCE_MAX]
                ),
            )
        )
    return hits


# --- buddy punching (代打卡) --------------------------------------------------------------


def buddy_punches(
    rows: Iterable[PunchRow], *, periods: Sequence[Period], limits: Limits
) -> list[Hit]:
    """Pairs of employees whose punches on the same terminal or IP address come within
    ``buddy_window_seconds`` of each other on at least ``buddy_min_days`` days of a period,
    and on at least ``buddy_min_share`` of the days the less present of the two punched
    there (a queue at the door brings random neighbours together now and then, a buddy
    nearly every day). One finding per pair and period; its subject is the pair (lower id
    first)."""
    ends = dict(periods)
    by_place: dict[str, list[PunchRow]] = defaultdict(list)
    present: dict[tuple[int, date], set[date]] = defaultdict(set)
    for row in rows:
        if row.period_start in ends and row.place:
            by_place[row.place].append(row)
            present[(row.employee_id, row.period_start)].add(row.day)
    pairs: dict[tuple[int, int, date], dict[date, tuple[PunchRow, PunchRow]]] = defaultdict(dict)
    window = limits.buddy_window_seconds
    for punches in by_place.values():
        punches.sort(key=attrgetter("at", "id"))
        stamps = [p.at.timestamp() for p in punches]
        count = len(punches)
        for i, first in enumerate(punches):
            j = i + 1
            limit = stamps[i] + window
            while j < count and stamps[j] <= limit:  # index walk: no copies of the list
                second = punches[j]
                j += 1
                x, y = first.employee_id, second.employee_id
                if x == y or second.day != first.day:
                    continue
                # (not sorted(): this line runs once per punch pair in the window — half a
                # million times a night at one busy terminal; bench/findings.py)
                key = (x, y, first.period_start) if x < y else (y, x, first.period_start)
                days = pairs[key]
                if first.day not in days:
                    days[first.day] = (first, second)
    hits: list[Hit] = []
    least = max(1, limits.buddy_min_days)
    # most pairs met once (strangers in a queue): drop them before sorting
    for (a, b, start), days in sorted(kv for kv in pairs.items() if len(kv[1]) >= least):
        fewest = min(len(present[(a, start)]), len(present[(b, start)]))
        share = len(days) / fewest if fewest else 0.0
        if share < limits.buddy_min_share:
            continue
        evidence: list[Evidence] = []
        for day in sorted(days)[: EVIDENCE_MAX // 2]:
            first, second = days[day]
            gap = int((second.at - first.at).total_seconds())
            evidence.append(Evidence(PUNCH, first.id, first.at, f"{first.place}"))
            evidence.append(Evidence(PUNCH, second.id, second.at, f"{second.place} +{gap}s"))
        places = sorted({p.place for pair in days.values() for p in pair})
        hits.append(
            Hit(
                rule=BUDDY_PUNCH,
                key=f"{BUDDY_PUNCH}:e{a}-e{b}:{start.isoformat()}",
                severity=HIGH if len(days) >= 2 * limits.buddy_min_days else MEDIUM,
                start=start,
                end=_period_end(ends, start),
                employee_id=a,
                other_employee_id=b,
                params={
                    "days": len(days),
                    "days_present": fewest,
                    "share": round(share, 3),
                    "dates": [d.isoformat() for d in sorted(days)],
                    "places": places[:10],
                    "window_seconds": window,
                },
                evidence=tuple(evidence),
            )
        )
    return hits


# --- HR activity --------------------------------------------------------------------------


def off_hours(local_at: datetime, limits: Limits) -> bool:
    """Outside the working hours (``work_start_hour``–``work_end_hour``) or at a weekend."""
    return local_at.weekday() >= 5 or not (
        limits.work_start_hour <= local_at.hour < limits.work_end_hour
    )


def hr_activity(
    rows: Iterable[OperatorRow], *, periods: Sequence[Period], limits: Limits
) -> list[Hit]:
    """Per HR operator and period: manual adds ≥ ``hr_manual_add_limit``, voids ≥
    ``hr_void_limit``, adds to their own team ≥ ``hr_own_team_limit``, period reopenings
    ≥ ``hr_reopen_limit``, or audited changes outside working hours ≥
    ``hr_off_hours_limit`` (a limit of 0 switches that check off)."""
    ends = dict(periods)
    by_operator: dict[tuple[int, date], list[OperatorRow]] = defaultdict(list)
    for row in rows:
        if row.period_start in ends:
            by_operator[(row.operator_id, row.period_start)].append(row)
    hits: list[Hit] = []
    for (operator, start), mine in sorted(by_operator.items()):
        mine.sort(key=lambda r: (r.at, r.ref.id))
        groups = {
            "manual_adds": [r for r in mine if r.kind == MANUAL_ADD],
            "voids": [r for r in mine if r.kind == VOID],
            "own_team": [r for r in mine if r.kind == MANUAL_ADD and r.own_team],
            "reopenings": [r for r in mine if r.kind == REOPEN],
            "off_hours": [r for r in mine if r.kind == CHANGE and off_hours(r.local_at, limits)],
        }
        limit_of = {
            "manual_adds": limits.hr_manual_add_limit,
            "voids": limits.hr_void_limit,
            "own_team": limits.hr_own_team_limit,
            "reopenings": limits.hr_reopen_limit,
            "off_hours": limits.hr_off_hours_limit,
        }
        triggers = [
            k for k, found in groups.items() if limit_of[k] > 0 and len(found) >= limit_of[k]
        ]
        if not triggers:
            continue
        severity = HIGH if {"own_team", "reopenings"} & set(triggers) else MEDIUM
        chosen: dict[tuple[str, int], Evidence] = {}
        for name in triggers:
            for r in groups[name]:
                if len(chosen) >= EVIDENCE_MAX:
                    break
                chosen.setdefault(
                    (r.ref.kind, r.ref.id),
                    Evidence(r.ref.kind, r.ref.id, r.ref.at, r.ref.note, name),
                )
        hits.append(
            Hit(
                rule=HR_ACTIVITY,
                key=f"{HR_ACTIVITY}:u{operator}:{start.isoformat()}",
                severity=severity,
                start=start,
                end=_period_end(ends, start),
                user_id=operator,
                params={
                    "triggers": triggers,
                    **{name: len(found) for name, found in groups.items()},
                },
                evidence=tuple(sorted(chosen.values(), key=_evidence_order)),
            )
        )
    return hits

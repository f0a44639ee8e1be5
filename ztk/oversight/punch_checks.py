"""Suspicious web and phone punches (issue 13, item 1), pure rules like ``checks``:

- ``outside_fence`` — punches whose position lies outside every active fence of the
  person's attendance group (field punches 外勤 included: allowed one by one, a pattern
  is worth a look);
- ``implausible_jump`` — two consecutive positioned punches of one person further apart
  than anyone could travel in the time between them;
- ``new_device`` — punches from a device the person never punched from before.

The rows come from ``punch_selectors.position_rows``; each rule returns ``checks.Hit`` s
with their key (rule + employee + period), figures and evidence (the punches).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from ztk.engine.geo import Fence, distance_m, metres_outside

from .checks import (
    EVIDENCE_MAX,
    HIGH,
    IMPLAUSIBLE_JUMP,
    LOW,
    MEDIUM,
    NEW_DEVICE,
    OUTSIDE_FENCE,
    PUNCH,
    Evidence,
    Hit,
    Limits,
    Period,
)

MIN_JUMP_SECONDS = 60  # two punches a few seconds apart: judged as one minute apart


@dataclass(frozen=True)
class PositionRow:
    """One web or phone punch (voided ones are not read)."""

    id: int
    employee_id: int
    group_id: int | None
    at: datetime
    day: date
    period_start: date | None  # None: history before the periods checked
    latitude: float | None = None
    longitude: float | None = None
    accuracy_m: float | None = None
    inside: bool | None = None  # as judged when punched (None: the group had no fence)
    field_punch: bool = False
    device: str = ""  # the device's fingerprint ("" unknown)
    device_label: str = ""  # e.g. "Chrome · Android"

    @property
    def positioned(self) -> bool:
        return self.latitude is not None and self.longitude is not None


def _km(metres: float) -> str:
    return f"{metres / 1000:.1f} km"


def outside_fences(
    rows: Iterable[PositionRow],
    *,
    periods: Sequence[Period],
    fences: Mapping[int | None, Sequence[Fence]],
    limits: Limits,
) -> list[Hit]:
    """Per employee and period: at least ``fence_outside_min`` positioned punches outside
    every active fence of their group. A punch judged outside when it was made counts; so
    does one made before the group had fences that lies outside today's. A group without
    an active fence checks nothing (nothing to be outside of). 0 switches the rule off."""
    if limits.fence_outside_min <= 0:
        return []
    ends = dict(periods)
    outside: dict[tuple[int, date], list[tuple[PositionRow, float | None]]] = defaultdict(list)
    for row in rows:
        if row.period_start not in ends or not row.positioned:
            continue
        group_fences = fences.get(row.group_id) or ()
        assert row.latitude is not None and row.longitude is not None
        gap = metres_outside(row.latitude, row.longitude, group_fences)
        if row.inside is False or (row.inside is None and gap is not None and gap > 0):
            outside[(row.employee_id, row.period_start)].append((row, gap))
    hits = []
    for (pk, start), found in sorted(outside.items()):
        if len(found) < limits.fence_outside_min:
            continue
        found.sort(key=lambda f: (f[0].at, f[0].id))
        far = max((g for _r, g in found if g is not None), default=0.0)
        hits.append(
            Hit(
                rule=OUTSIDE_FENCE,
                key=f"{OUTSIDE_FENCE}:e{pk}:{start.isoformat()}",
                severity=HIGH if len(found) >= 2 * limits.fence_outside_min else MEDIUM,
                start=start,
                end=ends[start],
                employee_id=pk,
                params={
                    "count": len(found),
                    "field_punches": sum(1 for r, _g in found if r.field_punch),
                    "days": len({r.day for r, _g in found}),
                    "farthest_m": round(far),
                    "min_count": limits.fence_outside_min,
                },
                evidence=tuple(
                    Evidence(
                        PUNCH,
                        r.id,
                        r.at,
                        f"{_km(g)} outside" if g is not None else "outside",
                        "field" if r.field_punch else "outside",
                    )
                    for r, g in found[:EVIDENCE_MAX]
                ),
            )
        )
    return hits


def implausible_jumps(
    rows: Iterable[PositionRow], *, periods: Sequence[Period], limits: Limits
) -> list[Hit]:
    """Per employee and period: consecutive positioned punches (the earlier one may lie
    before the period) at least ``jump_min_km`` apart — after taking off both punches'
    GPS accuracy — at a speed above ``jump_speed_kmh``. Punches less than a minute apart
    are judged a minute apart (one tap twice is not a jump). A speed of 0 switches the
    rule off."""
    if limits.jump_speed_kmh <= 0:
        return []
    ends = dict(periods)
    by_person: dict[int, list[PositionRow]] = defaultdict(list)
    for row in rows:
        if row.positioned:
            by_person[row.employee_id].append(row)
    found: dict[tuple[int, date], list[tuple[PositionRow, PositionRow, float, float]]] = (
        defaultdict(list)
    )
    for pk, punches in by_person.items():
        punches.sort(key=lambda r: (r.at, r.id))
        for before, after in zip(punches, punches[1:], strict=False):
            if after.period_start not in ends:
                continue
            assert before.latitude is not None and before.longitude is not None
            assert after.latitude is not None and after.longitude is not None
            metres = distance_m(before.latitude, before.longitude, after.latitude, after.longitude)
            metres -= (before.accuracy_m or 0.0) + (after.accuracy_m or 0.0)
            if metres < limits.jump_min_km * 1000:
                continue
            hours = max((after.at - before.at).total_seconds(), MIN_JUMP_SECONDS) / 3600
            speed = metres / 1000 / hours
            if speed > limits.jump_speed_kmh:
                found[(pk, after.period_start)].append((before, after, metres, speed))
    hits = []
    for (pk, start), jumps in sorted(found.items()):
        fastest = max(speed for _b, _a, _m, speed in jumps)
        evidence: list[Evidence] = []
        for before, after, metres, _speed in jumps[: EVIDENCE_MAX // 2]:
            minutes = int((after.at - before.at).total_seconds() // 60)
            evidence.append(Evidence(PUNCH, before.id, before.at, "from", "jump"))
            evidence.append(
                Evidence(PUNCH, after.id, after.at, f"{_km(metres)} in {minutes} min", "jump")
            )
        hits.append(
            Hit(
                rule=IMPLAUSIBLE_JUMP,
                key=f"{IMPLAUSIBLE_JUMP}:e{pk}:{start.isoformat()}",
                severity=HIGH if len(jumps) >= 2 else MEDIUM,
                start=start,
                end=ends[start],
                employee_id=pk,
                params={
                    "jumps": len(jumps),
                    "fastest_kmh": round(fastest),
                    "longest_km": round(max(m for _b, _a, m, _s in jumps) / 1000, 1),
                    "speed_limit_kmh": limits.jump_speed_kmh,
                },
                evidence=tuple(evidence),
            )
        )
    return hits


def new_devices(
    rows: Iterable[PositionRow], *, periods: Sequence[Period], limits: Limits
) -> list[Hit]:
    """Per employee and period: at least ``device_new_min`` devices the person had not
    punched from before, when they had at least ``device_min_history``
    earlier punches from known devices (a newcomer's first phone is not news). The rows
    before the periods (``period_start`` None) are the history. 0 switches it off."""
    if limits.device_new_min <= 0:
        return []
    ends = dict(periods)
    by_person: dict[int, list[PositionRow]] = defaultdict(list)
    for row in rows:
        if row.device:
            by_person[row.employee_id].append(row)
    hits = []
    for pk, punches in sorted(by_person.items()):
        punches.sort(key=lambda r: (r.at, r.id))
        known: set[str] = set()
        fresh: dict[date, list[PositionRow]] = defaultdict(list)
        fresh_devices: dict[date, dict[str, str]] = defaultdict(dict)
        for history, row in enumerate(punches):
            if (
                row.period_start in ends
                and row.device not in known
                and history >= limits.device_min_history
            ):
                fresh[row.period_start].append(row)
                fresh_devices[row.period_start][row.device] = row.device_label
            known.add(row.device)
        for start, new in sorted(fresh.items()):
            # every later punch of the period from the new devices is evidence too
            devices = fresh_devices[start]
            also = [r for r in punches if r.period_start == start and r.device in devices]
            if len(new) < limits.device_new_min:
                continue
            hits.append(
                Hit(
                    rule=NEW_DEVICE,
                    key=f"{NEW_DEVICE}:e{pk}:{start.isoformat()}",
                    severity=MEDIUM if len(devices) >= 2 else LOW,
                    start=start,
                    end=ends[start],
                    employee_id=pk,
                    params={
                        "devices": sorted(set(devices.values()))[:10],
                        "new_devices": len(devices),
                        "punches": len(also),
                        "first_at": new[0].at.isoformat(),
                    },
                    evidence=tuple(
                        Evidence(
                            PUNCH,
                            r.id,
                            r.at,
                            r.device_label,
                            "new_device" if r in new else "same_device",
                        )
                        for r in also[:EVIDENCE_MAX]
                    ),
                )
            )
    return hits


# --- the device of a web or phone punch ------------------------------------------------

_BROWSERS = (
    ("MicroMessenger", "WeChat"),
    ("DingTalk", "DingTalk"),
    ("Lark", "Feishu"),
    ("wxwork", "WeCom"),
    ("Edg", "Edge"),
    ("Firefox", "Firefox"),
    ("Chrome", "Chrome"),
    ("Safari", "Safari"),
)
_SYSTEMS = (
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Android", "Android"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("HarmonyOS", "HarmonyOS"),
    ("Linux", "Linux"),
)


def device_fingerprint(user_agent: str) -> tuple[str, str]:
    """(fingerprint, label) of the browser or app that punched, from its user agent as
    stored in the punch's audit event: every run of digits counts as one digit, so a
    browser or system update is not a new device, a different phone model, system,
    browser or app is. ("", "") without a user agent."""
    text = " ".join(user_agent.split())
    if not text:
        return "", ""
    out, digits = [], False
    for char in text:
        if char.isdigit():
            if not digits:
                out.append("0")
            digits = True
        else:
            out.append(char)
            digits = False
    normal = "".join(out)
    key = hashlib.sha256(normal.encode()).hexdigest()[:16]
    browser = next((name for token, name in _BROWSERS if token in text), "")
    system = next((name for token, name in _SYSTEMS if token in text), "")
    label = " · ".join(p for p in (browser, system) if p) or text[:40]
    return key, label

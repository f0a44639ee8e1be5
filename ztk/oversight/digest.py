"""The weekly oversight digest (issue 13, item 4): on Monday morning each auditor and each
member of HR gets one message about the week before — the findings first found in it, the
departments whose anomaly counts moved against the week before, and the warnings still
open. Once per person and week (``DigestSent``, unique); a person who switched the
"weekly oversight digest" off under their inbox's reminders (``ReminderOptOut``) gets
none; robots hear it only when chosen (it is one message per person).

The week-over-week figures are the analytics trends' (``oversight.trends``: late arrivals,
early leaves, missing punches and absent days by department and week, added up).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy

from ztk.notifications.models import NotificationKind, ReminderKind
from ztk.notifications.reminders import opted_out
from ztk.notifications.services import company_language, notify

from . import warning_selectors as ws
from .models import DigestSent, EarlyWarning, Finding, Rule, WarningKind, WarningState
from .trends import Scope, trends

MAX_LINES = 10
MOVED_MIN = 3  # a department's weekly anomaly count moved by at least this many …
MOVED_SHARE = 0.25  # … and by at least this share of the week before


ANOMALY_METRICS = ("late", "early", "missing", "absent")  # trends' day metrics, added up


@dataclass(frozen=True)
class Move:
    department: str  # the department's code (trends' key)
    before: float
    after: float
    label: str = ""

    @property
    def change(self) -> float:
        return self.after - self.before


def moved(
    counts: dict[str, tuple[float, float]], labels: dict[str, str] | None = None
) -> list[Move]:
    """Departments whose anomaly count moved week over week (pure): by at least
    ``MOVED_MIN`` and ``MOVED_SHARE`` of the week before (any rise from 0 counts when it
    reaches ``MOVED_MIN``); the largest moves first."""
    out = []
    for department, (before, after) in counts.items():
        change = after - before
        if abs(change) >= MOVED_MIN and abs(change) >= MOVED_SHARE * before:
            out.append(Move(department, before, after, (labels or {}).get(department, "")))
    return sorted(out, key=lambda m: (-abs(m.change), m.department))


def week_anomalies(week: tuple[date, date]) -> tuple[dict[str, tuple[float, float]], dict]:
    """Per department (code): late arrivals, early leaves, missing punches and absent days
    added up, in the week before ``week`` and in ``week`` — the analytics trends
    (``trends.trends``, the one owner of those figures), by department and week."""
    before = week[0] - timedelta(days=7)
    counts: dict[str, list[float]] = {}
    labels: dict[str, str] = {}
    for metric in ANOMALY_METRICS:
        for point in trends(
            metric, by="department", period="week", start=before, end=week[1],
            scope=Scope.everyone(),
        ):  # fmt: skip
            slot = counts.setdefault(point.key, [0.0, 0.0])
            slot[0 if point.period < week[0] else 1] += point.value
            labels[point.key] = point.label
    return {k: (v[0], v[1]) for k, v in counts.items()}, labels


@dataclass
class Digest:
    week: tuple[date, date]
    findings: list[Finding] = field(default_factory=list)
    moves: list[Move] = field(default_factory=list)
    warnings: list[EarlyWarning] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The body's lines (in the active language)."""
        out: list[str] = []
        by_rule = Counter(f.rule for f in self.findings)
        if by_rule:
            out.append(str(gettext_lazy("New findings:")))
            out += [f"· {Rule(rule).label}: {n}" for rule, n in sorted(by_rule.items())]
        if self.moves:
            out.append(str(gettext_lazy("Anomalies that moved (week before → this week):")))
            for move in self.moves[:MAX_LINES]:
                sign = "+" if move.change > 0 else ""
                out.append(
                    f"· {move.label or move.department}: {_n(move.before)} → {_n(move.after)}"
                    f" ({sign}{_n(move.change)})"
                )
        by_kind = Counter(w.kind for w in self.warnings)
        if by_kind:
            out.append(str(gettext_lazy("Open warnings:")))
            out += [f"· {WarningKind(kind).label}: {n}" for kind, n in sorted(by_kind.items())]
        return out


def _n(value: float) -> str:
    return f"{value:g}"


def last_week(today: date) -> tuple[date, date]:
    """The calendar week (Monday–Sunday) before the one holding ``today``."""
    monday = today - timedelta(days=today.weekday())
    return monday - timedelta(days=7), monday - timedelta(days=1)


def build(week: tuple[date, date]) -> Digest:
    zone = timezone.get_current_timezone()
    low = datetime.combine(week[0], time.min, tzinfo=zone)
    high = datetime.combine(week[1] + timedelta(days=1), time.min, tzinfo=zone)
    findings = list(
        Finding.objects.filter(first_found_at__gte=low, first_found_at__lt=high).order_by("pk")
    )
    moves = moved(*week_anomalies(week))
    warnings = list(EarlyWarning.objects.filter(state=WarningState.OPEN).order_by("pk"))
    return Digest(week, findings, moves, warnings)


def _url() -> str:
    try:
        return reverse("findings:index")
    except NoReverseMatch:
        return ""


def send_weekly_digests(*, now: datetime | None = None) -> int:
    """Send last week's digest to every auditor and member of HR who has not had it and
    did not switch it off; returns how many were sent."""
    now = now or timezone.now()
    week = last_week(timezone.localtime(now).date())
    readers = ws.digest_users()
    kind = ReminderKind.OVERSIGHT_DIGEST.value
    out = opted_out([kind], [u.pk for u in readers])
    done = set(
        DigestSent.objects.filter(week_start=week[0], user__in=readers).values_list(
            "user_id", flat=True
        )
    )
    due = [u for u in readers if u.pk not in done and (u.pk, kind) not in out]
    if not due:
        return 0
    digest = build(week)
    with translation.override(company_language()):
        suffix = "\n" + "\n".join(digest.lines())
    params: dict[str, Any] = {
        "start": week[0].isoformat(),
        "end": week[1].isoformat(),
        "findings": len(digest.findings),
        "moves": len(digest.moves),
        "warnings": len(digest.warnings),
    }
    count = 0
    for user in due:
        try:
            with transaction.atomic():
                DigestSent.objects.create(user=user, week_start=week[0], sent_at=now)
                sent = notify(
                    kind=NotificationKind.OVERSIGHT_DIGEST,
                    recipients=[user],
                    title=gettext_lazy("Oversight digest %(start)s – %(end)s"),
                    body=gettext_lazy(
                        "%(findings)s new findings, %(moves)s departments whose anomalies "
                        "moved, %(warnings)s open warnings."
                    ),
                    params=params,
                    suffix=suffix,
                    url=_url(),
                    data={
                        "week_start": week[0].isoformat(),
                        "findings": [f.pk for f in digest.findings[:200]],
                        "warnings": [w.pk for w in digest.warnings[:200]],
                    },
                )
        except IntegrityError:
            continue  # sent by a run at the same moment
        count += len(sent)
    return count

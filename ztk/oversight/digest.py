"""The weekly oversight digest (issue 13, item 4): on Monday morning each auditor and each
member of HR gets one message about the week before — the findings first found in it, the
departments whose anomaly counts moved against the week before, and the warnings still
open. Once per person and week (``DigestSent``, unique); a person who switched the
"weekly oversight digest" off under their inbox's reminders (``ReminderOptOut``) gets
none; robots hear it only when chosen (it is one message per person).
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
from ztk.org.models import Department

from . import warning_selectors as ws
from .models import DigestSent, EarlyWarning, Finding, Rule, WarningKind, WarningState

MAX_LINES = 10
MOVED_MIN = 3  # a department's weekly anomaly count moved by at least this many …
MOVED_SHARE = 0.25  # … and by at least this share of the week before


@dataclass(frozen=True)
class Move:
    department_id: int
    before: int
    after: int

    @property
    def change(self) -> int:
        return self.after - self.before


def moved(counts: dict[int, tuple[int, int]]) -> list[Move]:
    """Departments whose anomaly count moved week over week (pure): by at least
    ``MOVED_MIN`` and ``MOVED_SHARE`` of the week before (any rise from 0 counts when it
    reaches ``MOVED_MIN``); the largest moves first."""
    out = []
    for department, (before, after) in counts.items():
        change = after - before
        if abs(change) >= MOVED_MIN and abs(change) >= MOVED_SHARE * before:
            out.append(Move(department, before, after))
    return sorted(out, key=lambda m: (-abs(m.change), m.department_id))


def week_anomalies(week: tuple[date, date]) -> dict[int, tuple[int, int]]:
    """Per department: anomalies in the week before ``week`` and in ``week``."""
    windows = ws.department_windows(ws.windows_before(week[1], 2))
    return {d: (w[0].anomalies, w[1].anomalies) for d, w in windows.items()}


@dataclass
class Digest:
    week: tuple[date, date]
    findings: list[Finding] = field(default_factory=list)
    moves: list[Move] = field(default_factory=list)
    warnings: list[EarlyWarning] = field(default_factory=list)
    departments: dict[int, Department] = field(default_factory=dict)

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
                d = self.departments.get(move.department_id)
                name = d.name if d is not None else f"#{move.department_id}"
                sign = "+" if move.change > 0 else ""
                out.append(f"· {name}: {move.before} → {move.after} ({sign}{move.change})")
        by_kind = Counter(w.kind for w in self.warnings)
        if by_kind:
            out.append(str(gettext_lazy("Open warnings:")))
            out += [f"· {WarningKind(kind).label}: {n}" for kind, n in sorted(by_kind.items())]
        return out


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
    moves = moved(week_anomalies(week))
    warnings = list(EarlyWarning.objects.filter(state=WarningState.OPEN).order_by("pk"))
    departments = Department.objects.in_bulk([m.department_id for m in moves[:MAX_LINES]])
    return Digest(week, findings, moves, warnings, departments)


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

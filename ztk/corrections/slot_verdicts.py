"""The up-front verdict on each slot (registered in ``ztk.attendance.slot_checks``): can a
correction be filed now, why not, and whom to ask instead.

The verdict is ``services.slot_checks`` — ``policy.check_slot`` over the facts a
submission reads — put into sentences; nothing here decides a rule.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date, datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _

from ztk.attendance.slot_checks import SlotCheck, SlotKey
from ztk.org.models import Employee
from ztk.org.roles import HR

from . import policy as p
from .messages import refusal_message
from .services import slot_checks

User = get_user_model()

MAX_HR_NAMES = 3
# Only HR can still help once the employee's own way is shut by these.
HR_ONLY = (p.EMPLOYEE_INACTIVE, p.PERIOD_CLOSED, p.WINDOW_EXPIRED, p.MONTHLY_LIMIT_REACHED)


def _hr_names() -> str:
    people = (
        User.objects.filter(groups__name=HR, is_active=True)
        .select_related("employee")
        .order_by("pk")
        .distinct()[: MAX_HR_NAMES + 1]
    )
    names = []
    for user in people:
        employee = getattr(user, "employee", None)
        names.append(employee.name if employee is not None else user.get_username())
    text = "、".join(names[:MAX_HR_NAMES])
    return text + ("…" if len(names) > MAX_HR_NAMES else "")


class _Who:
    """The people to name in the advice, looked up once and only when needed."""

    def __init__(self, employee: Employee) -> None:
        self.employee = employee
        self._hr: str | None = None

    @property
    def hr(self) -> str:
        if self._hr is None:
            names = _hr_names()
            self._hr = _("HR (%(names)s)") % {"names": names} if names else _("HR")
        return self._hr

    @property
    def supervisor_or_hr(self) -> str:
        boss = self.employee.supervisor
        if boss is None:
            return self.hr
        return _("your supervisor %(name)s or %(hr)s") % {"name": boss.name, "hr": self.hr}


def instead(refusals: list[p.Refusal], who: _Who) -> str:
    """What the employee can do when they cannot file it themselves (empty: nothing to
    ask anyone for — a day to come, a slot already filled or already requested)."""
    codes = [r.code for r in refusals]
    if p.NOT_ALLOWED_TO_SELF_APPLY in codes and not any(c in HR_ONLY for c in codes):
        return _("Ask %(who)s to file the correction on your behalf.") % {
            "who": who.supervisor_or_hr
        }
    if p.PERIOD_CLOSED in codes:
        return _("Ask %(who)s: only HR can reopen a closed period.") % {"who": who.hr}
    if p.MONTHLY_LIMIT_REACHED in codes and not any(
        c in (p.EMPLOYEE_INACTIVE, p.WINDOW_EXPIRED) for c in codes
    ):
        return _("Ask %(who)s: HR can file it beyond the limit, with a reason.") % {"who": who.hr}
    if any(c in HR_ONLY for c in codes):
        return _("Ask %(who)s: HR can still record the punch by hand (补录) with your proof.") % {
            "who": who.hr
        }
    for refusal in refusals:
        if refusal.code == p.NOT_AN_ANOMALY and refusal.params.get("status") in (
            p.CORRECTABLE_ANOMALIES
        ):
            return _("Talk to %(who)s about it.") % {"who": who.supervisor_or_hr}
    return ""


def slot_verdicts(
    actor: Any, employee: Employee, days: Collection[date], now: datetime | None = None
) -> Mapping[SlotKey, SlotCheck]:
    """Every slot of `employee`'s `days` for a correction filed by `actor` now."""
    found = slot_checks(actor=actor, employee=employee, days=days, now=now)
    if not found:
        return {}
    digits: dict[date, set[str]] = {}
    for day, key in found:
        digits.setdefault(day, set()).add(key[-1:])
    segments = {day: len(found_digits) or 1 for day, found_digits in digits.items()}
    who = _Who(employee)
    own = getattr(actor, "pk", None) == employee.user_id
    out: dict[SlotKey, SlotCheck] = {}
    for (day, key), refusals in found.items():
        if not refusals:
            out[(day, key)] = SlotCheck(correctable=True)
            continue
        out[(day, key)] = SlotCheck(
            correctable=False,
            codes=tuple(r.code for r in refusals),
            reasons=tuple(refusal_message(r, segments=segments[day]) for r in refusals),
            instead=instead(refusals, who) if own else "",
        )
    return out

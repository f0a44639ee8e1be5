"""Translated sentences for the correction rule check's refusals (the check stays pure).

Each template uses ``%(name)s`` placeholders named after the refusal's params, so the
API can return the code and params as details while people read the sentence in their
own language (zh-hans by default, English source strings).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from ztk.attendance.explain import slot_label
from ztk.corrections import policy as p

__all__ = ["FALLBACK_MESSAGE", "NOT_CORRECTABLE_MESSAGES", "REFUSAL_MESSAGES", "refusal_message"]

REFUSAL_MESSAGES: dict[str, Promise] = {
    p.EMPLOYEE_INACTIVE: _("This employee is no longer active."),
    p.NOT_ALLOWED_TO_SELF_APPLY: _(
        "Employees in this attendance group cannot request corrections themselves; "
        "ask your supervisor or HR to file it on your behalf."
    ),
    p.PERMISSION_DENIED: _("You may not file a correction on behalf of this employee."),
    p.PERIOD_CLOSED: _(
        "The attendance period %(period_start)s – %(period_end)s is closed for corrections."
    ),
    p.WINDOW_EXPIRED: _(
        "The deadline to correct %(day)s has passed: the last day to apply was %(last_day)s."
    ),
    p.FUTURE_DAY: _("%(day)s has not come yet: there is nothing to correct before the day."),
    p.MONTHLY_LIMIT_REACHED: _(
        "The limit of %(limit)s corrections for the period %(period_start)s – %(period_end)s "
        "has been reached (%(used)s pending or approved)."
    ),
    p.SLOT_NOT_FOUND: _("There is no scheduled punch “%(slot)s” on %(day)s."),
    p.SLOT_ALREADY_PUNCHED: _("%(day)s %(slot)s already has a valid punch."),
    p.NOT_AN_ANOMALY: _("%(day)s %(slot)s is not an anomaly that can be corrected."),
    p.DUPLICATE_PENDING: _("%(day)s %(slot)s already has a pending correction request."),
    p.FUTURE_TIME: _("The requested time %(requested)s is in the future."),
    p.TIME_OUTSIDE_SLOT_WINDOW: _(
        "The requested time %(requested)s is outside the punch window of %(slot)s "
        "(%(start)s – %(end)s)."
    ),
    p.UNKNOWN_CATEGORY: _("Unknown reason category “%(category)s”."),
    p.REASON_TOO_SHORT: _("The reason must be at least %(min)s characters long."),
    p.ATTACHMENT_REQUIRED: _(
        "The reason category “%(category)s” requires at least one attachment."
    ),
    p.EXPEDITE_NOT_ALLOWED: _("This attendance group does not allow expedited requests."),
    p.JUSTIFICATION_REQUIRED: _("An expedited request needs a justification."),
}

# ``not_an_anomaly`` said precisely, by the slot's status: a kind of anomaly the group's
# policy does not let people correct, or a punch window that is still open.
NOT_CORRECTABLE_MESSAGES: dict[str, Promise] = {
    "late": _(
        "Late arrivals cannot be corrected under your group's correction policy (%(day)s %(slot)s)."
    ),
    "early": _(
        "Early leaves cannot be corrected under your group's correction policy (%(day)s %(slot)s)."
    ),
    "missing": _(
        "Missing punches cannot be corrected under your group's correction policy "
        "(%(day)s %(slot)s)."
    ),
    "pending": _("The punch window of %(slot)s on %(day)s is still open: punch instead."),
}

# For a code without a template (a newer policy module than this file): still readable.
FALLBACK_MESSAGE: Promise = _("This request cannot be submitted (%(code)s).")


class _Params(dict[str, Any]):
    """A missing placeholder renders empty rather than breaking the whole message."""

    def __missing__(self, key: str) -> str:
        return ""


def refusal_message(
    refusal: p.Refusal,
    *,
    segments: int = 1,
    category_labels: Mapping[str, str] | None = None,
) -> str:
    """The refusal as one sentence in the active language.

    ``segments`` is the number of segments of the day's shift, so a slot reads
    "Check-in" on a one-segment day and "Check-in 2" on a split shift; ``category_labels``
    maps category codes to the names people see.
    """
    params = _Params(refusal.params)
    params.setdefault("code", refusal.code)
    if params.get("slot"):
        params["slot"] = slot_label(str(params["slot"]), segments)
    if category_labels is not None and params.get("category") in category_labels:
        params["category"] = str(category_labels[params["category"]])
    template = REFUSAL_MESSAGES.get(refusal.code, FALLBACK_MESSAGE)
    if refusal.code == p.NOT_AN_ANOMALY:
        template = NOT_CORRECTABLE_MESSAGES.get(str(refusal.params.get("status")), template)
    try:
        return str(template) % params
    except (TypeError, ValueError):
        # A translation with a broken placeholder must not turn a refusal into a crash.
        return str(template)

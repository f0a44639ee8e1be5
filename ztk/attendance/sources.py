"""Whether every source of a group's punches has reported after a moment.

A day is made final before its grace period (`services.FINALISE_GRACE`) ends once every
source that delivers the group's punches has reported after the day's windows closed:
nothing can still arrive late. The sources live above attendance (the terminals of
`ztk.devices`), so each registers its check here when it starts (`DevicesConfig.ready`),
the way attendance itself registers with `ztk.punches.hooks` and `ztk.scheduling.hooks`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

# (group id, moment) → True: all of this source's senders for the group reported after the
# moment; False: one has not; None: this source has no sender for the group.
ReportedAfter = Callable[[int | None, datetime], bool | None]

_checks: list[ReportedAfter] = []


def register(check: ReportedAfter) -> None:
    if check not in _checks:
        _checks.append(check)


def all_reported_after(group_id: int | None, moment: datetime) -> bool:
    """Some source delivers the group's punches and every one reported after `moment`.

    False when no source knows the group: only the grace period makes its days final.
    """
    answers = [answer for check in _checks if (answer := check(group_id, moment)) is not None]
    return bool(answers) and all(answers)

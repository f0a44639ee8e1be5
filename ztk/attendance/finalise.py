"""Keep recent days materialised, so a person who never punched shows too.

Making past days final once their data is surely in (``finalise_due``) looks at the
terminals' uploads and so lives above devices, in ``ztk.closing.services``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from .services import recompute_range


def refresh_recent(*, now: datetime | None = None, days: int = 2) -> int:
    """Materialise yesterday and today for everyone, so a person who never punched shows too."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    return recompute_range(start=today - timedelta(days=days - 1), end=today, now=now)

"""Small template filters shared by the project's pages."""

from __future__ import annotations

from datetime import timedelta

from django import template

register = template.Library()


@register.filter
def minutes(value: timedelta | None) -> int | str:
    """Whole minutes of a duration (rounded up), e.g. axes' cool-off for the lock-out page."""
    if not isinstance(value, timedelta):
        return ""
    seconds = int(value.total_seconds())
    return -(-seconds // 60)

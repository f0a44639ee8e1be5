"""`unread_notifications` for the badge in the app bar.

Lazy: the COUNT runs once, and only when a template actually shows the badge.
"""

from __future__ import annotations

from typing import Any

from django.utils.functional import SimpleLazyObject

from .selectors import unread_count


def unread(request) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"unread_notifications": 0}
    return {"unread_notifications": SimpleLazyObject(lambda: unread_count(user))}

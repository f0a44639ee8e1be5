"""Remembers the language a person signs in with: e-mail and Web Push to them are written
in it (``MessageLanguage``; docs/reminders.md "Channels")."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.utils import translation

from .services import remember_language


@receiver(user_logged_in, dispatch_uid="notifications-message-language")
def on_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if request is None:
        return
    language = translation.get_language_from_request(request)
    if language in {code for code, _name in settings.LANGUAGES}:
        remember_language(user=user, language=language)

"""Django's `createsuperuser`, with the new account and its audit event in one transaction.

Django's command creates the user outside any transaction, which the accounts audit refuses
(ztk.accounts.receivers). The prompts stay Django's; only the final `create_superuser`
call runs inside `transaction.atomic()` — not the prompts, which would hold SQLite's write
lock while someone types.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.management.commands import createsuperuser
from django.db import transaction


class _AtomicCreation:
    """The user model's manager as the command sees it, creating inside a transaction."""

    def __init__(self, manager: Any) -> None:
        self._manager = manager

    def __getattr__(self, name: str) -> Any:
        return getattr(self._manager, name)

    def db_manager(self, using: str | None = None, hints: Any = None) -> _AtomicCreation:
        return _AtomicCreation(self._manager.db_manager(using, hints))

    def create_superuser(self, *args: Any, **kwargs: Any) -> Any:
        with transaction.atomic(using=self._manager.db):
            return self._manager.create_superuser(*args, **kwargs)


class _UserModel:
    """The user model, but with the manager above; everything else passes through."""

    def __init__(self, model: Any) -> None:
        self._model = model
        self._default_manager = _AtomicCreation(model._default_manager)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:  # the command validates a draft user
        return self._model(*args, **kwargs)


class Command(createsuperuser.Command):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.UserModel = _UserModel(self.UserModel)

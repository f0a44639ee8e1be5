"""Django's `changepassword`, with the new password and its audit event in one transaction.

Django's command saves the user outside any transaction, which the accounts audit refuses
(ztk.accounts.receivers). Same prompts and checks; the write goes through the service.
"""

from __future__ import annotations

import getpass

from django.contrib.auth import get_user_model
from django.contrib.auth.management.commands import changepassword
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from ztk.accounts.services import password_change

MAX_TRIES = 3


class Command(changepassword.Command):
    def handle(self, *args, **options) -> str:
        User = get_user_model()  # noqa: N806
        username = options["username"] or getpass.getuser()
        user = (
            User._default_manager.using(options["database"])
            .filter(**{User.USERNAME_FIELD: username})
            .first()
        )
        if user is None:
            raise CommandError(f"user '{username}' does not exist")
        self.stdout.write(f"Changing password for user '{user}'")
        for _attempt in range(MAX_TRIES):
            first = self._get_pass()
            again = self._get_pass("Password (again): ")
            if first != again:
                self.stdout.write("Passwords do not match. Please try again.")
                continue
            try:
                validate_password(again, user)
            except ValidationError as error:
                self.stderr.write("\n".join(error.messages))
                continue
            password_change(user=user, new_password=first)
            return f"Password changed successfully for user '{user}'"
        raise CommandError(f"Aborting password change for user '{user}' after {MAX_TRIES} attempts")

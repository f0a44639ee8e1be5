from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from ztk.accounts.services import api_key_create
from ztk.core.errors import DomainError
from ztk.core.parse import parse_day


class Command(BaseCommand):
    help = "Create an API key for a user and print it once (only its hash is stored)."

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, help="user name that the key acts as")
        parser.add_argument("--name", default="", help="a label, e.g. the calling system")
        parser.add_argument(
            "--expires", default="", help="last day the key works, YYYY-MM-DD (default: never)"
        )

    def handle(self, *args, user, name, expires, **options):
        expires_on = parse_day(expires) if expires else None
        if expires and expires_on is None:
            raise CommandError(f"--expires {expires!r} is not a date (YYYY-MM-DD)")
        owner = get_user_model().objects.filter(username=user).first()
        if owner is None:
            raise CommandError(f"no user named {user!r}")
        try:
            with transaction.atomic():
                key, raw = api_key_create(actor=None, user=owner, name=name, expires_on=expires_on)
        except DomainError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(raw)
        self.stderr.write(
            f"key {key.prefix}… for {user}; store it now, it will not be shown again."
        )

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from ztk.accounts.services import api_key_create
from ztk.core.errors import DomainError


class Command(BaseCommand):
    help = "Create an API key for a user and print it once (only its hash is stored)."

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, help="user name that the key acts as")
        parser.add_argument("--name", default="", help="a label, e.g. the calling system")

    def handle(self, *args, user, name, **options):
        owner = get_user_model().objects.filter(username=user).first()
        if owner is None:
            raise CommandError(f"no user named {user!r}")
        try:
            with transaction.atomic():
                key, raw = api_key_create(actor=None, user=owner, name=name)
        except DomainError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(raw)
        self.stderr.write(
            f"key {key.prefix}… for {user}; store it now, it will not be shown again."
        )

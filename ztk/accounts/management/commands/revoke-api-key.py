from django.core.management.base import BaseCommand, CommandError

from ztk.accounts.models import ApiKey, hash_key
from ztk.accounts.services import api_key_revoke


class Command(BaseCommand):
    help = "Revoke an API key, given the key itself or its printed prefix."

    def add_arguments(self, parser):
        parser.add_argument("key", help="the raw key, or its prefix (first 12 characters)")

    def handle(self, *args, key, **options):
        matches = list(ApiKey.objects.filter(key_hash=hash_key(key))) or list(
            ApiKey.objects.filter(prefix=key[:12])
        )
        if not matches:
            raise CommandError("no such key")
        if len(matches) > 1:
            raise CommandError("that prefix matches several keys; give the whole key")
        api_key_revoke(actor=None, key=matches[0])
        self.stdout.write(f"revoked {matches[0].prefix}…")

import sys

from django.core.management.base import BaseCommand

from ztk.audit.models import AuditEvent
from ztk.audit.selectors import audit_verify


class Command(BaseCommand):
    help = "Walk the audit hash chain; exit 1 naming the first broken sequence number."

    def handle(self, *args, **options):
        result = audit_verify()
        if result.ok:
            self.stdout.write(f"OK: {result.checked} audit events verified, chain intact.")
            # The newest link, to keep outside the database (docs/architecture.md, "The
            # audit chain"): a later rewrite before it no longer verifies against it.
            last = AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first()
            if last is not None:
                self.stdout.write(f"head: seq {last[0]} hash {last[1]}")
            return
        self.stderr.write(
            f"BROKEN at sequence {result.first_broken_seq}: {result.reason} "
            f"({result.checked} events verified before it)."
        )
        sys.exit(1)

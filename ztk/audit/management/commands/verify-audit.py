import re
import sys

from django.core.management.base import BaseCommand, CommandError

from ztk.audit.models import AuditEvent
from ztk.audit.selectors import audit_head_mismatch, audit_verify

HEAD = re.compile(r"([1-9][0-9]{0,17}):([0-9a-fA-F]{64})")


def exported_head(value: str) -> tuple[int, str]:
    match = HEAD.fullmatch(value.strip())
    if match is None:
        raise CommandError(
            f"--expect-head {value!r}: expected SEQ:HASH, the sequence number and the 64 hex "
            "digits of an exported head (the `head: seq S hash H` line of an earlier run)."
        )
    return int(match[1]), match[2].lower()


class Command(BaseCommand):
    help = (
        "Walk the audit hash chain; exit 1 naming the first broken sequence number, or an "
        "exported head (--expect-head SEQ:HASH) that no longer appears in the chain."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--expect-head",
            action="append",
            default=[],
            metavar="SEQ:HASH",
            help="a head exported earlier; exit 1 unless that event still has that hash "
            "(repeat for several)",
        )

    def handle(self, *args, expect_head=(), **options):
        heads = [exported_head(value) for value in expect_head]
        result = audit_verify()
        if not result.ok:
            self.stderr.write(
                f"BROKEN at sequence {result.first_broken_seq}: {result.reason} "
                f"({result.checked} events verified before it)."
            )
            sys.exit(1)
        self.stdout.write(f"OK: {result.checked} audit events verified, chain intact.")
        # The newest link, to keep outside the database (docs/architecture.md, "The
        # audit chain"): a later rewrite before it no longer verifies against it.
        last = AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first()
        if last is not None:
            self.stdout.write(
                f"head: seq {last[0]} hash {last[1]}  "
                f"(check it later: --expect-head {last[0]}:{last[1]})"
            )
        failed = False
        for seq, digest in heads:
            reason = audit_head_mismatch(seq, digest)
            if reason:
                self.stderr.write(f"HEAD NOT FOUND: exported head {seq}:{digest}: {reason}.")
                failed = True
            else:
                self.stdout.write(f"OK: exported head {seq}:{digest} is in the chain.")
        if failed:
            sys.exit(1)

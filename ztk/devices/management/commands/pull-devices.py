from django.core.management.base import BaseCommand

from ztk.devices.pull import pull_all


class Command(BaseCommand):
    help = (
        "Pull punches over TCP/UDP 4370 (pyzk) from every terminal set up for pulling, "
        "or from the given serial numbers. Incremental from each terminal's watermark."
    )

    def add_arguments(self, parser):
        parser.add_argument("serials", nargs="*", help="only these terminals")

    def handle(self, *args, serials: list[str], **options):
        results = pull_all(serials=serials or None)
        if not results:
            self.stdout.write("no terminal is set up for pulling")
        failed = 0
        for result in results:
            for refusal in result.outcome.refused:
                self.stdout.write(
                    f"{result.serial} record {refusal.line_no}: refused: "
                    f"{refusal.code}: {refusal.message}"
                )
            self.stdout.write(result.summary())
            failed += not result.ok
        if failed:
            self.stderr.write(f"{failed} terminal(s) failed")

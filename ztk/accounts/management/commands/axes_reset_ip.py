"""django-axes' `axes_reset_ip`, through the audited unlock (one event per account)."""

from axes.management.commands import axes_reset_ip

from ztk.accounts.services import attempts_reset


class Command(axes_reset_ip.Command):
    def handle(self, *args, **options):
        count = sum(attempts_reset(actor=None, ip=ip) for ip in options["ip"])
        self.stdout.write(f"{count} attempts removed." if count else "No attempts found.")

"""django-axes' `axes_reset_ip_username`, through the audited unlock."""

from axes.management.commands import axes_reset_ip_username

from ztk.accounts.services import attempts_reset


class Command(axes_reset_ip_username.Command):
    def handle(self, *args, **options):
        count = attempts_reset(actor=None, ip=options["ip"], username=options["username"])
        self.stdout.write(f"{count} attempts removed." if count else "No attempts found.")

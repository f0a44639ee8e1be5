"""django-axes' `axes_reset_username`, through the audited unlock (one event per account)."""

from axes.management.commands import axes_reset_username

from ztk.accounts.services import attempts_reset


class Command(axes_reset_username.Command):
    def handle(self, *args, **options):
        count = sum(attempts_reset(actor=None, username=name) for name in options["username"])
        self.stdout.write(f"{count} attempts removed." if count else "No attempts found.")

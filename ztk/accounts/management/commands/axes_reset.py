"""django-axes' `axes_reset`, through the audited unlock (one event per account)."""

from axes.management.commands import axes_reset

from ztk.accounts.services import attempts_reset


class Command(axes_reset.Command):
    def handle(self, *args, **options):
        count = attempts_reset(actor=None)
        self.stdout.write(f"{count} attempts removed." if count else "No attempts found.")

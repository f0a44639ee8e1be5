from django.core.management.base import BaseCommand

from ztk.attendance.finalise import finalise_due, refresh_recent


class Command(BaseCommand):
    help = "Materialise recent days and finalise the past days that are due (also run by Huey)."

    def handle(self, *args, **options):
        refreshed = refresh_recent()
        finalised = finalise_due()
        self.stdout.write(f"refreshed {refreshed} days, finalised {finalised}")

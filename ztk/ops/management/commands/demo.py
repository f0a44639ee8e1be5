"""`ztk demo`: the demo company and its attendance. It lives in ops (the top layer) because it
loads data into every app: org's company and people, then attendance's punches and days."""

from django.core.management.base import BaseCommand, CommandError

from ztk.attendance.demo import load_attendance_demo
from ztk.core.errors import DomainError
from ztk.ops.demo import load_demo_corrections, load_demo_terminal
from ztk.org.demo import DESCRIPTIONS, credentials_path, load_demo
from ztk.org.models import Employee
from ztk.oversight.demo import load_oversight_demo
from ztk.punches.demo import load_geofence_demo


class Command(BaseCommand):
    help = (
        "Load the demo company (示例科技有限公司) into an empty database and print the demo "
        "logins; running it twice changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="skip quietly (exit 0) when the database already has employees",
        )

    def handle(self, *args, if_empty=False, **options):
        if if_empty and Employee.objects.exists():
            self.stdout.write("demo skipped: the database already has employees.")
            return
        try:
            passwords = load_demo()
        except DomainError as exc:
            raise CommandError(exc.message) from None
        if passwords is None:
            self.stdout.write("demo data already present; nothing changed.")
            return
        fence = load_geofence_demo()
        self.stdout.write(
            f"demo punch area: {fence.name}, {fence.radius_m} m around "
            f"{fence.latitude}, {fence.longitude} (group STD)"
        )
        punches = load_attendance_demo()
        self.stdout.write(f"demo attendance: {punches} punches since 1 October, days computed")
        oversight = load_oversight_demo()
        self.stdout.write(f"demo oversight: {oversight}")
        load_demo_terminal()
        filed = load_demo_corrections()
        self.stdout.write(
            f"demo terminal approved; {filed} corrections filed (employee's October: every status)"
        )
        self.stdout.write(f"demo loaded; logins written to {credentials_path()} (mode 600)")
        if options["verbosity"] < 1:  # `make run` prints the file itself
            return
        for login, password in passwords.items():
            self.stdout.write(f"  {login:10} {password:16} {DESCRIPTIONS.get(login, '')}")

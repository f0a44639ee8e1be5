"""`ztk demo-scale --employees N`: the demo company scaled up for the morning-rush load run."""

from django.core.management.base import BaseCommand, CommandError

from ztk.core.errors import DomainError
from ztk.ops.scale import load_scaled_company


class Command(BaseCommand):
    help = (
        "Add N people (departments of 50, heads approving), their punches of the last "
        "working days and a pending correction for one in twenty to the demo company "
        "(run `ztk demo` first). For load runs; everyone shares the given password."
    )

    def add_arguments(self, parser):
        parser.add_argument("--employees", type=int, default=10_000)
        parser.add_argument("--days", type=int, default=10, help="working days of punches")
        parser.add_argument("--password", required=True, help="the one password of everyone")

    def handle(self, *args, employees, days, password, **options):
        try:
            company = load_scaled_company(employees=employees, days=days, password=password)
        except DomainError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(
            f"scaled: {company.employees} people in {company.departments} departments, "
            f"{company.punches} punches over {company.days} working days, "
            f"{company.pending_requests} pending corrections; logins p00000… "
            f"(heads: {', '.join(company.heads[:3])}…)"
        )

from django.core.management.base import BaseCommand

from ztk.org.demo import credentials_path, load_demo
from ztk.org.models import Employee


class Command(BaseCommand):
    help = "Load the demo company (示例科技有限公司); running it twice changes nothing."

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty", action="store_true", help="only when the database has no employees"
        )

    def handle(self, *args, if_empty=False, **options):
        if if_empty and Employee.objects.exists():
            return
        passwords = load_demo()
        if passwords is None:
            self.stdout.write("demo data already present; nothing changed.")
            return
        self.stdout.write(f"demo loaded; logins written to {credentials_path()}:")
        for login, password in passwords.items():
            self.stdout.write(f"  {login:10} {password}")

"""`flush`, extended: lifts the append-only guards around the purge (tests only)."""

import os

from django.conf import settings
from django.core.management.base import CommandError
from django.core.management.commands.flush import Command as DjangoFlush
from django.db import connections

from ztk.core.db import APPEND_ONLY_TABLES, append_only_drop_sql, append_only_install_sql, run_sql


class Command(DjangoFlush):
    def handle(self, **options):
        if not (settings.TESTING or os.environ.get("ZTK_ALLOW_FLUSH") == "1"):
            raise CommandError(
                "flush would erase the tamper-evident audit log; set ZTK_ALLOW_FLUSH=1 to confirm."
            )
        connection = connections[options["database"]]
        tables = set(connection.introspection.table_names())
        guarded = [t for t in APPEND_ONLY_TABLES if t in tables]
        for table in guarded:
            run_sql(connection, append_only_drop_sql(connection.vendor, table))
        try:
            return super().handle(**options)
        finally:
            for table in guarded:
                run_sql(connection, append_only_install_sql(connection.vendor, table))

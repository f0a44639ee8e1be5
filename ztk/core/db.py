"""Database-level guards shared by the append-only tables (audit log, punches)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.db import connection, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

# Tables whose rows may never be updated or deleted once written. `flush` (tests only)
# lifts the guard for the duration of the purge and puts it back.
APPEND_ONLY_TABLES: list[str] = []


def register_append_only(table: str) -> None:
    if table not in APPEND_ONLY_TABLES:
        APPEND_ONLY_TABLES.append(table)


def append_only_install_sql(vendor: str, table: str) -> list[str]:
    message = f"{table} is append-only: rows cannot be updated or deleted"
    if vendor == "sqlite":
        return [
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{message}'); END;",
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{message}'); END;",
        ]
    if vendor == "postgresql":
        return [
            "CREATE OR REPLACE FUNCTION ztk_refuse_change() RETURNS trigger AS $$ "
            "BEGIN RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP "
            "USING ERRCODE = 'insufficient_privilege'; END; $$ LANGUAGE plpgsql;",
            f"DROP TRIGGER IF EXISTS {table}_no_change ON {table};",
            f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION ztk_refuse_change();",
            f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};",
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION ztk_refuse_change();",
        ]
    raise NotImplementedError(f"append-only guard not written for {vendor}")


def append_only_drop_sql(vendor: str, table: str) -> list[str]:
    if vendor == "sqlite":
        return [
            f"DROP TRIGGER IF EXISTS {table}_no_update;",
            f"DROP TRIGGER IF EXISTS {table}_no_delete;",
        ]
    if vendor == "postgresql":
        return [
            f"DROP TRIGGER IF EXISTS {table}_no_change ON {table};",
            f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};",
        ]
    raise NotImplementedError(vendor)


def run_sql(connection: BaseDatabaseWrapper, statements: list[str]) -> None:
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def append_only_migration(table: str):
    """A RunPython operation that installs (and on reverse removes) the guard for `table`."""
    from django.db import migrations

    def forwards(apps, schema_editor):
        conn = schema_editor.connection
        run_sql(conn, append_only_install_sql(conn.vendor, table))

    def backwards(apps, schema_editor):
        conn = schema_editor.connection
        run_sql(conn, append_only_drop_sql(conn.vendor, table))

    return migrations.RunPython(forwards, backwards, elidable=False)


def fetch_all(sql: str, params: list) -> list[tuple]:
    """Run one statement written with ``%s`` placeholders and return its rows.

    For the hot paths that send hundreds of parameters: on SQLite the statement goes to
    the driver with ``?`` placeholders directly (Django's cursor rewrites them with a
    regular expression on every call, which cost more than SQLite running the statement).
    The statement must hold no literal ``%``. It runs on the connection and in the
    transaction of the ORM, but is not listed in ``connection.queries``.
    """
    from django.db import connection

    if connection.vendor == "sqlite":
        connection.ensure_connection()
        return connection.connection.execute(sql.replace("%s", "?"), params).fetchall()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def in_clause(column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
    """``column IN (%s, …)`` over ``values``, with its parameters.

    PostgreSQL: ``column = ANY(%s)`` with the values as one array parameter — psycopg
    otherwise scans the statement for each of hundreds of ``%s`` on every call, which cost
    more than the server running it. SQLite keeps the IN list (at most 999 parameters a
    statement: callers split longer lists).
    """
    from django.db import connection

    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s)", [list(values)]
    return f"{column} IN ({', '.join(['%s'] * len(values))})", list(values)


@contextmanager
def without_jit() -> Iterator[None]:
    """PostgreSQL: no JIT compilation for the queries run inside (one transaction; ``SET
    LOCAL`` ends with it). A set-based read with a correlated subquery per row is costed
    high, so PostgreSQL compiles it first — in bench (h) 1.4 s of compiling for 0.4 s of
    running (docs/analytics.md). Other databases: nothing."""
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")
        yield

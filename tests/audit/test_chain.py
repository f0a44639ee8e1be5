import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.db.utils import DatabaseError

from ztk.audit.models import AuditEvent
from ztk.audit.selectors import audit_verify
from ztk.audit.services import record
from ztk.core.db import append_only_drop_sql, append_only_install_sql, run_sql

pytestmark = pytest.mark.django_db


def write_events(n: int) -> None:
    for i in range(n):
        with transaction.atomic():
            record("test.event", object_type="thing", object_id=i, after={"i": i, "名": "张三"})


def without_guard(statement: str, params=()) -> None:
    """Tamper the way an attacker with database access would: lift the trigger first."""
    table = AuditEvent._meta.db_table
    run_sql(connection, append_only_drop_sql(connection.vendor, table))
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
    run_sql(connection, append_only_install_sql(connection.vendor, table))


def test_untouched_chain_verifies():
    # The migration already logged the role groups' permissions (ztk.accounts.receivers).
    before = AuditEvent.objects.count()
    write_events(5)
    result = audit_verify()
    assert result.ok and result.checked == before + 5


@pytest.mark.django_db(transaction=True)
def test_record_refuses_to_run_outside_a_transaction():
    with pytest.raises(RuntimeError):
        record("test.event")


def test_update_is_refused_by_the_database():
    write_events(1)
    with pytest.raises((DatabaseError, IntegrityError)), transaction.atomic():
        AuditEvent.objects.update(action="forged")


def test_delete_is_refused_by_the_database():
    write_events(1)
    with pytest.raises((DatabaseError, IntegrityError)), transaction.atomic():
        AuditEvent.objects.all().delete()


def test_verify_names_an_edited_event():
    write_events(5)
    without_guard("UPDATE audit_auditevent SET action = 'forged' WHERE seq = 3")
    result = audit_verify()
    assert not result.ok and result.first_broken_seq == 3


def test_verify_names_a_deleted_event():
    write_events(5)
    without_guard("DELETE FROM audit_auditevent WHERE seq = 2")
    result = audit_verify()
    assert not result.ok and result.first_broken_seq == 2


def test_verify_notices_the_newest_events_removed():
    write_events(4)
    newest = AuditEvent.objects.order_by("seq").last().seq
    without_guard(f"DELETE FROM audit_auditevent WHERE seq = {newest}")
    result = audit_verify()
    assert not result.ok and result.first_broken_seq == newest


def test_command_exits_non_zero_and_names_the_sequence(capsys):
    write_events(3)
    call_command("verify-audit")
    out = capsys.readouterr().out
    newest = AuditEvent.objects.order_by("seq").last()
    assert f"{newest.seq} audit events verified" in out
    assert f"head: seq {newest.seq} hash {newest.hash}" in out  # to keep outside the database
    without_guard("UPDATE audit_auditevent SET changes = '{}' WHERE seq = 2")
    with pytest.raises(SystemExit) as exit_info:
        call_command("verify-audit")
    assert exit_info.value.code == 1
    assert "sequence 2" in capsys.readouterr().err

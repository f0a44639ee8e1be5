"""`ztk verify-audit --expect-head SEQ:HASH`: an exported head still appears in the chain.

A database superuser can rewrite an event and re-hash everything after it: the chain then
verifies on its own. Only a head kept outside the database notices (issue 10, item 16).
"""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.audit.test_chain import without_guard, write_events
from ztk.audit.chain import event_hash
from ztk.audit.models import AuditChainHead, AuditEvent

pytestmark = pytest.mark.django_db


def _exported(capsys) -> str:
    """The head as an operator copies it from a successful run."""
    call_command("verify-audit")
    out = capsys.readouterr().out
    return out.split("--expect-head ", 1)[1].split(")", 1)[0]


def _rewrite_from(seq: int) -> None:
    """Edit event ``seq`` and re-hash it and every later event, and the head row."""
    rows = list(AuditEvent.objects.order_by("seq"))
    prev = rows[seq - 2].hash if seq > 1 else "0" * 64
    for event in rows[seq - 1 :]:
        if event.seq == seq:
            event.action = "forged"
        digest = event_hash(
            prev_hash=prev,
            seq=event.seq,
            at=event.at,
            actor_id=event.actor_id,
            actor_label=event.actor_label,
            ip=event.ip,
            user_agent=event.user_agent,
            action=event.action,
            object_type=event.object_type,
            object_id=event.object_id,
            changes=event.changes,
        )
        without_guard(
            "UPDATE audit_auditevent SET action = %s, prev_hash = %s, hash = %s WHERE seq = %s",
            (event.action, prev, digest, event.seq),
        )
        prev = digest
    AuditChainHead.objects.filter(id=1).update(hash=prev)


def test_an_exported_head_that_is_still_in_the_chain_passes(capsys):
    write_events(3)
    head = _exported(capsys)
    write_events(2)  # the chain went on since the export
    call_command("verify-audit", expect_head=[head])
    assert f"exported head {head} is in the chain" in capsys.readouterr().out


def test_a_rewrite_before_the_exported_head_is_found_though_the_chain_verifies(capsys):
    # Migrations already wrote events (the role sync is audited): count from them on.
    before = AuditEvent.objects.count()
    write_events(4)
    head = _exported(capsys)
    _rewrite_from(before + 2)
    call_command("verify-audit")  # re-hashed: the chain alone sees nothing
    assert f"{before + 4} audit events verified" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_info:
        call_command("verify-audit", expect_head=[head])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert f"exported head {head}" in err and f"rewritten at or before event {before + 4}" in err


def test_an_exported_head_beyond_the_chain_is_reported(capsys):
    before = AuditEvent.objects.count()
    write_events(2)
    head = _exported(capsys)
    digest = head.split(":")[1]
    with pytest.raises(SystemExit) as exit_info:
        call_command("verify-audit", expect_head=[f"{before + 9}:{digest}"])
    assert exit_info.value.code == 1
    assert f"has no event {before + 9}; it ends at event {before + 2}" in capsys.readouterr().err


@pytest.mark.parametrize(
    "value",
    ["12", "12:abc", "0:" + "a" * 64, "x:" + "a" * 64, "1:" + "g" * 64, "9" * 19 + ":" + "a" * 64],
)
def test_a_malformed_head_is_refused_with_the_expected_form(value):
    with pytest.raises(CommandError, match="expected SEQ:HASH"):
        call_command("verify-audit", expect_head=[value])


def test_the_head_is_read_case_insensitively(capsys):
    write_events(1)
    head = _exported(capsys)
    call_command("verify-audit", expect_head=[head.upper()])  # no SystemExit
    assert "is in the chain" in capsys.readouterr().out

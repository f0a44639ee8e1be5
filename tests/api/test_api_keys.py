"""API keys: shown once, stored as a hash, refused once revoked (service and command)."""

from __future__ import annotations

import hashlib
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from ztk.accounts.models import ApiKey
from ztk.accounts.services import api_key_create, api_key_revoke
from ztk.api import errors
from ztk.audit.models import AuditEvent

from .conftest import call


def test_create_api_key_prints_the_key_once_and_stores_only_its_hash(client, org):
    # given
    out, err = StringIO(), StringIO()

    # when
    call_command("create-api-key", "--user", "hr", "--name", "payroll", stdout=out, stderr=err)

    # then the key is printed once, on stdout only
    raw = out.getvalue().strip()
    assert raw.startswith("ztk_") and len(raw) > 40
    assert out.getvalue().count(raw) == 1
    assert raw not in err.getvalue()
    # and only its hash and a short prefix are stored
    key = ApiKey.objects.get(name="payroll")
    assert key.user == org.hr.user
    assert key.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert key.prefix == raw[:12]
    stored = [str(getattr(key, f.attname)) for f in ApiKey._meta.concrete_fields]
    assert not any(raw in value for value in stored)
    # and the audit log knows about the key but not the key itself
    event = AuditEvent.objects.get(action="accounts.api_key.create")
    assert raw not in str(event.changes)
    # and the key works
    assert call(client, "GET", "/api/v1/me", key=raw).status == 200


def test_create_api_key_for_an_unknown_user_fails(db):
    with pytest.raises(CommandError):
        call_command("create-api-key", "--user", "nobody", stdout=StringIO(), stderr=StringIO())


def test_a_key_revoked_through_the_service_is_refused(client, org):
    # given a working key
    key, raw = api_key_create(actor=None, user=org.hr.user)
    assert call(client, "GET", "/api/v1/employees", key=raw).status == 200

    # when HR revokes it
    api_key_revoke(actor=org.hr.user, key=key)

    # then it is refused like an unknown key
    reply = call(client, "GET", "/api/v1/employees", key=raw)
    assert reply.status == 401
    assert reply.body["code"] == errors.INVALID_API_KEY
    assert AuditEvent.objects.filter(action="accounts.api_key.revoke").count() == 1


def test_a_key_revoked_with_the_command_by_prefix_is_refused(client, org):
    # given
    key, raw = api_key_create(actor=None, user=org.hr.user)
    assert call(client, "GET", "/api/v1/me", key=raw).status == 200

    # when
    out = StringIO()
    call_command("revoke-api-key", key.prefix, stdout=out)

    # then
    assert key.prefix in out.getvalue()
    key.refresh_from_db()
    assert key.revoked_at is not None
    reply = call(client, "GET", "/api/v1/me", key=raw)
    assert reply.status == 401
    assert reply.body["code"] == errors.INVALID_API_KEY


def test_revoking_an_unknown_key_fails(db):
    with pytest.raises(CommandError):
        call_command("revoke-api-key", "ztk_nothing", stdout=StringIO())


def test_a_key_acts_as_its_user_only(client, org):
    _key, raw = api_key_create(actor=None, user=org.employee.user)

    assert call(client, "GET", "/api/v1/me", key=raw).body["employee_no"] == "1002"
    assert call(client, "GET", "/api/v1/employees", key=raw).status == 403

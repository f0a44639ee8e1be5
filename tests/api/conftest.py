"""API test helpers: one API key per role of the small org, and a JSON call helper."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from ztk.accounts.services import api_key_create, api_key_revoke

# Every caller the authorization matrix knows. "revoked" is HR's key after revocation.
ROLES = (
    "anonymous",
    "employee",
    "supervisor",
    "department_head",
    "hr",
    "sysadmin",
    "auditor",
    "revoked",
)


@dataclass
class Reply:
    status: int
    body: Any
    headers: Any


def call(
    client: Client,
    method: str,
    path: str,
    *,
    key: str | None = None,
    body: Any = None,
    lang: str = "en",
    headers: dict[str, str] | None = None,
) -> Reply:
    """One JSON request; `body` is sent as JSON (a str is sent as is)."""
    sent = {"Accept-Language": lang, **(headers or {})}
    if key:
        sent["Authorization"] = f"Bearer {key}"
    data = body if isinstance(body, str) else ("" if body is None else json.dumps(body))
    response = client.generic(method, path, data, content_type="application/json", headers=sent)
    content_type = response.get("Content-Type", "")
    parsed = json.loads(response.content) if "json" in content_type else response.content
    return Reply(response.status_code, parsed, response)


@pytest.fixture
def keys(org) -> dict[str, str | None]:
    """Raw API keys by role (None for anonymous)."""
    users = {
        "employee": org.employee.user,
        "supervisor": org.supervisor.user,
        "department_head": org.head.user,
        "hr": org.hr.user,
        "sysadmin": org.sysadmin,
        "auditor": org.auditor.user,
    }
    raw = {
        role: api_key_create(actor=None, user=user, name=role)[1] for role, user in users.items()
    }
    revoked, raw["revoked"] = api_key_create(actor=None, user=org.hr.user, name="old")
    api_key_revoke(actor=None, key=revoked)
    raw["anonymous"] = None
    return raw


@pytest.fixture
def hr_key(keys) -> str:
    return keys["hr"]


def pytest_collection_modifyitems(items):
    """Operations of the fuzz run with a known, reported bug are xfail (not strict)."""
    for item in items:
        known = getattr(getattr(item, "module", None), "FUZZ_KNOWN_FAILURES", {})
        label = getattr(item, "operation_label", None)
        if label in known:
            item.add_marker(pytest.mark.xfail(reason=known[label], strict=False))

"""The absences and balances API: refusals are 422 with their stable codes."""

from __future__ import annotations

import pytest

from tests.api.conftest import call

from .conftest import MON, TUE, grant

pytestmark = pytest.mark.django_db
A = "/api/v1/absences"


def test_submit_approve_and_balance_over_the_api(client, keys, week):
    org = week
    grant(org.employee, "1")
    reply = call(client, "POST", A, key=keys["employee"],
                 body={"kind": "leave", "type": "annual", "start_date": MON.isoformat(),
                       "end_date": TUE.isoformat()})  # fmt: skip
    assert reply.status == 422
    assert reply.body["code"] == "insufficient_balance"
    assert reply.body["details"]["balance"] == "1.00"
    reply = call(client, "POST", A, key=keys["employee"],
                 body={"kind": "leave", "type": "annual", "start_date": MON.isoformat(),
                       "start_part": "pm"})  # fmt: skip
    assert reply.status == 201, reply.body
    pk = reply.body["id"]
    assert reply.body["amount"] == "0.50" or float(reply.body["amount"]) == 0.5
    body = {"kind": "leave", "type": "annual", "start_date": MON.isoformat()}
    again = call(client, "POST", A, key=keys["employee"], body=body)
    assert (again.status, again.body["code"]) == (422, "overlaps_existing")
    queue = call(client, "GET", f"{A}?scope=to_approve", key=keys["supervisor"])
    assert [r["id"] for r in queue.body["items"]] == [pk]
    assert call(client, "POST", f"{A}/{pk}/approve", key=keys["supervisor"], body={}).status == 200
    assert call(client, "POST", f"{A}/{pk}/approve", key=keys["hr"], body={}).status == 200
    balances = call(client, "GET", "/api/v1/balances?employee=1002", key=keys["supervisor"])
    annual = next(b for b in balances.body["balances"] if b["type"] == "annual")
    assert float(annual["balance"]) == 0.5
    assert [e["kind"] for e in annual["ledger"]] == ["grant", "deduction"]

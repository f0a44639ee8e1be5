"""One approver's queue, one order: the inbox page and the API list the same requests in
the same order (overdue first, then expedited, then the longest waiting).

Before the approvals home the API ordered its queue expedited-first by submission time,
while the page put overdue steps first: the same approver saw two different queues.
"""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse

from ztk.corrections.models import CorrectionRequest
from ztk.corrections.selectors import approval_queue

from .conftest import MON, NOW, TUE, item, only_checkout, submit
from .test_api import bearer
from .test_pages import find_all, page


def test_the_api_and_the_inbox_page_list_the_same_queue_in_the_same_order(client, week):
    org = week
    only_checkout(org.employee, MON, TUE)
    only_checkout(org.colleague, MON, TUE)
    (old,) = submit(org.employee.user, org.employee)  # overdue: waiting a week
    (urgent,) = submit(
        org.employee.user, org.employee, item(TUE, expedited=True, justification="月底算工资")
    )
    (plain,) = submit(org.colleague.user, org.colleague)  # waiting 2 hours
    (longest,) = submit(org.colleague.user, org.colleague, item(TUE))  # filed last, waiting 3 h
    steps = CorrectionRequest.objects.filter
    steps(pk=old.pk).update(step_started_at=NOW - timedelta(days=7))
    steps(pk=plain.pk).update(step_started_at=NOW - timedelta(hours=2))
    steps(pk=longest.pk).update(step_started_at=NOW - timedelta(hours=3))
    expected = [old.pk, urgent.pk, longest.pk, plain.pk]

    response = client.get("/api/v1/corrections?scope=to_approve", **bearer(org.supervisor.user))
    assert response.status_code == 200
    api = [r["id"] for r in response.json()]

    client.force_login(org.supervisor.user)
    html = page(client.get(reverse("requests:inbox"), HTTP_ACCEPT_LANGUAGE="en"))
    web = [int(c.attrs["data-request"]) for c in find_all(html, "li", data_request=None)]

    assert api == web == expected
    assert [r.pk for r in approval_queue(org.supervisor.user)] == expected
    paged = client.get(
        "/api/v1/corrections?scope=to_approve&offset=1&limit=2", **bearer(org.supervisor.user)
    )
    assert [r["id"] for r in paged.json()] == expected[1:3]

"""GET /api/v1/notifications and POST /api/v1/notifications/read: the caller's own only."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.utils import timezone

from ztk.accounts.services import api_key_create
from ztk.notifications.models import Notification
from ztk.notifications.services import notify

pytestmark = pytest.mark.django_db

URL = "/api/v1/notifications"


def bearer(user) -> dict:
    _key, raw = api_key_create(actor=None, user=user, name="test")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def give(user, n=1):
    with transaction.atomic():
        return [
            notify(
                kind="correction_approved",
                recipients=[user],
                title=f"t{i}",
                body="b",
                url="/x/",
                data={"i": i},
            )[0]
            for i in range(n)
        ]


def test_needs_authentication(client, org):
    assert client.get(URL).status_code == 401
    assert client.post(f"{URL}/read", {}, content_type="application/json").status_code == 401


def test_lists_own_newest_first(client, org):
    first, second = give(org.employee.user, 2)
    give(org.colleague.user)
    Notification.objects.filter(pk=first.pk).update(read_at=timezone.now())

    body = client.get(URL, **bearer(org.employee.user)).json()

    assert (body["count"], body["unread"], body["next"]) == (2, 1, None)
    assert [n["id"] for n in body["items"]] == [second.pk, first.pk]
    item = body["items"][0]
    assert item["kind"] == "correction_approved"
    assert (item["title"], item["url"], item["data"], item["read_at"]) == (
        "t1",
        "/x/",
        {"i": 1},
        None,
    )

    unread = client.get(URL, {"unread": "true"}, **bearer(org.employee.user)).json()
    assert [n["id"] for n in unread["items"]] == [second.pk]


def test_mark_read_by_ids_ignores_others(client, org):
    mine = give(org.employee.user, 2)
    [theirs] = give(org.colleague.user)

    response = client.post(
        f"{URL}/read",
        {"ids": [mine[0].pk, theirs.pk, 999999]},
        content_type="application/json",
        **bearer(org.employee.user),
    )

    assert response.status_code == 200
    assert response.json() == {"marked": 1, "unread": 1}
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_all_read(client, org):
    give(org.employee.user, 3)
    [theirs] = give(org.colleague.user)
    response = client.post(
        f"{URL}/read", {"all": True}, content_type="application/json", **bearer(org.employee.user)
    )
    assert response.json() == {"marked": 3, "unread": 0}
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_bad_ids_are_a_validation_error(client, org):
    response = client.post(
        f"{URL}/read",
        {"ids": [2**70]},
        content_type="application/json",
        **bearer(org.employee.user),
    )
    assert (response.status_code, response.json()["code"]) == (422, "validation_error")


def test_list_query_count_is_flat(client, org, django_assert_max_num_queries):
    headers = bearer(org.employee.user)
    client.get(URL, **headers)
    give(org.employee.user, 2)
    with django_assert_max_num_queries(20) as few:
        client.get(URL, **headers)
    give(org.employee.user, 30)
    with django_assert_max_num_queries(20) as many:
        client.get(URL, **headers)
    assert len(many.captured_queries) == len(few.captured_queries)

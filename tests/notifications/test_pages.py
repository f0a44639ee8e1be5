"""The inbox page, the unread badge, and the HR page for group robots."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.test import RequestFactory
from django.utils import timezone

from tests.factories import UserFactory
from ztk.audit.models import AuditEvent
from ztk.notifications.context_processors import unread
from ztk.notifications.models import Notification, OutboxMessage, OutboxStatus, RobotWebhook
from ztk.notifications.services import notify

from .conftest import make_robot

pytestmark = pytest.mark.django_db

INBOX = "/notifications/"


def give(user, n=1, *, url="/attendance/", title="通知"):
    with transaction.atomic():
        return [
            notify(kind="missed_punch", recipients=[user], title=f"{title}{i}", body="b", url=url)[
                0
            ]
            for i in range(n)
        ]


# --- badge ------------------------------------------------------------------------------


def test_unread_badge_counts_own_unread_in_one_query(org, django_assert_num_queries):
    mine = give(org.employee.user, 3)
    give(org.colleague.user, 2)
    Notification.objects.filter(pk=mine[0].pk).update(read_at=timezone.now())
    request = RequestFactory().get("/")
    request.user = org.employee.user

    with django_assert_num_queries(0):
        context = unread(request)  # lazy: nothing until a template shows it
    with django_assert_num_queries(1):
        assert context["unread_notifications"] == 2
        assert str(context["unread_notifications"]) == "2"
        assert context["unread_notifications"]


def test_badge_for_anonymous_is_zero_without_a_query(django_assert_num_queries):
    from django.contrib.auth.models import AnonymousUser

    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    with django_assert_num_queries(0):
        assert unread(request) == {"unread_notifications": 0}


# --- inbox ------------------------------------------------------------------------------


def test_inbox_needs_log_in(client):
    response = client.get(INBOX)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_inbox_lists_only_own_notifications(client, org):
    give(org.employee.user, 2, title="mine")
    give(org.colleague.user, 1, title="theirs")
    client.force_login(org.employee.user)

    response = client.get(INBOX)

    assert response.status_code == 200
    html = response.content.decode()
    assert "mine0" in html and "mine1" in html
    assert "theirs" not in html
    assert response.context["unread_total"] == 2
    assert 'name="viewport"' in html  # phone layout from base.html


def test_unread_filter(client, org):
    first, second = give(org.employee.user, 2)
    Notification.objects.filter(pk=first.pk).update(read_at=timezone.now())
    client.force_login(org.employee.user)
    page = client.get(INBOX, {"unread": "1"}).context["page"]
    assert [n.pk for n in page] == [second.pk]


def test_mark_one_read(client, org):
    first, second = give(org.employee.user, 2)
    client.force_login(org.employee.user)

    response = client.post(f"{INBOX}read/", {"id": first.pk, "next": f"{INBOX}?unread=1"})

    assert response.status_code == 302 and response["Location"] == f"{INBOX}?unread=1"
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.read_at is not None and second.read_at is None


def test_mark_read_of_someone_elses_id_does_nothing(client, org):
    [theirs] = give(org.colleague.user)
    client.force_login(org.employee.user)

    response = client.post(f"{INBOX}read/", {"id": [theirs.pk, "junk", "-1", "²"]})

    assert response.status_code == 302
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_all_read_touches_only_own(client, org):
    give(org.employee.user, 3)
    [theirs] = give(org.colleague.user)
    client.force_login(org.employee.user)

    client.post(f"{INBOX}read/", {"all": "1"})

    assert not Notification.objects.filter(recipient=org.employee.user, read_at=None).exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_read_needs_post_and_an_outside_next_is_ignored(client, org):
    [mine] = give(org.employee.user)
    client.force_login(org.employee.user)
    assert client.get(f"{INBOX}read/", {"all": "1"}).status_code == 405
    response = client.post(f"{INBOX}read/", {"id": mine.pk, "next": "https://evil.example/"})
    assert response["Location"] == INBOX


def test_open_marks_read_and_follows_the_link(client, org):
    [mine] = give(org.employee.user, url="/attendance/day/2026-11-26/")
    client.force_login(org.employee.user)

    response = client.get(f"{INBOX}{mine.pk}/open/")

    assert response.status_code == 302
    assert response["Location"] == "/attendance/day/2026-11-26/"
    mine.refresh_from_db()
    assert mine.read_at is not None


def test_open_someone_elses_notification_is_404(client, org):
    [theirs] = give(org.colleague.user)
    client.force_login(org.employee.user)
    assert client.get(f"{INBOX}{theirs.pk}/open/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_open_never_redirects_off_site(client, org):
    [mine] = give(org.employee.user, url="//evil.example/x")
    client.force_login(org.employee.user)
    assert client.get(f"{INBOX}{mine.pk}/open/")["Location"] == INBOX


def test_inbox_query_count_is_flat(client, org, django_assert_max_num_queries):
    client.force_login(org.employee.user)
    give(org.employee.user, 2)
    with django_assert_max_num_queries(30) as few:
        client.get(INBOX)
    give(org.employee.user, 25)
    with django_assert_max_num_queries(30) as many:
        client.get(INBOX)
    assert len(many.captured_queries) == len(few.captured_queries)


def test_empty_inbox(client):
    user = UserFactory(username="nobody")
    client.force_login(user)
    response = client.get(INBOX)
    assert response.status_code == 200
    assert response.context["unread_total"] == 0


# --- group robots (HR) ------------------------------------------------------------------


def test_robot_page_is_for_hr_and_sysadmin(client, org):
    client.force_login(org.employee.user)
    assert client.get(f"{INBOX}robots/").status_code == 403
    assert client.post(f"{INBOX}robots/new/", {}).status_code == 403
    client.force_login(org.hr.user)
    assert client.get(f"{INBOX}robots/").status_code == 200
    client.force_login(org.sysadmin)
    assert client.get(f"{INBOX}robots/").status_code == 200


def test_hr_adds_a_signed_robot_audited_without_its_key(client, org):
    client.force_login(org.hr.user)
    response = client.post(
        f"{INBOX}robots/new/",
        {
            "name": "研发群",
            "department": org.department.pk,
            "platform": "dingtalk",
            "url": "https://oapi.dingtalk.com/robot/send?access_token=abcdef0123456789abcdef",
            "secret": "SECabc123",
            "kinds": ["correction_submitted", "missed_punch"],
            "active": "on",
        },
    )

    assert response.status_code == 302, response.context["form"].errors
    robot = RobotWebhook.objects.get()
    assert (robot.department, robot.secret) == (org.department, "SECabc123")
    assert robot.kinds == ["correction_submitted", "missed_punch"]
    event = AuditEvent.objects.get(action="notifications.robotwebhook.create")
    text = str(event.changes)
    assert "abcdef0123456789abcdef" not in text and "SECabc123" not in text
    assert event.changes["after"]["url"] == "https://oapi.dingtalk.com/robot/send?access_token=…"

    page = client.get(f"{INBOX}robots/").content.decode()
    assert "研发群" in page and "abcdef0123456789abcdef" not in page


def test_editing_keeps_the_secret_unless_cleared(client, org):
    robot = make_robot("https://oapi.dingtalk.com/robot/send?access_token=t", secret="SECold")
    client.force_login(org.hr.user)
    form = {
        "name": "renamed",
        "platform": "dingtalk",
        "url": robot.url,
        "secret": "",
        "active": "on",
    }
    edit = client.get(f"{INBOX}robots/{robot.pk}/").content.decode()
    assert "SECold" not in edit

    assert client.post(f"{INBOX}robots/{robot.pk}/", form).status_code == 302
    robot.refresh_from_db()
    assert (robot.name, robot.secret) == ("renamed", "SECold")

    client.post(f"{INBOX}robots/{robot.pk}/", form | {"clear_secret": "on"})
    robot.refresh_from_db()
    assert robot.secret == ""
    event = (
        AuditEvent.objects.filter(action="notifications.robotwebhook.update").order_by("seq").last()
    )
    assert event.changes["secret_changed"] is True


def test_robot_address_must_be_https(client, org):
    client.force_login(org.hr.user)
    response = client.post(
        f"{INBOX}robots/new/",
        {"name": "x", "platform": "wecom", "url": "http://qyapi.weixin.qq.com/x?key=1"},
    )
    assert response.status_code == 200
    assert "url" in response.context["form"].errors
    assert not RobotWebhook.objects.exists()


def test_test_message_and_retry_from_the_page(
    client, org, robot_server, django_capture_on_commit_callbacks
):
    robot = make_robot(robot_server.url(), platform="wecom")
    client.force_login(org.hr.user)

    robot_server.answer((500, b"down"))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"{INBOX}robots/{robot.pk}/test/")
    message = OutboxMessage.objects.get()
    assert message.status == OutboxStatus.FAILED
    assert "测试消息" in robot_server.received[0].body["text"]["content"]  # company language
    page = client.get(f"{INBOX}robots/").content.decode()
    assert f'id="outbox-{message.pk}"' in page

    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"{INBOX}outbox/retry/", {"id": [message.pk]})
    message.refresh_from_db()
    assert message.status == OutboxStatus.SENT
    assert AuditEvent.objects.filter(action="notifications.outbox.retry").count() == 1


def test_remove_a_robot(client, org):
    robot = make_robot("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k", platform="wecom")
    client.force_login(org.hr.user)
    assert client.post(f"{INBOX}robots/{robot.pk}/delete/").status_code == 302
    assert not RobotWebhook.objects.exists()
    assert AuditEvent.objects.filter(action="notifications.robotwebhook.delete").exists()

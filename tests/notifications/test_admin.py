"""The admin: robots audited with their keys redacted; the outbox read-only with a retry."""

from __future__ import annotations

import pytest

from tests.factories import UserFactory
from ztk.audit.models import AuditEvent
from ztk.notifications.models import OutboxMessage, OutboxStatus, RobotWebhook

from .conftest import make_robot

pytestmark = pytest.mark.django_db

KEY = "feishu0123456789abcdefTOKEN"


@pytest.fixture
def root(client):
    user = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(user)
    return user


@pytest.mark.parametrize("model", ["robotwebhook", "outboxmessage", "notification"])
def test_pages_open(client, root, model):
    assert client.get(f"/admin/notifications/{model}/").status_code == 200


def test_hr_sees_robots_and_outbox_in_the_admin(client, org):
    client.force_login(org.hr.user)
    assert client.get("/admin/notifications/robotwebhook/").status_code == 200
    assert client.get("/admin/notifications/outboxmessage/").status_code == 200


def test_add_robot_in_the_admin_is_audited_without_key_or_secret(client, root):
    response = client.post(
        "/admin/notifications/robotwebhook/add/",
        {
            "name": "全公司",
            "department": "",
            "platform": "feishu",
            "url": f"https://open.feishu.cn/open-apis/bot/v2/hook/{KEY}",
            "secret": "fs-secret",
            "active": "on",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    robot = RobotWebhook.objects.get()
    assert robot.secret == "fs-secret" and robot.department is None
    event = AuditEvent.objects.get(action="notifications.robotwebhook.create")
    assert KEY not in str(event.changes) and "fs-secret" not in str(event.changes)
    assert event.changes["after"]["url"].endswith("/hook/…OKEN")
    assert event.changes["via"] == "admin"

    listing = client.get("/admin/notifications/robotwebhook/").content.decode()
    assert KEY not in listing


def test_wecom_secret_is_dropped(client, root):
    client.post(
        "/admin/notifications/robotwebhook/add/",
        {
            "name": "企业微信",
            "platform": "wecom",
            "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k",
            "secret": "ignored",
            "active": "on",
        },
    )
    assert RobotWebhook.objects.get().secret == ""


def test_retry_action_revives_dead_messages(client, root, robot_server):
    robot = make_robot(robot_server.url())
    dead = OutboxMessage.objects.create(
        channel="dingtalk",
        target=str(robot.pk),
        payload={"text": "hi"},
        status=OutboxStatus.DEAD,
        attempts=8,
        last_error="HTTP 500",
    )
    response = client.post(
        "/admin/notifications/outboxmessage/",
        {"action": "retry_selected", "_selected_action": [dead.pk]},
    )
    assert response.status_code == 302
    dead.refresh_from_db()
    assert (dead.status, dead.attempts) == (OutboxStatus.PENDING, 0)
    assert AuditEvent.objects.filter(action="notifications.outbox.retry").count() == 1


def test_outbox_rows_cannot_be_edited(client, root):
    message = OutboxMessage.objects.create(channel="email", target="a@example.com", payload={})
    page = client.get(f"/admin/notifications/outboxmessage/{message.pk}/change/")
    assert page.status_code == 200
    assert b'name="target"' not in page.content

"""Web Push in a real Chromium at 375 px: the service worker installs, "Enable notifications
on this device" stores the device's subscription, a refusal is explained, and a push the
worker receives is shown as a notification.

Headless Chromium here has no push service to talk to (it would reach Google's FCM), so
``PushManager.subscribe``/``getSubscription`` are stubbed with ``page.add_init_script``:
the stub hands back a subscription with a real P-256 key and auth secret, and records the
options the page passed (userVisibleOnly, the server's 65-byte applicationServerKey).
Everything after it — push.js posting the subscription, the CSRF check, the server
storing it — is real. The push event is delivered to the real worker over the DevTools
protocol (``ServiceWorker.deliverPushMessage``), as a push service would.
"""

from __future__ import annotations

import base64
import os

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests import factories
from tests.browser import launch_chromium, log_in, page_width, screenshots_dir
from ztk.notifications.models import PushSubscription

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 740}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def stub(permission: str | None = None) -> str:
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    p256dh = b64(
        key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )
    auth = b64(os.urandom(16))
    ask = (
        f"Notification.requestPermission = () => Promise.resolve({permission!r});"
        if permission
        else ""
    )
    return f"""
    (() => {{
      if (typeof PushManager === "undefined") return;
      let current = null;
      const json = {{ endpoint: "https://push.example.net/wpush/browser-test",
                      expirationTime: null, keys: {{ p256dh: "{p256dh}", auth: "{auth}" }} }};
      PushManager.prototype.subscribe = function (options) {{
        window.__pushOptions = {{
          userVisibleOnly: options.userVisibleOnly,
          keyLength: new Uint8Array(options.applicationServerKey).length,
        }};
        current = {{ endpoint: json.endpoint, toJSON: () => json,
                     unsubscribe: () => {{ current = null; return Promise.resolve(true); }} }};
        return Promise.resolve(current);
      }};
      PushManager.prototype.getSubscription = function () {{ return Promise.resolve(current); }};
      {ask}
    }})();
    """


@pytest.fixture(scope="module")
def browser():
    yield from launch_chromium()


def test_enabling_notifications_stores_this_devices_subscription(live_server, browser):
    from playwright.sync_api import expect

    factories.small_org()
    base = live_server.url
    context = browser.new_context(viewport=PHONE, locale="zh-CN", device_scale_factor=2)
    context.grant_permissions(["notifications"], origin=base)
    context.add_init_script(stub())
    page = context.new_page()
    page.set_default_timeout(15_000)
    log_in(page, base, "employee")

    page.goto(f"{base}/notifications/")
    page.wait_for_function(
        "() => navigator.serviceWorker.getRegistration().then(r => !!(r && r.active))"
    )
    card = page.locator("#push-card")
    expect(card.locator("[data-push-state]")).to_have_attribute("data-state", "off")
    page.screenshot(path=str(screenshots_dir() / "push-inbox-off-375.png"), full_page=True)

    page.click("#push-on")

    expect(card.locator("[data-push-state]")).to_have_attribute("data-state", "on")
    expect(page.locator("#push-off")).to_be_visible()
    assert page.evaluate("window.__pushOptions") == {"userVisibleOnly": True, "keyLength": 65}
    device = PushSubscription.objects.get()
    assert device.user.username == "employee"
    assert device.endpoint == "https://push.example.net/wpush/browser-test"
    assert device.language == "zh-hans"
    assert page_width(page) <= PHONE["width"]
    page.screenshot(path=str(screenshots_dir() / "push-inbox-on-375.png"), full_page=True)

    # a push reaches the worker, which shows it (DevTools delivers it as a push service would)
    cdp = context.new_cdp_session(page)
    versions: list = []
    cdp.on("ServiceWorker.workerRegistrationUpdated", lambda e: versions.append(e))
    cdp.send("ServiceWorker.enable")
    for _i in range(50):
        if versions:
            break
        page.wait_for_timeout(100)
    registrations = [r for e in versions for r in e["registrations"] if not r["isDeleted"]]
    assert registrations, "DevTools names the worker's registration"
    cdp.send(
        "ServiceWorker.deliverPushMessage",
        {
            "origin": base,
            "registrationId": registrations[0]["registrationId"],
            "data": '{"title":"请在 09:00 前上班打卡","body":"还没有打卡","url":"/"}',
        },
    )
    page.wait_for_function(
        """() => navigator.serviceWorker.getRegistration()
             .then(r => r.getNotifications())
             .then(list => list.some(n => n.title === "请在 09:00 前上班打卡"
                                      && n.body === "还没有打卡" && n.data.url === "/"))"""
    )

    # switching off removes it
    page.click("#push-off")
    expect(card.locator("[data-push-state]")).to_have_attribute("data-state", "off")
    assert not PushSubscription.objects.exists()
    context.close()


def test_a_refused_permission_is_explained(live_server, browser):
    from playwright.sync_api import expect

    factories.small_org()
    base = live_server.url
    context = browser.new_context(viewport=PHONE, locale="zh-CN", device_scale_factor=2)
    context.add_init_script(stub(permission="default"))
    page = context.new_page()
    page.set_default_timeout(15_000)
    log_in(page, base, "employee")
    page.goto(f"{base}/notifications/")

    page.click("#push-on")

    state = page.locator("#push-card [data-push-state]")
    expect(state).to_have_attribute("data-state", "refused")
    expect(state).not_to_be_empty()
    assert not PushSubscription.objects.exists()
    page.screenshot(path=str(screenshots_dir() / "push-inbox-refused-375.png"), full_page=True)
    context.close()


def test_the_channel_settings_and_the_delivery_log_at_375_px(live_server, browser):
    from django.db import transaction

    from ztk.notifications.models import OutboxMessage
    from ztk.notifications.services import notify

    org = factories.small_org()
    org.employee.email = "zhangsan@example.com"
    org.employee.save()
    PushSubscription.objects.create(
        user=org.employee.user,
        endpoint="https://push.example.net/wpush/shot",
        p256dh="B" + "A" * 86,
        auth="A" * 22,
        user_agent="Mozilla/5.0 (Linux; Android 14; Pixel 8) Chrome/131 Mobile",
    )
    with transaction.atomic():
        notify(
            kind="punch_reminder",
            recipients=[org.employee.user],
            title="请在 09:00 前上班打卡",
            body="",
        )
    OutboxMessage.objects.filter(channel="webpush").update(
        status="dead",
        attempts=1,
        last_error="HTTP 410: the device's subscription is gone and was removed",
    )
    OutboxMessage.objects.filter(channel="email").update(status="sent", attempts=1)
    base = live_server.url
    context = browser.new_context(viewport=PHONE, locale="zh-CN", device_scale_factor=2)
    page = context.new_page()
    page.set_default_timeout(15_000)
    log_in(page, base, "hr")
    page.goto(f"{base}/settings/reminders/{org.group.code}/#channels")
    assert page.locator("input[name='ch.punch_reminder.webpush']").is_checked()
    page.locator("#channels").screenshot(path=str(screenshots_dir() / "channels-375.png"))
    assert page_width(page) <= PHONE["width"]
    page.goto(f"{base}/notifications/deliveries/")
    assert page.locator("#deliveries li").count() == 2
    assert page_width(page) <= PHONE["width"]
    page.screenshot(path=str(screenshots_dir() / "deliveries-375.png"), full_page=True)
    context.close()

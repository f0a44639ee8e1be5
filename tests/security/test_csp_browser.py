"""A real Chromium walks the pages under the Content-Security-Policy: nothing is refused.

A policy that blocks something fails silently for the user (a button that does nothing, a
widget without its script). Chromium reports every refusal as a `securitypolicyviolation`
event and a console error; this walk collects both on the product's pages, the settings
area (Django admin widgets), the API docs (Swagger UI) and the second-factor set-up (a
data: QR code), clicks the scripted controls, and keeps screenshots in /tmp/ztk-csp-*.png.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from tests import factories
from tests.browser import launch_chromium
from tests.factories import add_to_group

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # the test's own ORM calls, beside Playwright

DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 375, "height": 740}
WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
});
"""

pytestmark = pytest.mark.browser

PAGES = [
    "/",
    "/attendance/day/2026-11-24/",
    "/attendance/team/",
    "/attendance/lookup/?q=zs",
    "/attendance/people/1002/",
    "/requests/",
    "/requests/new/?day=2026-11-24&slot=in1",
    "/approvals/",
    "/requests/inbox/",
    "/hr/",
    "/hr/manual/?employee=1002&day=2026-11-24",
    "/hr/desk/paper/new/",
    "/hr/desk/import/",
    "/hr/devices/",
    "/hr/periods/",
    "/hr/oversight/",
    "/reports/",
    "/reports/sheet/1002/",
    "/audit/",
    "/people/1002/",
    "/notifications/",
    "/notifications/robots/",
    "/accounts/lockouts/",
    "/accounts/password/",
    "/admin/",
    "/admin/auth/user/add/",
    "/admin/org/employee/",
    "/admin/scheduling/",
    "/api/v1/docs",
]
SHOTS = {
    "/": "home",
    "/reports/sheet/1002/": "sheet",
    "/admin/auth/user/add/": "admin-user-add",
    "/api/v1/docs": "api-docs",
    "/hr/oversight/": "oversight",
    "/hr/periods/": "periods",
}


@pytest.fixture(scope="module")
def browser():
    yield from launch_chromium()


def _open(browser, viewport, base_url: str, username: str):
    context = browser.new_context(viewport=viewport, locale="zh-CN")
    context.add_init_script(WATCH)
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on(
        "console",
        lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.goto(f"{base_url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    return context, page, errors


def _violations(page) -> list[str]:
    return page.evaluate("window.__csp || []")


def test_pages_work_under_the_policy(live_server, browser):
    # given: HR who is also system admin and auditor, so every section opens
    org = factories.small_org()
    add_to_group(org.hr.user, "sysadmin")
    add_to_group(org.hr.user, "auditor")
    context, page, console = _open(browser, DESKTOP, live_server.url, "hr")
    refused: dict[str, list[str]] = {}

    for path in PAGES:
        response = page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
        assert response is not None and response.status < 500, path
        assert "script-src 'self'" in response.headers["content-security-policy"], path
        if path in SHOTS:
            page.screenshot(path=f"/tmp/ztk-csp-{SHOTS[path]}.png", full_page=True)
        if found := _violations(page):
            refused[path] = found

    # the scripted controls still act: the Swagger UI rendered its operations, the admin's
    # group picker was built by its script, the sheet's print button is wired
    page.goto(f"{live_server.url}/api/v1/docs")
    page.wait_for_selector(".opblock", timeout=15_000)
    page.goto(f"{live_server.url}/admin/auth/user/{org.employee.user.pk}/change/")
    page.wait_for_selector(".selector-available", timeout=15_000)
    page.screenshot(path="/tmp/ztk-csp-admin-user-change.png", full_page=True)
    refused |= {"admin user change": found} if (found := _violations(page)) else {}

    assert refused == {}
    assert console == []
    context.close()


def test_the_phone_pages_and_the_second_factor_set_up_work_under_the_policy(live_server, browser):
    factories.small_org()
    context, page, console = _open(browser, PHONE, live_server.url, "employee")

    for path in ["/", "/requests/new/?day=2026-11-24&slot=in1", "/accounts/otp/"]:
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
        assert _violations(page) == [], path

    # the QR code (a data: image) is drawn: the password was entered a moment ago
    qr = page.locator(".qr img")
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")
    page.screenshot(path="/tmp/ztk-csp-otp-375.png", full_page=True)
    # eleven minutes later the secret needs the password again
    with time_machine.travel(timezone.now() + timedelta(minutes=11)):
        page.goto(f"{live_server.url}/accounts/otp/")
        assert page.locator(".qr img").count() == 0
        page.screenshot(path="/tmp/ztk-csp-otp-password-375.png", full_page=True)
        page.fill("input[name=password]", factories.PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_selector(".qr img")
    # the month calendar moves by htmx without a page load
    page.goto(f"{live_server.url}/")
    page.click("a.month-step[rel=prev]")
    page.wait_for_load_state("networkidle")
    assert _violations(page) == []
    page.screenshot(path="/tmp/ztk-csp-home-375.png", full_page=True)
    assert console == []
    context.close()

"""The punch-file import page in a real Chromium at 375 and 1280 px: upload a USB file,
check it, import it; screenshots under var/test/screenshots/ (not committed)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from ztk.punches.models import Punch

from .conftest import make_device
from .test_import_page import USB

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(CHROMIUM is None, reason="no chromium on this machine"),
]


@pytest.mark.parametrize("width", [375, 1280])
def test_upload_check_and_import(live_server, client, org, monkeypatch, tmp_path, width):
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    device = make_device(name="前台")
    client.force_login(org.hr.user)
    session = client.cookies["sessionid"].value
    shots = Path(os.environ.get("ZTK_VAR_DIR", "var/test")) / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    file = tmp_path / "1_attlog.dat"
    file.write_bytes(USB)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            context = browser.new_context(viewport={"width": width, "height": 900})
            context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
            page = context.new_page()
            page.goto(f"{live_server.url}/hr/devices/")
            page.locator("a[href='/hr/devices/import/']").first.click()
            page.wait_for_load_state()
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            page.screenshot(path=str(shots / f"devices-import-form-{width}.png"), full_page=True)

            page.set_input_files("input[name=file]", str(file))
            page.select_option("select[name=serial]", device.serial)
            page.locator("form.import-form button.primary").click()
            page.wait_for_selector("form[action='/hr/devices/import/commit/']")
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            page.screenshot(path=str(shots / f"devices-import-check-{width}.png"), full_page=True)
            assert Punch.objects.count() == 0

            page.locator("form[action='/hr/devices/import/commit/'] button").click()
            page.wait_for_selector(".notice.status.ok")
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            page.screenshot(path=str(shots / f"devices-import-done-{width}.png"), full_page=True)
            assert Punch.objects.filter(device_sn=device.serial).count() == 2
        finally:
            browser.close()

"""The one Chromium launcher for browser tests (Debian's /usr/bin/chromium driven by
Playwright's Python API; skipped where it is missing), and where screenshots go."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")


def launch_chromium() -> Iterator[Any]:
    """Yield a launched Chromium; use as the body of a module-scoped fixture."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: run scripts/ensure-chromium.sh to install it")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield chromium
        chromium.close()


def screenshots_dir() -> Path:
    """var/test/screenshots (under ZTK_VAR_DIR): PNGs for a human look, not committed."""
    path = Path(os.environ.get("ZTK_VAR_DIR", "var/test")) / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


def log_in(page: Any, base_url: str, username: str, lands_on: str = "/") -> None:
    """Sign in through the log-in form (every test user has factories.PASSWORD) and wait
    for the page the sign-in lands on."""
    from tests import factories

    page.goto(f"{base_url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base_url}{lands_on}")


def page_width(page: Any) -> int:
    """How wide the page's content is: more than the viewport means it scrolls sideways."""
    return int(page.evaluate("document.scrollingElement.scrollWidth"))

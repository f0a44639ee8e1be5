"""Security headers: a Content-Security-Policy on every page, HTTPS settings from the environment.

- Every URL pattern of the site (the admin's included) is requested as a user who may see
  nearly everything; each answer, whatever its status, carries the policy, and no HTML
  answer contains an inline script or event handler.
- No template holds an inline script, an on*= handler, a javascript: URL or a style=""
  attribute (the policy allows none of them, so they would silently stop working).
- HSTS, the HTTPS redirect and the proxy header come from environment variables, and the
  production variables listed in the README make `ztk check --deploy` pass cleanly.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.checks import run_checks
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from tests.factories import add_to_group

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"

# A value for every URL argument of the site; a new argument name fails the test below
# until it gets one here.
SAMPLE_ARGS = {
    "employee_no": "1002",
    "day": "2026-11-24",
    "serial": "CQZ7224460001",
    "pk": "1",
    "punch_id": "1",
    "group": "STD",
    "start": "2026-11-01",
    "name": "swagger-ui.css",
    "object_id": "1",
    "id": "1",
    "code": "RD",
    "correction_id": "1",
    "app_label": "auth",
    "content_type_id": "1",
    "job_id": "0f0e0d0c0b0a09080706050403020100",
    "key_id": "1",
    "finding_id": "1",
    "webhook_id": "1",
    "year": "2026",
    "absence_id": "1",
    "overtime_id": "1",
    "warning_id": "1",
    "platform": "dingtalk",
    "slot": "in1",
}
# A <script> without src= that is not a JSON data block (json_script) runs inline.
INLINE_SCRIPT = re.compile(
    r"<script\b(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I
)
HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)


def _patterns(resolver: URLResolver, prefix: str = ""):
    for item in resolver.url_patterns:
        if isinstance(item, URLResolver):
            yield from _patterns(item, prefix + str(item.pattern))
        elif isinstance(item, URLPattern):
            yield prefix + str(item.pattern), item


def _path_for(route: str) -> str | None:
    """A concrete path for a route, or None for what a browser never GETs (regex fallbacks)."""
    if "^" in route or "(?" in route:
        return None  # regex routes: the terminals' protocol, the admin's catch-alls
    names = re.findall(r"<(?:\w+:)?(\w+)>", route)
    missing = [n for n in names if n not in SAMPLE_ARGS]
    assert not missing, f"no sample value for {missing} in {route}"
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: SAMPLE_ARGS[m.group(1)], route)


def _every_path() -> list[str]:
    return sorted({p for route, _ in _patterns(get_resolver()) if (p := _path_for(route))})


@pytest.fixture
def everyone(org):
    """HR who is also a system admin: sees HR, admin, reports, audit and their own days."""
    add_to_group(org.hr.user, "sysadmin")
    add_to_group(org.hr.user, "auditor")
    client = Client(raise_request_exception=False)  # a 500 is noted, and the walk goes on
    client.force_login(org.hr.user)
    return client


def test_every_page_carries_the_content_security_policy(everyone):
    paths = _every_path()
    answered, missing, inline = {}, [], []

    for path in paths:
        response = everyone.get(path)
        answered[path] = response.status_code
        policy = response.get("Content-Security-Policy", "")
        if "script-src 'self'" not in policy or "default-src 'self'" not in policy:
            missing.append(path)
        if response.get("Content-Type", "").startswith("text/html"):
            html = response.content.decode(errors="replace")
            if INLINE_SCRIPT.search(html) or HANDLER.search(html):
                inline.append(path)

    assert missing == []
    assert inline == []
    assert [path for path, status in answered.items() if status >= 500] == []
    # the walk reaches real pages, not only error answers
    assert sum(status == 200 for status in answered.values()) >= 40, answered
    assert len(paths) >= 80


def test_the_policy_allows_no_inline_script_or_style(client, db):
    policy = client.get("/accounts/login/")["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())

    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in policy


def _templates() -> list[Path]:
    found = []
    for directory in [*django_settings.TEMPLATES[0]["DIRS"], *ROOT.glob("ztk/*/templates")]:
        found += sorted(Path(directory).rglob("*.html"))
    return found


def test_no_template_has_inline_script_handlers_or_styles():
    offenders = []
    for path in _templates():
        text = path.read_text()
        name = path.relative_to(ROOT)
        if INLINE_SCRIPT.search(text):
            offenders.append(f"{name}: inline <script>")
        if HANDLER.search(text):
            offenders.append(f"{name}: on*= handler")
        if re.search(r"""\sstyle\s*=\s*["']""", text):
            offenders.append(f"{name}: style attribute")
        if re.search(r"""(href|src|action)\s*=\s*["']\s*javascript:""", text, re.I):
            offenders.append(f"{name}: javascript: URL")
    assert len(_templates()) > 50
    assert offenders == []


# --- HTTPS settings ---------------------------------------------------------------------------


def _production_variables() -> dict[str, str]:
    """The `VAR=value` lines of the README's production block."""
    text = README.read_text()
    block = text.split("**In production**", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    variables = dict(line.split("=", 1) for line in block.strip().splitlines())
    variables["SECRET_KEY"] = "x" * 20 + "-production-secret-" + "y" * 30
    return variables


def _run(args: list[str], env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("ZTK_", "DJANGO_"))}
    clean |= {"ZTK_VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "config.settings", **env}
    for name in ("DEBUG", "SECURE_SSL_REDIRECT", "OTP_REQUIRED_FOR_STAFF", "SECRET_KEY"):
        clean.setdefault(name, "")
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120
    )


def test_the_readme_s_production_variables_make_the_deploy_check_clean(tmp_path):
    # given: a fresh process with exactly the README's list (settings read the environment)
    variables = _production_variables()
    assert variables["OTP_REQUIRED_FOR_STAFF"] == "true"
    script = (
        "import django; django.setup()\n"
        "from django.conf import settings as s\n"
        "from django.core.management import call_command\n"
        "call_command('check', '--deploy', '--fail-level', 'WARNING')\n"
        "print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS,"
        " s.SECURE_HSTS_PRELOAD, *s.SECURE_PROXY_SSL_HEADER)\n"
    )

    done = _run(["-c", script], variables, tmp_path)

    # then: no warning at all, and the variables reached the settings
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout
    assert done.stdout.split()[-6:] == [
        "True",
        "31536000",
        "True",
        "True",
        "HTTP_X_FORWARDED_PROTO",
        "https",
    ]


def test_without_them_the_deploy_check_names_what_is_missing(settings):
    # the defaults (plain HTTP for `make run`): the check says what production needs
    found = {message.id for message in run_checks(include_deployment_checks=True)}

    assert {"ztk.W001", "security.W004", "security.W008", "security.W012"} <= found


def test_https_redirect_spares_terminals_and_the_health_probe(org, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    client = Client()  # built after the change: middleware reads settings when loaded

    page = client.get("/accounts/login/")
    assert (page.status_code, page["Location"]) == (301, "https://testserver/accounts/login/")
    assert client.get("/healthz").status_code == 200
    terminal = client.get("/iclock/cdata", {"SN": "CQZ7224460001", "options": "all"})
    assert terminal.status_code != 301
    secure = client.get("/accounts/login/", secure=True)
    assert secure["Strict-Transport-Security"] == "max-age=31536000"

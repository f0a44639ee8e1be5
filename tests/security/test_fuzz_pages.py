"""Fuzz pass over the web pages: every URL pattern, every role, hostile input everywhere.

The API has its own schema-driven fuzzing (tests/api/test_fuzz.py) and the terminal
protocol its own abuse tests (tests/devices). Here, for each role (anonymous, employee,
supervisor, HR, auditor, superuser), in one deterministic pass:

1. every URL pattern of the site (walked from django.urls' resolver) is requested with
   real path values, and — where the role may open it — with hostile ones (NUL, impossible
   and out-of-range dates, a 23-digit id);
2. the links those pages show are followed one step (so the forms behind ?day=… appear);
3. every query parameter a page reads (recorded while it renders) is sent hostile values:
   NUL, RTL override, a lone surrogate's bytes and an escape sequence; impossible dates,
   months and years; integers beyond 64 bits and negative ones; 5,000 digits; arrays;
4. every POST form those pages show is posted with each field in turn holding a NUL, and
   with the other hostile values spread over its fields.

No answer may be a 5xx, and afterwards no stored text may hold a character core.text
forbids (SQLite stores a NUL silently; PostgreSQL would answer 500). The values and the
order are fixed, so the pass needs no example database and finds the same thing each run.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote, urlencode, urljoin, urlsplit

import pytest
from django.apps import apps
from django.core import signals
from django.db import models
from django.http import QueryDict
from django.test import Client
from django.urls import (
    NoReverseMatch,
    Resolver404,
    URLPattern,
    URLResolver,
    get_resolver,
    resolve,
    reverse,
)

from tests.corrections.conftest import MON, TUE, at, item, only_checkout, submit
from tests.factories import UserFactory
from ztk.closing.selectors import period_bounds
from ztk.core.text import text_problem
from ztk.corrections.services import correction_reject
from ztk.devices.models import Device, DeviceStatus, HeldPunch, HoldReason
from ztk.hrdesk.manual import manual_punch_add
from ztk.notifications.models import RobotWebhook
from ztk.punches.models import Punch

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "employee", "supervisor", "hr", "auditor", "superuser")
# Covered elsewhere: the API by schemathesis, the terminal protocol by tests/devices. The
# admin is Django's pages: the text rule on its forms (AuditedAdminMixin) is tested in
# test_input_abuse, and its query strings pass the same input guard. (A run that included
# it costs ~25 s per role and finds Django's own faults, e.g. an autocomplete field that
# re-renders a bound value which is not an id answers 500.)
SKIPPED_PREFIXES = ("/api/", "/iclock/", "/admin/")
# Never posted: they end the session or switch its language rather than store anything.
SKIPPED_ACTIONS = ("/accounts/logout/", "/i18n/setlang/")

HUGE_ID = "99999999999999999999999"  # beyond 64 bits
HOSTILE_PATH = ("\x00", "2026-02-30", "9999-12-31")
# Query values, already percent-encoded: a lone surrogate is sent as a browser would send
# its UTF-8 bytes. The text ones go together in one request (the input guard answers the
# first); each of the others gets a request of its own, rotated over the parameters.
HOSTILE_TEXT_QUERY = ("%00", "a%E2%80%AEb", "%ED%A0%80", "%1B%5B31m%C2%85")
HOSTILE_QUERY = ("2026-02-30", "9999-12-31", "2026-13", "0000-00-00", HUGE_ID, "-1", "9" * 5000)
# Form values: each field in turn holds a NUL; the rest are rotated over the fields.
NUL = "a\x00b"
HOSTILE_FORM: tuple[Any, ...] = (
    "a\u202eb",
    "\x1b[31m\x7f\x85",
    "2026-02-30",
    "9999-12-31T23:59:59-14:00",
    HUGE_ID,
    "-1",
    "x" * 20_000,
    ["1", HUGE_ID],  # a repeated field
)
# Real values for the query parameters pages read, so the walk also reaches the states
# behind them (the manual-punch day, the apply form of a slot, a report period, …).
REAL_QUERY = {
    "employee": "1002",
    "day": MON.isoformat(),
    "slot": "in1",
    "month": "2026-11",
    "period": "2026-11",
    "q": "张",
    "view": "all",
    "from": MON.isoformat(),
    "to": MON.isoformat(),
}
# The forms each role must reach, by URL name: the pass is not allowed to go blind.
EXPECTED_FORMS = {
    "anonymous": {"accounts:login"},
    "employee": {"requests:new", "requests:comment", "requests:withdraw", "requests:resubmit"},
    "supervisor": {"requests:approve", "requests:reject", "requests:transfer"},
    "hr": {
        "manual:add",
        "manual:void",
        "hrdesk:paper_new",
        "devices:update",
        "devices:assign",
        "notifications:robot_edit",
        "oversight:escalate",
        "periods:finalise",
    },
    "superuser": {"manual:add", "hrdesk:paper_new", "devices:command"},
}


# --------------------------------------------------------------------------- the site


@dataclass
class Site:
    users: dict[str, Any]
    path_values: dict[str, str]
    ids: dict[str, int]
    seeds: list[str]  # pages of the second request, punch, … of a kind (the walk sees one)


@pytest.fixture
def site(week) -> Site:
    """The small org on a 09:00–18:00 week, with something behind every kind of page."""
    only_checkout(week.employee, MON)
    (pending,) = submit(week.employee.user, week.employee, item())
    manual_punch_add(
        actor=week.hr.user, employee=week.employee, day=TUE, times=[at(TUE, 9)], remark="补录"
    )
    (rejected,) = submit(week.employee.user, week.employee, item(TUE, "out1", 18, 1))
    correction_reject(actor=week.supervisor.user, request=rejected, reason="时间不对")
    device = Device.objects.create(
        serial="CGXH201260001", status=DeviceStatus.APPROVED, attendance_group=week.group
    )
    HeldPunch.objects.create(
        device=device,
        device_sn=device.serial,
        pin="777",
        local_time="2026-11-23 09:00:00",
        at=at(MON, 9),
        reason=HoldReason.UNKNOWN_PIN,
    )
    Device.objects.create(serial="NEW0001", status=DeviceStatus.PENDING)
    robot = RobotWebhook.objects.create(
        name="研发群", platform="dingtalk", url="https://oapi.dingtalk.com/robot/send?x=1"
    )
    punch = Punch.objects.filter(employee=week.employee).order_by("pk").first()
    users = {
        "employee": week.employee.user,
        "supervisor": week.supervisor.user,
        "hr": week.hr.user,
        "auditor": week.auditor.user,
        "superuser": UserFactory(username="root", is_staff=True, is_superuser=True),
    }
    return Site(
        users=users,
        path_values={
            "employee_no": week.employee.employee_no,
            "day": MON.isoformat(),
            "serial": device.serial,
            "group": week.group.code,
            "start": period_bounds(MON)[0].isoformat(),
        },
        ids={"pk": pending.pk, "punch_id": punch.pk, "robot": robot.pk},
        seeds=[
            reverse("requests:detail", args=[rejected.pk]),
            f"{reverse('manual:index')}?employee={week.employee.employee_no}&day={TUE}",
        ],
    )


@pytest.fixture
def quiet_request_logs():
    """Thousands of 4xx warnings cost time and say nothing here; 5xx are still logged."""
    loggers = [logging.getLogger(n) for n in ("django.request", "django.security")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    yield
    for lg, level in zip(loggers, levels, strict=True):
        lg.setLevel(level)


@dataclass(frozen=True)
class Route:
    name: str
    converters: dict[str, str]  # parameter → converter ("int", "str")

    def url(self, site: Site, **hostile: str) -> str:
        values = {k: self._real(k, site) for k in self.converters}
        try:
            return reverse(self.name, kwargs={**values, **hostile})
        except NoReverseMatch:
            # a strict converter (a terminal serial, a group code) cannot even build this
            # URL; send it anyway, percent-encoded, so the router's refusal is what is tested
            real = reverse(self.name, kwargs=values)
            for key, value in hostile.items():
                real = real.replace(f"/{values[key]}/", f"/{quote(value, safe='')}/", 1)
            return real

    def hostile_urls(self, site: Site) -> Iterator[str]:
        for key, converter in self.converters.items():
            for value in (HUGE_ID,) if converter == "int" else HOSTILE_PATH:
                yield self.url(site, **{key: value})

    def _real(self, key: str, site: Site) -> Any:
        if self.converters[key] == "int":
            return site.ids["robot"] if "robot" in self.name else site.ids.get(key, 1)
        return site.path_values.get(key, "x")


def _in_pass(path: str) -> bool:
    return not path.startswith(SKIPPED_PREFIXES)


def _routes() -> list[Route]:
    found: dict[str, Route] = {}

    def walk(resolver: URLResolver, namespaces: tuple[str, ...]) -> None:
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                walk(entry, (*namespaces, entry.namespace) if entry.namespace else namespaces)
            elif isinstance(entry, URLPattern) and entry.name:
                converters = {
                    key: type(conv).__name__.removesuffix("Converter").lower()
                    for key, conv in getattr(entry.pattern, "converters", {}).items()
                }
                name = ":".join((*namespaces, entry.name))
                found.setdefault(name, Route(name, converters))

    walk(get_resolver(), ())
    routes = []
    for route in found.values():
        try:
            url = reverse(route.name, kwargs=dict.fromkeys(route.converters, "1"))
        except Exception:  # noqa: BLE001 - a regular-expression route (terminals)
            continue
        if _in_pass(url):
            routes.append(route)
    return sorted(routes, key=lambda r: r.name)


ROUTES = _routes()


def test_the_pass_covers_every_page():
    """The resolver walk finds the pages of every URL module (78 when this was written)."""
    names = {r.name for r in ROUTES}
    assert {
        "accounts:login",
        "attendance:employee_day",
        "corrections:attachment",
        "devices:command",
        "hrdesk:paper_new",
        "manual:void",
        "notifications:robot_edit",
        "oversight:escalate",
        "periods:reopen",
        "reports:download",
        "requests:batch_approve",
        "web:audit",
    } <= names
    assert len(names) >= 78


# --------------------------------------------------------------------------- recording


@contextmanager
def recording_reads() -> Iterator[set[str]]:
    """The query and form keys a view reads while it runs (QueryDict look-ups)."""
    keys: set[str] = set()
    originals = {n: getattr(QueryDict, n) for n in ("get", "getlist", "__getitem__")}

    def wrap(method):
        def recorded(self, key, *args, **kwargs):
            keys.add(key)
            return method(self, key, *args, **kwargs)

        return recorded

    for name, method in originals.items():
        setattr(QueryDict, name, wrap(method))
    try:
        yield keys
    finally:
        for name, method in originals.items():
            setattr(QueryDict, name, method)


@pytest.fixture
def server_errors():
    """Exceptions Django reports while handling a request, to fail with their traceback."""
    caught: list = []

    def receiver(sender, **kwargs):
        caught.append(sys.exc_info())

    signals.got_request_exception.connect(receiver, weak=False)
    try:
        yield caught
    finally:
        signals.got_request_exception.disconnect(receiver)


# --------------------------------------------------------------------------- pages


@dataclass
class Form:
    action: str
    fields: dict[str, list[str]] = field(default_factory=dict)


class _Page(HTMLParser):
    """A page's POST forms (action, fields with their rendered values) and its links."""

    def __init__(self, url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.url = url
        self.forms: list[Form] = []
        self.links: list[str] = []
        self._form: Form | None = None
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and a.get("href"):
            self.links.append(urljoin(self.url, a["href"]))
        elif tag == "form":
            post = a.get("method", "get").lower() == "post"
            self._form = Form(urljoin(self.url, a.get("action") or self.url)) if post else None
            if self._form is not None:
                self.forms.append(self._form)
        elif self._form is not None and a.get("name"):
            fields, name = self._form.fields, a["name"]
            if tag == "input" and a.get("type", "text").lower() not in NOT_FIELDS:
                fields.setdefault(name, []).append(a.get("value", ""))
            elif tag in ("textarea", "select"):
                fields.setdefault(name, [])
                self._textarea = name if tag == "textarea" else None
                self._select = name if tag == "select" else None
            elif tag == "button" and a.get("value"):
                fields.setdefault(name, [a["value"]])
        elif tag == "option" and self._form is not None and self._select:
            chosen = self._form.fields[self._select]
            if not chosen:
                chosen.append(a.get("value", ""))

    def handle_data(self, data: str) -> None:
        if self._form is not None and self._textarea:
            self._form.fields[self._textarea] = [data]

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag in ("textarea", "select"):
            self._textarea = self._select = None


NOT_FIELDS = {"submit", "button", "image", "reset", "file"}


def _local(url: str) -> str | None:
    """A link or action of this site that the pass may follow, as path?query."""
    parts = urlsplit(url)
    if parts.netloc not in ("", "testserver") or not parts.path.startswith("/"):
        return None
    if not _in_pass(parts.path) or parts.path.startswith(SKIPPED_ACTIONS):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _rotated(names: list[str], values: tuple[Any, ...], shift: int) -> dict[str, Any]:
    """Request `shift` of a rotation: over len(values) requests every name gets every value."""
    return {name: values[(shift + i) % len(values)] for i, name in enumerate(names)}


def _route_name(url: str) -> str:
    try:
        return resolve(urlsplit(url).path).view_name
    except Resolver404:
        return ""


class Pass:
    """One role's walk over the site, failing on the first 5xx with its traceback."""

    def __init__(self, client: Client, site: Site, role: str, server_errors: list) -> None:
        self.client, self.site, self.role, self.errors = client, site, role, server_errors
        self.pages: dict[str, set[str]] = {}  # url (status < 400) → the keys it read
        self.forms: dict[tuple[str, tuple[str, ...]], Form] = {}
        self.requests = 0

    def _send(self, method: str, url: str, data: Any = None, what: str = "") -> Any:
        self.requests += 1
        response = self.client.get(url) if method == "GET" else self.client.post(url, data)
        if self.errors:
            _type, exc, tb = self.errors.pop()
            raise AssertionError(f"{self.role} {method} {url} {what}: {exc!r}").with_traceback(tb)
        assert response.status_code < 500, f"{self.role} {method} {url} {what}"
        return response

    def visit(self, url: str) -> Any:
        with recording_reads() as keys:
            response = self._send("GET", url)
        usable = response.status_code < 400 and "/accounts/login/" not in response.get(
            "Location", ""
        )
        if not usable:
            return None
        self.pages[url] = keys
        if response.status_code == 200 and "html" in response.get("Content-Type", ""):
            page = _Page(url)
            page.feed(response.content.decode("utf-8", "replace"))
            for form in page.forms:
                action = _local(form.action)
                if action:
                    form.action = action
                    shape = (_route_name(action), tuple(sorted(form.fields)))
                    self.forms.setdefault(shape, form)
            return page
        return None

    def walk(self) -> None:
        shapes: set[tuple[str, tuple[str, ...]]] = set()
        linked: list[str] = []
        starts = [(r, r.url(self.site)) for r in ROUTES] + [(None, u) for u in self.site.seeds]
        for route, url in starts:
            page = self.visit(url)
            if url not in self.pages:
                continue
            real: dict[str, str] = {}
            for _round in range(3):  # a value read can make the page read the next one
                wanted = {k: REAL_QUERY[k] for k in sorted(self.pages[url]) if k in REAL_QUERY}
                if wanted == real:
                    break
                real = wanted
                self.visit(f"{url}?{urlencode(real)}")
                self.pages[url] |= self.pages.get(f"{url}?{urlencode(real)}", set())
            for hostile in route.hostile_urls(self.site) if route else ():
                self._send("GET", hostile)
            for link in page.links if page else ():
                local = _local(link)
                if local:
                    shape = (_route_name(local), tuple(sorted(QueryDict(urlsplit(local).query))))
                    if shape[0] and shape not in shapes:
                        shapes.add(shape)
                        linked.append(local)
        for url in linked:  # one step further
            self.visit(url)

    def fuzz_queries(self) -> None:
        done: set[tuple[str, frozenset[str]]] = set()
        for url, keys in list(self.pages.items()):
            path = urlsplit(url).path
            names = sorted(keys) or ["q"]
            if (path, frozenset(names)) in done:
                continue
            done.add((path, frozenset(names)))
            for values in [_rotated(names, HOSTILE_TEXT_QUERY, 0)] + [
                _rotated(names, HOSTILE_QUERY, r) for r in range(len(HOSTILE_QUERY))
            ]:
                query = "&".join(f"{n}={v}" for n, v in values.items())
                self._send("GET", f"{path}?{query}&{names[0]}=1")  # the first one twice: an array

    def fuzz_forms(self) -> None:
        for form in self.forms.values():
            names = [n for n in form.fields if n != "csrfmiddlewaretoken"]
            for name in names:
                self._post(form, {name: NUL})
            for r in range(len(HOSTILE_FORM)):
                self._post(form, _rotated(names, HOSTILE_FORM, r))

    def _post(self, form: Form, changes: dict[str, Any]) -> None:
        data = {k: list(v) for k, v in form.fields.items()}
        for name, value in changes.items():
            data[name] = value if isinstance(value, list) else [value]
        shown = {k: (v[:20] if isinstance(v, str) else v) for k, v in changes.items()}
        self._send("POST", form.action, data, what=repr(shown)[:300])


# --------------------------------------------------------------------------- the test


@pytest.mark.parametrize("role", ROLES)
def test_no_page_or_form_answers_hostile_input_with_a_5xx(
    site, role, server_errors, quiet_request_logs
):
    client = Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE="en")
    if role != "anonymous":
        client.force_login(site.users[role])
    walk = Pass(client, site, role, server_errors)
    walk.walk()
    reached = {name for name, _fields in walk.forms}
    assert EXPECTED_FORMS.get(role, set()) <= reached, sorted(reached)
    walk.fuzz_queries()
    walk.fuzz_forms()
    _assert_nothing_forbidden_stored()


def _assert_nothing_forbidden_stored() -> None:
    """No stored text holds a character core.text forbids (tab and line breaks aside)."""
    for model in apps.get_models():
        names = [
            f.name
            for f in model._meta.concrete_fields
            if isinstance(f, models.CharField | models.TextField | models.JSONField)
        ]
        if not names:
            continue
        for row in model._default_manager.values("pk", *names):
            for name in names:
                for text in _strings(row[name]):
                    problem = text_problem(text, multiline=True)
                    assert problem is None, (model._meta.label, row["pk"], name, text[:80])


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, inner in value.items():
            yield str(key)
            yield from _strings(inner)
    elif isinstance(value, list | tuple):
        for inner in value:
            yield from _strings(inner)

"""Every notification kind sent anywhere is shown as words in the reader's language, never
as its internal code (issue 12: the inbox showed `correction_comment`, `manual_punch_added`)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import translation

import ztk
from ztk.notifications.models import NotificationKind, kind_label
from ztk.notifications.services import notify

SOURCE = Path(ztk.__file__).parent
# kind="x" / kind=NAME in a notify call, a notify helper's first string argument
# (_notify("x", …), _notify_participants(req, "x", …)), and NOTIFY_*/..._KIND = "x" constants.
PATTERNS = [
    re.compile(r'\bkind\s*=\s*"([a-z_]+)"'),
    re.compile(r'\b_?notify\w*\(\s*(?:\w+,\s*)?"([a-z_]+)"'),
    re.compile(r'^\s*NOTIFY_\w*\s*=\s*"([a-z_]+)"', re.M),
]
NOT_KINDS = {"work", "rest", "holiday"}  # kind="…" of schedule days, not notifications


def kinds_sent() -> set[str]:
    found: set[str] = set()
    for path in SOURCE.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        if "notify" not in text:
            continue
        for pattern in PATTERNS:
            found.update(pattern.findall(text))
    return found - NOT_KINDS


def test_the_scan_finds_the_kinds_that_were_shown_as_codes():
    assert {"correction_comment", "manual_punch_added", "correction_submitted"} <= kinds_sent()


@pytest.mark.parametrize("kind", sorted(kinds_sent()))
def test_every_kind_sent_has_a_label_in_both_languages(kind):
    assert kind in NotificationKind.values, f"{kind} is sent but has no NotificationKind"
    with translation.override("en"):
        english = kind_label(kind)
    with translation.override("zh-hans"):
        chinese = kind_label(kind)
    assert english != kind and "_" not in english
    assert chinese != english and re.search(r"[\u4e00-\u9fff]", chinese), chinese


def test_an_unknown_kind_is_never_shown_as_its_code():
    with translation.override("en"):
        assert kind_label("some_new_event") == "Notification"


@pytest.mark.django_db
def test_the_inbox_shows_labels_in_the_readers_language_with_a_link(org, client):
    user = org.employee.user
    sent = [
        n
        for kind in ("correction_comment", "manual_punch_added")
        for n in notify(kind=kind, recipients=[user], title="t", body="b", url="/attendance/")
    ]
    client.force_login(user)

    html = client.get(reverse("notifications:inbox"), HTTP_ACCEPT_LANGUAGE="zh-hans").content
    html = html.decode()

    assert "correction_comment" not in html and "manual_punch_added" not in html
    with translation.override("zh-hans"):
        assert kind_label("correction_comment") in html
        assert kind_label("manual_punch_added") in html
    for n in sent:  # each with its link
        assert f'href="{reverse("notifications:open", args=[n.pk])}"' in html

"""A notification reads in its reader's language, whoever sent it and in which language
(issue 12). The user has no stored language preference, so the reader's language is the
one they read in (the language switch, else the site default zh-hans); the texts are
written by ``notify`` in every language of the site, e-mail and robots in the company's.
"""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from tests.api.conftest import call
from tests.hrdesk import test_manual as manual_tests
from ztk.accounts.services import api_key_create
from ztk.approvals.services import delegation_create
from ztk.notifications.models import Notification
from ztk.notifications.services import notify

pytestmark = pytest.mark.django_db
shop = manual_tests.shop  # 张三 on a weekday shift, a device punch-in on Monday (a fixture)
MON = manual_tests.MON


def _inbox(user, lang: str | None) -> str:
    client = Client(**({"HTTP_ACCEPT_LANGUAGE": lang} if lang else {}))
    client.force_login(user)
    return client.get(reverse("notifications:inbox")).content.decode()


def test_a_punch_added_by_an_english_speaking_hr_reads_in_chinese(shop):
    with translation.override("en"):  # HR works in English
        manual_tests.add(shop, [("out1", manual_tests.at(MON, 18, 5))], remark="terminal broken")

    note = Notification.objects.get(recipient=shop.employee.user)
    chinese = _inbox(shop.employee.user, None)  # the site default: zh-hans
    assert "人事为您补录了" in chinese and "下班 18:05。备注：terminal broken" in chinese
    assert "HR added a punch" not in chinese
    assert f'href="{reverse("notifications:open", args=[note.pk])}"' in chinese  # its link
    # the same notification, read by someone who switched to English
    english = _inbox(shop.employee.user, "en")
    assert "HR added a punch for you on" in english and "Check-out 18:05" in english
    assert "人事为您补录了" not in english
    # what e-mail and robots send (and old readers of the columns): the company language
    assert note.title.startswith("人事为您补录了")


def test_a_delegation_notice_reads_in_each_readers_language(org):
    with translation.override("en"):
        delegation_create(
            actor=org.hr.user,
            approver=org.supervisor.user,
            delegate=org.head.user,
            start=date(2027, 1, 4),
            end=date(2027, 1, 8),
        )

    assert f"您将代 {org.supervisor.name} 审批补卡" in _inbox(org.head.user, "zh-hans")
    assert f"You approve corrections for {org.supervisor.name}" in _inbox(org.head.user, "en")


def test_the_api_gives_the_text_in_the_language_asked_for(org, client):
    with translation.override("en"):
        delegation_create(
            actor=org.hr.user,
            approver=org.supervisor.user,
            delegate=org.head.user,
            start=date(2027, 1, 4),
            end=date(2027, 1, 8),
        )
    _key, raw = api_key_create(actor=org.head.user, user=org.head.user, name="im")

    zh = call(client, "GET", "/api/v1/notifications", key=raw, lang="zh-hans").body
    en = call(client, "GET", "/api/v1/notifications", key=raw, lang="en").body

    assert zh["items"][0]["title"] == f"您将代 {org.supervisor.name} 审批补卡"
    assert en["items"][0]["title"] == f"You approve corrections for {org.supervisor.name}"


def test_free_text_and_old_rows_are_shown_as_stored(org):
    from django.db import transaction

    with transaction.atomic():
        (note,) = notify(
            kind="test", recipients=[org.employee.user], title="手写标题", body="正文", email=False
        )
    Notification.objects.filter(pk=note.pk).update(texts={})  # a row from before the column

    assert "手写标题" in _inbox(org.employee.user, "en")

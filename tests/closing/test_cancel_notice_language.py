"""Closing a period cancels its pending corrections; the cancellation notice reads in each
reader's language, though HR closed it in English (issue 12: notifications in the reader's
language). The note stored on the request stays in the company's language."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from tests.closing import test_periods as closing_tests
from ztk.closing import services

pytestmark = pytest.mark.django_db
shop = closing_tests.shop  # 张三's request for 30 November pending (a fixture)


def _inbox(user, lang: str) -> str:
    client = Client(HTTP_ACCEPT_LANGUAGE=lang)
    client.force_login(user)
    return client.get(reverse("notifications:inbox")).content.decode()


def test_a_cancellation_at_close_by_an_english_speaking_hr_reads_in_each_language(shop):
    closing_tests.finalise(shop)
    with translation.override("en"):  # HR works in English
        services.period_close(
            actor=shop.hr.user,
            group=shop.group,
            start=closing_tests.NOV1,
            confirm=closing_tests.confirmed(shop),
            cancel_pending=True,
            note="see HR",
        )

    chinese = _inbox(shop.employee.user, "zh-hans")
    english = _inbox(shop.employee.user, "en")
    assert "考勤周期 2026-11-01 – 2026-11-30 已结账" in chinese and "was closed" not in chinese
    assert "The attendance period 2026-11-01 – 2026-11-30 was closed" in english
    assert "see HR" in chinese and "see HR" in english
    cancel = shop.request.actions.get(action="cancel")
    assert cancel.comment.startswith("考勤周期")  # stored: the company's language

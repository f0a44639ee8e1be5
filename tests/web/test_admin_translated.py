"""The Django admin (kept for superusers) speaks the site's language: in zh-hans its title,
header and the section of every ztk app are Chinese; in English they are English."""

from __future__ import annotations

import re

import pytest
from django.apps import apps
from django.test import Client
from django.utils import translation

from tests import factories

pytestmark = pytest.mark.django_db


def _admin_index(lang: str) -> str:
    root = factories.UserFactory(username="root", is_staff=True, is_superuser=True)
    client = Client(HTTP_ACCEPT_LANGUAGE=lang)
    client.force_login(root)
    response = client.get("/admin/")
    assert response.status_code == 200
    return response.content.decode()


def _sections(html: str) -> list[str]:
    """The app captions of the index (one <caption> per app)."""
    return [
        re.sub(r"<[^>]+>", "", c).strip()
        for c in re.findall(r"<caption>(.*?)</caption>", html, re.S)
    ]


def test_the_admin_index_is_chinese_in_zh_hans():
    html = _admin_index("zh-hans")

    assert "<title>数据管理 | ZTK 考勤管理后台</title>" in html
    assert "ZTK 考勤管理后台</a>" in html  # the header
    sections = _sections(html)
    assert set(sections) == {
        "账号与登录",
        "审批",
        "审计日志",
        "认证和授权",  # Django's own translation
        "登录锁定",  # django-axes, named by ztk.accounts.third_party
        "补卡",
        "考勤机",
        "通知",
        "组织架构",
        "身份验证器（两步验证）",  # django-otp's TOTP devices, likewise
        "报表与薪资推送",
        "排班",
    }, sections


def test_every_ztk_app_has_a_translated_name():
    for config in apps.get_app_configs():
        if not config.name.startswith("ztk."):
            continue
        with translation.override("zh-hans"):
            chinese = str(config.verbose_name)
        with translation.override("en"):
            english = str(config.verbose_name)
        assert "verbose_name" in type(config).__dict__, f"{config.name} has no verbose_name"
        assert chinese != english or english == "API", f"{config.name}: {english!r} untranslated"


def test_the_admin_index_is_english_in_english():
    html = _admin_index("en")

    assert "ZTK Attendance administration" in html
    assert "Organisation" in _sections(html)

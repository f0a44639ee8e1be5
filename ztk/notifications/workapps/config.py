"""Where each platform's open API is, and the callback time window.

The base URLs are the platforms' public hosts; ``WORKAPPS_BASE_URLS`` in the settings
overrides any of them (tests point them at local fake servers).
"""

from __future__ import annotations

from django.conf import settings

from ..models import Platform

BASE_URLS: dict[str, str] = {
    "dingtalk": "https://oapi.dingtalk.com",  # gettoken, topapi (工作通知, users)
    "dingtalk_api": "https://api.dingtalk.com",  # v1.0 (interactive cards)
    "wecom": "https://qyapi.weixin.qq.com",
    "feishu": "https://open.feishu.cn",
    # Where the browser is sent to sign in (never called by the server).
    "wecom_oauth": "https://open.weixin.qq.com",  # WeCom's OAuth2 authorize page
    "feishu_accounts": "https://accounts.feishu.cn",  # Feishu's authorize page
}
# A sign-in started from a work app must come back within this many seconds.
SIGNIN_WINDOW = 600
# A callback older or newer than this (seconds) is refused, and its nonce remembered this long.
CALLBACK_WINDOW = 300
# An access token is fetched again this long before the platform says it expires.
TOKEN_MARGIN = 300

# Outbox channel of each platform's app, and back.
CHANNEL_OF: dict[str, str] = {
    Platform.DINGTALK: "ding_app",
    Platform.WECOM: "wecom_app",
    Platform.FEISHU: "feishu_app",
}
PLATFORM_OF: dict[str, str] = {channel: platform for platform, channel in CHANNEL_OF.items()}


def base_url(name: str) -> str:
    overrides = getattr(settings, "WORKAPPS_BASE_URLS", None) or {}
    return str(overrides.get(name) or BASE_URLS[name]).rstrip("/")


def callback_window() -> int:
    return int(getattr(settings, "WORKAPPS_CALLBACK_WINDOW", CALLBACK_WINDOW))

"""Other ways in shown under the log-in form ("Sign in with DingTalk" …).

The accounts app sits below the apps that know those ways (the work apps live in
``notifications``), so they register a provider here from their ``AppConfig.ready()``
(the pattern of ``attendance/sources.py``); the log-in page asks `options()`. A provider
returns the links that are usable now (a platform that is not set up gives none).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class SigninOption:
    label: str  # e.g. "Sign in with DingTalk", already translated
    url: str  # a local path
    key: str  # a stable name for the page and tests, e.g. "dingtalk"


Provider = Callable[[], list[SigninOption]]
_providers: list[Provider] = []


def register(provider: Provider) -> None:
    if provider not in _providers:
        _providers.append(provider)


def options() -> list[SigninOption]:
    return [option for provider in _providers for option in provider()]

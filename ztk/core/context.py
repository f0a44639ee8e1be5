"""The current request's actor, IP and user agent, so services can audit without plumbing."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class RequestInfo:
    ip: str | None = None
    user_agent: str = ""
    user: Any = None


current_request: ContextVar[RequestInfo | None] = ContextVar("ztk_current_request", default=None)


def get_request_info() -> RequestInfo:
    return current_request.get() or RequestInfo()


def client_ip(meta: dict[str, Any]) -> str | None:
    # REMOTE_ADDR only: trusting X-Forwarded-For would let anyone forge the audited IP.
    return meta.get("REMOTE_ADDR") or None

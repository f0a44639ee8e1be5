from __future__ import annotations

from ninja import Schema


class ErrorOut(Schema):
    code: str
    message: str
    details: object | None = None

"""The one paging convention of every list the API answers.

A list takes ``offset`` and ``limit`` and answers ``{items, count, next}``: the page's
items, how many there are in all, and the URL of the next page (the same query with the
offset moved on), ``null`` on the last page. A list endpoint declares its envelope as a
subclass of :class:`Page` with a typed ``items`` field and returns :func:`paginate`'s dict
(a list may add fields of its own, e.g. the notifications' unread badge). The convention
is checked over the OpenAPI schema by tests/api/test_conventions.py.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.db.models import QuerySet
from ninja import Field, Schema

MAX_OFFSET = 1_000_000_000
MAX_LIMIT = 1000
DEFAULT_LIMIT = 100


class PageParams(Schema):
    """`offset` and `limit` of a list (a list with a lower ceiling overrides `limit`)."""

    offset: int = Field(0, ge=0, le=MAX_OFFSET, description="Items to skip.")
    limit: int = Field(
        DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description=f"Items to return (at most {MAX_LIMIT})."
    )


class Page(Schema):
    """The envelope of every list: subclasses add `items: list[ItemOut]`."""

    count: int = Field(..., description="Items in the whole list, over every page.")
    next: str | None = Field(
        ..., description="The URL of the next page (same query, offset moved on); null on the last."
    )


def paginate(
    request: Any,
    rows: QuerySet[Any] | Sequence[Any],
    params: PageParams,
    convert: Callable[[Any], Any],
) -> dict[str, Any]:
    """One page of `rows` as `{items, count, next}`; `convert` turns a row into an item."""
    end = params.offset + params.limit
    page = list(rows[params.offset : end])
    if isinstance(rows, QuerySet) and not (page and len(page) < params.limit):
        count = rows.count()  # a full (or empty) page: the total needs asking
    else:
        count = params.offset + len(page) if isinstance(rows, QuerySet) else len(rows)
    items = [convert(row) for row in page]
    following = None
    if end < count:
        query = request.GET.copy()
        query["offset"] = str(end)
        query["limit"] = str(params.limit)
        following = f"{request.path}?{query.urlencode()}"
    return {"items": items, "count": count, "next": following}

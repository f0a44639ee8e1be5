"""The caller's own notifications: list them, mark them read."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from ninja import Field, Query, Router, Schema

from ztk.core.parse import MAX_ID
from ztk.notifications import selectors, services
from ztk.notifications.models import Notification

from .pagination import Page, PageParams, paginate

router = Router(tags=["notifications"])


class NotificationOut(Schema):
    id: int
    kind: str = Field(..., description="e.g. correction_submitted, missed_punch")
    title: str
    body: str
    url: str = Field(..., description="a link into the web app, relative; may be empty")
    data: dict[str, Any]
    created_at: datetime
    read_at: datetime | None

    @staticmethod
    def from_model(n: Notification) -> dict[str, Any]:
        return {
            "id": n.pk,
            "kind": n.kind,
            "title": n.shown_title,  # in the language of the request
            "body": n.shown_body,
            "url": n.url,
            "data": n.data or {},
            "created_at": n.created_at,
            "read_at": n.read_at,
        }


class NotificationFilter(PageParams):
    limit: int = Field(50, ge=1, le=200, description="Items to return (at most 200).")
    unread: bool = Field(False, description="only unread notifications")


class NotificationPage(Page):
    items: list[NotificationOut]
    unread: int = Field(..., description="the unread badge: all unread, whatever the filter")


class ReadIn(Schema):
    ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(
        default_factory=list, max_length=1000, description="ids to mark"
    )
    all: bool = Field(False, description="mark every unread notification read")


class ReadOut(Schema):
    marked: int = Field(..., description="notifications that were unread and are read now")
    unread: int


@router.get(
    "/notifications",
    response={200: NotificationPage},
    summary="The caller's notifications, newest first",
)
def notifications_list(request, filters: Query[NotificationFilter]):
    user = request.auth
    qs = selectors.notification_list(user=user, unread_only=filters.unread)
    page = paginate(request, qs, filters, NotificationOut.from_model)
    return {**page, "unread": selectors.unread_count(user)}


@router.post(
    "/notifications/read",
    response={200: ReadOut},
    summary="Mark some (ids) or all of the caller's notifications read; others' ids are ignored",
)
def notifications_read(request, payload: ReadIn):
    user = request.auth
    marked = services.notification_mark_read(user=user, ids=payload.ids, all=payload.all)
    return {"marked": marked, "unread": selectors.unread_count(user)}

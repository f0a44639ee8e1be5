"""Callback endpoints of the work apps' interactive cards: /workapps/<platform>/callback.

Thin: the notifications layer verifies the callback (signature, time window, nonce once,
decryption, ``workapps.callbacks``) and maps the platform user to an account; the decision
goes through the request type's own service (``corrections.services.correction_approve``
/ ``correction_reject``), with the same visibility and approver checks as the pages.
A forged, expired or replayed callback gets HTTP 403 and nothing else (logged; not
audited: it names no one, and anyone could send them). A verified callback whose decision
is refused (unlinked user, not the step's approver, no reason) is audited and told to the
user: a WeCom passive reply, a Feishu toast; DingTalk is answered "success", as its docs
require. A decision taken is audited by the request's service and here (via which app).
"""

from __future__ import annotations

import logging
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.http.request import RawPostDataException
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from ztk.core.errors import DomainError, NotFoundError, PermissionDeniedError
from ztk.corrections import selectors as corrections
from ztk.corrections.services import correction_approve, correction_reject
from ztk.leave import absence_services
from ztk.leave import selectors as leave
from ztk.notifications.models import Platform
from ztk.notifications.services import company_language
from ztk.notifications.workapps import callbacks
from ztk.notifications.workapps.cards import APPROVE, parse_ref
from ztk.notifications.workapps.services import (
    callback_record,
    card_pressed,
    tell_platform_user,
    user_for,
)
from ztk.overtime import selectors as overtime
from ztk.overtime import services as overtime_services

log = logging.getLogger(__name__)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def callback(request: HttpRequest, platform: str) -> HttpResponse:
    if platform not in Platform.values:
        return HttpResponse(status=404)
    try:
        try:
            body = request.body
        except RawPostDataException:  # a multipart form, already read: no platform sends one
            raise callbacks.CallbackRefused(callbacks.BAD_BODY, "a form upload") from None
        received = callbacks.receive(
            platform,
            method=request.method or "POST",
            query=dict(request.GET.items()),
            headers={k.lower(): v for k, v in request.headers.items()},
            body=body,
        )
    except callbacks.CallbackRefused as refused:
        # Not verified, so no one to name: logged, not audited (anyone on the internet
        # could otherwise fill the audit log). Refused decisions below are audited.
        log.warning("work app callback refused (%s): %s", platform, refused)
        return HttpResponse(status=403)
    if received.extra.get("response_code"):
        card_pressed(
            platform=platform,
            task_id=str(received.extra.get("task_id", "")),
            response_code=str(received.extra["response_code"]),
        )
    with translation.override(company_language()):
        ok, message = _decide(received)
        content_type, answer = callbacks.answer(received, platform, message, ok=ok)
    if platform == Platform.DINGTALK and received.decision is not None and message:
        # DingTalk's answer is a bare "success": the outcome goes as a work notice.
        tell_platform_user(
            platform=platform, platform_user_id=received.decision.platform_user_id, text=message
        )
    return HttpResponse(answer, content_type=f"{content_type}; charset=utf-8")


def _decide(received: callbacks.Received) -> tuple[bool, str]:
    """Apply the card's decision as its user; (ok, what to tell them)."""
    decision = received.decision
    if decision is None:
        return True, ""
    platform = decision.platform
    actor = user_for(platform, decision.platform_user_id)
    audit = {"platform_user": decision.platform_user_id, "ref": decision.ref,
             "action": decision.action}  # fmt: skip
    if actor is None:
        callback_record(platform=platform, outcome="refused", code="workapp_unknown_user", **audit)
        return False, _("Your account on this platform is not linked to ZTK Attendance.")
    parsed = parse_ref(decision.ref)
    try:
        if parsed is None:
            raise NotFoundError()
        _apply(actor, parsed[0], parsed[1], decision.action, decision.reason)
    except DomainError as error:
        code = "not_found" if isinstance(error, NotFoundError) else error.code
        callback_record(platform=platform, outcome="refused", code=code, actor=actor, **audit)
        if isinstance(error, NotFoundError):
            return False, _("This request no longer exists or is not yours to see.")
        if isinstance(error, PermissionDeniedError):
            return False, _("You are not an approver of this step.")
        return False, error.message
    callback_record(platform=platform, outcome="decided", actor=actor, **audit)
    # The cards of every approver now say so (approvals.services.end_route / advance).
    if decision.action == APPROVE:
        return True, _("Approved.")
    return True, _("Rejected; the applicant has been told why.")


def _apply(actor: Any, kind: str, pk: int, action: str, reason: str) -> None:
    """The same read (visibility first) and the same service as the request's page."""
    if kind == "correction":
        req = corrections.correction_get(actor, pk)
        if action == APPROVE:
            correction_approve(actor=actor, request=req)
        else:
            correction_reject(actor=actor, request=req, reason=reason)
    elif kind == "absence":
        absence = leave.absence_get(actor, pk)
        if action == APPROVE:
            absence_services.absence_approve(actor=actor, request=absence)
        else:
            absence_services.absence_reject(actor=actor, request=absence, reason=reason)
    else:
        found = overtime.visible_to(actor).filter(pk=pk).first()
        if found is None:
            raise NotFoundError()
        if action == APPROVE:
            overtime_services.overtime_approve(actor=actor, request=found)
        else:
            overtime_services.overtime_reject(actor=actor, request=found, reason=reason)

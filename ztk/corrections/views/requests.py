"""Correction pages (补卡): the apply form, 我的申请 with its routing form (电子流转单) and
the approval inbox (审批). The project mounts ``urls.requests`` at /requests/.

Views only parse input, call one service or read from ``page_selectors``/``selectors``
and render; every rule (who may do what, what is refused) stays in the services, whose
refusals are shown next to what they concern, with what was typed kept (HTTP 422).
The live preview is an htmx partial: the same engine run the approvers see.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, Resolver404, resolve, reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from ztk.approvals import inboxes
from ztk.attendance.days import employee_zone
from ztk.core.errors import DomainError, NotFoundError
from ztk.core.input_guard import clean_query, text_checked
from ztk.core.parse import parse_clock, parse_day, parse_ids
from ztk.core.text import INVALID_TEXT
from ztk.org.models import Employee
from ztk.org.rules import can_approve, can_see_team, employee_of
from ztk.org.selectors import employee_for, people_to_pick, user_named

from .. import page_selectors as ps
from .. import policy as p
from .. import selectors, services
from ..messages import REFUSAL_MESSAGES, refusal_message
from ..models import Channel, CorrectionRequest, Status
from ..rules import may_file_for

PAGE_SIZE = 20
INBOX_PAGE_SIZE = 50
MAX_BATCH = 200
MAX_FILES = 10
TEXT_MAX = 500
COMMENT_MAX = 1000

# Where a refusal is shown on the apply form: next to its slot, next to a field, or on top.
SLOT_CODES = frozenset(
    {
        p.WINDOW_EXPIRED,
        p.SLOT_NOT_FOUND,
        p.SLOT_ALREADY_PUNCHED,
        p.NOT_AN_ANOMALY,
        p.DUPLICATE_PENDING,
        p.FUTURE_TIME,
        p.TIME_OUTSIDE_SLOT_WINDOW,
    }
)
FIELD_OF_CODE = {
    p.UNKNOWN_CATEGORY: "category",
    p.REASON_TOO_SHORT: "reason",
    p.ATTACHMENT_REQUIRED: "attachments",
    services.ATTACHMENT_TYPE: "attachments",
    services.ATTACHMENT_TOO_LARGE: "attachments",
    services.TOO_MANY_ATTACHMENTS: "attachments",
    p.EXPEDITE_NOT_ALLOWED: "expedite",
    p.JUSTIFICATION_REQUIRED: "expedite",
    p.MONTHLY_LIMIT_REACHED: "quota",
}


# --------------------------------------------------------------------------- helpers


def _channel(request: HttpRequest) -> str:
    """Phones file through the mobile channel (the same flow on a phone-sized page)."""
    agent = request.headers.get("User-Agent", "")
    mobile = request.headers.get("Sec-CH-UA-Mobile") == "?1" or "Mobi" in agent
    return Channel.MOBILE if mobile else Channel.WEB


def _vary(response: HttpResponse) -> HttpResponse:
    patch_vary_headers(response, ["HX-Request"])
    return response


def _uploads(request: HttpRequest, name: str = "attachments") -> list[Any]:
    return [f for f in request.FILES.getlist(name)[:MAX_FILES] if f]


def _employee_for(request: HttpRequest, employee_no: str | None) -> Employee:
    """Whom the form files for: the user, or (?employee=NO) someone they may file for.

    404 alike for a number nobody has and someone the user may not file for.
    """
    try:
        return employee_for(request.user, employee_no, may=may_file_for)
    except NotFoundError:
        raise Http404 from None


def _get(request: HttpRequest, pk: int) -> CorrectionRequest:
    try:
        return selectors.correction_get(request.user, pk)
    except NotFoundError as missing:
        raise Http404 from missing


def _detail_url(pk: int) -> str:
    return reverse("requests:detail", args=[pk])


def _may(request: HttpRequest, predicate) -> bool:
    """A role check of the signed-in user, asked once per request (each costs queries)."""
    cache = request.__dict__.setdefault("_ztk_requests_roles", {})
    if predicate not in cache:
        cache[predicate] = bool(predicate(request.user))
    return cache[predicate]


def inbox_url() -> str:
    """Where the inbox lives: the main navigation's 审批 (web:approvals) once it shows this
    inbox, so its tab lights up; else this app's own /requests/inbox/."""
    try:
        url = reverse("web:approvals")
        if resolve(url).func is inbox:
            return url
    except (NoReverseMatch, Resolver404):
        pass
    return reverse("requests:inbox")


def _nav(request: HttpRequest, here: str = "") -> dict[str, Any]:
    return {"nav_inbox": _may(request, can_approve), "nav_here": here, "inbox_url": inbox_url()}


def _open_anomalies(
    employee: Employee, quota: dict[str, Any], *, on_behalf: bool
) -> list[dict[str, Any]]:
    """The slots still open to correct (from ``quota_for``), each with its form link."""
    tz = employee_zone(employee)
    out = []
    for anomaly in quota["open_anomalies"]:
        params = {"day": anomaly["day"].isoformat(), "slot": anomaly["slot"]}
        if on_behalf:
            params["employee"] = employee.employee_no
        expected = anomaly.get("expected")
        out.append(
            {
                **anomaly,
                "label": ps.slot_label(anomaly["slot"], 1 if anomaly["slot"].endswith("1") else 2),
                "expected_text": ps.clock(datetime.fromisoformat(expected), tz) if expected else "",
                "url": f"{reverse('requests:new')}?{urlencode(params)}",
            }
        )
    return out


# --------------------------------------------------------------------------- apply form


@dataclass
class FormState:
    """What the apply form holds: from the query string, a rejected request, or a POST."""

    chosen: list[str]
    times: dict[str, str]
    category: str = ""
    reason: str = ""
    expedited: bool = False
    justification: str = ""
    errors: dict[str, list[str]] = field(default_factory=dict)
    summary: list[str] = field(default_factory=list)

    def add_error(self, where: str, message: str) -> None:
        found = self.errors.setdefault(where, [])
        if message not in found:
            found.append(message)
        if message not in self.summary:
            self.summary.append(message)


def _initial(info: ps.ApplyInfo, wanted: list[str]) -> FormState:
    slots = info.slot_map
    if wanted:  # the slot the day view linked from (none when it is no longer open)
        chosen = [k for k in wanted if k in slots and slots[k].selectable]
    else:
        chosen = [s.key for s in info.slots if s.selectable]
    first = info.categories[0].code if info.categories else ""
    return FormState(
        chosen=chosen,
        times={s.key: s.expected_text for s in info.slots},
        category=first,
    )


def _posted(request: HttpRequest, info: ps.ApplyInfo, *, fixed: str | None = None) -> FormState:
    post = request.POST
    slots = info.slot_map
    chosen = [fixed] if fixed else []
    if not fixed:
        for key in post.getlist("slot")[: services.MAX_ITEMS]:
            if key in slots and key not in chosen:
                chosen.append(key)
    times = {s.key: s.expected_text for s in info.slots}
    for key in slots:
        if f"time_{key}" in post:
            times[key] = post.get(f"time_{key}", "")[:8]
    return FormState(
        chosen=chosen,
        times=times,
        category=post.get("category", "")[:32],
        reason=post.get("reason", "")[:TEXT_MAX],
        expedited=post.get("expedited") == "1",
        justification=post.get("justification", "")[:TEXT_MAX],
    )


def _requested_times(
    info: ps.ApplyInfo, state: FormState, *, report: bool = True
) -> dict[str, datetime]:
    """The chosen slots' times as moments inside their windows; an unreadable one is
    reported by its slot (unless only previewing)."""
    out: dict[str, datetime] = {}
    for key in state.chosen:
        slot = info.slot_map.get(key)
        if slot is None:
            continue
        clock = parse_clock(state.times.get(key))
        if clock is not None:
            out[key] = slot.at(clock, info.day, info.tz)
        elif report:
            message = _("Enter the time of %(slot)s as HH:MM.") % {"slot": slot.label}
            state.add_error(f"slot:{key}", message)
    return out


def _items(info: ps.ApplyInfo, state: FormState, times: dict[str, datetime]):
    return [
        services.ItemIn(
            day=info.day,
            slot_key=key,
            requested_time=times[key],
            category=state.category,
            reason=state.reason,
            expedited=state.expedited,
            justification=state.justification if state.expedited else "",
        )
        for key in state.chosen
        if key in times
    ]


def _place_refusal(
    state: FormState, error: DomainError, chosen: list[str], info: ps.ApplyInfo
) -> None:
    """Every refusal next to what it concerns (its slot, a field, or the top), worded
    with the names people see (the category's name, the slot's label on a split shift)."""
    details = error.details if isinstance(error.details, list) else None
    if error.code == INVALID_TEXT and isinstance(error.details, dict):
        state.add_error(str(error.details.get("field") or "form"), error.message)
        return
    if not details:
        state.add_error(FIELD_OF_CODE.get(error.code, "form"), error.message)
        return
    labels = {c.code: c.name for c in info.categories}
    segments = ps.segments_of(info.slot_map)
    for refusal in details:
        if not isinstance(refusal, dict):
            continue
        code, message = refusal.get("code", ""), str(refusal.get("message", ""))
        if code in REFUSAL_MESSAGES and isinstance(refusal.get("params"), dict):
            message = refusal_message(
                p.Refusal(code, refusal["params"]), segments=segments, category_labels=labels
            )
        index = refusal.get("index")
        if code in SLOT_CODES and isinstance(index, int) and 0 <= index < len(chosen):
            state.add_error(f"slot:{chosen[index]}", message)
        else:
            state.add_error(FIELD_OF_CODE.get(code, "form"), message)


def _apply_context(
    info: ps.ApplyInfo,
    state: FormState,
    *,
    resubmit_of: CorrectionRequest | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    preview = ps.preview_times(
        info.employee, info.day, _requested_times(info, state, report=False), now=now
    )
    action = (
        reverse("requests:resubmit", args=[resubmit_of.pk])
        if resubmit_of is not None
        else reverse("requests:new")
    )
    rows: list[dict[str, Any]] = [
        {
            "slot": slot,
            "checked": slot.key in state.chosen,
            "time": state.times.get(slot.key, slot.expected_text),
            "errors": state.errors.get(f"slot:{slot.key}", []),
        }
        for slot in info.slots
        if resubmit_of is None or slot.key == resubmit_of.slot_key
    ]
    remaining = info.quota.get("remaining")
    return {
        "info": info,
        "state": state,
        "rows": rows,
        "preview": preview,
        "resubmit_of": resubmit_of,
        "form_action": action,
        "any_selectable": any(r["slot"].selectable for r in rows) or resubmit_of is not None,
        "quota_exhausted": remaining is not None and remaining <= 0,
        "self_apply_message": refusal_message(p.Refusal(p.NOT_ALLOWED_TO_SELF_APPLY, {})),
    }


def _render_apply(
    request: HttpRequest, info: ps.ApplyInfo, state: FormState, status: int = 200, **kwargs: Any
) -> HttpResponse:
    context = {**_apply_context(info, state, **kwargs), **_nav(request, "mine")}
    return render(request, "corrections/apply.html", context, status=status)


def _chooser(request: HttpRequest, employee: Employee) -> HttpResponse:
    """No day given: the anomalies still open for a correction, each a link to the form."""
    now = timezone.now()
    quota = selectors.quota_for(employee, now=now)
    me = employee_of(request.user)
    on_behalf = me is None or me.pk != employee.pk
    return render(
        request,
        "corrections/apply_pick.html",
        {
            "employee": employee,
            "on_behalf": on_behalf,
            "quota": quota,
            "anomalies": _open_anomalies(employee, quota, on_behalf=on_behalf),
            "today": now.astimezone(employee_zone(employee)).date(),
            **_nav(request, "mine"),
        },
    )


@text_checked
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def new(request: HttpRequest) -> HttpResponse:
    """申请补卡: GET ?day=YYYY-MM-DD&slot=in1[&employee=NO] shows the form pre-filled with
    the missing slot and its shift time; POST files one request per chosen slot."""
    source = request.POST if request.method == "POST" else request.GET
    employee = _employee_for(request, source.get("employee"))
    day = parse_day(source.get("day"))
    if day is None:
        if request.method == "POST":
            raise Http404
        return _chooser(request, employee)
    now = timezone.now()
    info = ps.apply_info(actor=request.user, employee=employee, day=day, now=now)
    if request.method != "POST":
        state = _initial(info, [k for k in source.getlist("slot")[: services.MAX_ITEMS] if k])
        return _render_apply(request, info, state)

    state = _posted(request, info)
    times = _requested_times(info, state)
    status = 422
    if not state.errors:
        try:
            created = services.correction_submit(
                actor=request.user,
                employee=employee,
                items=_items(info, state, times),
                channel=_channel(request),
                attachments=_uploads(request),
            )
        except NotFoundError as missing:
            raise Http404 from missing
        except DomainError as error:
            _place_refusal(state, error, [k for k in state.chosen if k in times], info)
            status = error.status
        else:
            messages.success(
                request,
                ngettext(
                    "Your correction request was submitted.",
                    "%(n)d correction requests were submitted.",
                    len(created),
                )
                % {"n": len(created)},
            )
            if len(created) == 1:
                return redirect(_detail_url(created[0].pk))
            return redirect("requests:mine")
    if request.FILES:
        state.add_error("attachments", _("Choose the files again: they were not kept."))
    return _render_apply(request, info, state, status, now=now)


@login_required
@require_POST
def preview(request: HttpRequest) -> HttpResponse:
    """htmx: the day's slots as they would be with the chosen slots at the typed times."""
    employee = _employee_for(request, request.POST.get("employee"))
    day = parse_day(request.POST.get("day"))
    if day is None:
        raise Http404
    info = ps.apply_info(actor=request.user, employee=employee, day=day)
    fixed = request.POST.get("fixed_slot") or None
    state = _posted(request, info, fixed=fixed if fixed in info.slot_map else None)
    result = ps.preview_times(employee, day, _requested_times(info, state, report=False))
    return _vary(render(request, "corrections/_preview.html", {"preview": result}))


@text_checked
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def resubmit(request: HttpRequest, pk: int) -> HttpResponse:
    """A new request pre-filled from a rejected one, linked to it (while the window is open)."""
    original = _get(request, pk)
    if request.method != "POST" and not ps.can_resubmit(request.user, original):
        messages.error(request, _("This request cannot be resubmitted."))
        return redirect(_detail_url(pk))
    employee = (
        Employee.objects.select_related("attendance_group", "department", "user")
        .filter(pk=original.employee_id)
        .get()
    )
    now = timezone.now()
    info = ps.apply_info(actor=request.user, employee=employee, day=original.date, now=now)
    if request.method != "POST":
        tz = info.tz
        state = FormState(
            chosen=[original.slot_key],
            times={
                **{s.key: s.expected_text for s in info.slots},
                original.slot_key: original.requested_time.astimezone(tz).strftime("%H:%M"),
            },
            category=original.category.code,
            reason=original.reason,
            expedited=original.expedited,
            justification=original.expedite_justification,
        )
        return _render_apply(request, info, state, resubmit_of=original, now=now)

    state = _posted(request, info, fixed=original.slot_key)
    times = _requested_times(info, state)
    status = 422
    if not state.errors:
        try:
            created = services.correction_resubmit(
                actor=request.user,
                request=original,
                requested_time=times.get(original.slot_key),
                category=state.category,
                reason=state.reason,
                expedited=state.expedited,
                justification=state.justification if state.expedited else "",
                channel=_channel(request),
                attachments=_uploads(request),
            )
        except NotFoundError as missing:
            raise Http404 from missing
        except DomainError as error:
            _place_refusal(state, error, [original.slot_key], info)
            status = error.status
        else:
            messages.success(request, _("Your correction request was submitted again."))
            return redirect(_detail_url(created.pk))
    if request.FILES:
        state.add_error("attachments", _("Choose the files again: they were not kept."))
    return _render_apply(request, info, state, status, resubmit_of=original, now=now)


# --------------------------------------------------------------------------- my requests


STATUS_FILTERS = [(s.value, s.label) for s in Status]


@login_required
@require_safe
def mine(request: HttpRequest) -> HttpResponse:
    """我的申请: requests filed by or for me, with what is still open to correct."""
    status = request.GET.get("status", "")
    if status not in Status.values:
        status = ""
    now = timezone.now()
    page = Paginator(ps.my_requests(request.user, status=status), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    me = employee_of(request.user)
    quota, anomalies = None, []
    if me is not None:
        me = Employee.objects.select_related("attendance_group").get(pk=me.pk)
        quota = selectors.quota_for(me, now=now)
        anomalies = _open_anomalies(me, quota, on_behalf=False)
    return render(
        request,
        "corrections/mine.html",
        {
            "page": page,
            "rows": ps.rows_for(page.object_list, now=now),
            "status": status,
            "status_filters": STATUS_FILTERS,
            "quota": quota,
            "anomalies": anomalies,
            "now": now,
            **_nav(request, "mine"),
        },
    )


def _adjusted(req: CorrectionRequest, value: str) -> tuple[datetime | None, str | None]:
    """An approver's HH:MM as a moment in the slot's window; (None, None) when unchanged."""
    value = (value or "").strip()
    if not value:
        return None, None
    clock = parse_clock(value)
    if clock is None:
        return None, _("Enter the time as HH:MM.")
    tz = employee_zone(req.employee)
    if req.requested_time.astimezone(tz).strftime("%H:%M") == clock.strftime("%H:%M"):
        return None, None
    slots = {s.key: s for s in ps.day_slots(req.employee, req.date, correctable=frozenset())}
    slot = slots.get(req.slot_key)
    if slot is None:
        return datetime.combine(req.date, clock, tzinfo=tz), None
    return slot.at(clock, req.date, tz), None


def _detail(
    request: HttpRequest,
    pk: int,
    *,
    errors: dict[str, str] | None = None,
    posted: QueryDict | None = None,
    status: int = 200,
) -> HttpResponse:
    try:
        detail = ps.request_detail(request.user, pk)
    except NotFoundError as missing:
        raise Http404 from missing
    errors = errors or {}
    shown = {
        "approve": detail.can_act,
        "reject": detail.can_act,
        "transfer": detail.can_act,
        "withdraw": detail.can_withdraw,
        "attach": detail.can_attach,
        "comment": detail.can_comment,
    }
    return render(
        request,
        "corrections/detail.html",
        {
            "d": detail,
            "req": detail.req,
            "errors": errors,
            # a refusal by a form the page no longer shows (e.g. withdrawn meanwhile)
            "top_errors": [m for form, m in errors.items() if not shown.get(form)],
            "posted": posted or QueryDict(),
            # the people what was typed could mean, offered again after a refused transfer
            "transfer_people": people_to_pick(posted.get("to", "") if posted else "")
            if "transfer" in errors
            else [],
            **_nav(request),
        },
        status=status,
    )


@login_required
@require_safe
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One request: the routing form (电子流转单), proof, preview and what I may do."""
    return _detail(request, pk)


@login_required
@require_POST
def detail_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """htmx: the day as it would be with the approver's adjusted time."""
    req = _get(request, pk)
    req.employee = Employee.objects.select_related("attendance_group").get(pk=req.employee_id)
    moment, problem = _adjusted(req, request.POST.get("adjusted_time", ""))
    result = None if problem else ps.request_preview(req, adjusted=moment)
    return _vary(
        render(request, "corrections/_preview.html", {"preview": result, "problem": problem})
    )


class _Approved:
    """The message after an approval: final (the punch is recorded) or on to the next step."""

    def __call__(self, req: CorrectionRequest) -> str:
        if req.status == Status.APPROVED:
            return _("Approved: the correction punch is recorded and the day recomputed.")
        return _("Approved: the request goes on to the next step.")


_APPROVED = _Approved()


def _act(request: HttpRequest, pk: int, form: str, run, done) -> HttpResponse:
    """Run one service on the request; a refusal re-renders the page with it by the form."""
    req = _get(request, pk)
    try:
        result = run(req)
    except NotFoundError as missing:
        raise Http404 from missing
    except DomainError as error:
        return _detail(
            request, pk, errors={form: error.message}, posted=request.POST, status=error.status
        )
    messages.success(request, done(result) if callable(done) else done)
    target = result.pk if isinstance(result, CorrectionRequest) else pk
    return redirect(_detail_url(target))


@text_checked
@login_required
@require_POST
def approve(request: HttpRequest, pk: int) -> HttpResponse:
    def run(req: CorrectionRequest):
        req.employee = Employee.objects.select_related("attendance_group").get(pk=req.employee_id)
        moment, problem = _adjusted(req, request.POST.get("adjusted_time", ""))
        if problem:
            raise DomainError("bad_time", problem)
        return services.correction_approve(
            actor=request.user,
            request=req,
            comment=request.POST.get("comment", "")[:COMMENT_MAX],
            adjusted_time=moment,
        )

    return _act(request, pk, "approve", run, _APPROVED)


@text_checked
@login_required
@require_POST
def reject(request: HttpRequest, pk: int) -> HttpResponse:
    def run(req: CorrectionRequest):
        return services.correction_reject(
            actor=request.user, request=req, reason=request.POST.get("reason", "")[:COMMENT_MAX]
        )

    return _act(request, pk, "reject", run, _("Rejected; the applicant has been told why."))


@text_checked
@login_required
@require_POST
def transfer(request: HttpRequest, pk: int) -> HttpResponse:
    def run(req: CorrectionRequest):
        typed = request.POST.get("to", "")
        to_user = user_named(typed)
        if to_user is None and len(people_to_pick(typed, limit=2)) > 1:
            message = _("Several people match “%(typed)s”: choose one from the list.")
            raise DomainError("ambiguous_person", message % {"typed": typed.strip()[:60]})
        return services.correction_transfer(
            actor=request.user,
            request=req,
            to_user=to_user,
            comment=request.POST.get("comment", "")[:COMMENT_MAX],
        )

    return _act(request, pk, "transfer", run, _("Transferred."))


@login_required
@require_safe
def transfer_people(request: HttpRequest) -> HttpResponse:
    """htmx: the people a transfer could go to, as ``<option>``s of the picker's datalist
    (name, number or pinyin initials). Approvers only; typing a number or a name that fits
    one person works without it."""
    if not _may(request, can_approve):
        raise PermissionDenied
    term = request.GET.get("to", "") or request.GET.get("q", "")
    people = people_to_pick(term)
    return _vary(render(request, "corrections/_people.html", {"people": people}))


@text_checked
@login_required
@require_POST
def comment(request: HttpRequest, pk: int) -> HttpResponse:
    def run(req: CorrectionRequest):
        return services.correction_comment(
            actor=request.user, request=req, comment=request.POST.get("comment", "")[:COMMENT_MAX]
        )

    return _act(request, pk, "comment", run, _("Comment added."))


@login_required
@require_safe
def withdraw_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    """撤回: ask before withdrawing (a page of its own, so it works without JS); the
    button posts to ``withdraw``. Whoever may see the request but not withdraw it (or a
    request no longer pending) is sent back to it."""
    try:
        detail = ps.request_detail(request.user, pk)
    except NotFoundError as missing:
        raise Http404 from missing
    if not detail.can_withdraw:
        messages.error(request, _("This request can no longer be withdrawn."))
        return redirect(_detail_url(pk))
    context = {"d": detail, "req": detail.req, **_nav(request)}
    return render(request, "corrections/withdraw_confirm.html", context)


@login_required
@require_safe
def approve_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    """The one-tap approve page an approval e-mail links to: after signing in (never a
    link that approves by itself), the request and one button that posts to ``approve``
    — the same service and permission checks as the request's page. Whoever may see the
    request but not decide this step (or a request already decided) is sent to it."""
    try:
        detail = ps.request_detail(request.user, pk)
    except NotFoundError as missing:
        raise Http404 from missing
    if not detail.can_act:
        messages.error(request, _("You cannot approve this request (any more)."))
        return redirect(_detail_url(pk))
    context = {"d": detail, "req": detail.req, **_nav(request)}
    return render(request, "corrections/approve_confirm.html", context)


@login_required
@require_POST
def withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    def run(req: CorrectionRequest):
        return services.correction_withdraw(actor=request.user, request=req)

    done = _("Withdrawn; the place in your limit is free again.")
    return _act(request, pk, "withdraw", run, done)


@login_required
@require_POST
def attach(request: HttpRequest, pk: int) -> HttpResponse:
    uploads = _uploads(request)

    def run(req: CorrectionRequest):
        if not uploads:
            raise DomainError("no_file", _("Choose a photo or a PDF file."))
        with transaction.atomic():  # all the chosen files, or none
            for upload in uploads:
                services.attachment_add(actor=request.user, request=req, file=upload)
        return req

    done = ngettext("%(n)d file added.", "%(n)d files added.", len(uploads)) % {"n": len(uploads)}
    return _act(request, pk, "attach", run, done)


# --------------------------------------------------------------------------- inbox


def _type_choices() -> list[tuple[str, str]]:
    return ps.inbox_type_choices()


def _filters(params: QueryDict, see_all: bool) -> ps.InboxFilters:
    view = params.get("view", "waiting")
    if view != "all" or not see_all:
        view = "waiting"
    kind = params.get("type", "")
    if view == "all" or kind not in {k for k, _label in _type_choices()}:
        kind = ""
    status = params.get("status", Status.PENDING if view == "all" else "")
    if status not in Status.values:
        status = ""
    start, end = parse_day(params.get("from")), parse_day(params.get("to"))
    return ps.InboxFilters(
        view=view,
        status=status,
        search=params.get("q", "").strip()[:60],
        date_from=start,
        date_to=end,
        type=kind,
    )


def _inbox(
    request: HttpRequest,
    params: QueryDict,
    *,
    errors: dict[Any, str] | None = None,
    summary: list[str] | None = None,
    checked: set[Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    now = timezone.now()
    filters = _filters(params, _may(request, can_see_team))
    truncated = False
    page: Page[CorrectionRequest] | Page[Any]
    if filters.view == "all":
        page = Paginator(ps.all_requests(request.user, filters), INBOX_PAGE_SIZE).get_page(
            params.get("page")
        )
        rows = ps.all_rows(request.user, page.object_list, now=now)
        waiting = ps.waiting_count(request.user)
    else:
        found, truncated = ps.one_inbox(request.user, filters, now=now)
        page = Paginator(found, INBOX_PAGE_SIZE).get_page(params.get("page"))
        rows = list(page.object_list)
        waiting = page.paginator.count
    query = params.copy()
    query.pop("page", None)
    errors = errors or {}
    summary = list(summary or [])
    shown = set()
    for row in rows:
        key = row.key if isinstance(row, inboxes.InboxRow) else row.req.pk
        shown.add(key)
        row.error = errors.get(key, "")
        row.checked = key in (checked or set())
    for key, message in errors.items():  # a refused request no longer listed: say so on top
        if key not in shown:
            summary.append(f"#{str(key).rpartition(':')[2]}: {message}")
    return _vary(
        render(
            request,
            "corrections/inbox.html",
            {
                "filters": filters,
                "page": page,
                "rows": rows,
                "waiting": waiting,
                "truncated": truncated,
                "query": query.urlencode(),
                "status_filters": STATUS_FILTERS,
                "can_see_all": _may(request, can_see_team),
                "any_batch": any(isinstance(r, inboxes.InboxRow) or r.can_batch for r in rows),
                "type_choices": _type_choices() if filters.view == "waiting" else [],
                "summary": summary,
                "now": now,
                **_nav(request, "inbox"),
            },
            status=status,
        )
    )


@login_required
@require_safe
def inbox(request: HttpRequest) -> HttpResponse:
    """审批: waiting for me (overdue first, expedited marked), or all I may see."""
    return _inbox(request, request.GET)


@login_required
@require_POST
def batch_approve(request: HttpRequest) -> HttpResponse:
    """Approve the ticked requests of every type at once, all or nothing: corrections
    (``ids``) through their batch service, the others (``pick`` = ``type:id``) each
    through its own approve service (``approvals.inboxes.approve_picked``)."""
    params = clean_query(QueryDict(request.POST.get("query", "")[:2000]))
    ids = parse_ids(request.POST.getlist("ids")[:MAX_BATCH])
    picks = inboxes.parse_picks(request.POST.getlist("pick"), MAX_BATCH)
    picked = {f"{source}:{pk}" for source, pks in picks.items() for pk in pks}
    if not ids and not picks:
        return _inbox(request, params, summary=[_("Tick the requests to approve.")], status=422)
    found = {
        r.pk: r
        for r in selectors.corrections_for(request.user, scope="to_approve").filter(pk__in=ids)
    }
    missing = [i for i in ids if i not in found]
    if missing:
        message = _("This request is no longer waiting for you.")
        return _inbox(
            request,
            params,
            errors=dict.fromkeys(missing, message),
            summary=[message],
            checked={*ids, *picked},
            status=422,
        )
    comment = request.POST.get("comment", "")[:COMMENT_MAX]
    try:
        with transaction.atomic():  # every type's, or none
            approved = len(
                services.correction_batch_approve(
                    actor=request.user, requests=[found[i] for i in ids], comment=comment
                )
                if ids
                else []
            )
            approved += inboxes.approve_picked(actor=request.user, picks=picks, comment=comment)
    except DomainError as error:
        errors: dict[Any, str] = {}
        for failure in error.details if isinstance(error.details, list) else []:
            if not isinstance(failure, dict):
                continue
            key = failure.get("key") or failure.get("id")
            if isinstance(key, (int, str)):
                errors.setdefault(key, str(failure.get("message", "")))
        summary = [_("Nothing was approved: fix or untick the requests marked below.")]
        if not errors:
            summary.append(error.message)
        return _inbox(
            request,
            params,
            errors=errors,
            summary=summary,
            checked={*ids, *picked},
            status=error.status,
        )
    messages.success(
        request,
        ngettext("%(n)d request approved.", "%(n)d requests approved.", approved) % {"n": approved},
    )
    query = params.urlencode()
    return redirect(inbox_url() + (f"?{query}" if query else ""))


# --------------------------------------------------------------------------- several days
# 多天连续未打可以一起申诉: the red slots chosen on the month view filed as one batch — one
# reason, category and proof for all, one request per slot, all or nothing (the service of
# the single-slot form and the API). GET /requests/batch/?slot=YYYY-MM-DD:key&slot=…
# [&employee=NO] shows the chosen slots with what each would be refused with up front; POST
# files them; a refusal refuses the whole batch and is shown on its slot (HTTP 422).

# Shown on the slot they concern (with the quota: each slot beyond the limit says so).
ON_SLOT = p.SLOT_CODES | {p.FUTURE_TIME, p.TIME_OUTSIDE_SLOT_WINDOW}


class BatchState(FormState):
    """The batch form holds what the single form holds (its expedite fields stay unused:
    a batch is never expedited) and reports errors on slots the same way."""


def _batch_time_field(slot: ps.BatchSlot) -> str:
    return f"time_{slot.day.isoformat()}_{slot.slot.key}"


def _batch_state(request: HttpRequest, info: ps.BatchInfo) -> BatchState:
    first = info.categories[0].code if info.categories else ""
    times = {s.name: s.slot.expected_text for s in info.slots}
    if request.method != "POST":
        return BatchState(
            chosen=[s.name for s in info.slots if s.correctable], times=times, category=first
        )
    post = request.POST
    wanted = {f"{d.isoformat()}:{k}" for d, k in ps.parse_slot_names(post.getlist("slot"))}
    for s in info.slots:
        if _batch_time_field(s) in post:
            times[s.name] = post.get(_batch_time_field(s), "")[:8]
    return BatchState(
        chosen=[s.name for s in info.slots if s.name in wanted],
        times=times,
        category=post.get("category", "")[:32],
        reason=post.get("reason", "")[:TEXT_MAX],
    )


def _batch_items(
    info: ps.BatchInfo, state: BatchState
) -> tuple[list[str], list[services.ItemIn]] | None:
    """The chosen slots as items (in the order shown); None when a time is unreadable
    (reported on its slot)."""
    names: list[str] = []
    items: list[services.ItemIn] = []
    for name in state.chosen:
        slot = info.by_name[name]
        clock = parse_clock(state.times.get(name))
        if clock is None:
            message = _("Enter the time of %(slot)s as HH:MM.") % {"slot": slot.slot.label}
            state.add_error(f"slot:{name}", message)
            continue
        names.append(name)
        items.append(
            services.ItemIn(
                day=slot.day,
                slot_key=slot.slot.key,
                requested_time=slot.slot.at(clock, slot.day, info.tz),
                category=state.category,
                reason=state.reason,
            )
        )
    if state.errors:
        return None
    return names, items


def _batch_quota_summary(info: ps.BatchInfo, state: BatchState, details: list[dict]) -> None:
    """One sentence for the batch when it goes beyond the limit: how many fit."""
    if not any(d.get("code") == p.MONTHLY_LIMIT_REACHED for d in details):
        return
    remaining = info.quota.get("remaining")
    if remaining is None:
        return
    state.summary.insert(
        0,
        ngettext(
            "You chose %(n)d punches, but only %(left)d correction is left in this period "
            "(limit %(limit)d): choose fewer, or ask HR.",
            "You chose %(n)d punches, but only %(left)d corrections are left in this period "
            "(limit %(limit)d): choose fewer, or ask HR.",
            remaining,
        )
        % {"n": len(state.chosen), "left": remaining, "limit": info.quota.get("limit") or 0},
    )


def _batch_place(
    info: ps.BatchInfo, state: BatchState, error: DomainError, names: list[str]
) -> None:
    details = error.details if isinstance(error.details, list) else None
    if error.code == INVALID_TEXT and isinstance(error.details, dict):
        state.add_error(str(error.details.get("field") or "form"), error.message)
        return
    if not details:
        state.add_error(FIELD_OF_CODE.get(error.code, "form"), error.message)
        return
    labels = {c.code: c.name for c in info.categories}
    for refusal in details:
        if not isinstance(refusal, dict):
            continue
        code, message = refusal.get("code", ""), str(refusal.get("message", ""))
        index = refusal.get("index")
        name = names[index] if isinstance(index, int) and 0 <= index < len(names) else None
        params = refusal.get("params")
        if code in REFUSAL_MESSAGES and isinstance(params, dict):
            message = refusal_message(p.Refusal(code, params), category_labels=labels)
            if code == p.MONTHLY_LIMIT_REACHED and _beyond_in_batch(info, params):
                message = _(
                    "Beyond the limit of %(limit)s corrections for %(period_start)s – "
                    "%(period_end)s, counting the punches chosen before this one."
                ) % {k: params.get(k, "") for k in ("limit", "period_start", "period_end")}
        if code in ON_SLOT and name is not None:
            state.add_error(f"slot:{name}", message)
        else:
            state.add_error(FIELD_OF_CODE.get(code, "form"), message)
    _batch_quota_summary(info, state, details)


def _beyond_in_batch(info: ps.BatchInfo, params: dict) -> bool:
    """The limit is passed only because of the slots chosen before this one (not by what
    was stored before the batch)."""
    quota = info.quota
    stored = quota.get("used")
    start = quota.get("period_start")
    return (
        isinstance(stored, int)
        and start is not None
        and params.get("period_start") == start.isoformat()
        and isinstance(params.get("used"), int)
        and params["used"] > stored
    )


def _batch_month_url(info: ps.BatchInfo, day: date | None) -> str:
    query = f"?month={day:%Y-%m}" if day else ""
    if info.on_behalf:
        return reverse("attendance:employee_month", args=[info.employee.employee_no]) + query
    return reverse("attendance:home") + query


@text_checked
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def batch(request: HttpRequest) -> HttpResponse:
    """申请补卡 for several days: the slots chosen on the month view, one set of details."""
    source = request.POST if request.method == "POST" else request.GET
    employee = _employee_for(request, source.get("employee"))
    now: datetime = timezone.now()
    # Every slot shown stays on the page after a refusal, ticked or not (``shown``).
    chosen = ps.parse_slot_names(source.getlist("shown") or source.getlist("slot"))
    info = ps.batch_info(actor=request.user, employee=employee, chosen=chosen, now=now)
    state = _batch_state(request, info)
    status = 200
    if request.method == "POST":
        status = 422
        if not state.chosen:
            state.add_error("form", str(services.MESSAGES[services.NO_ITEMS]))
        else:
            parsed = _batch_items(info, state)
            if parsed is not None:
                names, items = parsed
                try:
                    created = services.correction_submit(
                        actor=request.user,
                        employee=employee,
                        items=items,
                        channel=_channel(request),
                        attachments=_uploads(request),
                    )
                except DomainError as error:
                    _batch_place(info, state, error, names)
                    status = error.status
                else:
                    messages.success(
                        request,
                        ngettext(
                            "Your correction request was submitted.",
                            "%(n)d correction requests were submitted.",
                            len(created),
                        )
                        % {"n": len(created)},
                    )
                    return redirect(_batch_month_url(info, created[0].date))
        if request.FILES:
            state.add_error("attachments", _("Choose the files again: they were not kept."))
    rows = [
        {
            "item": s,
            "checked": s.name in state.chosen,
            "time": state.times.get(s.name, s.slot.expected_text),
            "time_field": _batch_time_field(s),
            "reasons": [refusal_message(r) for r in s.refusals],
            "errors": state.errors.get(f"slot:{s.name}", []),
        }
        for s in info.slots
    ]
    context = {
        "info": info,
        "state": state,
        "rows": rows,
        "back_url": _batch_month_url(info, info.slots[0].day if info.slots else None),
        "any_selectable": any(s.correctable for s in info.slots),
        **_nav(request, "mine"),
    }
    return render(request, "corrections/batch.html", context, status=status)

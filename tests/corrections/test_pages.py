"""The correction pages: apply form (申请补卡), 我的申请 with the routing form, the inbox.

Pages are thin over the services, so these tests pin what the pages add: what is
pre-filled, where refusals show (422, nothing typed lost), the htmx preview, the
timeline, the inbox order and batch approval, who gets which page, and a fixed number of
queries for the lists. Messages are asserted in their English source form.
"""

from __future__ import annotations

import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from ztk.approvals.models import ActionKind
from ztk.attendance.page_selectors import day_detail
from ztk.corrections.models import (
    Attachment,
    ChainPreset,
    CorrectionPolicy,
    CorrectionRequest,
    ReasonCategory,
    Status,
)
from ztk.corrections.services import (
    correction_approve,
    correction_comment,
    correction_reject,
    correction_transfer,
    delegation_create,
)

from .conftest import MON, NOW, TUE, WED, at, item, only_checkout, submit
from .test_attachments import PDF, PNG

pytestmark = pytest.mark.django_db

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}


# --------------------------------------------------------------------------- helpers


class _Element:
    def __init__(self, tag: str, attrs: dict[str, str]) -> None:
        self.tag, self.attrs, self.parts = tag, attrs, []

    @property
    def text(self) -> str:
        return re.sub(r"\s+", " ", "".join(self.parts)).strip()

    def has_class(self, name: str) -> bool:
        return name in self.attrs.get("class", "").split()


class _Finder(HTMLParser):
    """Elements whose tag and attributes match, each with the text inside it."""

    def __init__(self, tag: str | None, attrs: dict[str, str | None]) -> None:
        super().__init__(convert_charrefs=True)
        self.want_tag, self.want = tag, attrs
        self.found: list[_Element] = []
        self.open: list[tuple[str, _Element | None]] = []

    def _matches(self, tag: str, attrs: dict[str, str]) -> bool:
        if self.want_tag and tag != self.want_tag:
            return False
        for key, value in self.want.items():
            if key == "class_":
                if value not in attrs.get("class", "").split():
                    return False
            elif value is None:
                if key not in attrs:
                    return False
            elif attrs.get(key) != value:
                return False
        return True

    def handle_starttag(self, tag, attrs):
        attrs = {k: v or "" for k, v in attrs}
        element = _Element(tag, attrs) if self._matches(tag, attrs) else None
        if element is not None:
            self.found.append(element)
        if tag not in VOID:
            self.open.append((tag, element))

    def handle_endtag(self, tag):
        for index in range(len(self.open) - 1, -1, -1):
            if self.open[index][0] == tag:
                del self.open[index:]
                break

    def handle_data(self, data):
        for _tag, element in self.open:
            if element is not None:
                element.parts.append(data)


def find_all(html: str, tag: str | None = None, **attrs: str | None) -> list[_Element]:
    names = {k: k if k == "class_" else k.replace("_", "-") for k in attrs}
    finder = _Finder(tag, {names[k]: v for k, v in attrs.items()})
    finder.feed(html)
    return finder.found


def find(html: str, tag: str | None = None, **attrs: str | None) -> _Element:
    found = find_all(html, tag, **attrs)
    assert found, f"no <{tag or '*'} {attrs}> in the page"
    return found[0]


def page(response) -> str:
    return response.content.decode()


@pytest.fixture
def as_user(client):
    """A client signed in as `user`, reading English pages."""

    def sign_in(user):
        client.logout()
        client.force_login(user)
        client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
        return client

    return sign_in


@pytest.fixture
def monday(week):
    """张三 checked out but never checked in on Monday (his check-in slot is red)."""
    only_checkout(week.employee, MON)
    return week


def set_preset(org, preset, **fields):
    return CorrectionPolicy.objects.update_or_create(
        group=org.group, defaults={"chain_preset": preset, **fields}
    )[0]


def new_url(day=MON, slot: str | None = "in1", **extra) -> str:
    params = {"day": day.isoformat(), **({"slot": slot} if slot else {}), **extra}
    return reverse("requests:new") + "?" + "&".join(f"{k}={v}" for k, v in params.items())


def form_data(day=MON, **fields):
    data = {
        "day": day.isoformat(),
        "slot": "in1",
        "time_in1": "08:58",
        "category": "forgot",
        "reason": "早上忘记打卡了",
    }
    data.update(fields)
    return data


# --------------------------------------------------------------------------- apply form


def test_the_form_is_prefilled_with_the_missing_slot_and_the_shift_time(monday, as_user):
    client = as_user(monday.employee.user)

    response = client.get(new_url())

    assert response.status_code == 200
    html = page(response)
    assert "checked" in find(html, "input", name="slot", value="in1").attrs
    assert find(html, "input", name="time_in1").attrs["value"] == "09:00"
    checkout = find(html, "input", name="slot", value="out1")  # punched at 18:02: not offered
    assert "disabled" in checkout.attrs and "checked" not in checkout.attrs
    assert find_all(html, "input", name="time_out1") == []
    # what is left this period and until when
    assert find(html, "dd", data_remaining=None).attrs["data-remaining"] == "3"
    assert find(html, "dd", data_last_day=None).attrs["data-last-day"] == "2026-11-26"
    # categories from the policy; the camera upload
    options = [o.attrs["value"] for o in find_all(html, "option")]
    assert options[0] == "forgot" and "device" in options
    assert "selected" in find(html, "option", value="forgot").attrs
    upload = find(html, "input", type="file")
    assert upload.attrs["accept"] == "image/*,application/pdf"
    assert upload.attrs["capture"] == "environment" and "multiple" in upload.attrs
    # the preview: the day as it would be at the shift time
    row = find(html, "tr", data_slot="in1")
    assert row.has_class("is-previewed") and "Corrected (补卡)" in row.text
    assert "09:00" in row.text


def test_categories_show_which_require_an_attachment(monday, as_user):
    ReasonCategory.objects.filter(code="device").update(requires_attachment=True)
    html = page(as_user(monday.employee.user).get(new_url()))
    assert find(html, "option", value="device").text == "设备故障 (attachment required)"
    assert find(html, "option", value="forgot").text == "忘记打卡"


def test_expedite_is_offered_only_when_the_policy_allows_it(monday, as_user):
    client = as_user(monday.employee.user)
    assert find_all(page(client.get(new_url())), "input", name="expedited")
    set_preset(monday, ChainPreset.MULTI, expedite_allowed=False)
    assert not find_all(page(client.get(new_url())), "input", name="expedited")


def test_submitting_files_one_request_and_opens_it(monday, as_user):
    client = as_user(monday.employee.user)
    photo = SimpleUploadedFile("terminal.png", PNG, content_type="image/png")

    response = client.post(
        reverse("requests:new"),
        {**form_data(), "attachments": [photo]},
        HTTP_USER_AGENT="Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) Mobile/15E148",
    )

    (req,) = CorrectionRequest.objects.all()
    assert response.status_code == 302
    assert response["Location"] == reverse("requests:detail", args=[req.pk])
    assert (req.slot_key, req.requested_time, req.channel) == ("in1", at(MON, 8, 58), "mobile")
    assert req.attachments.get().content_type == "image/png"
    follow = client.get(response["Location"])
    assert "Your correction request was submitted." in page(follow)


def test_several_missing_slots_of_one_day_each_with_its_own_time(week, as_user):
    # given: no punch at all on Monday — both slots are missing
    client = as_user(week.employee.user)
    html = page(client.get(new_url(slot=None)))
    assert "checked" in find(html, "input", name="slot", value="in1").attrs
    assert "checked" in find(html, "input", name="slot", value="out1").attrs

    # when
    data = form_data(slot=["in1", "out1"], time_out1="18:03")
    response = client.post(reverse("requests:new"), data)

    # then: one request per slot, each at its own time
    assert response.status_code == 302 and response["Location"] == reverse("requests:mine")
    times = dict(CorrectionRequest.objects.values_list("slot_key", "requested_time"))
    assert times == {"in1": at(MON, 8, 58), "out1": at(MON, 18, 3)}


def test_every_refusal_shows_next_to_its_item_with_422_and_nothing_typed_is_lost(monday, as_user):
    ReasonCategory.objects.filter(code="device").update(requires_attachment=True)
    client = as_user(monday.employee.user)

    response = client.post(
        reverse("requests:new"),
        form_data(time_in1="14:00", category="device", reason="忘了"),
    )

    assert response.status_code == 422
    assert not CorrectionRequest.objects.exists()
    html = page(response)
    slot = find(html, "div", data_slot="in1")
    assert "is outside the punch window of Check-in" in slot.text
    reason = find(html, "textarea", name="reason")
    assert reason.text == "忘了"  # kept
    assert find(html, "input", name="time_in1").attrs["value"] == "14:00"
    assert "selected" in find(html, "option", value="device").attrs
    # field refusals by their fields, and all of them in the summary on top
    labels = " ".join(e.text for e in find_all(html, "label", class_="invalid"))
    assert "The reason must be at least 5 characters long." in labels
    fields = " ".join(e.text for e in find_all(html, "div", class_="invalid"))
    assert "The reason category “设备故障” requires at least one attachment." in fields
    summary = find(html, "div", id="form-errors").text
    for text in ("outside the punch window", "at least 5 characters", "attachment"):
        assert text in summary


def test_a_refused_item_among_several_is_marked_on_that_item_only(week, as_user):
    only_checkout(week.employee, MON)  # check-out punched, check-in missing
    client = as_user(week.employee.user)

    response = client.post(
        reverse("requests:new"), form_data(slot=["in1", "out1"], time_out1="18:10")
    )

    assert response.status_code == 422
    html = page(response)
    assert "already has a valid punch" in find(html, "div", data_slot="out1").text
    assert find(html, "div", data_slot="in1").text.count("already") == 0
    assert not CorrectionRequest.objects.exists()


def test_an_unreadable_time_is_refused_by_the_form(monday, as_user):
    response = as_user(monday.employee.user).post(
        reverse("requests:new"), form_data(time_in1="nine")
    )
    assert response.status_code == 422
    assert (
        "Enter the time of Check-in as HH:MM." in find(page(response), "div", data_slot="in1").text
    )


def test_the_limit_refusal_shows_on_the_limit(monday, as_user):
    set_preset(monday, ChainPreset.MULTI, monthly_limit=1)
    only_checkout(monday.employee, TUE)
    submit(monday.employee.user, monday.employee, item(TUE))

    response = as_user(monday.employee.user).post(reverse("requests:new"), form_data())

    assert response.status_code == 422
    html = page(response)
    assert find(html, "dd", data_remaining=None).attrs["data-remaining"] == "0"
    assert "The limit of 1 corrections" in find(html, "section", id="quota").text


def test_a_pending_slot_links_to_its_request_instead_of_offering_it(monday, as_user):
    (req,) = submit(monday.employee.user, monday.employee)
    html = page(as_user(monday.employee.user).get(new_url()))
    assert "disabled" in find(html, "input", name="slot", value="in1").attrs
    assert find(html, "a", href=reverse("requests:detail", args=[req.pk])).text == (
        f"Already requested (#{req.pk}, pending)"
    )


def test_without_a_day_the_form_lists_what_is_still_open(monday, as_user):
    html = page(as_user(monday.employee.user).get(reverse("requests:new")))
    link = find(html, "a", href=new_url())
    assert "2026-11-23" in link.text and "Check-in" in link.text


def test_a_supervisor_files_on_behalf_of_a_report(monday, as_user):
    client = as_user(monday.supervisor.user)
    html = page(client.get(new_url(employee="1002")))
    assert "on behalf of 张三 (1002)" in html
    assert find(html, "input", name="employee").attrs["value"] == "1002"

    response = client.post(reverse("requests:new"), form_data(employee="1002"))

    req = CorrectionRequest.objects.get()
    assert response.status_code == 302
    assert req.on_behalf and req.applicant == monday.supervisor.user
    assert req.employee == monday.employee


# --------------------------------------------------------------------------- preview


def test_the_preview_endpoint_returns_the_day_with_the_corrected_slot(monday, as_user):
    response = as_user(monday.employee.user).post(
        reverse("requests:preview"),
        {"day": MON.isoformat(), "slot": "in1", "time_in1": "08:47"},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 200
    html = page(response)
    assert "<html" not in html  # a fragment for htmx
    row = find(html, "tr", data_slot="in1")
    assert row.has_class("is-previewed")
    assert "08:47" in row.text and "Corrected (补卡)" in row.text
    assert find(html, "span", data_preview_status=None).attrs["data-preview-status"] == "normal"
    assert "HX-Request" in response["Vary"]


def test_the_preview_without_a_chosen_slot_shows_the_day_as_it_is(monday, as_user):
    html = page(
        as_user(monday.employee.user).post(reverse("requests:preview"), {"day": MON.isoformat()})
    )
    assert "Missing punch" in find(html, "tr", data_slot="in1").text


def test_approvers_see_the_same_preview_and_the_adjusted_one(monday, as_user):
    (req,) = submit(monday.employee.user, monday.employee)
    client = as_user(monday.supervisor.user)

    same = find(page(client.get(reverse("requests:detail", args=[req.pk]))), "tr", data_slot="in1")
    adjusted = client.post(
        reverse("requests:detail_preview", args=[req.pk]), {"adjusted_time": "09:00"}
    )

    assert "08:58" in same.text and same.has_class("is-previewed")
    assert "09:00" in find(page(adjusted), "tr", data_slot="in1").text.split("Corrected")[0]
    assert "09:00" in find(page(adjusted), "tr", data_slot="in1").text


def test_the_preview_is_only_for_people_who_may_file_or_see(monday, as_user):
    (req,) = submit(monday.employee.user, monday.employee)
    client = as_user(monday.colleague.user)
    data = {"day": MON.isoformat(), "employee": "1002", "slot": "in1", "time_in1": "08:58"}
    assert client.post(reverse("requests:preview"), data).status_code == 404
    url = reverse("requests:detail_preview", args=[req.pk])
    assert client.post(url, {"adjusted_time": "09:00"}).status_code == 404


# --------------------------------------------------------------------------- detail


def test_the_timeline_shows_each_step_who_when_and_the_comments(monday, as_user):
    # given: supervisor adjusts and approves, HR transfers to the head, who comments and rejects
    (req,) = submit(monday.employee.user, monday.employee)
    correction_approve(
        actor=monday.supervisor.user, request=req, comment="属实", adjusted_time=at(MON, 9, 0)
    )
    correction_transfer(
        actor=monday.hr.user, request=req, to_user=monday.head.user, comment="请部长定"
    )
    correction_comment(actor=monday.head.user, request=req, comment="需要证明")
    correction_reject(actor=monday.head.user, request=req, reason="没有证明材料")

    # when
    html = page(as_user(monday.employee.user).get(reverse("requests:detail", args=[req.pk])))

    # then
    entries = find_all(html, "li", data_action=None)
    assert [e.attrs["data-action"] for e in entries] == [
        "submit",
        "adjust_time",
        "approve",
        "transfer",
        "comment",
        "reject",
    ]
    submitted, adjusted, approved, transferred, commented, rejected = (e.text for e in entries)
    assert "张三" in submitted and "2026-11-25 10:00" in submitted and "早上忘记打卡了" in submitted
    assert "李主管" in adjusted and "08:58 → 09:00" in adjusted and "step 1 Supervisor" in adjusted
    assert "Approved" in approved and "属实" in approved
    assert "陈人事" in transferred and "→ 王部长" in transferred and "请部长定" in transferred
    assert "王部长" in commented and "需要证明" in commented
    assert "Rejected" in rejected and "没有证明材料" in rejected
    steps = find_all(html, "li", data_step=None)
    assert [(s.attrs["data-step"], s.attrs["class"]) for s in steps] == [
        ("1", "step-done"),
        ("2", "step-rejected"),  # where it ended (was a bare "—", issue 12)
    ]
    assert "王部长" in steps[1].text  # the step went to the person it was transferred to
    assert find(html, "span", id="request-status").text == "Rejected"
    assert "08:58 → 09:00" in find(html, "dd", id="requested-time").text


def test_attachments_show_as_thumbnails_through_the_protected_download(monday, as_user):
    (req,) = submit(
        monday.employee.user,
        monday.employee,
        attachments=[
            SimpleUploadedFile("a.png", PNG, content_type="image/png"),
            SimpleUploadedFile("b.pdf", PDF, content_type="application/pdf"),
        ],
    )
    png, pdf = req.attachments.order_by("pk")
    html = page(as_user(monday.supervisor.user).get(reverse("requests:detail", args=[req.pk])))
    png_url = reverse("corrections:attachment", args=[png.pk])
    assert find(html, "img", src=png_url).attrs["alt"] == "a.png"
    assert "PDF" in find(html, "a", href=reverse("corrections:attachment", args=[pdf.pk])).text
    assert not find_all(html, "img", src=reverse("corrections:attachment", args=[pdf.pk]))


def test_actions_by_role(monday, as_user):
    (req,) = submit(monday.employee.user, monday.employee)
    url = reverse("requests:detail", args=[req.pk])

    def forms(user) -> set[str]:
        html = page(as_user(user).get(url))
        found = {
            name
            for name in ("approve", "reject", "transfer", "withdraw", "attach", "comment")
            if find_all(html, "form", action=reverse(f"requests:{name}", args=[req.pk]))
        }
        # withdrawing asks first: the page links to the confirmation, which has the form
        confirm = reverse("requests:withdraw_confirm", args=[req.pk])
        assert "withdraw" not in found
        return found | ({"withdraw"} if find_all(html, "a", href=confirm) else set())

    assert forms(monday.employee.user) == {"withdraw", "attach", "comment"}
    assert forms(monday.supervisor.user) == {"approve", "reject", "transfer", "comment"}
    assert forms(monday.hr.user) == {"attach", "comment"}  # HR acts at the HR step only
    assert forms(monday.head.user) == {"comment"}


def test_approve_with_an_adjusted_time_is_recorded(monday, as_user):
    (req,) = submit(monday.employee.user, monday.employee)
    client = as_user(monday.supervisor.user)

    response = client.post(
        reverse("requests:approve", args=[req.pk]), {"adjusted_time": "08:55", "comment": "查过"}
    )

    assert response.status_code == 302
    req.refresh_from_db()
    assert (req.requested_time, req.original_requested_time) == (at(MON, 8, 55), at(MON, 8, 58))
    assert req.current_step == 2
    adjust = req.actions.get(action=ActionKind.ADJUST_TIME)
    assert (adjust.old_time, adjust.new_time, adjust.actor) == (
        at(MON, 8, 58),
        at(MON, 8, 55),
        monday.supervisor.user,
    )
    assert "goes on to the next step" in page(client.get(response["Location"]))


def test_approving_without_changing_the_time_adjusts_nothing(monday, as_user):
    set_preset(monday, ChainPreset.SINGLE)
    (req,) = submit(monday.employee.user, monday.employee)
    response = as_user(monday.supervisor.user).post(
        reverse("requests:approve", args=[req.pk]), {"adjusted_time": "08:58"}
    )
    assert response.status_code == 302
    req.refresh_from_db()
    assert req.status == Status.APPROVED and req.original_requested_time is None
    assert not req.actions.filter(action=ActionKind.ADJUST_TIME).exists()


def test_an_adjusted_time_outside_the_window_is_refused_on_the_page(monday, as_user):
    (req,) = submit(monday.employee.user, monday.employee)
    response = as_user(monday.supervisor.user).post(
        reverse("requests:approve", args=[req.pk]), {"adjusted_time": "15:00", "comment": "改"}
    )
    assert response.status_code == 422
    html = page(response)
    assert "outside the punch window" in find(html, "form", id="approve-form").text
    assert find(html, "input", name="adjusted_time").attrs["value"] == "15:00"
    req.refresh_from_db()
    assert req.current_step == 1 and req.requested_time == at(MON, 8, 58)


def test_a_rejection_needs_a_reason(monday, as_user):
    (req,) = submit(monday.employee.user, monday.employee)
    client = as_user(monday.supervisor.user)

    refused = client.post(reverse("requests:reject", args=[req.pk]), {"reason": " "})
    assert refused.status_code == 422
    assert "Give a reason for the rejection." in find(page(refused), "form", id="reject-form").text

    done = client.post(reverse("requests:reject", args=[req.pk]), {"reason": "时间不对"})
    assert done.status_code == 302
    req.refresh_from_db()
    assert req.status == Status.REJECTED


def test_transfer_and_comment_from_the_page(monday, as_user):
    (req,) = submit(monday.employee.user, monday.employee)
    client = as_user(monday.supervisor.user)

    bad = client.post(reverse("requests:transfer", args=[req.pk]), {"to": "9999"})
    assert bad.status_code == 422
    assert "cannot be transferred" in page(bad)

    moved = client.post(
        reverse("requests:transfer", args=[req.pk]), {"to": "1000", "comment": "请部长看"}
    )
    assert moved.status_code == 302
    req.refresh_from_db()
    assert req.step()["approvers"] == [monday.head.user_id]

    said = as_user(monday.employee.user).post(
        reverse("requests:comment", args=[req.pk]), {"comment": "照片已补"}
    )
    assert said.status_code == 302
    assert req.actions.filter(action=ActionKind.COMMENT, comment="照片已补").exists()


def test_withdraw_while_pending(monday, as_user):
    (req,) = submit(monday.employee.user, monday.employee)
    client = as_user(monday.employee.user)

    response = client.post(reverse("requests:withdraw", args=[req.pk]))

    assert response.status_code == 302
    req.refresh_from_db()
    assert req.status == Status.WITHDRAWN
    again = client.post(reverse("requests:withdraw", args=[req.pk]))
    assert again.status_code == 422 and "no longer pending" in page(again)


def test_transfer_picks_a_person_by_name_or_initials(monday, as_user):
    (req,) = submit(monday.employee.user, monday.employee)
    type(monday.head).objects.filter(pk=monday.head.pk).update(name_initials="wbz")  # as sync sets
    client = as_user(monday.supervisor.user)
    url = reverse("requests:transfer", args=[req.pk])
    html = page(client.get(reverse("requests:detail", args=[req.pk])))
    picker = find(html, "input", name="to")
    assert picker.attrs["list"] == "transfer-people"
    assert picker.attrs["hx-get"] == reverse("requests:transfer_people")

    # search as you type: name, number or pinyin initials give the people to pick from
    people = reverse("requests:transfer_people")
    for term in ("王部", "1000", "wbz"):
        options = find_all(page(client.get(people, {"to": term})), "option")
        assert [o.attrs["value"] for o in options] == ["1000"], term
    assert "王部长" in page(client.get(people, {"to": "wbz"}))

    # a name that fits several people is refused, and they are offered (no JS needed)
    both = client.post(url, {"to": "李"})
    assert both.status_code == 422 and "Several people match" in page(both)
    offered = {o.attrs["value"] for o in find_all(page(both), "option")}
    assert offered == {"1001", "1003"}

    # the initials of one person are enough, page and API through the same look-up
    moved = client.post(url, {"to": "wbz", "comment": "请部长看"})
    assert moved.status_code == 302
    req.refresh_from_db()
    assert req.step()["approvers"] == [monday.head.user_id]


def test_transfer_people_only_for_approvers(monday, as_user):
    people = reverse("requests:transfer_people")
    assert as_user(monday.employee.user).get(people, {"to": "王"}).status_code == 403
    assert as_user(monday.supervisor.user).get(people, {"to": "王"}).status_code == 200


def test_withdraw_asks_first(monday, as_user):
    (req,) = submit(monday.employee.user, monday.employee)
    client = as_user(monday.employee.user)
    detail = page(client.get(reverse("requests:detail", args=[req.pk])))
    confirm_url = reverse("requests:withdraw_confirm", args=[req.pk])

    # the request page has no one-click withdraw: a link to a confirmation page
    assert not find_all(detail, "form", action=reverse("requests:withdraw", args=[req.pk]))
    assert find(detail, "a", href=confirm_url)
    html = page(client.get(confirm_url))
    form = find(html, "form", action=reverse("requests:withdraw", args=[req.pk]))
    assert form.attrs["method"] == "post"
    assert find(html, "button", type="submit", class_="danger")
    assert find(html, "a", href=reverse("requests:detail", args=[req.pk]))  # keep it
    req.refresh_from_db()
    assert req.status == Status.PENDING  # asking changed nothing

    assert client.post(reverse("requests:withdraw", args=[req.pk])).status_code == 302
    req.refresh_from_db()
    assert req.status == Status.WITHDRAWN
    # once withdrawn, the confirmation sends back to the request
    again = client.get(confirm_url)
    assert again.status_code == 302 and again.url == reverse("requests:detail", args=[req.pk])


def test_withdraw_confirmation_only_for_participants(monday, as_user):
    (req,) = submit(monday.employee.user, monday.employee)
    url = reverse("requests:withdraw_confirm", args=[req.pk])

    assert as_user(monday.supervisor.user).get(url).status_code == 302  # may see, not withdraw
    assert as_user(monday.stranger.user).get(url).status_code == 404


def test_add_attachments_while_pending(monday, as_user):
    (req,) = submit(monday.employee.user, monday.employee)
    client = as_user(monday.employee.user)
    url = reverse("requests:attach", args=[req.pk])

    files = [
        SimpleUploadedFile("1.png", PNG, content_type="image/png"),
        SimpleUploadedFile("2.pdf", PDF, content_type="application/pdf"),
    ]
    assert client.post(url, {"attachments": files}).status_code == 302
    assert req.attachments.count() == 2

    bad = [
        SimpleUploadedFile("3.png", PNG, content_type="image/png"),
        SimpleUploadedFile("x.exe", b"MZ" + b"\x00" * 40, content_type="image/png"),
    ]
    refused = client.post(url, {"attachments": bad})
    assert refused.status_code == 422
    assert "Only photos" in page(refused)
    assert req.attachments.count() == 2  # all or nothing

    correction_reject(actor=monday.supervisor.user, request=req, reason="不行")
    late = client.post(url, {"attachments": [SimpleUploadedFile("4.png", PNG)]})
    assert late.status_code == 422 and Attachment.objects.filter(request=req).count() == 2


def test_resubmit_after_rejection_prefills_a_new_linked_request(monday, as_user):
    (req,) = submit(monday.employee.user, monday.employee)
    correction_reject(actor=monday.supervisor.user, request=req, reason="时间写错了")
    client = as_user(monday.employee.user)
    detail = page(client.get(reverse("requests:detail", args=[req.pk])))
    assert find(detail, "a", href=reverse("requests:resubmit", args=[req.pk]))

    form = page(client.get(reverse("requests:resubmit", args=[req.pk])))
    assert "时间写错了" in form  # the rejection reason is shown
    assert find(form, "input", name="time_in1").attrs["value"] == "08:58"
    assert find(form, "textarea", name="reason").text == "早上忘记打卡了"
    assert find(form, "input", name="fixed_slot").attrs["value"] == "in1"

    response = client.post(
        reverse("requests:resubmit", args=[req.pk]), form_data(time_in1="08:40", slot="")
    )

    new = CorrectionRequest.objects.exclude(pk=req.pk).get()
    assert response.status_code == 302
    assert response["Location"] == reverse("requests:detail", args=[new.pk])
    assert (new.resubmission_of, new.requested_time, new.status) == (
        req,
        at(MON, 8, 40),
        Status.PENDING,
    )
    assert "Resubmitted as" in page(client.get(reverse("requests:detail", args=[req.pk])))


def test_no_resubmit_once_the_window_has_closed(monday, as_user, time_machine):
    (req,) = submit(monday.employee.user, monday.employee)
    correction_reject(actor=monday.supervisor.user, request=req, reason="不行")
    time_machine.move_to(NOW + timedelta(days=5), tick=False)  # the last day was 11-26
    client = as_user(monday.employee.user)
    html = page(client.get(reverse("requests:detail", args=[req.pk])))
    assert not find_all(html, "a", href=reverse("requests:resubmit", args=[req.pk]))
    response = client.post(reverse("requests:resubmit", args=[req.pk]), form_data(slot=""))
    assert response.status_code == 422
    assert "The deadline to correct 2026-11-23 has passed" in page(response)


# --------------------------------------------------------------------------- my requests


def test_my_requests_lists_mine_with_status_chips(monday, as_user):
    only_checkout(monday.employee, TUE)
    only_checkout(monday.colleague, MON)
    (first,) = submit(monday.employee.user, monday.employee)
    (second,) = submit(monday.employee.user, monday.employee, item(TUE))
    submit(monday.colleague.user, monday.colleague)
    correction_reject(actor=monday.supervisor.user, request=first, reason="不行")

    html = page(as_user(monday.employee.user).get(reverse("requests:mine")))

    cards = find_all(html, "li", data_request=None)
    assert [c.attrs["data-request"] for c in cards] == [str(second.pk), str(first.pk)]
    assert "Pending approval" in cards[0].text and "waiting for 李主管" in cards[0].text
    assert "Rejected" in cards[1].text
    rejected = page(
        as_user(monday.employee.user).get(reverse("requests:mine") + "?status=rejected")
    )
    assert [c.attrs["data-request"] for c in find_all(rejected, "li", data_request=None)] == [
        str(first.pk)
    ]


# --------------------------------------------------------------------------- inbox


@pytest.fixture
def three_waiting(week):
    """Waiting for 李主管: an old one (overdue), an expedited one, and a plain one."""
    org = week
    only_checkout(org.employee, MON, TUE)
    only_checkout(org.colleague, MON)
    (old,) = submit(org.employee.user, org.employee)
    (plain,) = submit(org.colleague.user, org.colleague)
    (urgent,) = submit(
        org.employee.user,
        org.employee,
        item(TUE, expedited=True, justification="月底算工资"),
    )
    CorrectionRequest.objects.filter(pk=old.pk).update(step_started_at=NOW - timedelta(days=7))
    CorrectionRequest.objects.filter(pk=plain.pk).update(step_started_at=NOW - timedelta(hours=2))
    return org, old, urgent, plain


def test_the_inbox_puts_overdue_first_and_marks_expedited(three_waiting, as_user):
    org, old, urgent, plain = three_waiting

    html = page(as_user(org.supervisor.user).get(reverse("requests:inbox")))

    cards = find_all(html, "li", data_request=None)
    assert [c.attrs["data-request"] for c in cards] == [str(old.pk), str(urgent.pk), str(plain.pk)]
    assert cards[0].has_class("is-overdue") and "Overdue" in cards[0].text
    assert cards[1].has_class("is-expedited") and "Expedited" in cards[1].text
    assert not cards[2].has_class("is-overdue") and not cards[2].has_class("is-expedited")
    assert find(html, "b", id="waiting-count").text == "3"
    # one box to tick per request for the batch, and each row's own approve button
    boxes = [b.attrs["value"] for b in find_all(html, "input", name="ids", type="checkbox")]
    assert sorted(boxes) == sorted(str(r.pk) for r in (old, urgent, plain))
    own = [b.attrs["value"] for b in find_all(html, "input", name="ids", type="hidden")]
    assert sorted(own) == sorted(boxes)


def test_inbox_filters_by_employee_and_date(three_waiting, as_user):
    org, old, urgent, plain = three_waiting
    client = as_user(org.supervisor.user)

    def ids(query):
        html = page(client.get(reverse("requests:inbox") + query))
        return {c.attrs["data-request"] for c in find_all(html, "li", data_request=None)}

    assert ids("?q=李四") == {str(plain.pk)}
    assert ids("?q=1002") == {str(old.pk), str(urgent.pk)}
    assert ids(f"?from={TUE}&to={WED}") == {str(urgent.pk)}


def test_hr_sees_all_pending_with_their_age(three_waiting, as_user):
    org, old, urgent, plain = three_waiting
    client = as_user(org.hr.user)

    waiting = page(client.get(reverse("requests:inbox")))
    assert find(waiting, "b", id="waiting-count").text == "0"  # all at the supervisor step

    html = page(client.get(reverse("requests:inbox") + "?view=all"))
    cards = find_all(html, "li", data_request=None)
    assert [c.attrs["data-request"] for c in cards] == [str(old.pk), str(plain.pk), str(urgent.pk)]
    assert "for 1 week" in cards[0].text
    assert "for 2 hours" in cards[1].text
    assert not find_all(html, "input", name="ids")  # HR does not act on supervisor steps


def test_batch_approve_moves_every_ticked_request(three_waiting, as_user):
    org, old, urgent, plain = three_waiting
    set_preset(org, ChainPreset.SINGLE)
    client = as_user(org.supervisor.user)

    response = client.post(
        reverse("requests:batch_approve"),
        {"ids": [old.pk, plain.pk], "comment": "同意", "query": "q=&from="},
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("web:approvals") + "?q=&from="
    statuses = dict(CorrectionRequest.objects.values_list("pk", "status"))
    # the chain was resolved at submission (multi-level): step 1 approved, now at HR
    assert statuses == {old.pk: "pending", urgent.pk: "pending", plain.pk: "pending"}
    assert set(CorrectionRequest.objects.filter(current_step=2).values_list("pk", flat=True)) == {
        old.pk,
        plain.pk,
    }
    assert "2 requests approved." in page(client.get(response["Location"]))


def test_batch_approve_is_all_or_nothing(three_waiting, as_user):
    org, old, urgent, plain = three_waiting
    correction_approve(actor=org.supervisor.user, request=plain)  # no longer mine
    client = as_user(org.supervisor.user)

    response = client.post(reverse("requests:batch_approve"), {"ids": [old.pk, plain.pk]})

    assert response.status_code == 422
    html = page(response)
    assert "no longer waiting for you" in find(html, "div", id="batch-errors").text
    assert CorrectionRequest.objects.get(pk=old.pk).current_step == 1
    assert "checked" in find(html, "input", name="ids", value=str(old.pk)).attrs

    nothing = client.post(reverse("requests:batch_approve"), {})
    assert nothing.status_code == 422 and "Tick the requests" in page(nothing)


def test_a_delegate_sees_and_approves_in_the_inbox(three_waiting, as_user):
    org, old, urgent, plain = three_waiting
    delegation_create(
        actor=org.supervisor.user,
        approver=org.supervisor.user,
        delegate=org.hr.user,
        start=NOW.date(),
        end=NOW.date() + timedelta(days=3),
    )
    html = page(as_user(org.hr.user).get(reverse("requests:inbox")))
    assert len(find_all(html, "li", data_request=None)) == 3


# --------------------------------------------------------------------------- permissions


def test_who_may_open_which_page(monday, as_user, client):
    org = monday
    (req,) = submit(org.employee.user, org.employee)
    detail = reverse("requests:detail", args=[req.pk])

    def status(user, url, method="get", data=None):
        c = as_user(user)
        return getattr(c, method)(url, data or {}).status_code

    # the request page: participants, the chain, HR, the supervisor's boss; 404 for others
    for user, expected in [
        (org.employee.user, 200),
        (org.supervisor.user, 200),
        (org.hr.user, 200),
        (org.head.user, 200),
        (org.colleague.user, 404),
        (org.stranger.user, 404),
        (org.auditor.user, 404),
    ]:
        assert status(user, detail) == expected, user
    # decisions: 404 for who cannot see it, 403 for who sees it but may not decide
    approve = reverse("requests:approve", args=[req.pk])
    assert status(org.stranger.user, approve, "post") == 404
    assert status(org.employee.user, approve, "post") == 403
    assert status(org.hr.user, approve, "post") == 403
    assert status(org.stranger.user, reverse("requests:withdraw", args=[req.pk]), "post") == 404
    assert status(org.supervisor.user, reverse("requests:withdraw", args=[req.pk]), "post") == 403
    assert status(org.colleague.user, reverse("requests:resubmit", args=[req.pk])) == 404
    # the apply form: for oneself, or for someone one may file for
    assert status(org.employee.user, new_url()) == 200
    assert status(org.employee.user, new_url(employee="1003")) == 404
    assert status(org.stranger.user, new_url(employee="1002")) == 404
    assert status(org.stranger.user, new_url(employee="0000")) == 404  # existence not told
    assert status(org.supervisor.user, new_url(employee="1002")) == 200
    assert status(org.hr.user, new_url(employee="1002")) == 200
    assert status(org.hr.user, new_url(employee="0000")) == 404
    assert status(org.sysadmin, new_url()) == 404  # no employee record
    # lists: everyone signed in has (possibly empty) lists
    assert status(org.colleague.user, reverse("requests:mine")) == 200
    assert status(org.colleague.user, reverse("requests:inbox")) == 200
    assert status(org.sysadmin, reverse("requests:mine")) == 200  # no employee: no quota
    everyone = page(as_user(org.colleague.user).get(reverse("requests:inbox") + "?view=all"))
    assert not find_all(everyone, "li", data_request=None)  # an employee: not the all view
    # signed out: to the log-in page
    client.logout()
    for url in (reverse("requests:mine"), reverse("requests:inbox"), detail, new_url()):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --------------------------------------------------------------------------- queries


def _count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_lists_take_a_fixed_number_of_queries(week, as_user):
    org = week
    days = [MON, TUE, WED - timedelta(days=5), WED - timedelta(days=6)]  # Mon, Tue, Fri, Thu
    only_checkout(org.employee, *days)
    submit(org.employee.user, org.employee, item(MON))
    employee, supervisor = as_user(org.employee.user), None
    mine_one = _count_queries(employee, reverse("requests:mine"))
    supervisor = as_user(org.supervisor.user)
    inbox_one = _count_queries(supervisor, reverse("requests:inbox"))
    all_one = _count_queries(supervisor, reverse("requests:inbox") + "?view=all")

    CorrectionPolicy.objects.update_or_create(
        group=org.group, defaults={"window_days": 10, "monthly_limit": 0}
    )
    for day in days[1:]:
        (req,) = submit(org.employee.user, org.employee, item(day))
        Attachment.objects.create(
            request=req, file="x.png", original_name="x.png", content_type="image/png", size=1
        )
    employee = as_user(org.employee.user)
    assert _count_queries(employee, reverse("requests:mine")) == mine_one
    supervisor = as_user(org.supervisor.user)
    assert _count_queries(supervisor, reverse("requests:inbox")) == inbox_one
    assert _count_queries(supervisor, reverse("requests:inbox") + "?view=all") == all_one
    assert max(mine_one, inbox_one, all_one) <= 30


# --------------------------------------------------------------------------- day view block


def test_the_day_view_block_links_each_missing_slot_to_the_form(week):
    only_checkout(week.employee, MON)
    detail = day_detail(employee=week.employee, day=MON)

    own = render_to_string(
        "attendance/_correction_actions.html", {"detail": detail, "own": True, "subject": None}
    )
    theirs = render_to_string(
        "attendance/_correction_actions.html",
        {"detail": detail, "own": False, "subject": week.employee},
    )

    link = find(own, "a", class_="apply-link")
    assert link.attrs["href"] == reverse("requests:new") + "?day=2026-11-23&slot=in1"
    assert find(theirs, "a", class_="apply-link").attrs["href"].endswith("&employee=1002")
    assert find(own, "a", href=reverse("requests:mine"))
    assert not find_all(theirs, "a", href=reverse("requests:mine"))


def test_the_inbox_takes_the_main_navigation_address_once_mounted_there(three_waiting, as_user):
    """When the project points 审批 (web:approvals) at the inbox, its links use that address
    so the navigation tab lights up."""
    import types

    from django.test import override_settings
    from django.urls import include, path

    from config import urls as project_urls
    from ztk.corrections.views import requests as pages

    web = types.ModuleType("web_with_inbox")
    web.app_name = "web"
    from ztk.web import urls as web_urls

    web.urlpatterns = [
        path("approvals/", pages.inbox, name="approvals"),
        *(p for p in web_urls.urlpatterns if p.name != "approvals"),
    ]
    conf = types.ModuleType("urls_with_inbox")
    conf.urlpatterns = [
        path("", include(web)),
        *(p for p in project_urls.urlpatterns if getattr(p, "namespace", None) != "web"),
    ]
    org = three_waiting[0]

    with override_settings(ROOT_URLCONF=conf):
        assert pages.inbox_url() == "/approvals/"
        html = page(as_user(org.supervisor.user).get("/approvals/"))
        assert find(html, "form", role="search").attrs["action"] == "/approvals/"
        assert len(find_all(html, "li", data_request=None)) == 3
    # mounted by the project: the inbox lives at the navigation's address
    assert pages.inbox_url() == reverse("web:approvals") == "/approvals/"

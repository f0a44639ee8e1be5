"""The leave pages: apply (with the preview), my requests, the inbox, who is away, the
ledger, HR's balances and the balances report — refusals on their field, nothing written,
and who may open what."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from ztk.leave.models import AbsenceRequest, LedgerEntry
from ztk.leave.selectors import balance_of

from .conftest import FRI, THU, approve_all, commits, grant, leave

pytestmark = pytest.mark.django_db

HALF_DAY = {"kind": "leave", "leave_type": "annual", "start_date": THU.isoformat(),
            "end_date": THU.isoformat(), "by": "days", "start_part": "am", "end_part": "am",
            "reason": "看病"}  # fmt: skip


def signed_in(client, employee):
    client.force_login(employee.user)
    return client


def test_the_day_page_links_to_the_apply_form_with_its_day(client, week):
    org = week
    page = signed_in(client, org.employee).get(f"/attendance/day/{THU.isoformat()}/")
    assert f"/absences/new/?day={THU.isoformat()}" in page.content.decode()
    form = client.get(f"/absences/new/?day={THU.isoformat()}")
    assert form.status_code == 200
    assert f'value="{THU.isoformat()}"' in form.content.decode()


def test_half_day_request_from_the_form_is_filed_and_shown_in_my_requests(client, week):
    org = week
    grant(org.employee, "5")
    signed_in(client, org.employee)
    balance = client.get("/absences/new/")
    assert 'data-type="annual"><b>' in balance.content.decode()
    response = client.post("/absences/new/", HALF_DAY)
    assert response.status_code == 302
    req = AbsenceRequest.objects.get()
    assert response["Location"] == f"/absences/{req.pk}/"
    assert (req.amount, req.start_part, req.status) == (Decimal("0.5"), "am", "pending")
    mine = client.get("/absences/").content.decode()
    assert f'data-absence="{req.pk}"' in mine


def test_refused_request_is_shown_on_its_field_and_nothing_is_written(client, week):
    org = week  # no balance at all
    response = signed_in(client, org.employee).post("/absences/new/", HALF_DAY)
    assert response.status_code == 422
    body = response.content.decode()
    assert 'id="form-errors"' in body
    assert (
        'class="field for-leave invalid" id="type-field"' in body
    )  # insufficient_balance: the type
    assert AbsenceRequest.objects.count() == 0
    bad = client.post("/absences/new/", {**HALF_DAY, "end_date": "2026-11-01"})
    assert bad.status_code == 422
    assert 'class="field invalid" id="range-field"' in bad.content.decode()
    assert AbsenceRequest.objects.count() == 0


def test_proof_required_type_refused_without_file_and_filed_with_one(client, week):
    org = week
    signed_in(client, org.employee)
    sick = {**HALF_DAY, "leave_type": "sick", "start_part": "full", "end_part": "full"}
    refused = client.post("/absences/new/", sick)
    assert refused.status_code == 422
    assert AbsenceRequest.objects.count() == 0
    png = SimpleUploadedFile("p.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "image/png")
    done = client.post("/absences/new/", {**sick, "attachments": png})
    assert done.status_code in (302, 422)  # a tiny PNG may be refused as unreadable


def test_trip_needs_a_destination(client, week):
    org = week
    response = signed_in(client, org.employee).post(
        "/absences/new/", {**HALF_DAY, "kind": "trip", "start_part": "full", "end_part": "full"}
    )
    assert response.status_code == 422
    assert AbsenceRequest.objects.count() == 0
    ok = client.post("/absences/new/", {**HALF_DAY, "kind": "trip", "start_part": "full",
                                        "end_part": "full", "destination": "北京"})  # fmt: skip
    assert ok.status_code == 302


def test_preview_lists_each_day_and_the_amount(client, week):
    org = week
    grant(org.employee, "5")
    response = signed_in(client, org.employee).post(
        "/absences/preview/",
        {
            **HALF_DAY,
            "start_part": "full",
            "end_part": "pm",
            "end_date": FRI.isoformat(),
        },  # fmt: skip
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "2026-11-26" in body and "2026-11-27" in body
    assert body.count("<li data-day=") == 2
    assert AbsenceRequest.objects.count() == 0


def test_nobody_files_for_a_stranger(client, week):
    org = week
    response = signed_in(client, org.stranger).get("/absences/new/?employee=1002")
    assert response.status_code == 404
    posted = client.post("/absences/new/", {**HALF_DAY, "employee": "1002"})
    assert posted.status_code == 404 and AbsenceRequest.objects.count() == 0


def test_inbox_shows_absences_and_the_approvers_decide_there(client, week):
    org = week
    grant(org.employee, "5")
    with commits():
        req = leave(org.employee, THU, start_part="am")
    inbox = signed_in(client, org.supervisor).get("/requests/inbox/").content.decode()
    assert f'data-key="absences:{req.pk}"' in inbox
    assert client.post(f"/absences/{req.pk}/approve/", {"comment": ""}).status_code == 302
    signed_in(client, org.hr)
    assert f'data-key="absences:{req.pk}"' in client.get("/approvals/").content.decode()
    with commits():
        client.post(f"/absences/{req.pk}/approve/")
    req.refresh_from_db()
    assert req.status == "approved"
    assert balance_of(org.employee, "annual") == Decimal("4.5")
    ledger = signed_in(client, org.employee).get("/absences/balances/").content.decode()
    assert "4.5" in ledger


def test_reject_needs_a_reason_and_others_cannot_decide(client, week):
    org = week
    grant(org.employee, "5")
    req = leave(org.employee, THU)
    assert signed_in(client, org.colleague).post(f"/absences/{req.pk}/approve/").status_code == 404
    signed_in(client, org.supervisor)
    client.post(f"/absences/{req.pk}/reject/", {"reason": ""})
    req.refresh_from_db()
    assert req.status == "pending"
    client.post(f"/absences/{req.pk}/reject/", {"reason": "人手不够"})
    req.refresh_from_db()
    assert req.status == "rejected"


def test_withdraw_and_cancel_after_approval(client, week):
    org = week
    grant(org.employee, "5")
    pending = leave(org.employee, THU)
    signed_in(client, org.employee)
    assert client.post(f"/absences/{pending.pk}/withdraw/").status_code == 302
    pending.refresh_from_db()
    assert pending.status == "withdrawn"
    approved = approve_all(org, leave(org.employee, FRI))
    assert balance_of(org.employee, "annual") == Decimal("4")
    response = client.post(f"/absences/{approved.pk}/cancel/", {"reason": "不去了"})
    cancellation = AbsenceRequest.objects.get(cancels=approved)
    assert response["Location"] == f"/absences/{cancellation.pk}/"
    approve_all(org, cancellation)
    assert balance_of(org.employee, "annual") == Decimal("5")


def test_who_is_away(client, week):
    org = week
    grant(org.employee, "5")
    leave(org.employee, THU)
    page = signed_in(client, org.supervisor).get("/absences/away/?month=2026-11")
    assert page.status_code == 200 and "张三" in page.content.decode()
    assert signed_in(client, org.colleague).get("/absences/away/").status_code == 403
    other = signed_in(client, org.hr).get("/absences/away/?month=2026-11&department=SALES")
    assert "张三" not in other.content.decode().split("<table", 1)[-1]


def test_ledger_of_someone_else(client, week):
    org = week
    assert (
        signed_in(client, org.supervisor).get("/absences/balances/?employee=1002").status_code
        == 200
    )
    assert (
        signed_in(client, org.stranger).get("/absences/balances/?employee=1002").status_code == 404
    )


def test_hr_sets_and_adjusts_balances_and_imports_csv(client, week):
    org = week
    assert signed_in(client, org.employee).get("/absences/hr/balances/").status_code == 403
    signed_in(client, org.hr)
    assert client.get("/absences/hr/balances/?employee=1002").status_code == 200
    opening = {"employee": "1002", "action": "opening", "leave_type": "annual", "amount": "7"}
    done = client.post("/absences/hr/balances/", opening)
    assert done.status_code == 302 and balance_of(org.employee, "annual") == Decimal("7")
    bad = client.post("/absences/hr/balances/", {"employee": "1002", "action": "adjust",
                                                 "leave_type": "annual", "amount": "x",
                                                 "note": "?"})  # fmt: skip
    assert bad.status_code == 422 and LedgerEntry.objects.count() == 1
    client.post("/absences/hr/balances/", {"employee": "1002", "action": "adjust",
                                           "leave_type": "annual", "amount": "-2",
                                           "note": "更正"})  # fmt: skip
    assert balance_of(org.employee, "annual") == Decimal("5")
    broken = SimpleUploadedFile(
        "b.csv", b"employee_no,type,balance\n1002,annual,3\n9999,annual,1\n"
    )
    assert client.post("/absences/hr/balances/import/", {"file": broken}).status_code == 422
    assert balance_of(org.employee, "annual") == Decimal("5")
    good = SimpleUploadedFile("g.csv", b"employee_no,type,balance\n1002,annual,3\n")
    assert client.post("/absences/hr/balances/import/", {"file": good}).status_code == 302
    assert balance_of(org.employee, "annual") == Decimal("3")


def test_balances_report_page_and_csv(client, week):
    org = week
    grant(org.employee, "2.5")
    assert signed_in(client, org.supervisor).get("/absences/hr/report/").status_code == 403
    signed_in(client, org.hr)
    assert client.get("/absences/hr/report/").status_code == 200
    csv_text = client.get("/absences/hr/report/?format=csv").content.decode("utf-8-sig")
    lines = csv_text.splitlines()
    assert lines[0] == "employee_no,name,department,annual,compensatory"
    assert "1002,张三,研发部,2.50,0" in lines


def test_balances_csv_defuses_formulas_in_names(client, week):
    org = week
    org.employee.name = "=HYPERLINK(1)"
    org.employee.save()
    body = signed_in(client, org.hr).get("/absences/hr/report/?format=csv").content.decode()
    assert ",'=HYPERLINK(1)," in body


def test_notifications_of_absence_requests_link_to_their_page(client, week):
    from ztk.notifications.models import Notification

    org = week
    grant(org.employee, "5")
    req = leave(org.employee, THU)
    note = Notification.objects.get(recipient=org.supervisor.user, kind="absence_submitted")
    assert note.url == f"/absences/{req.pk}/"
    assert signed_in(client, org.supervisor).get(note.url).status_code == 200

"""The findings pages and API as HR and the auditor use them (the role matrix is in
tests/security/test_page_matrix.py and tests/api/test_authorization.py)."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.oversight.test_services import month  # noqa: F401 - the fixture
from ztk.audit.models import AuditEvent
from ztk.oversight import services
from ztk.oversight.models import Finding, State

pytestmark = pytest.mark.django_db
URL = "/hr/oversight/findings/"


def client_for(user, lang: str = "zh-hans") -> Client:
    client = Client(headers={"Accept-Language": lang})
    client.force_login(user)
    return client


def test_the_list_shows_each_finding_and_filters_by_rule(month):  # noqa: F811
    services.findings_run(actor=None)
    client = client_for(month.auditor.user)

    page = client.get(URL).content.decode()
    only_pairs = client.get(URL, {"rule": "buddy_punch"}).content.decode()

    assert "频繁补卡" in page and "走过场的审批人" in page and "代打卡" in page
    assert "张三 (1002)" in page
    assert 'data-rule="buddy_punch"' in only_pairs
    assert 'data-rule="frequent_corrector"' not in only_pairs


def test_run_now_button_stores_the_findings(month):  # noqa: F811
    reply = client_for(month.hr.user, "en").post(f"{URL}run/", follow=True)
    assert Finding.objects.count() == 3
    assert "Rules run: 3 new findings, 0 found again." in reply.content.decode()


def test_the_finding_page_shows_its_evidence_with_links_for_hr(month):  # noqa: F811
    services.findings_run(actor=None)
    corrector = Finding.objects.get(rule="frequent_corrector")
    first = month.requests[0]

    as_hr = client_for(month.hr.user, "en").get(f"{URL}{corrector.pk}/").content.decode()
    as_auditor = client_for(month.auditor.user, "en").get(f"{URL}{corrector.pk}/").content.decode()

    assert f'href="/requests/{first.pk}/"' in as_hr
    assert f"Request #{first.pk}" in as_auditor
    assert f'href="/requests/{first.pk}/"' not in as_auditor  # the auditor cannot open it
    assert "2 corrections in the period" in as_hr


def test_the_auditor_dismisses_with_a_note_and_is_refused_without(month):  # noqa: F811
    services.findings_run(actor=None)
    pair = Finding.objects.get(rule="buddy_punch")
    client = client_for(month.auditor.user, "en")
    events = AuditEvent.objects.count()

    refused = client.post(f"{URL}{pair.pk}/dismiss/", {"note": ""})
    pair.refresh_from_db()
    assert refused.status_code == 422
    assert "Say why the finding is dismissed" in refused.content.decode()
    assert pair.state == State.OPEN and AuditEvent.objects.count() == events

    done = client.post(f"{URL}{pair.pk}/dismiss/", {"note": "同车通勤，已核实"}, follow=True)

    pair.refresh_from_db()
    assert (pair.state, pair.note) == (State.DISMISSED, "同车通勤，已核实")
    assert "同车通勤，已核实" in done.content.decode()


def test_the_api_lists_and_acknowledges(month):  # noqa: F811
    services.findings_run(actor=None)
    client = client_for(month.auditor.user, "en")

    listed = client.get("/api/v1/oversight/findings", {"rule": "rubber_stamp"}).json()
    (item,) = listed["items"]
    reply = client.post(
        f"/api/v1/oversight/findings/{item['id']}/acknowledge",
        {"note": "已约谈"},
        content_type="application/json",
        headers={"X-CSRFToken": "x"},
    )

    assert listed["count"] == 1 and listed["next"] is None
    assert item["user"] == month.supervisor.user.get_username()
    assert item["params"]["approval_rate"] == 1.0
    assert reply.status_code == 200, reply.json()
    assert reply.json()["state"] == "acknowledged"
    again = client.post(
        f"/api/v1/oversight/findings/{item['id']}/dismiss",
        {"note": "误报无需处理"},
        content_type="application/json",
    )
    assert (again.status_code, again.json()["code"]) == (422, "finding_not_open")


def form(**changes) -> dict[str, str]:
    from ztk.oversight.checks import Limits

    values = {name: str(getattr(Limits(), name)) for name in Limits.__dataclass_fields__}
    return {**values, **changes}


def test_hr_changes_a_threshold_and_a_wrong_one_is_refused_whole(org):
    from ztk.oversight.selectors import thresholds

    client = client_for(org.hr.user, "en")
    url = f"{URL}thresholds/"

    refused = client.post(url, form(buddy_min_days="5", work_start_hour="20", work_end_hour="8"))
    assert refused.status_code == 422
    assert "The working hours must end after they start." in refused.content.decode()
    assert thresholds().buddy_min_days == 3

    bad_share = client.post(url, form(approver_rate="1.5"))
    assert bad_share.status_code == 422
    assert "Ensure this value is less than or equal to 1.0." in bad_share.content.decode()

    saved = client.post(url, form(buddy_min_days="5"), follow=True)
    assert "Thresholds saved." in saved.content.decode()
    assert thresholds().buddy_min_days == 5


def test_the_auditor_reads_the_thresholds_but_cannot_change_them(org):
    client = client_for(org.auditor.user, "en")
    page = client.get(f"{URL}thresholds/").content.decode()
    assert "<fieldset disabled>" in page and "Save</button>" not in page
    assert client.post(f"{URL}thresholds/", form(buddy_min_days="9")).status_code == 403


def test_the_api_names_every_rule():
    from typing import get_args

    from ztk.api.oversight import RuleCode
    from ztk.oversight import checks

    assert set(get_args(RuleCode)) == set(checks.RULES)

"""/settings/work-apps/: HR saves each platform's app (secrets write-only, audited) and
fills the user ids (import, employee numbers, sync by mobile against the fake platform)."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from ztk.audit.models import AuditEvent
from ztk.core.jobs import job_run
from ztk.core.models import Job, JobStatus
from ztk.notifications.workapps import services
from ztk.notifications.workapps.models import MatchBy, WorkApp, WorkAppUser
from ztk.org.models import Employee

from .workapp_fakes import AES_KEY, make_app

pytestmark = pytest.mark.django_db
User = get_user_model()
PAGE = "/settings/work-apps/"


def result_of(page: str) -> dict[str, int | None]:
    """The counts a finished sync job's page shows."""
    found = dict(re.findall(r'data-count="(\w+)">(\d+)<', page))
    return {k: int(found[k]) if k in found else None
            for k in ("stored", "unchanged", "unknown", "not_asked")}  # fmt: skip


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


WECOM_FORM = {
    "platform": "wecom",
    "corp_id": "wwcorp1",
    "agent_id": "1000002",
    "app_secret": "the-wecom-secret",
    "callback_token": "cb-token-secret",
    "aes_key": AES_KEY,
    "active": "1",
}


def test_hr_saves_an_app_and_the_secrets_are_never_shown_back(org):
    client = signed_in(org.hr.user)

    response = client.post(PAGE, WECOM_FORM)

    assert response.status_code == 302
    app = WorkApp.objects.get(platform="wecom")
    assert app.ready and app.app_secret == "the-wecom-secret" and app.aes_key == AES_KEY
    page = client.get(PAGE).content.decode()
    assert "wwcorp1" in page and "1000002" in page
    for secret in ("the-wecom-secret", "cb-token-secret", AES_KEY):
        assert secret not in page
    assert "已设置。留空即保留。" in page
    [event] = AuditEvent.objects.filter(action="notifications.workapp.create")
    assert event.changes["after"]["app_secret"] == "set"
    assert "the-wecom-secret" not in str(event.changes)
    assert event.changes["secrets_changed"] == ["aes_key", "app_secret", "callback_token"]


def test_an_empty_secret_keeps_the_stored_one_and_a_new_one_is_audited(org):
    client = signed_in(org.hr.user)
    client.post(PAGE, WECOM_FORM)

    client.post(PAGE, {**WECOM_FORM, "app_secret": "", "callback_token": "", "aes_key": ""})
    client.post(PAGE, {**WECOM_FORM, "app_secret": "rotated", "aes_key": ""})

    app = WorkApp.objects.get(platform="wecom")
    assert app.app_secret == "rotated" and app.callback_token == "cb-token-secret"
    updates = AuditEvent.objects.filter(action="notifications.workapp.update").order_by("id")
    assert [e.changes["secrets_changed"] for e in updates] == [[], ["app_secret"]]


def test_switching_on_an_incomplete_app_is_refused(org):
    response = signed_in(org.hr.user).post(
        PAGE, {"platform": "feishu", "app_id": "cli_1", "app_secret": "", "active": "1"}
    )

    assert response.status_code == 422
    assert "请先填写应用的 ID 和密钥" in response.content.decode()
    assert not WorkApp.objects.exists()


def test_a_bad_aes_key_is_refused(org):
    response = signed_in(org.hr.user).post(PAGE, {**WECOM_FORM, "aes_key": "short"})

    assert response.status_code == 422
    assert not WorkApp.objects.exists()


@pytest.mark.parametrize("who", ["employee", "supervisor", "auditor"])
def test_only_hr_and_admins_open_the_page(org, who):
    client = signed_in(getattr(org, who).user)

    assert client.get(PAGE).status_code == 403
    assert client.post(PAGE, WECOM_FORM).status_code == 403
    assert not WorkApp.objects.exists()


def test_import_maps_by_employee_number_or_mobile(org):
    org.colleague.phone = "138-0000-0009"
    org.colleague.save()
    csv = "工号,用户ID\n1002,zhangsan\n13800000009,lisi\n9999,ghost\n1001,bad id!\n"
    upload = SimpleUploadedFile("ids.csv", csv.encode(), content_type="text/csv")

    response = signed_in(org.hr.user).post(
        f"{PAGE}feishu/users/", {"how": "import", "file": upload}
    )

    assert response.status_code == 200  # two rows not taken: listed on the page
    assert dict(WorkAppUser.objects.values_list("user__username", "platform_user_id")) == {
        "employee": "zhangsan",
        "colleague": "lisi",
    }
    page = response.content.decode()
    assert "第 4 行: 没有这名员工" in page and "第 5 行: 不是有效的用户 ID" in page
    assert AuditEvent.objects.filter(action="notifications.workapp.users_import").count() == 1


def test_employee_numbers_as_user_ids(org):
    response = signed_in(org.hr.user).post(f"{PAGE}dingtalk/users/", {"how": "employee_no"})

    assert response.status_code == 302
    row = WorkAppUser.objects.get(platform="dingtalk", user=org.employee.user)
    assert row.platform_user_id == "1002" and row.matched_by == MatchBy.EMPLOYEE_NO


@pytest.mark.parametrize(
    ("platform", "prefix", "path"),
    [
        ("dingtalk", "ding-", "/topapi/v2/user/getbymobile"),
        ("wecom", "wx-", "/cgi-bin/user/getuserid"),
        ("feishu", "fs-", "/open-apis/contact/v3/users/batch_get_id"),
    ],
)
def test_sync_by_mobile_asks_the_platform(org, platforms, platform, prefix, path):
    make_app(platform)
    org.supervisor.phone = "13800000001"
    org.supervisor.save()
    org.employee.phone = "+86 13800000002"
    org.employee.save()
    org.colleague.phone = "13800000003"  # unknown to the platform
    org.colleague.save()

    response = signed_in(org.hr.user).post(f"{PAGE}{platform}/users/", {"how": "sync"}, follow=True)

    assert response.redirect_chain[0][0].startswith(f"{PAGE}sync/")  # a background job
    page = response.content.decode()
    assert response.status_code == 200 and result_of(page) == {
        "stored": 2, "unchanged": 0, "unknown": 1, "not_asked": None}  # fmt: skip
    assert dict(
        WorkAppUser.objects.filter(platform=platform).values_list(
            "user__username", "platform_user_id"
        )
    ) == {"manager": f"{prefix}u-manager", "employee": f"{prefix}u-employee"}
    asked = platforms.of(path)
    if platform == "feishu":
        assert sorted(asked[0].body["mobiles"]) == ["13800000001", "13800000002", "13800000003"]
    else:
        assert sorted(c.body["mobile"] for c in asked) == [
            "13800000001", "13800000002", "13800000003"
        ]  # fmt: skip
    assert WorkApp.objects.get(platform=platform).app_secret not in response.content.decode()


def many_employees(org, n: int) -> list[str]:
    """`n` more active employees with mobiles 139…; every tenth (ending in 7) unknown to
    the platform, the others known as ding-u-<mobile>."""
    users = User.objects.bulk_create([User(username=f"bulk{i}") for i in range(n)])
    mobiles = [f"139{i:08d}" for i in range(n)]
    Employee.objects.bulk_create([
        Employee(user=u, employee_no=f"B{i:05d}", name=f"员工{i}", phone=mobiles[i],
                 department=org.department, attendance_group=org.group)
        for i, u in enumerate(users)
    ])  # fmt: skip
    return mobiles


def test_sync_of_hundreds_runs_in_the_background_and_the_page_returns_at_once(
    org, platforms, monkeypatch
):
    make_app("dingtalk")
    mobiles = many_employees(org, 200)
    platforms.extra_mobiles = {m: f"u-{m}" for m in mobiles if not m.endswith("7")}
    queued: list[str] = []
    monkeypatch.setattr("ztk.setup.views.work_apps.tasks.users_sync_job", queued.append)
    client = signed_in(org.hr.user)

    response = client.post(f"{PAGE}dingtalk/users/", {"how": "sync"})

    # The request only queued the job: nothing asked yet, the page follows its progress.
    assert response.status_code == 302 and platforms.calls == []
    [job] = Job.objects.all()
    assert queued == [str(job.pk)] and job.status == JobStatus.QUEUED
    waiting = client.get(response["Location"]).content.decode()
    assert f"sync/{job.pk}/status/" in waiting and "<progress" in waiting

    job_run(str(job.pk), services.work_app_users_sync_job)  # what the worker does

    job.refresh_from_db()
    assert job.status == JobStatus.DONE
    assert len(platforms.of("/topapi/v2/user/getbymobile")) == 200
    assert WorkAppUser.objects.filter(platform="dingtalk").count() == 180
    done = client.get(response["Location"]).content.decode()
    assert result_of(done) == {"stored": 180, "unchanged": 0, "unknown": 20, "not_asked": None}
    event = AuditEvent.objects.get(action="notifications.workapp.users_sync")
    assert event.changes["asked"] == 200 and event.changes["matched"] == 180


def test_a_platform_failing_midway_keeps_what_was_matched_and_reports_the_rest(org, platforms):
    make_app("dingtalk")
    mobiles = many_employees(org, 200)
    platforms.extra_mobiles = {m: f"u-{m}" for m in mobiles if not m.endswith("7")}
    platforms.fail_after = 120  # the 121st lookup: the third chunk of 50 fails

    response = signed_in(org.hr.user).post(f"{PAGE}dingtalk/users/", {"how": "sync"}, follow=True)

    job = Job.objects.get()
    assert job.status == JobStatus.FAILED and job.error["code"] == services.SYNC_FAILED
    stored = set(WorkAppUser.objects.values_list("platform_user_id", flat=True))
    assert stored == {f"ding-u-{m}" for m in mobiles[:100] if not m.endswith("7")}  # 2 chunks
    page = response.content.decode()
    assert result_of(page) == {"stored": 90, "unchanged": 0, "unknown": 10, "not_asked": 100}
    assert "502" in page
    event = AuditEvent.objects.get(action="notifications.workapp.users_sync")
    assert event.changes["not_asked"] == 100 and "502" in event.changes["error"]

    platforms.fail_after = None  # the platform is back: syncing again asks everyone
    signed_in(org.hr.user).post(f"{PAGE}dingtalk/users/", {"how": "sync"})
    assert WorkAppUser.objects.count() == 180

"""Import request time and peak memory: the HR desk's XLSX upload, request and background job.

    python -m bench.imports --rows 20000                 # a ~630 KB XLSX (longer reasons)
    python -m bench.imports --rows 392000 --employees 4000  # a ~10 MB XLSX (too many rows)

Each scenario runs in a fresh process on a fresh SQLite database (bench.corrections_import's
company and punches): (1) the upload request — POST /hr/desk/import/preview/ with the worker
not running, so the request only keeps the file and queues the job; (2) the job itself, as
the worker runs it. Prints the file size, the seconds and the process's peak RSS.
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import subprocess
import sys
import time

from bench import corrections_import as ci

REASON = "考勤机断电，历史补录（纸质签到表已由部门主管签字确认，原件存人事档案室备查）"


def build(rows: int, employees: int) -> bytes:
    from openpyxl import Workbook

    numbers = [f"C{i:05d}" for i in range(employees)]
    days = ci.working_days((rows + employees - 1) // employees)
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(ci.HEADER)
    n = 0
    for day in days:
        for i, no in enumerate(numbers):
            if n == rows:
                break
            reason = f"{REASON}{n % 7}"
            sheet.append([no, day.isoformat(), "下班", f"18:{5 + i % 50:02d}", reason, f"OA-{n}"])
            n += 1
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def scenario(phase: str, rows: int, employees: int) -> None:
    import shutil

    if ci.BENCH_DIR.exists():
        shutil.rmtree(ci.BENCH_DIR)
    ci.BENCH_DIR.mkdir(parents=True)
    os.environ["DATABASE_URL"] = f"sqlite:///{ci.DB_PATH}"
    os.environ["ZTK_VAR_DIR"] = str(ci.BENCH_DIR)
    os.environ["HUEY_IMMEDIATE"] = "0"  # no worker: the request only queues the job
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.contrib.auth.models import Group, User
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client

    numbers = ci.company(employees)
    ci.morning_punches(numbers[:1000], ci.working_days(1))
    data = build(rows, employees)
    user = User.objects.create_user("bench-hr", password="x")
    user.groups.add(Group.objects.get_or_create(name="hr")[0])
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    client.get("/hr/desk/import/")  # warm: the first request of a process loads the URLs
    before = rss_mib()
    began = time.perf_counter()
    if phase == "request":
        response = client.post(
            "/hr/desk/import/preview/", {"file": SimpleUploadedFile("bench.xlsx", data)}
        )
        outcome = f"HTTP {response.status_code}"
    else:
        from ztk.core import jobs, uploads
        from ztk.hrdesk import bulk_import

        sha = uploads.stash(user.pk, data)
        job = jobs.job_create(owner=user, kind=bulk_import.JOB_PREVIEW, params={"sha256": sha})
        before, began = rss_mib(), time.perf_counter()
        job = jobs.job_run(job.pk, bulk_import.run_job)
        outcome = job.status + (f" {job.error['code']}" if job.error else "")
        if job.result:
            outcome += f" {job.result['counts']}"
    seconds = time.perf_counter() - began
    print(
        f"{phase:8} {len(data) / 1024:8.0f} KB {rows:>8,} rows  {seconds:7.2f} s  "
        f"peak RSS {rss_mib():6.0f} MiB (+{rss_mib() - before:.0f})  {outcome}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.imports")
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--employees", type=int, default=1_000)
    parser.add_argument("--phase", choices=["request", "job"])
    args = parser.parse_args()
    if args.phase:
        scenario(args.phase, args.rows, args.employees)
        return
    for phase in ("request", "job"):
        command = [sys.executable, "-m", "bench.imports", "--phase", phase]
        command += ["--rows", str(args.rows), "--employees", str(args.employees)]
        subprocess.run(command, check=True)


if __name__ == "__main__":
    main()

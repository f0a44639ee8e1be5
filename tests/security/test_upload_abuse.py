"""Upload abuse, on every upload endpoint: correction proofs (page and API), field-punch
photos, paper-form scans and spreadsheet imports.

Hostile files — polyglots (GIF/HTML, a JPEG with a script appended), SVG, HTML, a zip bomb
posing as XLSX, path-traversal names, oversize and empty files, a name that lies about the
content — are refused with a stable code and leave nothing on disk; a real picture under
a misleading name is kept under a random name with the extension of what it is, and
served only to people who may see it, as what it is (nosniff, sandboxing CSP, download
name with the true extension). Nothing under MEDIA_ROOT has a URL of its own.
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from tests.corrections.conftest import MON, categories, clock, only_checkout, submit, week  # noqa: F401 - fixtures
from ztk.core import spreadsheets, uploads
from ztk.core.models import Job
from ztk.corrections.models import Attachment, PaperForm
from ztk.hrdesk import bulk_import
from ztk.punches.models import Punch
from ztk.scheduling.models import Shift, ShiftSegment, WeeklyPattern

pytestmark = pytest.mark.django_db


def picture(fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(out, fmt)
    return out.getvalue()


JPEG = picture("JPEG")
PNG = picture("PNG")
PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
SCRIPT = b"<script>fetch('/api/v1/me').then(r=>r.text()).then(alert)</script>"
HOSTILE = {
    "gif_html_polyglot": ("pixel.gif", b"GIF89a/*\x01\x00\x01\x00\x00\xff\x00*/=1;" + SCRIPT),
    "jpeg_with_script_appended": ("photo.jpg", JPEG + SCRIPT),
    "png_with_html_inside": ("photo.png", PNG[:64] + b"<html><body onload=alert(1)>" + PNG[64:]),
    "svg": ("x.svg", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
    "svg_named_png": ("x.png", b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>'),
    "html": ("evil.html", b"<!doctype html><html>" + SCRIPT),
    "html_named_jpg": ("photo.jpg", b"<html>" + SCRIPT),
    "pdf_with_html": ("scan.pdf", PDF + b"<iframe src=javascript:alert(1)>"),
    "exe_named_png": ("photo.png", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff"),
}
TRAVERSAL = ["../../../../config/settings.py.png", "..\\..\\..\\evil.png", "/etc/passwd.png"]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.VAR_DIR = tmp_path / "var"
    return settings.MEDIA_ROOT


def stored_files(root) -> list:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def client_for(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def assert_served_safely(response, content_type: str, download_name: str) -> None:
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert "script-src" not in response["Content-Security-Policy"]
    assert response["Cache-Control"] == "private, no-store"
    assert response["Content-Disposition"].endswith(f"filename*=UTF-8''{download_name}")


# --------------------------------------------------------------------------- the endpoints


class Proofs:
    """Proof files on the request page (the add-proof form) and over the API."""

    def __init__(self, org, via: str):
        only_checkout(org.employee, MON)
        (self.request,) = submit(org.employee.user, org.employee)
        self.org, self.via = org, via
        self.client = client_for(org.employee.user)

    def post(self, name: str, content: bytes, content_type: str = "image/png"):
        upload = SimpleUploadedFile(name, content, content_type=content_type)
        if self.via == "page":
            url = reverse("requests:attach", args=[self.request.pk])
            return self.client.post(url, {"attachments": [upload]}, follow=True)
        url = f"/api/v1/corrections/{self.request.pk}/attachments"
        return self.client.post(url, {"file": upload})

    def refused(self, response, code: str) -> bool:
        if self.via == "api":
            return response.status_code == 422 and response.json()["code"] == code
        return response.status_code in (200, 422) and not Attachment.objects.exists()

    def stored(self):
        attachment = Attachment.objects.get()
        return attachment.file.name, attachment.original_name

    def serve(self, client):
        return client.get(reverse("corrections:attachment", args=[Attachment.objects.get().pk]))

    type_code, size_code = uploads.PROOF.type_code, uploads.PROOF.size_code


class Photos:
    """The field-punch photo form (外勤)."""

    def __init__(self, org, via: str = "page"):
        self.org = org
        self.client = client_for(org.employee.user)

    def post(self, name: str, content: bytes, content_type: str = "image/jpeg"):
        upload = SimpleUploadedFile(name, content, content_type=content_type)
        form = {"latitude": 31.2, "longitude": 121.5, "photo": upload}
        return self.client.post(reverse("attendance:punch_photo"), form, follow=True)

    def refused(self, response, code: str) -> bool:
        message = {
            uploads.PHOTO.type_code: uploads.PHOTO.type_message,
            uploads.PHOTO.size_code: uploads.PHOTO.size_message,
            uploads.FILE_EMPTY: uploads.EMPTY_MESSAGE,
        }[code]
        return str(message) in response.content.decode() and not Punch.objects.exists()

    def stored(self):
        punch = Punch.objects.get()
        return punch.photo.name, None

    def serve(self, client):
        return client.get(reverse("attendance:punch_photo_file", args=[Punch.objects.get().pk]))

    type_code, size_code = uploads.PHOTO.type_code, uploads.PHOTO.size_code


class Scans:
    """The scan of a paper form, on the HR desk's register page."""

    def __init__(self, org, via: str = "page"):
        only_checkout(org.employee, MON)
        self.org = org
        self.client = client_for(org.hr.user)

    def post(self, name: str, content: bytes, content_type: str = "application/pdf"):
        form = {
            "form_no": "LQ-1",
            "employee": org_no(self.org),
            "day": MON.isoformat(),
            "slot": "in1",
            "time": "08:58",
            "reason": "考勤机故障，上班未能打卡",
            "category": "forgot",
            "signer": "1000",
            "signed_on": MON.isoformat(),
            "scan": SimpleUploadedFile(name, content, content_type=content_type),
        }
        return self.client.post(reverse("hrdesk:paper_new"), form)

    def refused(self, response, code: str) -> bool:
        message = {
            uploads.SCAN.type_code: uploads.SCAN.type_message,
            uploads.SCAN.size_code: uploads.SCAN.size_message,
            uploads.FILE_EMPTY: "Attach the scan of the signed form.",
        }[code]
        return (
            response.status_code == 422
            and str(message) in response.content.decode()
            and not PaperForm.objects.exists()
        )

    def stored(self):
        form = PaperForm.objects.get()
        return form.scan.name, form.scan_name

    def serve(self, client):
        return client.get(reverse("hrdesk:paper_scan", args=[PaperForm.objects.get().pk]))

    type_code, size_code = uploads.SCAN.type_code, uploads.SCAN.size_code


def org_no(org) -> str:
    return org.employee.employee_no


ENDPOINTS = {
    "proof-page": lambda org: Proofs(org, "page"),
    "proof-api": lambda org: Proofs(org, "api"),
    "field-punch-photo": Photos,
    "paper-scan": Scans,
}


@pytest.fixture(params=sorted(ENDPOINTS))
def endpoint(request, week):  # noqa: F811 - the week fixture
    return ENDPOINTS[request.param](week)


# --------------------------------------------------------------------------- hostile files


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_files_are_refused_and_leave_nothing(endpoint, media, case):
    name, content = HOSTILE[case]
    response = endpoint.post(name, content, content_type="image/jpeg")
    assert endpoint.refused(response, endpoint.type_code), response.content[:500]
    assert stored_files(media) == []


def test_an_oversized_file_is_refused_and_not_kept(endpoint, media):
    big = PNG + b"\x00" * (uploads.MAX_BYTES + 1 - len(PNG))
    response = endpoint.post("big.png", big)
    assert endpoint.refused(response, endpoint.size_code)
    assert stored_files(media) == []


def test_an_empty_file_is_refused(endpoint, media):
    response = endpoint.post("empty.png", b"")
    assert endpoint.refused(response, uploads.FILE_EMPTY)
    assert stored_files(media) == []


def test_a_picture_under_a_lying_name_is_kept_and_served_as_what_it_is(endpoint, media, week):  # noqa: F811
    response = endpoint.post("x.html", PNG, content_type="text/html")
    assert response.status_code in (200, 201, 302)

    stored, original = endpoint.stored()
    assert stored.endswith(".png") and "x" not in stored.rsplit("/", 1)[-1].split(".")[0][:0]
    assert "html" not in stored
    if original is not None:
        assert original == "x.html"  # kept as data only
    [path] = stored_files(media)
    assert path.read_bytes() == PNG

    # served to the owner as a PNG that can never run as a page
    owner = week.hr.user if isinstance(endpoint, Scans) else week.employee.user
    served = endpoint.serve(client_for(owner))
    expected_name = "x.png" if original is not None else None
    assert_served_safely(
        served, "image/png", expected_name or served["Content-Disposition"].rsplit("''")[-1]
    )
    assert served["Content-Disposition"].startswith("inline;")
    assert b"".join(served.streaming_content) == PNG

    # to nobody else, and not at all without logging in
    assert endpoint.serve(client_for(week.stranger.user)).status_code == 404
    anonymous = endpoint.serve(Client())
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]

    # and never by a URL under /media/
    assert Client().get(f"/media/{stored}").status_code == 404
    assert client_for(owner).get(f"/media/{stored}").status_code == 404


@pytest.mark.parametrize("name", TRAVERSAL)
def test_path_traversal_names_stay_data(endpoint, media, name):
    endpoint.post(name, PNG)
    stored, original = endpoint.stored()
    assert ".." not in stored and "\\" not in stored and not stored.startswith("/")
    assert "passwd" not in stored and "settings" not in stored and "evil" not in stored
    [path] = stored_files(media)
    assert path.resolve().is_relative_to(media.resolve())
    if original is not None:
        assert "/" not in original and "\\" not in original and ".." not in original


def test_a_pdf_is_always_a_download(week, media):  # noqa: F811
    proofs = Proofs(week, "api")
    assert proofs.post("scan.jpg", PDF, content_type="image/jpeg").status_code in (200, 201)
    served = proofs.serve(client_for(week.employee.user))
    assert_served_safely(served, "application/pdf", "scan.pdf")
    assert served["Content-Disposition"].startswith("attachment;")


def test_the_day_page_links_the_field_punch_photo_to_its_checked_view(week, settings, media):  # noqa: F811
    """With DEBUG off (production), the day page's photo link works for the employee."""
    settings.DEBUG = False
    photos = Photos(week)
    photos.post("here.jpg", JPEG)
    punch = Punch.objects.get()
    day = punch.at.astimezone().date().isoformat()
    page = photos.client.get(reverse("attendance:day", args=[day])).content.decode()
    link = reverse("attendance:punch_photo_file", args=[punch.pk])
    assert f'href="{link}"' in page
    assert "/media/" not in page
    served = photos.client.get(link)
    assert served.status_code == 200 and served["Content-Type"] == "image/jpeg"
    # the supervisor sees it too (they see the employee's days); a stranger does not
    assert client_for(week.supervisor.user).get(link).status_code == 200
    assert client_for(week.stranger.user).get(link).status_code == 404


# --------------------------------------------------------------------------- imports


def xlsx(rows: list[list], dimension: str | None = None) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    data = out.getvalue()
    if dimension is None:
        return data
    # rewrite the sheet's declared size, as a sheet formatted down to row 1,048,576 has it
    source = zipfile.ZipFile(io.BytesIO(data))
    patched = io.BytesIO()
    with zipfile.ZipFile(patched, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                content = re.sub(
                    rb'<dimension ref="[^"]*"', b'<dimension ref="%s"' % dimension.encode(), content
                )
            target.writestr(item, content)
    return patched.getvalue()


def zip_bomb() -> bytes:
    """An XLSX-looking zip whose sheet inflates to 64 MB from about 64 KB."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"<row/>" * (64 * 1024 * 1024 // 6))
    return out.getvalue()


@pytest.fixture
def importer(org):
    shift = Shift.objects.create(code="D9", name="白班")
    ShiftSegment.objects.create(shift=shift, position=1, start=time(9), end=time(18))
    WeeklyPattern.objects.create(group=org.group, monday_shift=shift, default_workday_shift=shift)
    return client_for(org.hr.user)


def import_outcome(client, name: str, content: bytes) -> tuple[int, dict | None]:
    upload = SimpleUploadedFile(name, content, content_type="text/csv")
    response = client.post(reverse("hrdesk:import_preview"), {"file": upload})
    job = Job.objects.order_by("-created_at").first()
    return response.status_code, (job.error if job else None)


def test_a_zip_bomb_posing_as_xlsx_is_refused_before_inflating(importer):
    bomb = zip_bomb()
    assert len(bomb) < 200_000
    status, error = import_outcome(importer, "bomb.xlsx", bomb)
    assert status == 302
    assert error["code"] == spreadsheets.FILE_TOO_COMPLEX


def test_a_sheet_claiming_a_huge_size_is_read_as_its_real_rows(importer):
    header = ["工号", "日期", "卡点", "时间", "原因"]
    data = xlsx([header, ["1002", "2026-11-23", "out1", "18:05", "考勤机故障"]], "A1:XFD1048576")
    rows = spreadsheets.read_table(data, max_rows=10)
    assert [len(cells) <= spreadsheets.MAX_COLUMNS for _n, cells in rows] == [True, True]
    assert len(rows) == 2


def test_a_file_with_too_many_rows_stops_reading_at_the_limit(monkeypatch):
    calls = []
    text = "a,b\n" + "1,2\n" * 50_000
    with pytest.raises(Exception) as refused:
        spreadsheets.read_table(text.encode(), max_rows=100, progress=calls.append)
    assert refused.value.code == spreadsheets.TOO_MANY_ROWS
    assert calls == []  # stopped long before the 1,000-row progress tick


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("photo.xlsx", PNG, spreadsheets.BAD_FILE),  # the name says XLSX, the content not
        ("old.xls", b"\xd0\xcf\x11\xe0" + b"\x00" * 64, spreadsheets.UNSUPPORTED_FILE),
        ("x.csv", PNG, spreadsheets.UNSUPPORTED_FILE),  # binary: not CSV text
        ("../../../etc/passwd.csv", b"x", bulk_import.MISSING_COLUMNS),
        ("huge-cell.csv", b"a,b\n" + b"x" * 5000 + b",1\n", spreadsheets.CELL_TOO_LONG),
    ],
)
def test_imports_refuse_what_is_no_spreadsheet(importer, name, content, code):
    status, error = import_outcome(importer, name, content)
    assert status == 302
    assert error["code"] == code


def test_an_oversized_import_is_refused_at_once(importer):
    big = b"a,b\n" + b"1,2\n" * (spreadsheets.MAX_BYTES // 4 + 1)
    response = importer.post(
        reverse("hrdesk:import_preview"), {"file": SimpleUploadedFile("big.csv", big)}
    )
    assert response.status_code == 422
    assert not Job.objects.exists()


def test_a_traversal_name_of_an_import_is_only_data(importer, tmp_path):
    status, _error = import_outcome(importer, "..\\..\\secret.csv", b"a,b\n1,2\n")
    job = Job.objects.get()
    assert job.params["filename"] == "secret.csv"
    stashed = [p for p in (tmp_path / "var").rglob("*") if p.is_file()]
    assert all(p.resolve().is_relative_to((tmp_path / "var").resolve()) for p in stashed)

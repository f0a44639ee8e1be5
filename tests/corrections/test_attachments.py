"""Proof files: type by content (magic bytes), size and count limits, only while pending."""

from __future__ import annotations

import dataclasses

import pytest
from django.core.files.base import ContentFile

from ztk.audit.models import AuditEvent
from ztk.core import uploads
from ztk.core.errors import DomainError, NotFoundError, PermissionDeniedError
from ztk.corrections.models import Attachment, ReasonCategory
from ztk.corrections.services import MAX_ATTACHMENTS, attachment_add, correction_withdraw

from .conftest import MON, item, only_checkout, submit

PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 20
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 20
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 20
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 8
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 20


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (PDF, "application/pdf"),
        (PNG, "image/png"),
        (JPEG, "image/jpeg"),
        (WEBP, "image/webp"),
        (HEIC, "image/heic"),
        (EXE, None),
        (b"GIF89a" + b"\x00" * 20, None),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", None),
        (b"", None),
    ],
)
def test_sniff_reads_the_content(content, expected):
    assert uploads.sniff(content[: uploads.SNIFF_BYTES]) == expected


pytestmark = pytest.mark.django_db


def upload(name: str, content: bytes) -> ContentFile:
    return ContentFile(content, name=name)


@pytest.fixture
def pending(week):
    only_checkout(week.employee, MON)
    (req,) = submit(week.employee.user, week.employee)
    return req


def test_a_jpg_name_with_pdf_bytes_is_a_pdf(week, pending):
    attachment = attachment_add(
        actor=week.employee.user, request=pending, file=upload("scan.jpg", PDF)
    )
    assert attachment.content_type == "application/pdf"
    assert attachment.original_name == "scan.jpg"
    assert attachment.file.name.endswith(".pdf")
    assert attachment.size == len(PDF)
    event = AuditEvent.objects.get(action="corrections.attachment.add")
    assert event.changes["after"]["content_type"] == "application/pdf"


def test_an_exe_renamed_png_is_refused(week, pending):
    with pytest.raises(DomainError) as refused:
        attachment_add(actor=week.employee.user, request=pending, file=upload("photo.png", EXE))
    assert refused.value.code == "attachment_type"
    assert not Attachment.objects.exists()


def test_too_large_and_too_many(week, pending, monkeypatch):
    monkeypatch.setattr(uploads, "PROOF", dataclasses.replace(uploads.PROOF, max_bytes=40))
    with pytest.raises(DomainError) as refused:
        attachment_add(actor=week.employee.user, request=pending, file=upload("big.pdf", PDF))
    assert refused.value.code == "attachment_too_large"
    monkeypatch.undo()
    for n in range(MAX_ATTACHMENTS):
        attachment_add(actor=week.employee.user, request=pending, file=upload(f"{n}.png", PNG))
    with pytest.raises(DomainError) as refused:
        attachment_add(actor=week.employee.user, request=pending, file=upload("6.png", PNG))
    assert refused.value.code == "too_many_attachments"


def test_only_while_pending_and_only_by_the_right_people(week, pending):
    with pytest.raises(NotFoundError):
        attachment_add(actor=week.stranger.user, request=pending, file=upload("a.png", PNG))
    with pytest.raises(PermissionDeniedError):
        attachment_add(actor=week.supervisor.user, request=pending, file=upload("a.png", PNG))
    correction_withdraw(actor=week.employee.user, request=pending)
    with pytest.raises(DomainError) as refused:
        attachment_add(actor=week.employee.user, request=pending, file=upload("a.png", PNG))
    assert refused.value.code == "not_pending"


def test_a_category_requiring_proof_needs_it_at_submission(week):
    ReasonCategory.objects.filter(code="device").update(requires_attachment=True)
    only_checkout(week.employee, MON)
    with pytest.raises(DomainError) as refused:
        submit(week.employee.user, week.employee, item(category="device"))
    assert refused.value.code == "attachment_required"
    (req,) = submit(
        week.employee.user,
        week.employee,
        item(category="device"),
        attachments=[upload("face.heic", HEIC)],
    )
    assert [a.content_type for a in req.attachments.all()] == ["image/heic"]

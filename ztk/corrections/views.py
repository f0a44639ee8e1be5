"""Attachment downloads: only for people who may see the request (others get 404)."""

from __future__ import annotations

from urllib.parse import quote

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.views.decorators.http import require_GET

from ztk.core.errors import NotFoundError

from .selectors import attachment_for


@require_GET
@login_required
def attachment_download(request, pk: int):
    try:
        attachment = attachment_for(request.user, pk)
    except NotFoundError as missing:
        raise Http404 from missing
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError as missing:
        raise Http404 from missing
    inline = attachment.content_type.startswith("image/") or attachment.content_type.endswith("pdf")
    response = FileResponse(handle, content_type=attachment.content_type)
    disposition = "inline" if inline and request.GET.get("download") != "1" else "attachment"
    response["Content-Disposition"] = (
        f"{disposition}; filename*=UTF-8''{quote(attachment.original_name)}"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    return response

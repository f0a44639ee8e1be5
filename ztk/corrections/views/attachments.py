"""Attachment downloads: only for people who may see the request (others get 404)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.views.decorators.http import require_GET

from ztk.core import uploads
from ztk.core.errors import NotFoundError

from ..selectors import attachment_for


@require_GET
@login_required
def attachment_download(request, pk: int):
    try:
        attachment = attachment_for(request.user, pk)
    except NotFoundError as missing:
        raise Http404 from missing
    return uploads.file_response(
        attachment.file,
        attachment.content_type,
        attachment.original_name,
        download=request.GET.get("download") == "1",
    )

"""Background jobs: long work (a large import) runs in the worker, the page polls its
progress, and the outcome is kept (``ztk.core.jobs``)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("Waiting")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class Job(models.Model):
    """One run of a background job for one person; only they see it.

    ``result`` is what the work returned (JSON), ``error`` the refusal that ended it
    (``{code, message, details}``). Live progress is kept in the cache, not here: the work
    may run inside a transaction whose writes nobody sees until it ends."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("kind"), max_length=60)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    status = models.CharField(
        _("status"), max_length=8, choices=JobStatus.choices, default=JobStatus.QUEUED
    )
    params = models.JSONField(_("parameters"), default=dict)
    result = models.JSONField(_("result"), null=True, blank=True)
    error = models.JSONField(_("error"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("background job")
        verbose_name_plural = _("background jobs")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["owner", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.id} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in (JobStatus.DONE, JobStatus.FAILED)


class Lease(models.Model):
    """A named lock held by one worker for a limited time (``ztk.core.leases``).

    In the database, not in the queue's storage: every node and consumer of an installation
    shares it, a holder that dies loses it when ``expires_at`` passes, and only the holder
    (``owner``) renews or releases it."""

    name = models.CharField(_("name"), max_length=100, primary_key=True)
    owner = models.CharField(_("owner"), max_length=100)
    expires_at = models.DateTimeField(_("expires at"))
    acquired_at = models.DateTimeField(_("acquired at"))

    class Meta:
        verbose_name = _("lease")
        verbose_name_plural = _("leases")
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"{self.name} ({self.owner} until {self.expires_at:%H:%M:%S})"

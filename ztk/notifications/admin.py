"""Admin: group robots (audited, their keys kept out of the log), the outbox (read-only,
with a retry action) and the inboxes (read-only)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from ztk.audit.admin import AuditedAdminMixin
from ztk.audit.services import record
from ztk.core.errors import DomainError

from . import rules, services
from .forms import RobotWebhookForm
from .models import Notification, OutboxMessage, RobotWebhook


class ByRole:
    """HR and system admins see these without model permissions assigned by hand."""

    def _by_role(self, request) -> bool:
        return rules.can_manage_robots(request.user)

    def has_module_permission(self, request):
        return self._by_role(request) or super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return self._by_role(request) or super().has_view_permission(request, obj)


@admin.register(RobotWebhook)
class RobotWebhookAdmin(ByRole, AuditedAdminMixin, admin.ModelAdmin):
    form = RobotWebhookForm
    list_display = ("name", "platform", "department", "redacted_url", "signed", "active")
    list_filter = ("platform", "active", "department")
    search_fields = ("name",)
    list_select_related = ("department",)

    def get_fields(self, request, obj=None):
        # The form drops "clear_secret" when there is no stored secret (a new robot, too):
        # listing it anyway made the add page a 500 (KeyError).
        fields = super().get_fields(request, obj)
        return [f for f in fields if f != "clear_secret" or (obj is not None and obj.secret)]

    def has_add_permission(self, request):
        return self._by_role(request) or super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return self._by_role(request) or super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._by_role(request) or super().has_delete_permission(request, obj)

    @admin.display(description=_("webhook address"))
    def redacted_url(self, obj: RobotWebhook) -> str:
        return services.redact_url(obj.url)

    @admin.display(description=_("signed"), boolean=True)
    def signed(self, obj: RobotWebhook) -> bool:
        return bool(obj.secret)

    # The audit mixin would log the whole row, key and secret included: log it redacted.
    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            previous = RobotWebhook.objects.filter(pk=obj.pk).first() if change else None
            before = services.robot_snapshot(previous) if previous else None
            admin.ModelAdmin.save_model(self, request, obj, form, change)
            record(
                f"notifications.robotwebhook.{'update' if change else 'create'}",
                obj=obj,
                actor=request.user,
                before=before,
                after=services.robot_snapshot(obj),
                extra={"via": "admin"},
            )

    def delete_model(self, request, obj):
        with transaction.atomic():
            before, pk = services.robot_snapshot(obj), obj.pk
            admin.ModelAdmin.delete_model(self, request, obj)
            record(
                "notifications.robotwebhook.delete",
                object_type=RobotWebhook._meta.label_lower,
                object_id=pk,
                actor=request.user,
                before=before,
                extra={"via": "admin"},
            )


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ByRole, admin.ModelAdmin):
    list_display = (
        "id",
        "channel",
        "target",
        "status",
        "attempts",
        "next_attempt_at",
        "created_at",
        "sent_at",
        "short_error",
    )
    list_filter = ("status", "channel")
    search_fields = ("target", "last_error")
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in OutboxMessage._meta.fields]
    actions = ("retry_selected",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not self._by_role(request):
            actions.pop("retry_selected", None)
        return actions

    @admin.display(description=_("last error"))
    def short_error(self, obj: OutboxMessage) -> str:
        return obj.last_error[:80]

    @admin.action(description=_("Send the selected failed or given-up messages again"))
    def retry_selected(self, request, queryset):
        try:
            n = services.outbox_retry(actor=request.user, ids=queryset.values_list("pk", flat=True))
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        self.message_user(
            request, _("%(n)d messages will be sent again.") % {"n": n}, messages.SUCCESS
        )


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("created_at", "recipient", "kind", "title", "read_at")
    list_filter = ("kind", ("read_at", admin.EmptyFieldListFilter))
    search_fields = ("title", "recipient__username")
    list_select_related = ("recipient",)
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in Notification._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

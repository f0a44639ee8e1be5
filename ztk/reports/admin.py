"""Admin: payroll webhooks (audited, the secret kept out of the log) and their deliveries
(read-only, with a retry action). HR and system admins see both without model permissions
assigned by hand."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from ztk.audit.admin import AuditedAdminMixin
from ztk.audit.services import record
from ztk.core.errors import DomainError
from ztk.org.rules import is_hr, is_sysadmin

# Importing payroll registers its Huey tasks in every process (the consumer included):
# Django's admin imports this module at start-up.
from . import payroll
from .models import PayrollDelivery, PayrollWebhook
from .services import webhook_snapshot


class ByRole:
    def _by_role(self, request) -> bool:
        return bool(is_hr(request.user) or is_sysadmin(request.user))

    def has_module_permission(self, request):
        return self._by_role(request) or super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return self._by_role(request) or super().has_view_permission(request, obj)


@admin.register(PayrollWebhook)
class PayrollWebhookAdmin(ByRole, AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("name", "url", "group_list", "active", "created_at")
    list_filter = ("active",)
    search_fields = ("name", "url")
    filter_horizontal = ("groups",)
    fields = ("name", "url", "secret", "groups", "active")

    def has_add_permission(self, request):
        return self._by_role(request) or super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return self._by_role(request) or super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.deliveries.exists():
            return False  # switch it off instead: its deliveries stay on record
        return self._by_role(request) or super().has_delete_permission(request, obj)

    @admin.display(description=_("attendance groups"))
    def group_list(self, obj: PayrollWebhook) -> str:
        codes = [g.code for g in obj.groups.all()]
        return ", ".join(codes) if codes else str(_("every group"))

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    # The mixin would log the secret: log it redacted, after the groups are saved.
    def save_model(self, request, obj, form, change):
        self._before = None
        if change:
            previous = PayrollWebhook.objects.filter(pk=obj.pk).first()
            self._before = webhook_snapshot(previous) if previous else None
        admin.ModelAdmin.save_model(self, request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        with transaction.atomic():
            super().save_related(request, form, formsets, change)
            record(
                f"reports.payrollwebhook.{'update' if change else 'create'}",
                obj=form.instance,
                actor=request.user,
                before=getattr(self, "_before", None),
                after=webhook_snapshot(form.instance),
                extra={"via": "admin"},
            )

    def delete_model(self, request, obj):
        with transaction.atomic():
            before, pk = webhook_snapshot(obj), obj.pk
            admin.ModelAdmin.delete_model(self, request, obj)
            record(
                "reports.payrollwebhook.delete",
                object_type=PayrollWebhook._meta.label_lower,
                object_id=pk,
                actor=request.user,
                before=before,
                extra={"via": "admin"},
            )


@admin.register(PayrollDelivery)
class PayrollDeliveryAdmin(ByRole, admin.ModelAdmin):
    list_display = (
        "id",
        "webhook",
        "period",
        "event",
        "status",
        "attempts",
        "last_status",
        "next_attempt_at",
        "created_at",
        "sent_at",
        "short_error",
    )
    list_filter = ("status", "event", "webhook")
    search_fields = ("last_error",)
    date_hierarchy = "created_at"
    list_select_related = ("webhook", "period__group")
    readonly_fields = [f.name for f in PayrollDelivery._meta.fields]
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
    def short_error(self, obj: PayrollDelivery) -> str:
        return obj.last_error[:80]

    @admin.action(description=_("Send the selected failed or given-up deliveries again"))
    def retry_selected(self, request, queryset):
        try:
            n = payroll.payroll_delivery_retry(
                actor=request.user, ids=queryset.values_list("pk", flat=True)
            )
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        self.message_user(
            request, _("%(n)d deliveries will be sent again.") % {"n": n}, messages.SUCCESS
        )

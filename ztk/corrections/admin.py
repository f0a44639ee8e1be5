"""Admin for correction settings (policies with their steps and categories; delegations are
the approvals app's)
and a read-only view of requests: a request moves only through the services."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import admin
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from ztk.approvals.admin import HRMayManage
from ztk.audit.admin import AuditedAdminMixin
from ztk.audit.services import record, snapshot

from .models import (
    ApprovalAction,
    ApprovalStepConfig,
    Attachment,
    CorrectionPolicy,
    CorrectionRequest,
    PaperForm,
    QuotaCounter,
    ReasonCategory,
)


class ReadOnly:
    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


if TYPE_CHECKING:
    # The mixin extends ModelAdmin.save_formset (it always comes before ModelAdmin).
    _AdminBase = admin.ModelAdmin
else:
    _AdminBase = object


class AuditedInlines(_AdminBase):
    """Inline rows are writes too: each created, changed or deleted row is audited."""

    def save_formset(self, request, form, formset, change):
        with transaction.atomic():
            model = formset.model
            pks = [f.instance.pk for f in formset.initial_forms if f.instance.pk is not None]
            before = {obj.pk: snapshot(obj) for obj in model.objects.filter(pk__in=pks)}
            deleted = [f.instance.pk for f in formset.deleted_forms if f.instance.pk is not None]
            super().save_formset(request, form, formset, change)
            for obj in formset.new_objects:
                self._audit(request, obj, "create", obj.pk, None, snapshot(obj))
            for obj, _fields in formset.changed_objects:
                self._audit(request, obj, "update", obj.pk, before.get(obj.pk), snapshot(obj))
            for pk in deleted:
                self._audit(request, model, "delete", pk, before.get(pk), None)

    def _audit(self, request, obj, verb, pk, before, after):
        record(
            f"{obj._meta.app_label}.{obj._meta.model_name}.{verb}",
            object_type=obj._meta.label_lower,
            object_id=pk,
            actor=request.user,
            before=before,
            after=after,
            extra={"via": "admin"},
        )


class StepInline(HRMayManage, admin.TabularInline):
    model = ApprovalStepConfig
    extra = 0
    fields = ("position", "approver_kind", "user", "deadline_working_days")
    raw_id_fields = ("user",)


class CategoryInline(HRMayManage, admin.TabularInline):
    model = ReasonCategory
    extra = 0
    fields = ("order", "code", "name", "requires_attachment", "active")
    verbose_name_plural = _("reason categories of this group (in addition to the global ones)")


@admin.register(CorrectionPolicy)
class CorrectionPolicyAdmin(HRMayManage, AuditedInlines, AuditedAdminMixin, admin.ModelAdmin):
    list_display = (
        "group",
        "chain_preset",
        "monthly_limit",
        "window_days",
        "window_mode",
        "self_apply",
    )
    list_filter = ("chain_preset", "window_mode")
    list_select_related = ("group",)
    inlines = [StepInline, CategoryInline]
    fieldsets = (
        (None, {"fields": ("group", "chain_preset")}),
        (
            _("Limits and deadlines"),
            {
                "fields": (
                    "monthly_limit",
                    "window_days",
                    "window_mode",
                    "cutoff_day",
                    "manual_adds_count",
                    "paper_counts",
                )
            },
        ),
        (
            _("What may be corrected, by whom"),
            {
                "fields": (
                    "correct_missing",
                    "correct_late",
                    "correct_early",
                    "self_apply",
                    "min_reason_length",
                    "expedite_allowed",
                )
            },
        ),
    )


@admin.register(ReasonCategory)
class ReasonCategoryAdmin(HRMayManage, AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("name", "code", "policy", "requires_attachment", "order", "active")
    list_filter = ("active", "requires_attachment", "policy")
    list_select_related = ("policy__group",)
    search_fields = ("code", "name")

    def has_delete_permission(self, request, obj=None):
        return False  # requests refer to it: switch it off (active) instead


class ActionInline(ReadOnly, HRMayManage, admin.TabularInline):
    model = ApprovalAction
    extra = 0
    fields = ("at", "step", "action", "actor", "comment", "from_user", "to_user", "old_time",
              "new_time")  # fmt: skip
    readonly_fields = fields
    can_delete = False


class AttachmentInline(ReadOnly, HRMayManage, admin.TabularInline):
    model = Attachment
    extra = 0
    fields = ("original_name", "content_type", "size", "uploaded_by", "uploaded_at")
    readonly_fields = fields
    can_delete = False


@admin.register(CorrectionRequest)
class CorrectionRequestAdmin(ReadOnly, HRMayManage, admin.ModelAdmin):
    list_display = (
        "pk",
        "employee",
        "date",
        "slot_key",
        "requested_time",
        "status",
        "current_step",
        "channel",
        "created_at",
    )
    list_filter = ("status", "channel", "expedited", "category")
    search_fields = ("employee__employee_no", "employee__name", "reason")
    list_select_related = ("employee", "category")
    date_hierarchy = "date"
    inlines = [ActionInline, AttachmentInline]
    exclude = ("current_approvers",)

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.concrete_fields]


@admin.register(ApprovalAction)
class ApprovalActionAdmin(ReadOnly, HRMayManage, admin.ModelAdmin):
    list_display = ("at", "request", "step", "action", "actor")
    list_filter = ("action",)
    list_select_related = ("request", "actor")
    search_fields = ("request__employee__employee_no", "comment")


@admin.register(Attachment)
class AttachmentAdmin(ReadOnly, HRMayManage, admin.ModelAdmin):
    list_display = ("original_name", "request", "content_type", "size", "uploaded_at")
    list_select_related = ("request",)
    list_filter = ("content_type",)


@admin.register(QuotaCounter)
class QuotaCounterAdmin(ReadOnly, HRMayManage, admin.ModelAdmin):
    list_display = ("employee", "period_start", "used", "updated_at")
    list_select_related = ("employee",)
    search_fields = ("employee__employee_no", "employee__name")


@admin.register(PaperForm)
class PaperFormAdmin(ReadOnly, HRMayManage, admin.ModelAdmin):
    """Registered through the HR desk (``paper.paper_form_register``) only; read here."""

    list_display = ("form_no", "employee", "day", "slot_key", "signed_by_name", "entered_at")
    list_select_related = ("employee",)
    search_fields = ("form_no", "employee__employee_no", "employee__name", "signed_by_name")
    date_hierarchy = "day"
    exclude = ("scan",)  # the scan is served only through the HR desk's checked view

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.concrete_fields if f.name != "scan"]

"""The audit log in the admin (read-only), and the mixin that puts every admin edit in it:
admin edits are writes too."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import admin
from django.db import transaction

from ztk.core.text import add_text_validators

from .models import AuditEvent
from .services import record, snapshot

if TYPE_CHECKING:
    # The mixin's methods extend ModelAdmin's (it always comes before ModelAdmin).
    _AdminBase = admin.ModelAdmin
else:
    _AdminBase = object


class AuditedAdminMixin(_AdminBase):
    # Every text field gets core.text's rule (see get_form), so a forbidden character is an
    # error next to its field and the input guard leaves these pages' fields to the form.
    text_checked = True

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        add_text_validators(form.base_fields)
        return form

    def get_formsets_with_inlines(self, request, obj=None):
        for formset, inline in super().get_formsets_with_inlines(request, obj):
            add_text_validators(formset.form.base_fields)
            yield formset, inline

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            before = None
            if change and obj.pk:
                previous = type(obj).objects.filter(pk=obj.pk).first()
                before = snapshot(previous) if previous else None
            super().save_model(request, obj, form, change)
            action = (
                f"{obj._meta.app_label}.{obj._meta.model_name}.{'update' if change else 'create'}"
            )
            record(
                action,
                obj=obj,
                actor=request.user,
                before=before,
                after=snapshot(obj),
                extra={"via": "admin"},
            )

    def delete_model(self, request, obj):
        with transaction.atomic():
            before = snapshot(obj)
            pk = obj.pk
            super().delete_model(request, obj)
            record(
                f"{obj._meta.app_label}.{obj._meta.model_name}.delete",
                object_type=obj._meta.label_lower,
                object_id=pk,
                actor=request.user,
                before=before,
                extra={"via": "admin"},
            )

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("seq", "at", "actor_label", "action", "object_type", "object_id", "ip")
    list_filter = ("action",)
    search_fields = ("action", "actor_label", "object_id")
    ordering = ("-seq",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

"""Admin for delegations (代理审批); the request types' admins reuse ``HRMayManage``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import admin

from ztk.audit.admin import AuditedAdminMixin

from .models import Delegation

MANAGE_PERMISSION = "org.manage_organisation"


if TYPE_CHECKING:
    # The mixin's methods extend ModelAdmin's (it always comes before ModelAdmin).
    _AdminBase = admin.ModelAdmin
else:
    _AdminBase = object


class HRMayManage(_AdminBase):
    """HR and system admins manage approval and correction settings by role, like the services."""

    def _by_role(self, request) -> bool:
        return request.user.has_perm(MANAGE_PERMISSION)

    def has_module_permission(self, request):
        return self._by_role(request) or super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return self._by_role(request) or super().has_view_permission(request, obj)

    def has_add_permission(self, request, *args):
        return self._by_role(request) or super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None):
        return self._by_role(request) or super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._by_role(request) or super().has_delete_permission(request, obj)


@admin.register(Delegation)
class DelegationAdmin(HRMayManage, AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("approver", "delegate", "start", "end", "reason")
    list_select_related = ("approver", "delegate")
    raw_id_fields = ("approver", "delegate")
    readonly_fields = ("created_by", "created_at")

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

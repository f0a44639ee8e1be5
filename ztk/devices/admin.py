"""Admin for terminals. Status changes go through the services (approval releases held
punches), so `status` is read-only here and approve/disable are admin actions."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from ztk.audit.admin import AuditedAdminMixin
from ztk.core.errors import DomainError

from . import services
from .models import Device, DeviceCommand, DeviceLog, DevicePhoto, GroupAllowList, HeldPunch


class ByRole:
    """HR and system admins see terminals by role (as in the services), without per-model
    permissions set up by hand; others keep Django's model permissions."""

    def _by_role(self, request) -> bool:
        return request.user.has_perm(services.PERMISSION)

    def has_module_permission(self, request):
        return self._by_role(request) or super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return self._by_role(request) or super().has_view_permission(request, obj)


class ReadOnlyAdmin(ByRole, admin.ModelAdmin):
    """Records written by terminals: looked at, never edited by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Device)
class DeviceAdmin(ByRole, AuditedAdminMixin, admin.ModelAdmin):
    list_display = (
        "serial",
        "name",
        "status",
        "attendance_group",
        "time_zone",
        "ip",
        "last_seen",
        "last_upload",
    )
    list_filter = ("status", "attendance_group", "pull_enabled")
    search_fields = ("serial", "name", "ip")
    list_select_related = ("attendance_group",)
    readonly_fields = (
        "status",
        "ip",
        "firmware",
        "push_version",
        "options",
        "user_count",
        "fp_count",
        "log_count",
        "attlog_stamp",
        "operlog_stamp",
        "attphoto_stamp",
        "last_seen",
        "last_upload",
        "created_at",
        "approved_at",
        "approved_by",
        # Checked and audited by the HR terminal page (services.device_update), not here.
        "allowed_networks",
        "registered_from",
    )
    actions = ("approve_selected", "disable_selected")

    def has_add_permission(self, request):
        # e.g. a terminal that is only pulled: it starts pending like any other
        return self._by_role(request) or super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return self._by_role(request) or super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False  # disable instead: punches and held punches refer to terminals

    @admin.action(description=_("Approve the selected terminals (their held punches count)"))
    def approve_selected(self, request, queryset):
        for device in queryset:
            try:
                result = services.device_approve(actor=request.user, serial=device.serial)
            except DomainError as exc:
                self.message_user(request, f"{device.serial}: {exc.message}", messages.ERROR)
                continue
            self.message_user(
                request,
                _("%(serial)s approved: %(n)d held punches recorded.")
                % {"serial": device.serial, "n": result.released.recorded},
                messages.SUCCESS,
            )

    @admin.action(description=_("Disable the selected terminals"))
    def disable_selected(self, request, queryset):
        for device in queryset:
            services.device_disable(actor=request.user, serial=device.serial)
        self.message_user(request, _("Terminals disabled."), messages.SUCCESS)


@admin.register(DeviceCommand)
class DeviceCommandAdmin(ReadOnlyAdmin):
    list_display = ("id", "device", "command", "status", "return_code", "created_at", "done_at")
    list_filter = ("status",)
    search_fields = ("device__serial", "command")
    list_select_related = ("device",)


@admin.register(HeldPunch)
class HeldPunchAdmin(ReadOnlyAdmin):
    list_display = (
        "device_sn",
        "pin",
        "local_time",
        "reason",
        "channel",
        "received_at",
        "resolved_at",
        "resolution",
    )
    list_filter = ("reason", ("resolved_at", admin.EmptyFieldListFilter), "channel")
    search_fields = ("device_sn", "pin")


@admin.register(DeviceLog)
class DeviceLogAdmin(ReadOnlyAdmin):
    list_display = ("at", "device_sn", "kind", "table", "code", "line_no", "message")
    list_filter = ("kind", "table", "code")
    search_fields = ("device_sn", "message", "raw")
    date_hierarchy = "at"


@admin.register(DevicePhoto)
class DevicePhotoAdmin(ReadOnlyAdmin):
    """Metadata only; the picture is shown on the HR terminal page (permission-checked)."""

    list_display = ("received_at", "device", "pin", "local_time", "size", "punch")
    search_fields = ("device__serial", "pin")
    list_select_related = ("device",)
    exclude = ("file",)


@admin.register(GroupAllowList)
class GroupAllowListAdmin(ReadOnlyAdmin):
    """Edited (checked, audited) on the HR terminal pages."""

    list_display = ("group", "networks", "updated_at")

from django.contrib import admin

from ztk.audit.admin import AuditedAdminMixin

from .models import AttendanceGroup, Company, Department, Employee


@admin.register(Company)
class CompanyAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("name", "time_zone", "period_start_day", "locale")


@admin.register(Department)
class DepartmentAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("code", "name", "parent", "head", "active")
    list_filter = ("active",)
    search_fields = ("code", "name")
    autocomplete_fields = ("parent", "head")


@admin.register(AttendanceGroup)
class AttendanceGroupAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("code", "name", "time_zone", "day_boundary_hour", "active")
    search_fields = ("code", "name")


@admin.register(Employee)
class EmployeeAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("employee_no", "name", "department", "supervisor", "attendance_group", "active")
    list_filter = ("active", "department", "attendance_group")
    search_fields = ("employee_no", "name", "name_initials")
    autocomplete_fields = ("user", "department", "supervisor")
    list_select_related = ("department", "supervisor", "attendance_group")

    def has_delete_permission(self, request, obj=None):
        return False  # deactivate instead: punches and audit events refer to employees

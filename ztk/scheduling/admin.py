"""Admin pages for schedules. Every edit is audited (AuditedAdminMixin) and announced to
``hooks.schedule_changed`` like the services do, so admin edits also trigger recomputes."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from ztk.audit.admin import AuditedAdminMixin
from ztk.audit.services import record

from . import services
from .hooks import schedule_changed
from .models import (
    CalendarYear,
    Exemption,
    RosterEntry,
    SegmentSpec,
    Shift,
    ShiftSegment,
    WeeklyPattern,
    WorkCalendarDay,
    validate_segments,
)
from .plans import engine_shift


class HRMayManage:
    """HR and system admins manage schedules by role (like the services), without needing
    per-model permissions set up by hand; others keep Django's model permissions."""

    def _by_role(self, request) -> bool:
        return request.user.has_perm(services.MANAGE_PERMISSION)

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


class ScheduleAdminMixin(HRMayManage, AuditedAdminMixin):
    """Announce the employee-days an edit touches, before and after it."""

    def schedule_changes(self, obj) -> list:
        raise NotImplementedError

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            old = type(obj).objects.filter(pk=obj.pk).first() if change and obj.pk else None
            changes = self.schedule_changes(old) if old is not None else []
            super().save_model(request, obj, form, change)
            schedule_changed([*changes, *self.schedule_changes(obj)])

    def delete_model(self, request, obj):
        with transaction.atomic():
            changes = self.schedule_changes(obj)
            super().delete_model(request, obj)
            schedule_changed(changes)


# --------------------------------------------------------------------------- shifts


class SegmentFormSet(forms.BaseInlineFormSet):
    """1–3 non-overlapping segments that the engine accepts, ordered by position."""

    def kept_specs(self) -> list[SegmentSpec]:
        forms_kept = [f for f in self.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
        forms_kept.sort(key=lambda f: f.cleaned_data.get("position") or 0)
        return [
            SegmentSpec(
                **{name: f.cleaned_data.get(name) for name in SegmentSpec.__dataclass_fields__}
            )
            for f in forms_kept
        ]

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        specs = self.kept_specs()
        shift = self.instance
        flexible = shift.kind == Shift.Kind.FLEXIBLE
        validate_segments(
            specs,
            flexible=flexible,
            arrive_from=shift.arrive_from if flexible else None,
            arrive_until=shift.arrive_until if flexible else None,
            required_minutes=shift.required_minutes if flexible else None,
        )
        try:
            engine_shift(
                code=shift.code or "new",
                name=shift.name,
                kind=shift.kind,
                segments=specs,
                arrive_from=shift.arrive_from,
                arrive_until=shift.arrive_until,
                required_minutes=shift.required_minutes,
            )
        except ValueError as exc:  # shift_problems owns these rules; kept as a last guard
            raise ValidationError(str(exc)) from None


class ShiftSegmentInline(HRMayManage, admin.TabularInline):
    model = ShiftSegment
    formset = SegmentFormSet
    extra = 0
    min_num = 1
    max_num = 3
    fields = ("position", *SegmentSpec.__dataclass_fields__)


@admin.register(Shift)
class ShiftAdmin(HRMayManage, AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("code", "name", "kind", "segment_times", "active")
    list_filter = ("kind", "active")
    search_fields = ("code", "name")
    inlines = [ShiftSegmentInline]
    fieldsets = (
        (None, {"fields": ("code", "name", "kind", "active")}),
        (_("Flexible hours"), {"fields": ("arrive_from", "arrive_until", "required_minutes")}),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("segments")

    @admin.display(description=_("segments"))
    def segment_times(self, obj):
        return ", ".join(str(s) for s in sorted(obj.segments.all(), key=lambda s: s.position))

    def get_readonly_fields(self, request, obj=None):
        return ("code",) if obj is not None else ()  # stored results refer to the code

    def has_delete_permission(self, request, obj=None):
        return False  # retire (active = off) instead: patterns, rosters and results refer to it

    def save_model(self, request, obj, form, change):
        # Segments are saved later (save_related); remember the old definition for it.
        form._ztk_before = (
            services._saved_segments(obj) if change and obj.pk else None,
            Shift.objects.filter(pk=obj.pk).values(*services.SHIFT_FIELDS).first()
            if change and obj.pk
            else None,
        )
        super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        if not isinstance(formset, SegmentFormSet):
            return super().save_formset(request, form, formset, change)
        # Rewrite all segments in position order: renumbering rows one by one would trip
        # the (shift, position) uniqueness when two segments swap places.
        specs = formset.kept_specs()
        services._write_segments(form.instance, specs)
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    def save_related(self, request, form, formsets, change):
        with transaction.atomic():
            super().save_related(request, form, formsets, change)
            shift = form.instance
            old_segments, old_fields = getattr(form, "_ztk_before", (None, None))
            new_segments = services._saved_segments(shift)
            new_fields = Shift.objects.filter(pk=shift.pk).values(*services.SHIFT_FIELDS).first()
            if old_segments != new_segments:
                record(
                    "scheduling.shift.segments",
                    obj=shift,
                    actor=request.user,
                    before={"segments": [s.as_dict() for s in old_segments or []]},
                    after={"segments": [s.as_dict() for s in new_segments]},
                    extra={"via": "admin"},
                )
            plan_fields = ("kind", "arrive_from", "arrive_until", "required_minutes")
            if change and (
                old_segments != new_segments
                or any((old_fields or {}).get(f) != new_fields.get(f) for f in plan_fields)
            ):
                schedule_changed(services.changes_for_shift(shift))


# --------------------------------------------------------------------------- patterns


@admin.register(WeeklyPattern)
class WeeklyPatternAdmin(ScheduleAdminMixin, admin.ModelAdmin):
    list_display = (
        "group",
        "effective_from",
        "monday_shift",
        "tuesday_shift",
        "wednesday_shift",
        "thursday_shift",
        "friday_shift",
        "saturday_shift",
        "sunday_shift",
        "use_work_calendar",
    )
    list_filter = ("group", "use_work_calendar")
    list_select_related = (
        "group",
        "monday_shift",
        "tuesday_shift",
        "wednesday_shift",
        "thursday_shift",
        "friday_shift",
        "saturday_shift",
        "sunday_shift",
    )
    fields = (
        "group",
        "effective_from",
        ("monday_shift", "tuesday_shift", "wednesday_shift", "thursday_shift"),
        ("friday_shift", "saturday_shift", "sunday_shift"),
        "default_workday_shift",
        "use_work_calendar",
    )

    def schedule_changes(self, obj):
        return services.changes_for_pattern(obj)


@admin.register(RosterEntry)
class RosterEntryAdmin(ScheduleAdminMixin, admin.ModelAdmin):
    list_display = ("date", "employee", "shift", "note")
    list_filter = ("shift",)
    search_fields = ("employee__employee_no", "employee__name", "employee__name_initials")
    date_hierarchy = "date"
    autocomplete_fields = ("employee",)
    list_select_related = ("employee", "shift")

    def schedule_changes(self, obj):
        return services.changes_for_roster([obj.employee_id], [obj.date])


# --------------------------------------------------------------------------- calendar


@admin.register(WorkCalendarDay)
class WorkCalendarDayAdmin(ScheduleAdminMixin, admin.ModelAdmin):
    list_display = ("date", "kind", "statutory", "name", "source")
    list_filter = ("kind", "statutory", "source")
    search_fields = ("name",)
    date_hierarchy = "date"
    readonly_fields = ("source",)

    def save_model(self, request, obj, form, change):
        obj.source = WorkCalendarDay.Source.MANUAL
        super().save_model(request, obj, form, change)

    def schedule_changes(self, obj):
        return services.changes_for_calendar([obj.date])


@admin.register(CalendarYear)
class CalendarYearAdmin(HRMayManage, AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("year", "status", "note", "updated_at")
    list_filter = ("status",)


# --------------------------------------------------------------------------- exemptions


class ExemptionForm(forms.ModelForm):
    class Meta:
        model = Exemption
        fields = ("employee", "kind", "start", "end", "reason")

    def clean(self):
        data = super().clean()
        employee, start, end = data.get("employee"), data.get("start"), data.get("end")
        if employee and start and end and end > start:
            clash = Exemption.objects.filter(
                employee=employee, voided_at__isnull=True, start__lt=end, end__gt=start
            ).exclude(pk=self.instance.pk)
            if clash.exists():
                raise ValidationError(
                    _("It overlaps another exemption of this employee; void that one first.")
                )
        return data


@admin.register(Exemption)
class ExemptionAdmin(ScheduleAdminMixin, admin.ModelAdmin):
    form = ExemptionForm
    list_display = ("employee", "kind", "start", "end", "reason", "created_by", "voided_at")
    list_filter = ("kind", ("voided_at", admin.EmptyFieldListFilter))
    search_fields = ("employee__employee_no", "employee__name", "reason")
    date_hierarchy = "start"
    autocomplete_fields = ("employee",)
    list_select_related = ("employee", "created_by")
    actions = ["void_selected"]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.voided:
            return ("employee", "kind", "start", "end", "reason")
        return ()

    def save_model(self, request, obj, form, change):
        if not change and getattr(request.user, "is_authenticated", False):
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def schedule_changes(self, obj):
        return services.changes_for_exemption(obj)

    def has_delete_permission(self, request, obj=None):
        return False  # void instead, so the record of what was approved stays

    @admin.action(description=_("Void the selected exemptions"))
    def void_selected(self, request, queryset):
        voided = 0
        for exemption in queryset.filter(voided_at__isnull=True):
            services.exemption_void(
                actor=request.user, exemption=exemption, reason=str(_("voided in the admin"))
            )
            voided += 1
        self.message_user(
            request, _("%(count)d exemption(s) voided.") % {"count": voided}, messages.SUCCESS
        )

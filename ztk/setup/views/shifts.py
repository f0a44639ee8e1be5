"""/settings/shifts/: the shifts (班次) — list, create, edit, with a 24-hour picture.

Thin: the form's fields are parsed here (types only); every rule is the scheduling
app's (``services.shift_errors`` via ``shift_create`` / ``shift_update``), whose refusals
are shown beside the field they name with what was typed kept (HTTP 422). The picture
(``shift_bar``) is drawn on the server: on the page, after "Preview" without JavaScript,
and live while typing through htmx's GET of ``preview`` (no script of our own: the
picture and its rules have one owner, on the server).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_safe

from ztk.core.errors import DomainError
from ztk.core.input_guard import text_checked
from ztk.org import rules
from ztk.scheduling import selectors, services
from ztk.scheduling.models import (
    DAY_MINUTES,
    MAX_SEGMENTS,
    SEGMENT_FIELDS,
    SegmentSpec,
    Shift,
    segment_offsets,
    shift_problems,
)

from ..shift_bar import Bar, shift_bar

FIELD_MAX = 100
DEFAULTS = SegmentSpec(start=time(9), end=time(18))


def _minutes_field(label: Any, *, required: bool = True, help_text: Any = "") -> forms.Field:
    return forms.IntegerField(
        label=label,
        required=required,
        min_value=0,
        max_value=DAY_MINUTES,
        help_text=help_text,
        widget=forms.NumberInput(attrs={"min": 0, "max": DAY_MINUTES, "inputmode": "numeric"}),
    )


def _time_field(label: Any, *, required: bool = False) -> forms.TimeField:
    return forms.TimeField(
        label=label,
        required=required,
        input_formats=["%H:%M"],
        widget=forms.TimeInput(format="%H:%M", attrs={"type": "time"}),
    )


class ShiftForm(forms.Form):
    code = forms.CharField(label=gettext_lazy("Code"), max_length=32, required=False)
    name = forms.CharField(label=gettext_lazy("Name"), max_length=60, required=False)
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind"), choices=Shift.Kind.choices, widget=forms.RadioSelect
    )
    arrive_from = _time_field(gettext_lazy("Earliest arrival"))
    arrive_until = _time_field(gettext_lazy("Latest arrival"))
    required_minutes = forms.IntegerField(
        label=gettext_lazy("Minutes to work"),
        required=False,
        min_value=1,
        max_value=DAY_MINUTES,
        help_text=gettext_lazy("e.g. 540 for 9 hours"),
        widget=forms.NumberInput(attrs={"min": 1, "max": DAY_MINUTES}),
    )
    active = forms.BooleanField(label=gettext_lazy("In use (may be scheduled)"), required=False)


class SegmentForm(forms.Form):
    start = _time_field(gettext_lazy("Start"))
    end = _time_field(gettext_lazy("End"))
    in_earliest = _minutes_field(gettext_lazy("Check-in opens (minutes before start)"))
    out_latest = _minutes_field(gettext_lazy("Check-out closes (minutes after end)"))
    grace_in = _minutes_field(gettext_lazy("Late grace (minutes)"))
    grace_out = _minutes_field(gettext_lazy("Early-leave grace (minutes)"))
    late_as_missing = _minutes_field(
        gettext_lazy("Late counts as missing after (minutes)"),
        required=False,
        help_text=gettext_lazy("Empty: never."),
    )
    early_as_missing = _minutes_field(
        gettext_lazy("Early leave counts as missing after (minutes)"),
        required=False,
        help_text=gettext_lazy("Empty: never."),
    )
    serious_late = _minutes_field(gettext_lazy("Seriously late after (minutes)"))
    late_as_half_day_absent = _minutes_field(
        gettext_lazy("Late counts as half a day absent after (minutes)"),
        required=False,
        help_text=gettext_lazy("Empty: never."),
    )

    @property
    def blank(self) -> bool:
        """A segment row left empty (no start and no end) is not used."""
        data = self.data
        return not any(str(data.get(self.add_prefix(n), "")).strip() for n in ("start", "end"))

    @property
    def in_use(self) -> bool:
        """Shown open: a row that was sent with times, or a saved segment."""
        return not self.blank if self.is_bound else self.initial.get("start") is not None

    def spec(self) -> SegmentSpec:
        return SegmentSpec(**{name: self.cleaned_data.get(name) for name in SEGMENT_FIELDS})


@dataclass
class Editor:
    """The page's forms, read from the saved shift or from what was sent."""

    form: ShiftForm
    segments: list[SegmentForm]
    errors: dict[str, list[str]] = field(default_factory=dict)  # not tied to a field
    used: list[int] = field(default_factory=list)  # indexes of the segment rows in use
    parsed: tuple[dict[str, Any], list[SegmentSpec]] | None = None
    done: bool = False

    def parse(self) -> tuple[dict[str, Any], list[SegmentSpec]] | None:
        """The typed values when every field has the right type, else None (errors set)."""
        if not self.done:
            self.done = True
            self.parsed = self._parse()
        return self.parsed

    def _parse(self) -> tuple[dict[str, Any], list[SegmentSpec]] | None:
        ok = self.form.is_valid()
        self.used = [i for i, s in enumerate(self.segments) if not s.blank]
        specs = []
        for i in self.used:
            segment = self.segments[i]
            if segment.is_valid():
                for name in ("start", "end"):
                    if segment.cleaned_data.get(name) is None:
                        segment.add_error(name, _("Enter a time (HH:MM)."))
            if segment.is_valid():
                specs.append(segment.spec())
            else:
                ok = False
        if not self.used:
            self.errors["segments"] = [_("Give at least one segment: its start and end.")]
            ok = False
        return (dict(self.form.cleaned_data), specs) if ok else None

    def show(self, details: Any) -> None:
        """Put a service refusal's ``{field: [messages]}`` beside the fields it names."""
        if not isinstance(details, dict):
            self.errors.setdefault("__all__", []).append(str(details))
            return
        for key, found in details.items():
            texts = [str(m) for m in (found if isinstance(found, list) else [found])]
            parts = str(key).split(".")
            if len(parts) == 3 and parts[0] == "segments" and parts[1].isdigit():
                index = int(parts[1])
                if index < len(self.used) and parts[2] in self.segments[0].fields:
                    target = self.segments[self.used[index]]
                    for text in texts:
                        target.add_error(parts[2], _bare(text))
                    continue
            if key in self.form.fields:
                for text in texts:
                    self.form.add_error(key, text)
            else:
                self.errors.setdefault(key, []).extend(texts)


def _bare(text: str) -> str:
    """A segment refusal without its "Segment n:" lead (the field sits in that segment)."""
    lead, sep, rest = text.partition(": ")
    return rest if sep and any(ch.isdigit() for ch in lead) and len(lead) < 20 else text


def _initial(shift: Shift | None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    if shift is None:
        return {"kind": Shift.Kind.FIXED, "active": True}, [DEFAULTS.as_dict()]
    values = {
        "code": shift.code,
        "name": shift.name,
        "kind": shift.kind,
        "arrive_from": shift.arrive_from,
        "arrive_until": shift.arrive_until,
        "required_minutes": shift.required_minutes,
        "active": shift.active,
    }
    return values, [SegmentSpec.of(s).as_dict() for s in shift.segments.all()]


def _editor(data: QueryDict | None, shift: Shift | None) -> Editor:
    values, rows = _initial(shift)
    segments = []
    for i in range(MAX_SEGMENTS):
        initial = rows[i] if i < len(rows) else {}
        if data is None and not initial:
            # an unused row offers the defaults for what is not a time
            initial = {k: v for k, v in DEFAULTS.as_dict().items() if k not in ("start", "end")}
        segments.append(SegmentForm(data, prefix=f"seg-{i}", initial=initial))
    return Editor(ShiftForm(data, initial=values), segments)


def _bar_of(editor: Editor, shift: Shift | None, posted: bool) -> Bar | None:
    if not posted:
        if shift is None:
            return shift_bar(kind=Shift.Kind.FIXED, segments=[DEFAULTS])
        return shift_bar(
            kind=shift.kind,
            segments=[SegmentSpec.of(s) for s in shift.segments.all()],
            arrive_from=shift.arrive_from,
            arrive_until=shift.arrive_until,
            required_minutes=shift.required_minutes,
        )
    parsed = editor.parse()
    if parsed is None:
        return None
    values, specs = parsed
    flexible = values["kind"] == Shift.Kind.FLEXIBLE
    return shift_bar(
        kind=values["kind"],
        segments=specs,
        arrive_from=values["arrive_from"] if flexible else None,
        arrive_until=values["arrive_until"] if flexible else None,
        required_minutes=values["required_minutes"] if flexible else None,
    )


def _require_viewer(request: HttpRequest) -> bool:
    """True when the user may change shifts, False when only read; 403 for the others."""
    if not rules.can_view_settings(request.user):
        raise PermissionDenied
    return bool(rules.can_change_settings(request.user))


def _shift_or_404(code: str) -> Shift:
    shift = selectors.shift_get(code[:FIELD_MAX])
    if shift is None:
        raise Http404
    return shift


def summary(shift: Shift) -> dict[str, Any]:
    """What the list shows of a shift: its times, whether it crosses midnight, a picture."""
    specs = [SegmentSpec.of(s) for s in shift.segments.all()]
    return {
        "times": ", ".join(f"{s.start:%H:%M}–{s.end:%H:%M}" for s in specs),
        "night": bool(specs) and segment_offsets(specs)[-1][1] > DAY_MINUTES,
        "bar": shift_bar(
            kind=shift.kind,
            segments=specs,
            arrive_from=shift.arrive_from,
            arrive_until=shift.arrive_until,
            required_minutes=shift.required_minutes,
        )
        if specs
        else None,
    }


@login_required
@require_safe
def index(request: HttpRequest) -> HttpResponse:
    editable = _require_viewer(request)
    usage = selectors.shift_usage()
    none = selectors.ShiftUsage()
    rows = [
        {"shift": s, "usage": usage.get(s.pk, none), **summary(s)} for s in selectors.shift_list()
    ]
    return render(request, "setup/shifts.html", {"rows": rows, "editable": editable})


def _save(request: HttpRequest, editor: Editor, shift: Shift | None) -> Shift | None:
    parsed = editor.parse()
    if parsed is None:
        return None
    values, specs = parsed
    flexible = values["kind"] == Shift.Kind.FLEXIBLE
    common = {
        "name": values["name"],
        "kind": values["kind"],
        "segments": specs,
        "arrive_from": values["arrive_from"] if flexible else None,
        "arrive_until": values["arrive_until"] if flexible else None,
        "required_minutes": values["required_minutes"] if flexible else None,
    }
    try:
        if shift is None:
            saved, _changes = services.shift_create(
                actor=request.user, code=values["code"].strip(), **common
            )
        else:
            saved, changes = services.shift_update(
                actor=request.user, shift=shift, active=values["active"], **common
            )
    except DomainError as exc:
        if exc.details:
            editor.show(exc.details)
        else:
            editor.errors.setdefault("__all__", []).append(exc.message)
        return None
    if shift is None:
        messages.success(request, _("Shift %(code)s created.") % {"code": saved.code})
    elif changes:
        messages.success(
            request,
            _(
                "Shift %(code)s saved. Days planned with it are being recomputed with the new "
                "times (closed periods stay as they were)."
            )
            % {"code": saved.code},
        )
    else:
        messages.success(request, _("Shift %(code)s saved.") % {"code": saved.code})
    return saved


def _edit_page(request: HttpRequest, shift: Shift | None) -> HttpResponse:
    editable = _require_viewer(request)
    posted = request.method == "POST"
    if posted and not editable:
        raise PermissionDenied
    editor = _editor(request.POST if posted else None, shift)
    status = 200
    if posted and "preview" not in request.POST:
        saved = _save(request, editor, shift)
        if saved is not None:
            return redirect("settings:shift_edit", code=saved.code)
        status = 422
    bar = _bar_of(editor, shift, posted)
    usage = selectors.shift_usage().get(shift.pk) if shift is not None else None
    context = {
        "shift": shift,
        "editor": editor,
        "form": editor.form,
        "segments": editor.segments,
        "bar": bar,
        "editable": editable,
        "usage": usage,
    }
    return render(request, "setup/shift_edit.html", context, status=status)


@text_checked
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def create(request: HttpRequest) -> HttpResponse:
    if not rules.can_change_settings(request.user):
        raise PermissionDenied
    return _edit_page(request, None)


@text_checked
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def edit(request: HttpRequest, code: str) -> HttpResponse:
    _require_viewer(request)
    return _edit_page(request, _shift_or_404(code))


@login_required
@require_safe
def preview(request: HttpRequest) -> HttpResponse:
    """The picture for the values in the query (the edit form's fields), for htmx; with
    the segment rules' refusals, so they show while typing (saving checks them again)."""
    _require_viewer(request)
    editor = _editor(request.GET, None)
    bar = _bar_of(editor, None, True)
    problems: list[str] = []
    parsed = editor.parse()
    if parsed is not None:
        values, specs = parsed
        flexible = values["kind"] == Shift.Kind.FLEXIBLE
        problems = [
            p.text
            for p in shift_problems(
                specs,
                flexible=flexible,
                arrive_from=values["arrive_from"] if flexible else None,
                arrive_until=values["arrive_until"] if flexible else None,
                required_minutes=values["required_minutes"] if flexible else None,
            )
        ]
    else:
        problems = [_("Some fields are not filled in correctly yet.")]
    context = {"bar": bar, "problems": problems, "live": True}
    return render(request, "setup/shift_bar.html", context)

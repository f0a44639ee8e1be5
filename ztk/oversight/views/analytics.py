"""Analytics pages (/hr/analytics/): HR sees everyone, a department head their departments.

Thin: read the filters (``Filters.from_request``: a bad value falls back to the default
and says so), ask ``trends`` for the figures, lay them out as charts (``charts``), render;
``?format=csv&chart=<id>`` answers a chart's figures as CSV. Who sees what is
``trends.scope_for`` (``org.rules.can_see_analytics`` for the section). docs/analytics.md.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from ztk.core.errors import DomainError
from ztk.core.parse import parse_day, parse_int
from ztk.core.spreadsheets import csv_bytes

from .. import charts
from .. import trends as t

TREND_METRICS = ("missing", "late", "early", "absent", "field", "corrections")
WEEKDAYS = (
    _("Mon"),
    _("Tue"),
    _("Wed"),
    _("Thu"),
    _("Fri"),
    _("Sat"),
    _("Sun"),
)
MAX_SERIES = 12  # departments / groups drawn as small charts (the biggest first)


@dataclass(frozen=True)
class Filters:
    metric: str
    by: str
    period: str
    start: date
    end: date
    measure: str  # "count" or "rate"
    fixed: tuple[str, ...] = ()  # the parameters that were refused and replaced

    @classmethod
    def from_request(cls, request: HttpRequest, *, metric: str = "missing") -> Filters:
        get = request.GET
        fixed: list[str] = []
        period = get.get("period", "week")
        if period not in t.PERIODS:
            period, fixed = "week", [*fixed, "period"]
        wanted = get.get("metric", metric)
        if wanted not in TREND_METRICS:
            wanted, fixed = metric, [*fixed, "metric"]
        by = get.get("by", "all")
        if by not in t.BY_ALL:
            by, fixed = "all", [*fixed, "by"]
        measure = "rate" if get.get("measure") == "rate" else "count"
        today = timezone.localdate()
        end = parse_day(get.get("to")) if get.get("to") else today
        if end is None:
            end, fixed = today, [*fixed, "to"]
        if period == "week":
            default_start = t.period_start(end, "week") - timedelta(weeks=11)
        else:
            first = t.period_start(end, "month")
            default_start = date(first.year - (first.month <= 11), (first.month - 12) % 12 + 1, 1)
        start = parse_day(get.get("from")) if get.get("from") else default_start
        if start is None or start > end or (end - start).days + 1 > t.MAX_DAYS:
            start, fixed = default_start, [*fixed, "from"]
        return cls(wanted, by, period, start, end, measure, tuple(fixed))


def _scope(request: HttpRequest) -> t.Scope:
    scope = t.scope_for(request.user)
    if scope is None:
        raise PermissionDenied
    return scope


def _people(metric: str, by: str, key: str, start: date, end: date, **extra: Any) -> str:
    params = {"metric": metric, "by": by, "key": key, "from": start, "to": end, **extra}
    return f"{reverse('analytics:people')}?{urlencode(params)}"


def _point_href(metric: str, by: str, p: t.Point, period: str, f: Filters) -> str:
    end = min(t.period_end(p.period, period), f.end)
    return _people(metric, by, p.key, max(p.period, f.start), end)


def _period_label(day: date, period: str) -> str:
    return day.strftime("%m-%d") if period == "week" else day.strftime("%Y-%m")


def _csv_or_page(
    request: HttpRequest, template: str, context: dict[str, Any], chart_list: list[charts.Chart]
) -> HttpResponse:
    if request.GET.get("format") == "csv":
        wanted = request.GET.get("chart", "")
        chart = next(
            (c for c in chart_list if c.id == wanted), chart_list[0] if chart_list else None
        )
        if chart is None:
            raise PermissionDenied
        body = csv_bytes([chart.columns, *chart.rows])
        response = HttpResponse(body, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="analytics-{chart.id}.csv"'
        return response
    return render(request, template, {**context, "charts": chart_list})


def _base(request: HttpRequest, tab: str, f: Filters, scope: t.Scope) -> dict[str, Any]:
    return {
        "tab": tab,
        "f": f,
        "scope_all": scope.everyone_,
        "periods": [(k, v) for k, v in t.PERIOD_LABELS.items()],
        "bys": [(k, t.BY_LABELS[k]) for k in t.BY_ALL],
        "metrics": [(k, t.METRIC_LABELS[k]) for k in TREND_METRICS],
        "fixed": f.fixed,
        "query": urlencode(
            [(k, str(v)) for k, v in request.GET.items() if k not in ("format", "chart")]
        ),
    }


def _value(p: t.Point, measure: str) -> float:
    return float(p.rate or 0) if measure == "rate" else p.value


# --- the pages -----------------------------------------------------------------------------


@login_required
@require_safe
def index(request: HttpRequest) -> HttpResponse:
    """Trends of one metric by week or month, for everyone or per department / group."""
    scope = _scope(request)
    f = Filters.from_request(request)
    points = t.trends(f.metric, by=f.by, period=f.period, start=f.start, end=f.end, scope=scope)
    label = str(t.METRIC_LABELS[f.metric])
    unit = gettext("per 100 working days") if f.measure == "rate" else gettext("count")
    periods = _all_periods(f)
    keyed: dict[str, list[t.Point]] = {}
    names: dict[str, str] = {}
    for p in points:
        keyed.setdefault(p.key, []).append(p)
        names[p.key] = p.label
    order = sorted(keyed, key=lambda k: (-sum(p.value for p in keyed[k]), k))[:MAX_SERIES]
    chart_list = []
    for i, key in enumerate(order):
        by_period = {p.period: p for p in keyed[key]}
        items = []
        for start in periods:
            p = by_period.get(start) or t.Point(start, key, names[key], 0.0)
            shown = charts.number(_value(p, f.measure))
            items.append(
                charts.Item(
                    _period_label(start, f.period),
                    [_value(p, f.measure)],
                    [_point_href(f.metric, f.by, p, f.period, f)],
                    [shown],
                    full_label=start.isoformat(),
                )
            )
        title = label if f.by == "all" else f"{label} · {names[key]}"
        chart = charts.columns(
            f"trend-{i + 1}",
            f"{title} ({unit})",
            items,
            [label],
            label_column=str(t.PERIOD_LABELS[f.period]),
            height=220 if f.by == "all" else 160,
        )
        chart_list.append(chart)
    context = _base(request, "trends", f, scope)
    context.update({"label": label, "unit": unit, "split": f.by != "all"})
    return _csv_or_page(request, "oversight/analytics/index.html", context, chart_list)


def _all_periods(f: Filters) -> list[date]:
    out, current = [], t.period_start(f.start, f.period)
    while current <= f.end:
        out.append(current)
        current = t.period_end(current, f.period) + timedelta(days=1)
    return out


@login_required
@require_safe
def corrections(request: HttpRequest) -> HttpResponse:
    """Correction requests by reason category and by channel, and per period."""
    scope = _scope(request)
    f = replace(Filters.from_request(request, metric="corrections"), metric="corrections")
    chart_list = []
    for by, title in (
        ("category", gettext("Corrections by reason category")),
        ("channel", gettext("Corrections by channel")),
    ):
        points = t.trends(
            "corrections", by=by, period=f.period, start=f.start, end=f.end, scope=scope
        )
        totals: dict[str, tuple[str, float]] = {}
        for p in points:
            totals[p.key] = (p.label, totals.get(p.key, (p.label, 0.0))[1] + p.value)
        ordered = sorted(totals.items(), key=lambda kv: (-kv[1][1], kv[0]))
        items = [
            charts.Item(name, [n], [_people("corrections", by, key, f.start, f.end)])
            for key, (name, n) in ordered
        ]
        chart_list.append(
            charts.rows(
                f"corrections-{by}",
                title,
                items,
                label_column=str(t.BY_LABELS[by]),
                value_column=gettext("Requests"),
            )
        )
    per_period = {
        p.period: p
        for p in t.trends("corrections", period=f.period, start=f.start, end=f.end, scope=scope)
    }
    items = []
    for start in _all_periods(f):
        p = per_period.get(start) or t.Point(start, "", "", 0.0)
        items.append(
            charts.Item(
                _period_label(start, f.period),
                [p.value],
                [_point_href("corrections", "all", p, f.period, f)],
                full_label=start.isoformat(),
            )
        )
    chart_list.append(
        charts.columns(
            "corrections-trend",
            gettext("Correction requests per week")
            if f.period == "week"
            else gettext("Correction requests per month"),
            items,
            [gettext("Requests")],
            label_column=str(t.PERIOD_LABELS[f.period]),
        )
    )
    return _csv_or_page(
        request,
        "oversight/analytics/corrections.html",
        _base(request, "corrections", f, scope),
        chart_list,
    )


@login_required
@require_safe
def approvals(request: HttpRequest) -> HttpResponse:
    """Approval lead time p50 / p90 per period against the SLA."""
    scope = _scope(request)
    f = replace(Filters.from_request(request), metric="lead_time", by="all")
    points = {
        p.period: p
        for p in t.trends("lead_time", period=f.period, start=f.start, end=f.end, scope=scope)
    }
    items, slas, decided, within = [], [], 0, 0.0
    for start in _all_periods(f):
        p = points.get(start) or t.Point(start, "", "", 0.0, p90=0.0)
        href = _point_href("lead_time", "all", p, f.period, f)
        share = f"{round(100 * p.within_sla)} %" if p.within_sla is not None else "–"
        items.append(
            charts.Item(
                _period_label(start, f.period),
                [p.value, p.p90 or 0.0],
                [href, href],
                [
                    f"{charts.number(p.value)} h",
                    f"{charts.number(p.p90 or 0.0)} h",
                    str(p.n),
                    share,
                ],
                full_label=start.isoformat(),
            )
        )
        if p.sla_days:
            slas.append(p.sla_days)
        decided += p.n
        within += (p.within_sla or 0) * p.n
    sla_days = sorted(slas)[len(slas) // 2] if slas else 2
    reference = (
        24.0 * sla_days,
        gettext("SLA %(days)s working days ≈ %(hours)s h")
        % {"days": sla_days, "hours": 24 * sla_days},
    )
    chart = charts.columns(
        "lead-time",
        gettext("Approval lead time (hours)"),
        items,
        ["p50", "p90"],
        label_column=str(t.PERIOD_LABELS[f.period]),
        reference=reference,
    )
    chart.columns += [gettext("Decided"), gettext("Within the SLA")]
    context = _base(request, "approvals", f, scope)
    context.update(
        {
            "decided": decided,
            "within_share": round(100 * within / decided) if decided else None,
            "sla_days": sla_days,
        }
    )
    return _csv_or_page(request, "oversight/analytics/approvals.html", context, [chart])


@login_required
@require_safe
def reminders(request: HttpRequest) -> HttpResponse:
    """The missed-punch rate before and after punch reminders were switched on (for
    everyone and per group, each around its own date), and how often a punch reminder was
    followed by a punch on time (issue 14 item 7)."""
    scope = _scope(request)
    f = replace(Filters.from_request(request), metric="missing", by="all")
    since = parse_day(request.GET.get("since")) if request.GET.get("since") else None
    today = timezone.localdate()
    result = t.before_after(scope, today=today, since=since)
    groups = t.before_after_by_group(scope, today=today)
    group_charts = [_groups_before_after(groups)] if groups else []
    reminded_charts = _reminded(f, scope)
    chart_list: list[charts.Chart] = []
    if result.since is not None and result.weeks:
        switch = t.period_start(result.since, "week")
        if switch < result.since:
            switch += timedelta(days=7)
        by_week = {p.period: p for p in result.weeks}
        items = []
        current = switch - timedelta(weeks=result.window_weeks)
        last = switch + timedelta(weeks=result.window_weeks)
        while current < last:
            p = by_week.get(current) or t.Point(current, "", "", 0.0)
            end = current + timedelta(days=6)
            items.append(
                charts.Item(
                    current.strftime("%m-%d"),
                    [float(p.rate or 0)],
                    [_people("missing", "all", "", current, end)],
                    full_label=current.isoformat(),
                )
            )
            current += timedelta(days=7)
        chart = charts.columns(
            "reminders-weeks",
            gettext("Missing punches per 100 working days, by week"),
            items,
            [gettext("Missing punches per 100 working days")],
            label_column=gettext("Week"),
            reference=(
                result.before,
                gettext("before: %(r)s") % {"r": charts.number(result.before)},
            )
            if result.before is not None
            else None,
        )
        chart_list.append(chart)
        chart_list.append(
            charts.rows(
                "reminders-summary",
                gettext("Before and after"),
                [
                    charts.Item(
                        gettext("%(n)s weeks before") % {"n": result.window_weeks},
                        [result.before or 0.0],
                        [
                            _people(
                                "missing",
                                "all",
                                "",
                                switch - timedelta(weeks=result.window_weeks),
                                switch - timedelta(days=1),
                            )
                        ],
                    ),
                    charts.Item(
                        gettext("%(n)s weeks after") % {"n": result.window_weeks},
                        [result.after or 0.0],
                        [
                            _people(
                                "missing",
                                "all",
                                "",
                                switch,
                                switch + timedelta(weeks=result.window_weeks, days=-1),
                            )
                        ],
                    ),
                ],
                label_column=gettext("Window"),
                value_column=gettext("Missing punches per 100 working days"),
            )
        )
    context = _base(request, "reminders", f, scope)
    context.update(
        {
            "company_charts": chart_list,
            "group_charts": group_charts,
            "groups": [_group_row(g) for g in groups],
            "reminded_charts": reminded_charts,
            "result": result,
            "change_pct": round(100 * result.change) if result.change is not None else None,
            "drop_pct": round(-100 * result.change) if result.change is not None else None,
            "target_pct": round(-100 * result.target),
        }
    )
    return _csv_or_page(
        request,
        "oversight/analytics/reminders.html",
        context,
        [*chart_list, *group_charts, *reminded_charts],
    )


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{charts.number(value)} %"


def _change(change: float | None) -> str:
    if change is None:
        return "–"
    pct = round(100 * change)
    return f"−{-pct} %" if pct < 0 else f"+{pct} %"  # a minus sign, not a hyphen


def _reached(reached: bool | None) -> str:
    if reached is None:
        return "–"
    return gettext("yes") if reached else gettext("no")


def _group_row(g: t.GroupBeforeAfter) -> dict[str, Any]:
    r = g.result
    return {
        "key": g.key,
        "label": g.label,
        "since": r.since,
        "weeks": r.window_weeks,
        "before": r.before,
        "after": r.after,
        "change": _change(r.change),
        "reached": r.reached,
    }


def _groups_before_after(groups: list[t.GroupBeforeAfter]) -> charts.Chart:
    """Per group: missing punches per 100 working days in the weeks before and after its
    own switch-on date; each bar opens the people behind it."""
    items = []
    for g in groups:
        r, switch = g.result, g.switch
        hrefs = []
        if switch is not None and r.window_weeks:
            first = switch - timedelta(weeks=r.window_weeks)
            last = switch + timedelta(weeks=r.window_weeks, days=-1)
            hrefs = [
                _people("missing", "group", g.key, first, switch - timedelta(days=1)),
                _people("missing", "group", g.key, switch, last),
            ]
        items.append(
            charts.Item(
                g.label,
                [r.before or 0.0, r.after or 0.0],
                hrefs,
                [
                    charts.number(r.before) if r.before is not None else "–",
                    charts.number(r.after) if r.after is not None else "–",
                    r.since.isoformat() if r.since else "",
                    str(r.window_weeks),
                    _change(r.change),
                    _reached(r.reached),
                ],
            )
        )
    chart = charts.columns(
        "reminders-groups",
        gettext("Missing punches per 100 working days, before and after, per group"),
        items,
        [gettext("Before"), gettext("After")],
        label_column=str(t.BY_LABELS["group"]),
        height=200,
    )
    chart.columns += [
        gettext("Switched on"),
        gettext("Weeks each side"),
        gettext("Change"),
        gettext("%(pct)s %% drop reached") % {"pct": 30},
    ]
    return chart


def _reminded(f: Filters, scope: t.Scope) -> list[charts.Chart]:
    """Reminder sent → punched on time in the slot's window: per week or month for the
    scope, and per group over the range; the bars open who was reminded and did not."""
    extra = [
        gettext("Reminders sent"),
        gettext("Punched on time"),
        gettext("Late"),
        gettext("No punch"),
    ]

    def counts(n: int, value: float, late: int) -> list[str]:
        return [str(n), charts.number(value), str(late), str(n - int(value) - late)]

    per_period = {
        p.period: p
        for p in t.trends(
            "reminder_punched", by="all", period=f.period, start=f.start, end=f.end, scope=scope
        )
    }
    items = []
    for start in _all_periods(f):
        p = per_period.get(start) or t.Point(start, "", "", 0.0, late=0)
        items.append(
            charts.Item(
                _period_label(start, f.period),
                [float(p.rate or 0)],
                [_point_href("reminder_punched", "all", p, f.period, f)],
                [_pct(p.rate), *counts(p.n, p.value, p.late or 0)],
                full_label=start.isoformat(),
            )
        )
    share = gettext("Punched on time, share of reminders")
    trend = charts.columns(
        "reminded-trend",
        gettext("Reminded, then punched on time (share of reminders)"),
        items,
        [share],
        label_column=str(t.PERIOD_LABELS[f.period]),
    )
    trend.columns += extra
    totals: dict[str, list[Any]] = {}
    for p in t.trends(
        "reminder_punched", by="group", period="month", start=f.start, end=f.end, scope=scope
    ):
        row = totals.setdefault(p.key, [p.label, 0, 0.0, 0])
        row[1] += p.n
        row[2] += p.value
        row[3] += p.late or 0
    group_items, group_counts = [], []
    for key, (label, n, value, late) in sorted(totals.items()):
        rate = round(100 * value / n, 1) if n else None
        group_items.append(
            charts.Item(
                label,
                [rate or 0.0],
                [_people("reminder_punched", "group", key, f.start, f.end)],
                [_pct(rate)],
            )
        )
        group_counts.append(counts(n, value, late))
    per_group = charts.rows(
        "reminded-groups",
        gettext("Reminded, then punched on time, per group"),
        group_items,
        label_column=str(t.BY_LABELS["group"]),
        value_column=share,
    )
    per_group.columns += extra
    for row, more in zip(per_group.rows, group_counts, strict=True):
        row.extend(more)
    return [trend, per_group]


@login_required
@require_safe
def patterns(request: HttpRequest) -> HttpResponse:
    """Anomalies per day of the week, and the hours of the slots people had to correct."""
    scope = _scope(request)
    f = replace(Filters.from_request(request), by="all")
    weekdays = t.anomaly_weekdays(f.start, f.end, scope)
    hours = t.anomaly_hours(f.start, f.end, scope)
    day_items = [
        charts.Item(
            str(WEEKDAYS[wd - 1]),
            [weekdays[wd]],
            [_people("late", "all", "", f.start, f.end, weekday=wd)],
        )
        for wd in range(1, 8)
    ]
    hour_items = [
        charts.Item(
            f"{h:02d}",
            [float(hours[h])],
            [_people("corrections", "all", "", f.start, f.end, hour=h)],
            full_label=f"{h:02d}:00–{h:02d}:59",
        )
        for h in range(24)
    ]
    chart_list = [
        charts.columns(
            "weekdays",
            gettext("Anomalies by day of the week"),
            day_items,
            [gettext("Anomalies")],
            label_column=gettext("Day of the week"),
        ),
        charts.columns(
            "hours",
            gettext("Corrected slots by hour of the day"),
            hour_items,
            [gettext("Requests")],
            label_column=gettext("Hour"),
        ),
    ]
    return _csv_or_page(
        request,
        "oversight/analytics/patterns.html",
        _base(request, "patterns", f, scope),
        chart_list,
    )


@login_required
@require_safe
def people(request: HttpRequest) -> HttpResponse:
    """The people and days behind a point (``trends.drill``), linking to their day pages."""
    scope = _scope(request)
    get = request.GET
    metric = get.get("metric", "")
    by = get.get("by", "all")
    key = (get.get("key") or "")[:64]
    start, end = parse_day(get.get("from")), parse_day(get.get("to"))
    weekday = parse_int(get.get("weekday"), minimum=1, maximum=7) if get.get("weekday") else None
    hour = parse_int(get.get("hour"), minimum=0, maximum=23) if get.get("hour") else None
    error = ""
    rows: list[t.DrillRow] = []
    try:
        if start is None or end is None:
            raise t.refuse(
                t.BAD_RANGE, _("Give a first and a last day, the first not after the last.")
            )
        rows = t.drill(
            metric, by=by, key=key, start=start, end=end, scope=scope, weekday=weekday, hour=hour
        )
    except DomainError as refused:
        error = refused.message
    what = str(t.METRIC_LABELS.get(metric, ""))
    if weekday is not None:
        what = gettext("Anomalies on %(day)s") % {"day": WEEKDAYS[weekday - 1]}
    elif hour is not None:
        what = gettext("Corrected slots at %(hour)s:00") % {"hour": f"{hour:02d}"}
    unit = gettext("hours") if metric == "lead_time" else ""
    reminders = metric == "reminder_punched"
    if reminders:
        what = gettext("Reminded, and not punched on time")
        unit = gettext("Reminder")
    return render(
        request,
        "oversight/analytics/people.html",
        {
            "rows": rows,
            "error": error,
            "what": what,
            "key": key,
            "by_label": t.BY_LABELS.get(by, ""),
            "start": start,
            "end": end,
            "unit": unit,
            "detail_only": reminders,
            "limit": t.DRILL_LIMIT,
            "tab": "",
        },
    )

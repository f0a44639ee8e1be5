"""Server-drawn charts for the analytics pages: pure geometry, no ORM, no Django.

A chart is a fixed ``viewBox`` (``WIDTH`` wide) that the page scales to its column: 360
units keep 13-unit text readable on a 375 px phone (about 12 px) and not oversized on a
desktop (two charts a row, each capped at 560 px by the stylesheet). The template
``oversight/analytics/_chart.html`` turns a ``Chart`` into SVG: presentation attributes
only (``fill``, ``font-size`` …), no ``style`` attribute and no script, so the page keeps
its strict CSP and the PNG export (static ``analytics.js``) draws the same picture.

Every bar carries the link to the people behind it (``href``) and a ``title`` (the
tooltip and what a screen reader says); ``rows`` repeat the figures as a table for the
CSV export and for people who prefer numbers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

WIDTH = 360
ROWS_WIDTH = 300
COLORS = ("#2563eb", "#f59e0b", "#059669", "#7c3aed", "#db2777", "#0891b2")
REFERENCE = "#dc2626"
FONT = 13


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    w: float
    h: float
    fill: str
    href: str
    title: str
    hit_y: float = 0.0  # the clickable area: the whole column (or row), however small the bar
    hit_h: float = 0.0


@dataclass(frozen=True)
class Text:
    x: float
    y: float
    text: str
    anchor: str = "middle"


@dataclass(frozen=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    color: str = "#d1d5db"
    dashed: bool = False


@dataclass(frozen=True)
class Item:
    """One group of bars (one period, one category …): a label, a value per series, the
    drill-down link of each value and the value as shown."""

    label: str
    values: Sequence[float]
    hrefs: Sequence[str]
    shown: Sequence[str] = ()
    full_label: str = ""


@dataclass
class Chart:
    id: str
    title: str
    height: float
    bars: list[Bar] = field(default_factory=list)
    texts: list[Text] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    note: str = ""
    width: int = WIDTH
    font: int = FONT

    @property
    def empty(self) -> bool:
        return not self.rows

    @property
    def view_box(self) -> str:
        return f"0 0 {self.width} {round(self.height)}"

    @property
    def table(self) -> list[tuple[list[str], str]]:
        return list(zip(self.rows, self.links or [""] * len(self.rows), strict=False))


def nice_max(value: float) -> float:
    """The axis top for four grid steps: 4 × the smallest 1, 2, 2.5 or 5 × 10ⁿ step that
    reaches ``value`` (whole steps 0–4 for small counts and for nothing at all)."""
    if value <= 4 and value == int(value):
        return 4.0  # small counts: whole steps 0–4
    quarter = value / 4
    power = 10 ** math.floor(math.log10(quarter))
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= quarter - 1e-9 and not (step == 2.5 and power < 1 and value >= 4):
            return 4 * step * power
    return 40 * power


def number(value: float) -> str:
    """12, 12.5, 0.25: no trailing zeros."""
    if value == int(value):
        return str(int(value))
    return f"{value:.2f}".rstrip("0").rstrip(".")


def columns(
    id: str,
    title: str,
    items: Sequence[Item],
    series: Sequence[str],
    *,
    label_column: str,
    reference: tuple[float, str] | None = None,
    height: float = 220,
    colors: Sequence[str] = COLORS,
) -> Chart:
    """Vertical bars: a group per item, a bar per series; an optional dashed reference line
    (e.g. the SLA) with its label. At most about eight x labels are written."""
    left, right, top, bottom = 34.0, 6.0, 16.0, 30.0
    chart = Chart(id, title, height)
    chart.columns = [label_column, *series]
    chart.legend = (
        [(colors[i % len(colors)], s) for i, s in enumerate(series)] if len(series) > 1 else []
    )
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    peak = max([v for item in items for v in item.values] + [reference[0] if reference else 0])
    top_value = nice_max(peak)
    base_y = top + plot_h
    for i in range(5):  # grid: 0, ¼, ½, ¾, top
        value = top_value * i / 4
        y = base_y - plot_h * i / 4
        chart.lines.append(Line(left, y, WIDTH - right, y))
        chart.texts.append(Text(left - 4, y + 4, number(round(value, 2)), "end"))
    if not items:
        return chart
    group_w = plot_w / len(items)
    bar_w = max(group_w * 0.8 / len(series), 1.0)
    every = max(1, math.ceil(len(items) / 8))
    for i, item in enumerate(items):
        x0 = left + i * group_w + group_w * 0.1
        shown = list(item.shown) or [number(v) for v in item.values]
        for s, value in enumerate(item.values):
            h = plot_h * value / top_value
            name = f"{series[s]}: " if len(series) > 1 else ""
            chart.bars.append(
                Bar(
                    round(x0 + s * bar_w, 2),
                    round(base_y - h, 2),
                    round(bar_w - (1 if len(series) > 1 else 0), 2),
                    round(max(h, 0), 2),
                    colors[s % len(colors)],
                    item.hrefs[s] if s < len(item.hrefs) else "",
                    f"{item.full_label or item.label} · {name}{shown[s]}",
                    top,
                    plot_h,
                )
            )
        if i % every == 0:
            chart.texts.append(Text(round(left + (i + 0.5) * group_w, 2), height - 12, item.label))
        chart.rows.append([item.full_label or item.label, *shown])
        chart.links.append(item.hrefs[0] if item.hrefs else "")
    if reference is not None:
        y = base_y - plot_h * reference[0] / top_value
        chart.lines.append(Line(left, y, WIDTH - right, y, REFERENCE, dashed=True))
        chart.texts.append(Text(WIDTH - right, y - 4, reference[1], "end"))
    return chart


def rows(
    id: str,
    title: str,
    items: Sequence[Item],
    *,
    label_column: str,
    value_column: str,
    color: str = COLORS[0],
) -> Chart:
    """Horizontal bars, one row per item: its label above the bar, the value after it —
    long category names stay readable on a phone."""
    row_h, left, right = 40.0, 4.0, 44.0
    chart = Chart(id, title, max(row_h * len(items) + 8, 40), width=ROWS_WIDTH)
    chart.columns = [label_column, value_column]
    peak = nice_max(max([item.values[0] for item in items] + [0]))
    for i, item in enumerate(items):
        y = 4 + i * row_h
        w = (ROWS_WIDTH - left - right) * item.values[0] / peak
        shown = item.shown[0] if item.shown else number(item.values[0])
        chart.texts.append(Text(left, y + 13, item.label, "start"))
        chart.bars.append(
            Bar(
                left,
                y + 19,
                round(max(w, 1), 2),
                15,
                color,
                item.hrefs[0] if item.hrefs else "",
                f"{item.label} · {shown}",
                y,
                row_h,
            )
        )
        chart.texts.append(Text(round(left + max(w, 1) + 4, 2), y + 31, shown, "start"))
        chart.rows.append([item.full_label or item.label, shown])
        chart.links.append(item.hrefs[0] if item.hrefs else "")
    return chart

"""The server-drawn charts (ztk/oversight/charts.py): axes a reader can read, every bar a
link, the figures repeated for the table and the CSV."""

from __future__ import annotations

import pytest

from ztk.oversight import charts


@pytest.mark.parametrize(
    ("peak", "top"),
    [(0, 4), (1, 4), (3, 4), (4, 4), (5, 8), (9, 10), (72, 80), (101, 200), (0.3, 0.4)],
)
def test_the_axis_top_gives_four_readable_steps(peak, top):
    assert charts.nice_max(peak) == top


def test_every_bar_links_to_its_people_and_is_clickable_even_at_zero():
    items = [
        charts.Item("11-02", [4.0], ["/p?w=1"], full_label="2026-11-02"),
        charts.Item("11-09", [0.0], ["/p?w=2"], full_label="2026-11-09"),
    ]
    chart = charts.columns("t", "迟到", items, ["迟到"], label_column="周")

    assert [b.href for b in chart.bars] == ["/p?w=1", "/p?w=2"]
    tall, empty = chart.bars
    assert tall.h > 0 and empty.h == 0 and empty.hit_h == tall.hit_h > 0
    assert chart.rows == [["2026-11-02", "4"], ["2026-11-09", "0"]]
    assert {t.text for t in chart.texts} >= {"0", "1", "2", "3", "4", "11-02", "11-09"}
    assert all(b.x >= 0 and b.x + b.w <= charts.WIDTH for b in chart.bars)

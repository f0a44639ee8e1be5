"""Which days are statutory holidays (法定节假日), by 《全国年节及纪念日放假办法》.

The law names the festivals every citizen has off and their days; the State Council's
yearly notice (国务院办公厅关于某年部分节假日安排的通知) then arranges the holiday
periods around them: weekends moved into a period (调休) and a workday off in place of a
festival day that falls on a weekend (补假). Only the festival days themselves are
statutory: overtime on them pays 3× (劳动法 第44条 (三)); the other days off of a period
are rest days (2×, 第44条 (二)). docs/overtime.md.

The festival days, by the version of the law in force in the year:

| festival | 2000–2007 | 2008–2013 | 2014–2024 | since 2025 |
| --- | --- | --- | --- | --- |
| 元旦 | Jan 1 | Jan 1 | Jan 1 | Jan 1 |
| 春节 | 初一–初三 | 除夕, 初一, 初二 | 初一–初三 | 除夕, 初一–初三 |
| 清明节 | — | 清明 (solar term) | 清明 | 清明 |
| 劳动节 | May 1–3 | May 1 | May 1 | May 1–2 |
| 端午节 | — | 五月初五 | 五月初五 | 五月初五 |
| 中秋节 | — | 八月十五 | 八月十五 | 八月十五 |
| 国庆节 | Oct 1–3 | Oct 1–3 | Oct 1–3 | Oct 1–3 |

(State Council decrees of 1999, 2007, 2013 and 2024.) The lunar dates come from
``lunardate``, 清明 from chinese-calendar's solar terms. chinese-calendar itself lists every
day off of a period as a holiday and marks only the workdays given in lieu of worked
weekends (``in_lieu_days``): a day in lieu is never statutory, but a day *not* in lieu is
not necessarily statutory either (the weekend days inside a period, a 补假 day), hence this
rule. Years before 2000 are read with the 2000 rules (the calendar has no data for them).
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import chinese_calendar
from lunardate import LunarDate

FIRST_RULES_2008, RULES_2014, RULES_2025 = 2008, 2014, 2025  # the law's versions


def _lunar(year: int, month: int, day: int) -> date:
    return LunarDate(year, month, day).to_solar_date()


def _qingming(year: int) -> date:
    for day, name in chinese_calendar.get_solar_terms(date(year, 4, 1), date(year, 4, 30)):
        if name == "清明":
            return day
    raise ValueError(f"no 清明 in April {year}")  # pragma: no cover - every April has one


@lru_cache(maxsize=64)
def statutory_days(year: int) -> dict[date, str]:
    """The statutory holiday dates (法定节假日) of ``year`` with their festival's name.

    Do not change the dict returned: it is cached.
    """
    new_year = _lunar(year, 1, 1)  # 正月初一, between Jan 21 and Feb 20: always this year
    eve = new_year - timedelta(days=1)  # 除夕: the last day of the twelfth month
    first_three = [new_year + timedelta(days=i) for i in range(3)]
    days: dict[date, str] = {date(year, 1, 1): "元旦"}
    if year < FIRST_RULES_2008:
        spring, labour = first_three, [1, 2, 3]
    elif year < RULES_2014:
        spring, labour = [eve, *first_three[:2]], [1]
    elif year < RULES_2025:
        spring, labour = first_three, [1]
    else:
        spring, labour = [eve, *first_three], [1, 2]
    days.update((d, "春节") for d in spring)
    days.update((date(year, 5, d), "劳动节") for d in labour)
    if year >= FIRST_RULES_2008:
        days[_qingming(year)] = "清明节"
        days[_lunar(year, 5, 5)] = "端午节"
        days[_lunar(year, 8, 15)] = "中秋节"
    days.update((date(year, 10, d), "国庆节") for d in (1, 2, 3))  # 国庆节 wins a shared day
    return days


def is_statutory(day: date) -> bool:
    """Whether ``day`` is a statutory holiday by the law in force in its year."""
    return day in statutory_days(day.year)

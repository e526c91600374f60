"""Working-day arithmetic on the Chinese calendar.

Three layers decide whether a day is a working day, first match wins:
1. ``HolidayOverride`` rows the administrator loaded (a year's schedule, 调休);
2. the ``chinesecalendar`` package for the years it covers (statutory holidays and
   adjusted working Saturdays/Sundays);
3. Monday–Friday, for years neither covers — ``hotline check`` warns about them.

``WorkCalendar`` is pure: built from a dict of overrides, no database access.
``current_calendar()`` builds one from the database (cached until overrides change).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Mapping
from functools import lru_cache

import chinese_calendar


@lru_cache(maxsize=None)
def _package_years() -> frozenset[int]:
    years = {d.year for d in chinese_calendar.holidays} | {d.year for d in chinese_calendar.workdays}
    return frozenset(years)


def package_covers(year: int) -> bool:
    return year in _package_years()


class WorkCalendar:
    def __init__(self, overrides: Mapping[dt.date, bool] | None = None) -> None:
        self.overrides: dict[dt.date, bool] = dict(overrides or {})
        self._override_years = {d.year for d in self.overrides}
        self._cache: dict[dt.date, bool] = {}

    def covers(self, year: int) -> bool:
        """True when the year's holidays are known (package or an override for that year)."""
        return package_covers(year) or year in self._override_years

    def is_workday(self, day: dt.date) -> bool:
        cached = self._cache.get(day)
        if cached is not None:
            return cached
        if day in self.overrides:
            value = self.overrides[day]
        elif package_covers(day.year):
            value = chinese_calendar.is_workday(day)
        else:
            value = day.weekday() < 5
        self._cache[day] = value
        return value

    def add_workdays(self, start: dt.date, days: int) -> dt.date:
        """The ``days``-th working day after ``start`` (``start`` itself not counted).

        ``days == 0`` gives ``start`` if it is a working day, else the next one.
        """
        if days < 0:
            raise ValueError("days must be >= 0")
        day = start
        if days == 0:
            while not self.is_workday(day):
                day += dt.timedelta(days=1)
            return day
        remaining = days
        while remaining:
            day += dt.timedelta(days=1)
            if self.is_workday(day):
                remaining -= 1
        return day

    def workdays_between(self, start: dt.date, end: dt.date) -> int:
        """Working days in (start, end]; negative when ``end`` is before ``start``."""
        if end < start:
            return -self.workdays_between(end, start)
        count = 0
        day = start
        while day < end:
            day += dt.timedelta(days=1)
            if self.is_workday(day):
                count += 1
        return count


_lock = threading.Lock()
_cached: tuple[tuple[int, object], WorkCalendar] | None = None


def current_calendar() -> WorkCalendar:
    """The calendar with the database's overrides; rebuilt when they change."""
    global _cached
    from django.db.models import Count, Max

    from hotline.directory.models import HolidayOverride

    stamp = HolidayOverride.objects.aggregate(n=Count("id"), last=Max("updated_at"))
    key = (stamp["n"], stamp["last"])
    with _lock:
        if _cached is not None and _cached[0] == key:
            return _cached[1]
    overrides = dict(HolidayOverride.objects.values_list("date", "is_workday"))
    calendar = WorkCalendar(overrides)
    with _lock:
        _cached = (key, calendar)
    return calendar

"""The holiday schedule import format, and which years the calendar covers.

Pure parsing (no database): ``parse_lines`` and ``parse_days`` turn an upload into
``{date: (is_workday, name)}`` or raise ``InvalidInput`` listing every bad line.
``calendar_coverage`` answers, per year, whether its holidays are known (used by
``hotline check`` and ``GET /api/directory/holidays/coverage``).

The text format (UTF-8, one entry per line, docs/directory.md)::

    # 2027 schedule (example)
    date,is_workday,name
    2027-01-01~2027-01-03,休,元旦
    2027-02-06~2027-02-12,0,春节
    2027-02-14,班,春节调休

- ``date`` is one day ``YYYY-MM-DD`` or an inclusive range ``YYYY-MM-DD~YYYY-MM-DD``
  (the State Council's notices announce holidays as ranges);
- ``is_workday``: ``0``/``false``/``休`` (a day off) or ``1``/``true``/``班`` (a working day);
- ``name`` is optional (at most 64 characters);
- blank lines, ``#`` comments and a header line ``date,...`` are skipped.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from hotline.lib.errors import InvalidInput

#: Longest range one line may announce (the longest holiday, 春节, is 8-9 days).
MAX_RANGE_DAYS = 31
#: Most entries one import may hold (a year has 366 days).
MAX_ENTRIES = 400
MAX_LINES = 2000
NAME_MAX = 64
YEARS = (2000, 2100)

TRUE_WORDS = {"1", "true", "yes", "y", "班", "上班", "工作日", "workday"}
FALSE_WORDS = {"0", "false", "no", "n", "休", "休息", "放假", "假", "holiday", "off"}
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

Schedule = dict[dt.date, tuple[bool, str]]


def _error(errors: list[dict[str, Any]], where: str, line: int, field: str, rule: str, message: str) -> None:
    errors.append({"field": f"{where}[{line}].{field}", "rule": rule, "line": line, "message": message})


def _parse_date(text: str) -> dt.date | None:
    if not _DATE_RE.match(text):
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def parse_workday(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    return None


def _entry(
    errors: list[dict[str, Any]], out: Schedule, seen: dict[dt.date, int], where: str, line: int,
    date_text: Any, workday_value: Any, name_value: Any, year: int | None,
) -> None:
    """Validate one entry (a day or a range) and add its days to ``out``."""
    before = len(errors)
    date_text = str(date_text if date_text is not None else "").strip()
    start = end = None
    if not date_text:
        _error(errors, where, line, "date", "required", f"line {line}: date is required")
    else:
        first, sep, last = date_text.partition("~")
        start = _parse_date(first.strip())
        end = _parse_date(last.strip()) if sep else start
        if start is None or end is None:
            _error(errors, where, line, "date", "date_format",
                   f"line {line}: {date_text!r} is not a date YYYY-MM-DD or a range YYYY-MM-DD~YYYY-MM-DD")
            start = end = None
        elif end < start:
            _error(errors, where, line, "date", "range_order", f"line {line}: the range ends before it starts")
        elif (end - start).days + 1 > MAX_RANGE_DAYS:
            _error(errors, where, line, "date", "range_length", f"line {line}: a range may span at most {MAX_RANGE_DAYS} days")
        elif not (YEARS[0] <= start.year and end.year <= YEARS[1]):
            _error(errors, where, line, "date", "year_range", f"line {line}: years {YEARS[0]}..{YEARS[1]} only")
        elif year is not None and (start.year != year or end.year != year):
            _error(errors, where, line, "date", "year", f"line {line}: {date_text} is not in {year}")
    is_workday = parse_workday(workday_value) if workday_value is not None else None
    if is_workday is None:
        _error(errors, where, line, "is_workday", "choice",
               f"line {line}: is_workday must be 1/true/班 (working day) or 0/false/休 (day off)")
    name = str(name_value if name_value is not None else "").strip()
    if len(name) > NAME_MAX:
        _error(errors, where, line, "name", "max_length", f"line {line}: name must be at most {NAME_MAX} characters")
    if len(errors) > before or start is None or end is None or is_workday is None:
        return
    day = start
    while day <= end:
        if day in seen:
            _error(errors, where, line, "date", "duplicate", f"line {line}: {day} is already given on line {seen[day]}")
            return
        day += dt.timedelta(days=1)
    day = start
    while day <= end:
        seen[day] = line
        out[day] = (is_workday, name)
        day += dt.timedelta(days=1)


def _finish(errors: list[dict[str, Any]], out: Schedule, where: str) -> Schedule:
    if not errors and not out:
        errors.append({"field": where, "rule": "not_empty", "line": 0, "message": "the import holds no entries"})
    if not errors and len(out) > MAX_ENTRIES:
        errors.append({"field": where, "rule": "max_entries", "line": 0, "message": f"at most {MAX_ENTRIES} days per import"})
    if errors:
        raise InvalidInput.many(errors)
    return out


def parse_lines(text: str, *, year: int | None = None) -> Schedule:
    """Parse the text format; every bad line is reported (field ``lines[N].column``)."""
    errors: list[dict[str, Any]] = []
    out: Schedule = {}
    seen: dict[dt.date, int] = {}
    lines = text.lstrip("\ufeff").splitlines()
    if len(lines) > MAX_LINES:
        raise InvalidInput("text", "max_lines", f"at most {MAX_LINES} lines per import")
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        cells = [c.strip() for c in re.split(r"[,，\t]", line, maxsplit=2)]
        if cells[0].lower() in ("date", "日期"):  # a header line
            continue
        if len(cells) < 2:
            _error(errors, "lines", number, "is_workday", "required",
                   f"line {number}: expected date,is_workday[,name] but got {line!r}")
            continue
        _entry(errors, out, seen, "lines", number, cells[0], cells[1], cells[2] if len(cells) > 2 else "", year)
    return _finish(errors, out, "text")


def parse_days(days: Sequence[Mapping[str, Any]], *, year: int | None = None) -> Schedule:
    """Parse the JSON form ``[{"date", "is_workday", "name"}, ...]`` (field ``days[N]``,
    N counted from 1 like lines)."""
    errors: list[dict[str, Any]] = []
    out: Schedule = {}
    seen: dict[dt.date, int] = {}
    if len(days) > MAX_LINES:
        raise InvalidInput("days", "max_lines", f"at most {MAX_LINES} entries per import")
    for number, item in enumerate(days, start=1):
        if not isinstance(item, Mapping):
            _error(errors, "days", number, "date", "type", f"entry {number}: expected an object")
            continue
        _entry(errors, out, seen, "days", number, item.get("date"), item.get("is_workday"), item.get("name"), year)
    return _finish(errors, out, "days")


# --- coverage --------------------------------------------------------------------------


def calendar_coverage(years: Iterable[int]) -> dict[int, dict[str, Any]]:
    """year -> {covered, source, overrides, package, warning}. A year is covered when the
    ``chinesecalendar`` package knows it or the administrator loaded overrides for it;
    otherwise deadlines in it count Monday–Friday only, and ``warning`` says so."""
    from django.db.models import Count
    from django.db.models.functions import ExtractYear

    from hotline.cases.workdays import package_covers
    from hotline.directory.models import HolidayOverride

    years = sorted(set(int(y) for y in years))
    counts = dict(
        HolidayOverride.objects.filter(date__year__in=years)
        .annotate(y=ExtractYear("date")).values("y").annotate(n=Count("id")).values_list("y", "n")
    )
    out: dict[int, dict[str, Any]] = {}
    for year in years:
        overrides = int(counts.get(year, 0))
        package = package_covers(year)
        if overrides:
            source = f"{overrides} holiday overrides" + (" + chinesecalendar package" if package else "")
        elif package:
            source = "chinesecalendar package"
        else:
            source = ""
        covered = bool(overrides or package)
        out[year] = {
            "year": year,
            "covered": covered,
            "source": source,
            "overrides": overrides,
            "package": package,
            "warning": None if covered else (
                f"no holiday schedule for {year}: deadlines in {year} count Monday–Friday only; "
                f"import the State Council's schedule through POST /api/directory/holidays/import"
            ),
        }
    return out

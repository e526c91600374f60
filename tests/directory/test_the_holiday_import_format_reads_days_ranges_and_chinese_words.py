"""The holiday import format (docs/directory.md): one day or an inclusive range per
line, ``0/1``, ``true/false`` or ``休/班``, an optional name; header, comments, blank
lines, a UTF-8 BOM and full-width commas are tolerated. Pure parsing, no database."""

from __future__ import annotations

import datetime as dt

import pytest

from hotline.directory.calendar_import import MAX_RANGE_DAYS, parse_days, parse_lines
from hotline.lib.errors import InvalidInput

D = dt.date


def test_days_ranges_words_and_names() -> None:
    text = "\ufeffdate,is_workday,name\n# 注释\n\n2027-01-01~2027-01-03,休,元旦\n2027-02-20，班，春节调休\n2027-04-05\t0\n2027-09-26,true,国庆节调休\n"
    schedule = parse_lines(text)
    assert schedule == {
        D(2027, 1, 1): (False, "元旦"), D(2027, 1, 2): (False, "元旦"), D(2027, 1, 3): (False, "元旦"),
        D(2027, 2, 20): (True, "春节调休"),
        D(2027, 4, 5): (False, ""),
        D(2027, 9, 26): (True, "国庆节调休"),
    }


def test_names_may_contain_commas() -> None:
    assert parse_lines("2027-10-01~2027-10-02,休,国庆节, 中秋节")[D(2027, 10, 1)] == (False, "国庆节, 中秋节")


def test_a_range_longer_than_a_month_and_a_missing_column_are_errors() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_lines("2027-01-01~2027-03-01,休,太长\n2027-05-01\n")
    assert [(e["line"], e["field"], e["rule"]) for e in caught.value.errors] == [
        (1, "lines[1].date", "range_length"), (2, "lines[2].is_workday", "required")]
    assert str(MAX_RANGE_DAYS) in caught.value.errors[0]["message"]


def test_the_json_form_uses_the_same_rules() -> None:
    assert parse_days([{"date": "2027-01-01", "is_workday": 0, "name": "元旦"}, {"date": "2027-02-20", "is_workday": "班"}]) == {
        D(2027, 1, 1): (False, "元旦"), D(2027, 2, 20): (True, "")}
    with pytest.raises(InvalidInput) as caught:
        parse_days([{"date": "2027-01-01", "is_workday": None}, "2027-01-02", {"date": "2027-01-01", "is_workday": False, "name": "x" * 65}])
    assert [(e["field"], e["rule"]) for e in caught.value.errors] == [
        ("days[1].is_workday", "choice"), ("days[2].date", "type"), ("days[3].name", "max_length")]

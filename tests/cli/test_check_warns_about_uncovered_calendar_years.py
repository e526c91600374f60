"""`hotline check` reports the configuration; a year the holiday calendar does not
cover is a WARNING (deadlines count Monday–Friday) until the year's schedule is
loaded; an unreachable database is an ERROR and exit code 1."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

from django.core.management import call_command

from hotline.directory.models import HolidayOverride
from tests.cli._run import hotline


def check(*years: int) -> str:
    out = io.StringIO()
    call_command("hotline_check", year=list(years), stdout=out)
    return out.getvalue()


def test_check_warns_about_2027_until_a_2027_override_is_added(db: None) -> None:
    report = check(2026, 2027)
    assert "OK       holiday calendar 2026" in report
    warning = next(line for line in report.splitlines() if "holiday calendar 2027" in line)
    assert "WARNING" in warning and "Monday–Friday" in warning
    HolidayOverride.objects.create(date=dt.date(2027, 1, 1), is_workday=False, name="元旦")
    report = check(2027)
    assert "WARNING" not in report
    assert "OK       holiday calendar 2027" in report


def test_check_reports_database_folders_secret_and_channel_layer(db: None) -> None:
    report = check(2026)
    for item in ["database: ", "data dir:", "media root:", "secret key:", "channel layer:", "migrations:"]:
        assert item in report
    assert report.strip().splitlines()[-1].startswith("OK:")


def test_an_unreachable_database_fails_the_check_with_exit_code_1(tmp_path: Path) -> None:
    result = hotline(tmp_path / "var", "check", DATABASE_URL="postgres://nobody:x@127.0.0.1:1/none", timeout=60)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "ERROR    database" in result.stdout

"""`hotline import-holidays FILE` (the yearly task from the command line) loads the
file through the same action as the API: the year stops warning in `hotline check`, a
bad line rejects the whole file with exit code 1 and the line named, and the import
is audited (as ``system``, or as the administrator given with ``--as``)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from hotline.audit.models import AuditEntry
from hotline.directory.models import HolidayOverride
from tests.cli._run import hotline
from tests.conftest import People

GOOD = "date,is_workday,name\n2027-01-01~2027-01-03,休,元旦\n2027-02-20,班,春节调休\n"


def test_a_good_file_loads_and_is_audited(people: People, tmp_path: Path) -> None:
    path = tmp_path / "2027.csv"
    path.write_text(GOOD, encoding="utf-8")
    out = io.StringIO()
    call_command("import_holidays", str(path), "--year", "2027", "--as", "admin", stdout=out)
    assert "years 2027: 4 created" in out.getvalue()
    assert HolidayOverride.objects.filter(date__year=2027).count() == 4
    entry = AuditEntry.objects.filter(action="holiday.import").get()
    assert entry.actor_name == "admin" and entry.ip is None


def test_a_bad_line_rejects_the_file(people: People, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(GOOD + "2027-02-29,休,没有这一天\n", encoding="utf-8")
    err = io.StringIO()
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_holidays", str(path), stderr=err)
    assert "lines[4].date: date_format" in err.getvalue()
    assert not HolidayOverride.objects.exists()
    with pytest.raises(CommandError, match="administrator"):
        call_command("import_holidays", str(tmp_path / "bad.csv"), "--as", "call_taker")


def test_the_installed_command_loads_2027_and_check_stops_warning(tmp_path: Path) -> None:
    data = tmp_path / "var"
    data.mkdir()
    (tmp_path / "2027.csv").write_text(GOOD, encoding="utf-8")
    assert hotline(data, "migrate", timeout=300).returncode == 0
    before = hotline(data, "check", "--year", "2027", timeout=120)
    assert "WARNING  holiday calendar 2027" in before.stdout
    result = hotline(data, "import-holidays", str(tmp_path / "2027.csv"), "--year", "2027", timeout=120)
    assert result.returncode == 0, result.stderr
    after = hotline(data, "check", "--year", "2027", timeout=120)
    assert "OK       holiday calendar 2027: covered by 4 holiday overrides" in after.stdout

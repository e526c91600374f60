"""The package does not know 2027: `hotline check` and the coverage endpoint warn.
Importing the 2027 schedule stops the warning and moves an open ticket whose period
crosses New Year 2027, with a ``deadline_changed`` event on its timeline; deleting the
override moves it back."""

from __future__ import annotations

import datetime as dt
import io

from django.core.management import call_command
from django.utils import timezone

from hotline.cases import actions as case_actions
from hotline.cases.models import Ticket
from hotline.directory.models import HolidayOverride
from tests.conftest import People, Tree, ticket_input

BEIJING = dt.timezone(dt.timedelta(hours=8))
#: Monday 2026-12-21: a report (30 working days) runs into February 2027.
DISPATCHED = dt.datetime(2026, 12, 21, 10, 0, tzinfo=BEIJING)

#: An example schedule for 2027 (plausible dates, not the State Council's notice).
SCHEDULE_2027 = """\
# 2027 example
date,is_workday,name
2027-01-01~2027-01-03,休,元旦
2027-02-05~2027-02-13,休,春节
2027-02-20,班,春节调休
"""


def check(*years: int) -> str:
    out = io.StringIO()
    call_command("hotline_check", year=list(years), stdout=out)
    return out.getvalue()


def deadline_day(ticket: Ticket) -> dt.date:
    ticket.refresh_from_db()
    assert ticket.deadline is not None
    return timezone.localtime(ticket.deadline).date()


def test_importing_2027_stops_the_warning_and_moves_the_deadline(people: People, tree: Tree, api_as) -> None:  # type: ignore[no-untyped-def]
    ticket = case_actions.do_create_ticket(people.call_taker, ticket_input(service_type="report"), now=DISPATCHED)
    case_actions.do_dispatch(ticket.pk, people.dispatcher, tree.donghua.pk, now=DISPATCHED)
    # 30 working days from 2026-12-21 counting 2027 as Monday–Friday: 2027-02-01.
    assert deadline_day(ticket) == dt.date(2027, 2, 1)

    admin = api_as(people.admin)
    coverage = {c["year"]: c for c in admin.get("/directory/holidays/coverage", {"years": "2026,2027"}).json_body}
    assert coverage[2026]["covered"] and coverage[2026]["package"] and coverage[2026]["warning"] is None
    assert not coverage[2027]["covered"] and "Monday–Friday" in coverage[2027]["warning"]
    assert "WARNING  holiday calendar 2027" in check(2027)

    r = admin.post("/directory/holidays/import", {"text": SCHEDULE_2027, "year": 2027})
    assert r.status_code == 200, r.json_body
    assert r.json_body["created"] == 3 + 9 + 1 and r.json_body["years"] == [2027]
    assert r.json_body["recompute"] == {"mode": "inline", "changed": 1}

    report = check(2027)
    assert "WARNING" not in report and "OK       holiday calendar 2027: covered by 13 holiday overrides" in report
    coverage = admin.get("/directory/holidays/coverage", {"years": "2027"}).json_body
    assert coverage[0]["covered"] and coverage[0]["overrides"] == 13 and coverage[0]["warning"] is None

    # 元旦 (Friday 2027-01-01) is now a day off: one working day later.
    assert deadline_day(ticket) == dt.date(2027, 2, 2)
    (event,) = ticket.events.filter(kind="deadline_changed")
    assert event.comment.startswith("节假日安排导入") and "2027" in event.comment
    assert event.data["old"].startswith("2027-02-01") and event.data["new"].startswith("2027-02-02")
    timeline = api_as(people.call_taker).get(f"/tickets/{ticket.pk}/timeline").json_body
    assert "deadline_changed" in [e["kind"] for e in timeline]

    # Importing the same schedule again changes nothing and moves nothing.
    again = admin.post("/directory/holidays/import", {"text": SCHEDULE_2027, "year": 2027}).json_body
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 13)
    assert ticket.events.filter(kind="deadline_changed").count() == 1

    # Removing the 元旦 override moves the deadline back, with a second event.
    r = admin.delete("/directory/holidays/2027-01-01")
    assert r.status_code == 200 and r.json()["changed"] == 1
    assert deadline_day(ticket) == dt.date(2027, 2, 1)
    assert ticket.events.filter(kind="deadline_changed").count() == 2


def test_setting_one_day_and_replacing_a_year(people: People, tree: Tree, api_as) -> None:  # type: ignore[no-untyped-def]
    admin = api_as(people.admin)
    r = admin.put("/directory/holidays/2027-01-04", {"is_workday": False, "name": "台风停工"})
    assert r.status_code == 200, r.json_body
    assert r.json_body["weekday"] == 1 and r.json_body["recompute"]["mode"] == "inline"
    assert admin.put("/directory/holidays/2027-01-04", {"is_workday": "班"}).json_body["is_workday"] is True
    assert HolidayOverride.objects.get(date=dt.date(2027, 1, 4)).is_workday is True

    # replace: the year's overrides the import does not mention go away.
    summary = admin.post("/directory/holidays/import", {"text": SCHEDULE_2027, "replace": True}).json_body
    assert summary["deleted"] == 1 and summary["created"] == 13
    assert not HolidayOverride.objects.filter(date=dt.date(2027, 1, 4)).exists()
    assert [h["date"] for h in admin.get("/directory/holidays", {"year": 2027}).json_body][:3] == ["2027-01-01", "2027-01-02", "2027-01-03"]
    # The JSON form loads the same way.
    r = admin.post("/directory/holidays/import", {"days": [{"date": "2027-10-01~2027-10-07", "is_workday": False, "name": "国庆节"}]})
    assert r.status_code == 200 and r.json_body["created"] == 7

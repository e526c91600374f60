"""Working-day deadlines across the 2026 Spring Festival and National Day, with the
adjusted working Saturdays (调休), rules from the dictionary, and uncovered years.

The expected dates come from the State Council's 2026 holiday notice, written out
here as an oracle independent of the packaged calendar.
"""

from __future__ import annotations

import datetime as dt

import pytest

from hotline.cases import actions, deadlines
from hotline.cases.models import Ticket
from hotline.cases.workdays import WorkCalendar, current_calendar, package_covers
from hotline.directory.models import Category, DeadlineRule, HolidayOverride, Parameter, ServiceType
from tests.conftest import People, Tree, ticket_input

D = dt.date
CST = dt.timezone(dt.timedelta(hours=8))

# 国务院办公厅关于2026年部分节假日安排的通知
HOLIDAYS_2026 = {D(2026, 1, 1), D(2026, 1, 2), D(2026, 1, 3)}
HOLIDAYS_2026 |= {D(2026, 2, d) for d in range(15, 24)}
HOLIDAYS_2026 |= {D(2026, 4, 4), D(2026, 4, 5), D(2026, 4, 6)}
HOLIDAYS_2026 |= {D(2026, 5, d) for d in range(1, 6)}
HOLIDAYS_2026 |= {D(2026, 6, 19), D(2026, 6, 20), D(2026, 6, 21)}
HOLIDAYS_2026 |= {D(2026, 9, 25), D(2026, 9, 26), D(2026, 9, 27)}
HOLIDAYS_2026 |= {D(2026, 10, d) for d in range(1, 8)}
ADJUSTED_WORKDAYS_2026 = {D(2026, 1, 4), D(2026, 2, 14), D(2026, 2, 28), D(2026, 5, 9), D(2026, 9, 20), D(2026, 10, 10)}


def oracle_is_workday(day: dt.date) -> bool:
    if day in ADJUSTED_WORKDAYS_2026:
        return True
    return day.weekday() < 5 and day not in HOLIDAYS_2026


def test_the_packaged_calendar_agrees_with_the_2026_notice_on_every_day() -> None:
    cal = WorkCalendar()
    day = D(2026, 1, 1)
    while day.year == 2026:
        assert cal.is_workday(day) == oracle_is_workday(day), day
        day += dt.timedelta(days=1)


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        # Friday before the Spring Festival: Sat 14 Feb is a working day, 15–23 are off.
        (D(2026, 2, 13), 1, D(2026, 2, 14)),
        (D(2026, 2, 13), 2, D(2026, 2, 24)),
        (D(2026, 2, 13), 5, D(2026, 2, 27)),
        # The week after: Sat 28 Feb is an adjusted working day.
        (D(2026, 2, 26), 2, D(2026, 2, 28)),
        (D(2026, 2, 26), 3, D(2026, 3, 2)),
        # National Day: 1–7 Oct off, Sat 10 Oct worked.
        (D(2026, 9, 30), 1, D(2026, 10, 8)),
        (D(2026, 9, 30), 3, D(2026, 10, 10)),
        (D(2026, 9, 30), 5, D(2026, 10, 13)),
        # Mid-autumn on Fri 25 Sep, Sun 20 Sep worked: a complaint dispatched on Sat 19 Sep.
        (D(2026, 9, 19), 1, D(2026, 9, 20)),
        (D(2026, 9, 19), 15, D(2026, 10, 15)),  # 20,21-24,28-30,8,9,10,12-15
        # A dispatch on a holiday counts from the next working day.
        (D(2026, 10, 3), 1, D(2026, 10, 8)),
        (D(2026, 10, 3), 0, D(2026, 10, 8)),
    ],
)
def test_add_workdays_crosses_holidays_and_adjusted_saturdays(start: dt.date, days: int, due: dt.date) -> None:
    assert WorkCalendar().add_workdays(start, days) == due


def test_workdays_between_counts_only_working_days() -> None:
    cal = WorkCalendar()
    assert cal.workdays_between(D(2026, 9, 30), D(2026, 10, 13)) == 5
    assert cal.workdays_between(D(2026, 10, 13), D(2026, 9, 30)) == -5
    assert cal.workdays_between(D(2026, 2, 13), D(2026, 2, 13)) == 0


def test_an_uncovered_year_falls_back_to_weekdays_and_accepts_overrides() -> None:
    assert not package_covers(2027)
    plain = WorkCalendar()
    assert not plain.covers(2027)
    assert plain.is_workday(D(2027, 1, 1))  # a Friday: unknown holiday, counted as work
    loaded = WorkCalendar({D(2027, 1, 1): False, D(2027, 2, 6): True})
    assert loaded.covers(2027)
    assert not loaded.is_workday(D(2027, 1, 1))
    assert loaded.is_workday(D(2027, 2, 6))  # a Saturday made a working day
    assert loaded.add_workdays(D(2026, 12, 31), 1) == D(2027, 1, 4)


def test_the_period_turns_yellow_when_a_fifth_of_it_is_left() -> None:
    start = dt.datetime(2026, 9, 30, 10, 0, tzinfo=CST)
    p = deadlines.period(start, 15, WorkCalendar(), warn_share=0.2, deadline_time=dt.time(23, 59, 59))
    # 15 working days from 30 Sep: Oct 8,9,10,12..16 (8), 19..23 (13), 26, 27 (15)
    assert p.deadline == dt.datetime(2026, 10, 27, 23, 59, 59, tzinfo=CST)
    # yellow with 3 working days left: after the 12th working day, 22 Oct
    assert p.warn_at == dt.datetime(2026, 10, 22, 23, 59, 59, tzinfo=CST)


def _dispatch(people: People, tree: Tree, when: dt.datetime, **fields: object) -> Ticket:
    ticket = actions.do_create_ticket(people.call_taker, ticket_input(**fields), now=when)
    return actions.do_dispatch(ticket.pk, people.dispatcher, tree.donghua.pk, now=when)


def test_dispatch_sets_sign_for_and_handling_deadlines_from_the_rules(people: People, tree: Tree) -> None:
    when = dt.datetime(2026, 2, 13, 9, 30, tzinfo=CST)
    consult = _dispatch(people, tree, when, service_type="consult")
    assert consult.sign_deadline.astimezone(CST).date() == D(2026, 2, 14)
    assert consult.deadline.astimezone(CST).date() == D(2026, 2, 27)  # 5 working days
    complaint = _dispatch(people, tree, when, service_type="complaint")
    assert complaint.deadline_days == 15
    report = _dispatch(people, tree, when, service_type="report")
    assert report.deadline_days == 30


def test_a_category_rule_beats_the_service_type_rule(people: People, tree: Tree) -> None:
    DeadlineRule.objects.create(
        service_type=ServiceType.objects.get(code="complaint"), category=Category.objects.get(code="water"), handle_days=3
    )
    when = dt.datetime(2026, 9, 30, 10, 0, tzinfo=CST)
    ticket = _dispatch(people, tree, when, service_type="complaint", category="water.outage")
    assert ticket.deadline_days == 3
    assert ticket.deadline.astimezone(CST).date() == D(2026, 10, 10)


def test_calendar_overrides_move_open_deadlines_and_are_recorded(people: People, tree: Tree) -> None:
    when = dt.datetime(2026, 12, 28, 10, 0, tzinfo=CST)
    ticket = _dispatch(people, tree, when, service_type="consult")
    # Without 2027 data: Dec 29, 30, 31, Jan 1 (Fri, unknown), Jan 4
    assert ticket.deadline.astimezone(CST).date() == D(2027, 1, 4)
    HolidayOverride.objects.create(date=D(2027, 1, 1), is_workday=False, name="元旦")
    assert not current_calendar().is_workday(D(2027, 1, 1))
    changed = deadlines.recompute_open_deadlines("节假日调整: 2027-01-01 元旦")
    assert changed == 1
    ticket.refresh_from_db()
    assert ticket.deadline.astimezone(CST).date() == D(2027, 1, 5)
    event = ticket.events.get(kind="deadline_changed")
    assert event.comment.startswith("节假日调整")
    assert event.data["old"].startswith("2027-01-04")
    # Nothing changes the second time.
    assert deadlines.recompute_open_deadlines("again") == 0


def test_a_rule_change_is_applied_to_open_tickets(people: People, tree: Tree) -> None:
    when = dt.datetime(2026, 11, 23, 10, 0, tzinfo=CST)
    ticket = _dispatch(people, tree, when, service_type="consult")
    assert ticket.deadline_days == 5
    DeadlineRule.objects.filter(service_type__code="consult", category__isnull=True).update(handle_days=3)
    assert deadlines.recompute_open_deadlines("规则调整") == 1
    ticket.refresh_from_db()
    assert ticket.deadline_days == 3
    assert ticket.deadline.astimezone(CST).date() == D(2026, 11, 26)


def test_colours_follow_the_clock(people: People, tree: Tree) -> None:
    when = dt.datetime(2026, 11, 23, 10, 0, tzinfo=CST)  # Monday
    ticket = _dispatch(people, tree, when, service_type="consult")  # due Mon 30 Nov, yellow after Fri 27 Nov
    assert deadlines.colour_of(ticket, when) == "green"
    assert deadlines.colour_of(ticket, dt.datetime(2026, 11, 28, 9, 0, tzinfo=CST)) == "yellow"
    assert deadlines.colour_of(ticket, dt.datetime(2026, 12, 1, 0, 0, 1, tzinfo=CST)) == "red"
    for colour, moment in (("green", when), ("yellow", dt.datetime(2026, 11, 28, 9, 0, tzinfo=CST))):
        assert list(Ticket.objects.filter(deadlines.colour_q(colour, moment))) == [ticket]


def test_the_warning_share_is_a_parameter(people: People, tree: Tree) -> None:
    Parameter.objects.create(key="warn_share", value=0.5)
    when = dt.datetime(2026, 11, 23, 10, 0, tzinfo=CST)
    ticket = _dispatch(people, tree, when, service_type="complaint")  # 15 days, yellow with 8 left
    assert ticket.warn_at.astimezone(CST).date() == WorkCalendar().add_workdays(D(2026, 11, 23), 7)

"""``hotline gen-tickets`` adds the tickets it claims: the count and a spread of
statuses, numbers from the register path's sequence (a real registration afterwards
continues it), unique query codes, timelines that follow the lifecycle table, and
deadlines the real calendar code agrees with (recomputing them changes nothing)."""

from __future__ import annotations

import collections
import datetime as dt
import re
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from hotline.accounts.models import User
from hotline.cases import actions, deadlines, generate, lifecycle
from hotline.cases.models import DEPARTMENT_STATES, Status, Ticket, TicketAssist, TicketEvent, TicketSequence
from hotline.cases.workdays import current_calendar
from hotline.directory.models import Citizen
from tests.conftest import MONDAY, ticket_input

QUERY_CODE = re.compile(rf"^[{generate.QUERY_CODE_ALPHABET}]{{8}}$")


@pytest.fixture
def generated(dictionary: None) -> dict[str, Any]:
    return generate.generate(400, now=MONDAY, seed=7, open_share=0.3, days=60, batch=150)


def test_count_statuses_and_open_share(generated: dict[str, Any]) -> None:
    assert Ticket.objects.count() == 400 == generated["tickets"]
    by_status = collections.Counter(Ticket.objects.values_list("status", flat=True))
    assert dict(by_status) == generated["by_status"]
    # A spread of states, final ones included.
    assert {Status.CLOSED, Status.HANDLING, Status.DISPATCHED, Status.SIGNED, Status.REPLIED, Status.REGISTERED,
            Status.RESOLVED} <= set(by_status)
    open_count = sum(v for k, v in by_status.items() if k in DEPARTMENT_STATES)
    assert 0.2 < open_count / 400 < 0.4
    assert TicketEvent.objects.count() == generated["events"]
    assert Citizen.objects.count() >= generated["citizens"] > 0
    # Created within the requested period, never in the future.
    oldest = Ticket.objects.order_by("created_at").first()
    newest = Ticket.objects.order_by("-created_at").first()
    assert oldest and newest and MONDAY - dt.timedelta(days=61) <= oldest.created_at and newest.created_at <= MONDAY


def test_numbers_follow_the_register_sequence(generated: dict[str, Any]) -> None:
    numbers = list(Ticket.objects.values_list("number", "created_at"))
    assert len({n for n, _ in numbers}) == 400
    per_day: dict[str, list[int]] = collections.defaultdict(list)
    for number, created in numbers:
        assert re.fullmatch(r"\d{13}", number)
        assert number[:8] == f"{timezone.localtime(created):%Y%m%d}"
        per_day[number[:8]].append(int(number[8:]))
    for day, seqs in per_day.items():
        assert sorted(seqs) == list(range(1, len(seqs) + 1)), day
        assert TicketSequence.objects.get(day=dt.datetime.strptime(day, "%Y%m%d").date()).last == len(seqs)
    # A real registration on the busiest generated day continues that day's sequence.
    day, seqs = max(per_day.items(), key=lambda kv: len(kv[1]))
    at = timezone.make_aware(dt.datetime.strptime(day, "%Y%m%d").replace(hour=12))
    call_taker = User.objects.get(username="calltaker")  # the demo city's, built by the generator
    real = actions.do_create_ticket(call_taker, ticket_input(), now=at)
    assert real.number == f"{day}{len(seqs) + 1:05d}"
    # A second run does not collide with the first.
    generate.generate(50, now=MONDAY, seed=7, open_share=0.3, days=60)
    assert Ticket.objects.count() == 451
    assert Ticket.objects.values("number").distinct().count() == 451
    assert Ticket.objects.values("query_code").distinct().count() == 451


def test_query_codes_are_unique_and_well_formed(generated: dict[str, Any]) -> None:
    codes = list(Ticket.objects.values_list("query_code", flat=True))
    assert len(set(codes)) == len(codes) == 400
    assert all(QUERY_CODE.match(c) for c in codes)
    assert generate.query_code_for("2026112300001") != generate.query_code_for("2026112300002")


def test_timelines_follow_the_lifecycle_table(generated: dict[str, Any]) -> None:
    events: dict[int, list[TicketEvent]] = collections.defaultdict(list)
    for e in TicketEvent.objects.order_by("ticket_id", "at", "id"):
        events[e.ticket_id].append(e)
    users = set(User.objects.values_list("pk", flat=True))
    for t in Ticket.objects.all():
        timeline = events[t.pk]
        assert timeline[0].kind == "create" and timeline[0].to_status == Status.DRAFT
        assert timeline[0].at == t.created_at
        state = Status.DRAFT
        for e in timeline[1:]:
            transition = lifecycle.TRANSITIONS[e.kind]
            assert e.from_status == state and state in transition.sources, (t.number, e.kind, state)
            state = e.to_status
            assert e.actor_id in users and e.actor_name
        assert state == t.status
        assert all(a.at <= b.at for a, b in zip(timeline, timeline[1:]))
        assert timeline[-1].at <= MONDAY
        assert t.version == len(timeline) - 1
        if t.status == Status.MERGED:
            assert t.merged_into_id is not None
        if t.status == Status.CLOSED:
            assert t.closed_at and t.satisfaction
        if t.status in DEPARTMENT_STATES:
            assert t.lead_department_id and t.dispatched_at and t.deadline
        if t.status in (Status.HANDLING, Status.SIGNED):
            assert t.handler_id
    assert TicketAssist.objects.exists()


def test_deadlines_agree_with_the_calendar(generated: dict[str, Any]) -> None:
    calendar = current_calendar()
    running = Ticket.objects.filter(status__in=list(DEPARTMENT_STATES))
    assert running.count() > 50
    for t in running:
        assert t.deadline_start and t.deadline and t.warn_at and t.sign_deadline
        start_day = timezone.localtime(t.deadline_start).date()
        due = timezone.localtime(t.deadline).date()
        assert calendar.is_workday(due)
        assert calendar.workdays_between(start_day, due) == t.deadline_days
        rule = deadlines.rule_for(t.service_type_id, t.category_id)
        expected = t.deadline_days if t.reopen_count else rule.handle_days
        assert t.deadline_days == expected
    # The real recomputation finds nothing to change ...
    assert deadlines.recompute_open_deadlines("test", now=MONDAY) == 0
    # ... and the deadline job urges what is due, once.
    first = deadlines.run_deadline_job(MONDAY)
    assert sum(first.values()) > 0
    assert sum(deadlines.run_deadline_job(MONDAY).values()) == 0


def test_the_command_reports_and_rejects_bad_input(dictionary: None, capsys: Any) -> None:
    call_command("gen_tickets", "30", "--seed", "3", "--no-progress", "--no-migrate")
    out = capsys.readouterr().out
    assert "30 tickets" in out and Ticket.objects.count() == 30
    for args, needle in (
        (["-5"], "count"),
        (["10", "--open-share", "2"], "--open-share"),
        (["10", "--open-share", "many"], "--open-share"),
        (["10", "--days", "0"], "days"),
        (["10", "--batch", "0"], "batch"),
    ):
        with pytest.raises(CommandError, match=needle):
            call_command("gen_tickets", *args, "--no-progress", "--no-migrate")
    assert Ticket.objects.count() == 30

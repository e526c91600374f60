"""Deadlines counted in working days, colours, and the periodic urging job.

- ``rule_for`` picks the deadline rule of a ticket from the data dictionary.
- ``period`` turns (start, working days) into (deadline, warn_at) on a calendar.
- ``colour_q`` filters green/yellow/red in SQL: red past ``deadline``, yellow past
  ``warn_at``, green before it. Nothing stores a colour.
- ``run_deadline_job`` urges once at each threshold (sign-for overdue, yellow,
  red), in batches, safe with several workers running it at once.
- ``recompute_open_deadlines`` re-derives every open deadline after the calendar or
  a rule changed, recording each change on the ticket's timeline.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import BooleanField, F, Q
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from hotline.cases.bulk import write_rows
from hotline.cases.models import DEPARTMENT_STATES, RUNNING_LIST, Status, Ticket, TicketEvent
from hotline.cases.workdays import WorkCalendar, current_calendar
from hotline.directory import parameters
from hotline.directory.models import Category, DeadlineRule

BATCH = 2000
#: States in which the handling deadline is shown and counts (not yet replied).
RUNNING_STATES = DEPARTMENT_STATES
COLOURS = ("green", "yellow", "red")


@dataclass(frozen=True)
class Rule:
    handle_days: int
    sign_days: int


def rule_for(service_type_id: int | None, category_id: int | None) -> Rule:
    """Most specific rule: (category, type) > (parent category, type) > (category, *)
    > (parent, *) > (*, type) > (*, *); the fallback parameters when none exists."""
    categories: list[int | None] = []
    if category_id:
        categories.append(category_id)
        parent = Category.objects.filter(pk=category_id).values_list("parent_id", flat=True).first()
        if parent:
            categories.append(parent)
    rules = {
        (r.category_id, r.service_type_id): r
        for r in DeadlineRule.objects.filter(
            Q(category_id__in=[c for c in categories if c]) | Q(category__isnull=True),
            Q(service_type_id=service_type_id) | Q(service_type__isnull=True),
        )
    }
    for key in [(c, service_type_id) for c in categories] + [(c, None) for c in categories] + [(None, service_type_id), (None, None)]:
        if key in rules:
            return Rule(rules[key].handle_days, rules[key].sign_days)
    return Rule(int(parameters.get("fallback_handle_days")), int(parameters.get("fallback_sign_days")))


def _deadline_time() -> dt.time:
    hh, mm = str(parameters.get("deadline_time")).split(":")
    return dt.time(int(hh), int(mm), 59 if mm == "59" else 0)


def _at(day: dt.date, when: dt.time) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, when))


@dataclass(frozen=True)
class Period:
    deadline: dt.datetime
    warn_at: dt.datetime
    days: int


def period(
    start: dt.datetime,
    days: int,
    calendar: WorkCalendar,
    *,
    warn_share: float,
    deadline_time: dt.time,
    due_date: dt.date | None = None,
) -> Period:
    """The deadline ``days`` working days after ``start`` (or on ``due_date``), and the
    moment it turns yellow: when no more than ``warn_share`` of the period is left."""
    start_day = timezone.localtime(start).date()
    if due_date is None:
        due_date = calendar.add_workdays(start_day, days)
    else:
        days = max(calendar.workdays_between(start_day, due_date), 1)
    yellow_days = max(1, math.ceil(days * warn_share))
    warn_day = calendar.add_workdays(start_day, max(days - yellow_days, 0))
    return Period(_at(due_date, deadline_time), _at(warn_day, deadline_time), days)


def sign_deadline(start: dt.datetime, days: int, calendar: WorkCalendar, deadline_time: dt.time) -> dt.datetime:
    return _at(calendar.add_workdays(timezone.localtime(start).date(), days), deadline_time)


def start_period(ticket: Ticket, start: dt.datetime, days: int | None = None, *, with_sign: bool = False) -> None:
    """Begin a new deadline period on ``ticket`` (dispatch, reopen). Does not save."""
    calendar = current_calendar()
    rule = rule_for(ticket.service_type_id, ticket.category_id)
    when = _deadline_time()
    p = period(start, days or rule.handle_days, calendar, warn_share=float(parameters.get("warn_share")), deadline_time=when)
    ticket.deadline_start, ticket.deadline_days = start, p.days
    ticket.deadline, ticket.warn_at, ticket.deadline_fixed = p.deadline, p.warn_at, False
    ticket.urged_yellow_at = ticket.urged_red_at = None
    if with_sign:
        ticket.sign_deadline = sign_deadline(start, rule.sign_days, calendar, when)
        ticket.urged_sign_at = None


def extend_to(ticket: Ticket, due_date: dt.date) -> None:
    """Move the deadline to the end of ``due_date`` (approved extension). Does not save."""
    assert ticket.deadline_start is not None
    p = period(
        ticket.deadline_start,
        0,
        current_calendar(),
        warn_share=float(parameters.get("warn_share")),
        deadline_time=_deadline_time(),
        due_date=due_date,
    )
    ticket.deadline, ticket.warn_at, ticket.deadline_days, ticket.deadline_fixed = p.deadline, p.warn_at, p.days, True
    ticket.urged_yellow_at = ticket.urged_red_at = None


def colour_q(colour: str, now: dt.datetime) -> Q:
    running = Q(status__in=RUNNING_LIST, deadline__isnull=False)
    if colour == "red":
        return running & Q(deadline__lt=now)
    if colour == "yellow":
        return running & Q(warn_at__lte=now, deadline__gte=now)
    if colour == "green":
        return running & Q(warn_at__gt=now)
    raise ValueError(colour)


def running_literal() -> RawSQL:
    """``status IN ('dispatched', …)`` written into the SQL text. SQLite uses a partial
    index only when the query's own text implies the index's WHERE; Django binds
    ``status__in`` values as parameters, so without this term a colour filter reads
    every ticket with a past deadline through the plain deadline index (506 ms at
    200,000 tickets) instead of the running tickets' partial index (0.3 ms). The
    values are the code's own constants, never user input. Only for querysets whose
    ticket table is not aliased (not inside a ``pk__in`` subquery of tickets)."""
    states = ", ".join("'" + s.replace("'", "") + "'" for s in sorted(RUNNING_STATES))
    return RawSQL(f'"cases_ticket"."status" IN ({states})', [], output_field=BooleanField())


def colour_filter(colour: str, now: dt.datetime) -> Q:
    """``colour_q`` for a ticket search, with the running statuses only as the literal
    (``running_literal``), not also as a bound ``status IN``: the same condition written
    twice made PostgreSQL square its selectivity (yellow + district estimated 1,214
    running tickets of the district for 16,045) and pick a plan that read 9,800 pages."""
    if colour == "red":
        when = Q(deadline__lt=now)
    elif colour == "yellow":
        when = Q(warn_at__lte=now, deadline__gte=now)
    elif colour == "green":
        when = Q(warn_at__gt=now)
    else:
        raise ValueError(colour)
    return Q(running_literal()) & Q(deadline__isnull=False) & when


def colour_of(ticket: Ticket, now: dt.datetime) -> str | None:
    if ticket.status not in RUNNING_STATES or ticket.deadline is None or ticket.warn_at is None:
        return None
    if ticket.deadline < now:
        return "red"
    if ticket.warn_at <= now:
        return "yellow"
    return "green"


def workdays_left(ticket: Ticket, now: dt.datetime, calendar: WorkCalendar | None = None) -> int | None:
    if ticket.deadline is None:
        return None
    cal = calendar or current_calendar()
    return cal.workdays_between(timezone.localtime(now).date(), timezone.localtime(ticket.deadline).date())


# --- the periodic job -----------------------------------------------------------

THRESHOLDS: list[tuple[str, str, Any]] = [
    # (event kind, flag field, filter builder); each has a partial index (models.Ticket.Meta)
    ("auto_urge_sign", "urged_sign_at", lambda now: Q(status=Status.DISPATCHED, sign_deadline__lt=now, urged_sign_at__isnull=True)),
    ("auto_urge_yellow", "urged_yellow_at", lambda now: Q(status__in=RUNNING_LIST, warn_at__lte=now, deadline__gte=now, urged_yellow_at__isnull=True)),
    ("auto_urge_red", "urged_red_at", lambda now: Q(status__in=RUNNING_LIST, deadline__lt=now, urged_red_at__isnull=True)),
]
EVENT_COLUMNS = ("ticket_id", "at", "kind", "actor_id", "actor_name", "actor_department_id", "from_status", "to_status",
                 "comment", "data")


def _aware(value: Any) -> dt.datetime | None:
    """A datetime from a raw cursor (SQLite gives naive UTC text)."""
    if value is None or isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value
    parsed = value if isinstance(value, dt.datetime) else parse_datetime(str(value))
    return parsed.replace(tzinfo=dt.timezone.utc) if parsed is not None and parsed.tzinfo is None else parsed


def run_deadline_job(now: dt.datetime | None = None, *, batch: int = BATCH) -> dict[str, int]:
    """Urge every ticket that crossed a threshold since the last run, exactly once.

    Each batch is one transaction and two statements: ``UPDATE … SET flag = now WHERE
    flag IS NULL AND id IN (the next due ids, skipping rows another worker holds)
    RETURNING id, status, deadline``, then one timeline event per returned row (COPY on
    PostgreSQL). Only rows whose flag this run set get an event, so a second run, or a
    second worker, finds nothing left to do. The due rows come from small partial
    indexes (only open tickets not yet urged), so a run with nothing new is quick
    however many tickets the table holds.
    """
    now = now or timezone.now()
    counts = {kind: 0 for kind, _, _ in THRESHOLDS}
    if not parameters.get("auto_urge"):
        return counts
    table = Ticket._meta.db_table
    for kind, flag, build in THRESHOLDS:
        while True:
            with transaction.atomic():
                # Ordered by the threshold's own column, so the rows come straight from its
                # partial index (ordering by id, or none, made PostgreSQL read every ticket:
                # it cannot estimate how few rows the partial index holds). Each batch sets
                # the flag, so its rows leave the index; the next batch sees what is left.
                order_field = {"urged_sign_at": "sign_deadline", "urged_yellow_at": "warn_at"}.get(flag, "deadline")
                due = (
                    Ticket.objects.filter(build(now))
                    .order_by(order_field)
                    .select_for_update(skip_locked=True)
                    .values("pk")[:batch]
                )
                due_sql, due_params = due.query.sql_with_params()
                at = connection.ops.adapt_datetimefield_value(now)
                # A red ticket needs no yellow urge any more: mark the yellow threshold as
                # passed too (no event), so red tickets leave the yellow work list.
                also = ", urged_yellow_at = COALESCE(urged_yellow_at, %s)" if flag == "urged_red_at" else ""
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"UPDATE {table} SET {flag} = %s, urge_count = urge_count + 1{also} "
                        f"WHERE {flag} IS NULL AND id IN ({due_sql}) "
                        "RETURNING id, status, deadline",
                        [at, *([at] if also else []), *due_params],
                    )
                    rows = cursor.fetchall()
                if not rows:
                    break
                rows.sort()
                write_rows(
                    TicketEvent._meta.db_table,
                    EVENT_COLUMNS,
                    [
                        (pk, now, kind, None, "系统", None, status, status, "",
                         json.dumps({"deadline": d.isoformat() if (d := _aware(deadline)) else None}))
                        for pk, status, deadline in rows
                    ],
                    datetimes=("at",),
                )
                counts[kind] += len(rows)
            if len(rows) < batch:
                break
    return counts


def recompute_open_deadlines(reason: str, now: dt.datetime | None = None, *, batch: int = BATCH) -> int:
    """Re-derive deadlines of tickets whose period is running after a calendar or
    rule change. Returns how many changed; each change is a timeline event."""
    now = now or timezone.now()
    calendar = current_calendar()
    warn_share = float(parameters.get("warn_share"))
    when = _deadline_time()
    rules: dict[tuple[int | None, int | None], Rule] = {}
    changed = 0
    last_id = 0
    open_states = list(RUNNING_STATES | {Status.REPLIED})
    while True:
        with transaction.atomic():
            tickets = list(
                Ticket.objects.filter(status__in=open_states, deadline_start__isnull=False, pk__gt=last_id)
                .order_by("pk")
                .select_for_update()[:batch]
            )
            if not tickets:
                break
            last_id = tickets[-1].pk
            events = []
            for t in tickets:
                assert t.deadline_start is not None and t.deadline is not None
                if t.deadline_fixed:
                    p = period(t.deadline_start, 0, calendar, warn_share=warn_share, deadline_time=when,
                               due_date=timezone.localtime(t.deadline).date())
                else:
                    key = (t.service_type_id, t.category_id)
                    if key not in rules:
                        rules[key] = rule_for(*key)
                    days = rules[key].handle_days if t.reopen_count == 0 else (t.deadline_days or rules[key].handle_days)
                    p = period(t.deadline_start, days, calendar, warn_share=warn_share, deadline_time=when)
                if (p.deadline, p.warn_at) == (t.deadline, t.warn_at):
                    continue
                old = t.deadline
                updates: dict[str, Any] = {"deadline": p.deadline, "warn_at": p.warn_at, "deadline_days": p.days}
                if p.warn_at > now:
                    updates["urged_yellow_at"] = None
                if p.deadline >= now:
                    updates["urged_red_at"] = None
                Ticket.objects.filter(pk=t.pk).update(**updates)
                events.append(
                    TicketEvent(
                        ticket_id=t.pk, at=now, kind="deadline_changed", actor=None, actor_name="系统",
                        from_status=t.status, to_status=t.status, comment=reason,
                        data={"old": old.isoformat(), "new": p.deadline.isoformat()},
                    )
                )
            TicketEvent.objects.bulk_create(events)
            changed += len(events)
    return changed

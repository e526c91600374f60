"""`hotline worker --once` runs the periodic jobs synchronously: an overdue ticket is
urged once, and a second run urges nothing more. The scheduler never queues a
periodic task while one of it is still waiting."""

from __future__ import annotations

import datetime as dt
import io

from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from hotline.cases import actions
from hotline.cases.management.commands.worker import Scheduler, enqueue_if_idle
from hotline.cases.tasks import PERIODIC, deadline_job
from tests.conftest import People, Tree, ticket_input


def test_worker_once_urges_an_overdue_ticket_exactly_once_across_two_runs(people: People, tree: Tree) -> None:
    long_ago = timezone.now() - dt.timedelta(days=60)
    ticket = actions.do_create_ticket(people.call_taker, ticket_input(), now=long_ago)
    actions.do_dispatch(ticket.pk, people.dispatcher, tree.donghua.pk, now=long_ago)
    actions.do_sign_for(ticket.pk, people.handler, now=long_ago + dt.timedelta(hours=1))

    for _ in range(2):
        call_command("worker", once=True, stdout=io.StringIO())

    assert list(ticket.events.filter(kind__startswith="auto_urge").values_list("kind", flat=True)) == ["auto_urge_red"]
    ticket.refresh_from_db()
    assert ticket.urge_count == 1


def test_the_scheduler_does_not_queue_a_periodic_task_twice(db: None) -> None:
    assert enqueue_if_idle(deadline_job, 60) is True
    assert enqueue_if_idle(deadline_job, 60) is False
    assert DBTaskResult.objects.filter(task_path=deadline_job.module_path).count() == 1


def test_the_scheduler_enqueues_each_task_when_its_period_comes(db: None, settings) -> None:  # type: ignore[no-untyped-def]
    settings.HOTLINE_DEADLINE_JOB_SECONDS = 60
    now = [1000.0]
    scheduler = Scheduler(PERIODIC, clock=lambda: now[0])
    assert scheduler.run_due() == [deadline_job.module_path]
    DBTaskResult.objects.all().delete()  # the worker ran it
    now[0] += 30
    assert scheduler.run_due() == []  # not yet due
    now[0] += 31
    assert scheduler.run_due() == [deadline_job.module_path]

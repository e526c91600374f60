"""Above ``recompute_inline_max`` open tickets a rule change does not recompute in the
administrator's request: it commits, queues the worker's ``recompute_deadlines`` task,
and the worker (django-tasks-db's ``db_worker``, run for real) moves the deadlines.

Transactional test: the task is queued on commit and the worker opens its own
database connections."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from hotline.cases import actions as case_actions
from hotline.cases.tasks import recompute_deadlines
from hotline.directory.models import DeadlineRule
from tests.conftest import MONDAY, People, Tree, ticket_input

pytestmark = pytest.mark.django_db(transaction=True)


def test_above_the_inline_limit_the_worker_recomputes(people: People, tree: Tree, api_as) -> None:  # type: ignore[no-untyped-def]
    ticket = case_actions.do_create_ticket(people.call_taker, ticket_input(service_type="complaint"), now=MONDAY)
    ticket = case_actions.do_dispatch(ticket.pk, people.dispatcher, tree.donghua.pk, now=MONDAY)
    before = ticket.deadline
    admin = api_as(people.admin)
    assert admin.put("/directory/parameters/recompute_inline_max", {"value": 0}).status_code == 200

    rule = DeadlineRule.objects.get(service_type__code="complaint", category__isnull=True)
    r = admin.patch(f"/directory/deadline-rules/{rule.pk}", {"handle_days": 10})
    assert r.status_code == 200 and r.json_body["recompute"] == {"mode": "queued", "changed": None}
    ticket.refresh_from_db()
    assert ticket.deadline == before  # not yet: the worker has not run
    queued = DBTaskResult.objects.get(task_path=recompute_deadlines.module_path)
    assert queued.status == "READY"

    call_command("db_worker", batch=True, stdout=io.StringIO(), stderr=io.StringIO())
    queued.refresh_from_db()
    assert queued.status == "SUCCESSFUL"
    ticket.refresh_from_db()
    assert timezone.localtime(ticket.deadline).date() == dt.date(2026, 12, 7)
    assert ticket.events.filter(kind="deadline_changed").count() == 1

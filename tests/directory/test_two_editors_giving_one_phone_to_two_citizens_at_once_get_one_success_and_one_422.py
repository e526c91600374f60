"""Two call-takers at the same moment record a new citizen with one phone (or move two
records to one phone): one succeeds, the other is told ``phone``/``unique`` (422), never
a 500, and nothing of the refused write remains. The look-up before the write cannot
see the other's uncommitted row; the constraint ``citizen_phone_unique`` can. Real
threads, real database connections; the interleaving where both checks pass is forced."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection

from hotline.audit.models import AuditEntry
from hotline.directory import actions
from hotline.directory.models import Citizen
from hotline.lib.errors import InvalidInput
from tests.conftest import People, run_together

pytestmark = pytest.mark.django_db(transaction=True)


def both_checks_pass_first(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hold each writer after its successful check until the other has checked too."""
    both_checked = threading.Barrier(2)
    real_check = actions.check_citizen

    def check(*args: Any, **kwargs: Any) -> Any:
        out = real_check(*args, **kwargs)
        both_checked.wait(timeout=10)
        return out

    monkeypatch.setattr(actions, "check_citizen", check)


def one_won_one_told_unique(results: list[Any], phone: str) -> Citizen:
    winners = [r for r in results if isinstance(r, Citizen)]
    losers = [r for r in results if isinstance(r, InvalidInput)]
    assert len(winners) == 1 and len(losers) == 1, results
    assert losers[0].status_code == 422
    assert [(e["field"], e["rule"]) for e in losers[0].errors] == [("phone", "unique")]
    assert Citizen.objects.filter(phone=phone).count() == 1
    return winners[0]


@pytest.mark.parametrize("forced", [True, False], ids=["both-checks-pass", "natural"])
def test_two_new_citizens_with_one_phone_one_is_refused(people: People, monkeypatch: pytest.MonkeyPatch, forced: bool) -> None:
    for round_ in range(3):
        phone = f"1390001{round_:04d}"
        created = AuditEntry.objects.filter(action="citizen.create").count()
        if forced:
            both_checks_pass_first(monkeypatch)
        results = run_together([
            lambda: actions.do_create_citizen(people.call_taker, {"phone": phone, "name": "甲"}),
            lambda: actions.do_create_citizen(people.team_leader, {"phone": phone, "name": "乙"}),
        ])
        monkeypatch.undo()
        winner = one_won_one_told_unique(results, phone)
        # the refused write left no audit row behind
        assert AuditEntry.objects.filter(action="citizen.create").count() == created + 1
        assert AuditEntry.objects.get(action="citizen.create", object_id=str(winner.pk))

def test_two_records_moved_to_one_phone_at_once_one_is_refused(people: People, monkeypatch: pytest.MonkeyPatch) -> None:
    for round_ in range(3):
        phone = f"1390002{round_:04d}"
        a = actions.do_create_citizen(people.call_taker, {"phone": f"1380002{round_:04d}"})
        b = actions.do_create_citizen(people.call_taker, {"phone": f"1370002{round_:04d}"})
        if connection.vendor == "postgresql":
            # each holds its own row's lock; SQLite's write lock already keeps the second
            # editor out until the first has committed
            both_checks_pass_first(monkeypatch)
        results = run_together([
            lambda: actions.do_update_citizen(people.call_taker, a.pk, {"phone": phone}),
            lambda: actions.do_update_citizen(people.team_leader, b.pk, {"phone": phone}),
        ])
        monkeypatch.undo()
        winner = one_won_one_told_unique(results, phone)
        loser = b if winner.pk == a.pk else a
        assert Citizen.objects.get(pk=loser.pk).phone == loser.phone  # unchanged
        assert not AuditEntry.objects.filter(action="citizen.update", object_id=str(loser.pk)).exists()

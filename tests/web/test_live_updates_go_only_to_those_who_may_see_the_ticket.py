"""Which channel-layer groups a ticket change is sent to, and which a user joins:
the center, the lead and assisting departments and their ancestors — never a
department outside the ticket's scope."""

from __future__ import annotations

from typing import Any

import pytest

from hotline.cases import actions
from hotline.web.live import CENTER_GROUP, dept_group, groups_for_ticket, groups_for_user
from tests.conftest import ticket_input

pytestmark = pytest.mark.django_db


def test_a_change_reaches_the_center_and_the_departments_in_scope_only(people: Any, tree: Any) -> None:
    t = actions.do_create_ticket(people.call_taker, ticket_input())
    assert groups_for_ticket(t.pk) == [CENTER_GROUP]
    actions.do_dispatch(t.pk, people.call_taker, tree.donghua_community.pk, [tree.water.pk])
    groups = set(groups_for_ticket(t.pk))
    assert {CENTER_GROUP, dept_group(tree.donghua.pk), dept_group(tree.dongcheng.pk), dept_group(tree.water.pk)} <= groups
    assert dept_group(tree.xicheng.pk) not in groups
    for user in (people.handler, people.manager, people.water_handler):
        assert set(groups_for_user(user)) <= groups
    assert not set(groups_for_user(people.west_handler)) & groups
    assert groups_for_user(people.dispatcher) == [CENTER_GROUP]
    assert groups_for_user(people.admin) == []  # administrators see no tickets

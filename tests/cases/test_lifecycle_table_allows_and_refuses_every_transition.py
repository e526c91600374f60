"""Every action in the lifecycle table, tried in every state and by every role.

The ticket is put into each state directly (test set-up), then ``lifecycle.check``
must accept exactly the (state, role) pairs the table lists and refuse the rest with
the right error: IllegalTransition for a wrong state, Forbidden for a wrong role.
"""

from __future__ import annotations

import pytest

from hotline.accounts.models import Role
from hotline.cases import actions, lifecycle
from hotline.cases.models import ExtensionRequest, Status, Ticket
from hotline.lib.errors import Forbidden, IllegalTransition
from tests.conftest import People, Tree, ticket_input

ROLE_TO_PERSON = {
    Role.CALL_TAKER: "call_taker",
    Role.TEAM_LEADER: "team_leader",
    Role.DISPATCHER: "dispatcher",
    Role.DEPT_HANDLER: "handler",
    Role.DEPT_MANAGER: "manager",
    Role.SUPERVISOR: "supervisor",
    Role.QUALITY_INSPECTOR: "inspector",
    Role.STATISTICIAN: "statistician",
    Role.ADMIN: "admin",
    Role.AUDITOR: "auditor",
}


@pytest.fixture
def ticket(people: People, tree: Tree) -> Ticket:
    t = actions.do_create_ticket(people.call_taker, ticket_input())
    Ticket.objects.filter(pk=t.pk).update(lead_department=tree.donghua)
    return Ticket.objects.get(pk=t.pk)


def _satisfy_guard(transition: lifecycle.Transition, ticket: Ticket, people: People) -> None:
    """Set up what a guarded transition needs besides the state (a pending request)."""
    if transition.guard == "pending_extension_request":
        ExtensionRequest.objects.create(ticket=ticket, requested_by=people.handler, requested_at=ticket.created_at,
                                        reason="需要协调", requested_date=ticket.created_at.date())
    else:
        assert transition.guard is None, f"a test set-up is missing for guard {transition.guard}"


@pytest.mark.parametrize("name", sorted(lifecycle.TRANSITIONS))
def test_each_action_is_allowed_only_in_its_source_states(name: str, ticket: Ticket, people: People) -> None:
    transition = lifecycle.TRANSITIONS[name]
    _satisfy_guard(transition, ticket, people)
    role = sorted(transition.roles)[0]
    person = getattr(people, ROLE_TO_PERSON[role])
    for state in Status:
        ticket.status = state
        if state in transition.sources:
            assert lifecycle.check(ticket, person, name) is transition
        else:
            with pytest.raises(IllegalTransition) as err:
                lifecycle.check(ticket, person, name)
            assert err.value.current == state
            assert name not in err.value.allowed


@pytest.mark.parametrize("name", sorted(lifecycle.TRANSITIONS))
def test_each_action_is_refused_to_roles_not_listed(name: str, ticket: Ticket, people: People) -> None:
    transition = lifecycle.TRANSITIONS[name]
    _satisfy_guard(transition, ticket, people)
    ticket.status = sorted(transition.sources)[0]
    for role, attr in ROLE_TO_PERSON.items():
        person = getattr(people, attr)
        if role in transition.roles:
            lifecycle.check(ticket, person, name)
        else:
            with pytest.raises(Forbidden):
                lifecycle.check(ticket, person, name)


def test_department_actions_need_the_lead_department(ticket: Ticket, people: People) -> None:
    ticket.status = Status.DISPATCHED
    lifecycle.check(ticket, people.handler, "sign_for")
    # 市水务局 is not the lead department: it cannot even see the ticket.
    with pytest.raises(Forbidden):
        lifecycle.check(ticket, people.water_handler, "sign_for")


def test_a_parent_department_acts_for_its_sub_department(ticket: Ticket, people: People, tree: Tree) -> None:
    Ticket.objects.filter(pk=ticket.pk).update(lead_department=tree.donghua_community)
    ticket.refresh_from_db()
    ticket.status = Status.DISPATCHED
    lifecycle.check(ticket, people.handler, "sign_for")  # handler belongs to 东华街道, the parent


def test_unknown_action_names_the_state_and_allowed_actions(ticket: Ticket, people: People) -> None:
    with pytest.raises(IllegalTransition) as err:
        lifecycle.check(ticket, people.dispatcher, "teleport")
    assert err.value.current == Status.REGISTERED
    assert "dispatch" in err.value.allowed


def test_allowed_actions_lists_what_the_user_may_do_now(ticket: Ticket, people: People) -> None:
    assert "dispatch" in lifecycle.allowed_actions(ticket, people.call_taker)
    assert lifecycle.allowed_actions(ticket, people.statistician) == []
    assert lifecycle.allowed_actions(ticket, people.handler) == ["attach"]
    assert lifecycle.allowed_actions(ticket, people.water_handler) == []


@pytest.mark.parametrize("name", ["approve_extension", "refuse_extension"])
def test_deciding_an_extension_needs_a_pending_request(name: str, ticket: Ticket, people: People) -> None:
    ticket.status = Status.HANDLING
    with pytest.raises(IllegalTransition) as err:
        lifecycle.check(ticket, people.dispatcher, name)
    assert err.value.rule == "pending_extension_request"
    assert err.value.payload()["rule"] == "pending_extension_request"
    assert name not in lifecycle.allowed_actions(ticket, people.dispatcher)
    _satisfy_guard(lifecycle.TRANSITIONS[name], ticket, people)
    assert lifecycle.check(ticket, people.dispatcher, name).name == name
    assert name in lifecycle.allowed_actions(ticket, people.dispatcher)

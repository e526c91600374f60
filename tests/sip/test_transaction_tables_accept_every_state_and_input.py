"""h2-style: every (state, input) pair of every transaction table, and
Hypothesis over random input sequences: nothing but SipLocalError (for a
user action the state forbids) ever escapes, and the invariants hold."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.sip.errors import SipLocalError
from hotline.sip.message import Request, Response
from hotline.sip.transaction import (
    NETWORK_INPUTS,
    TIMER_INPUTS,
    TRANSITIONS,
    USER_INPUTS,
    ClientTransaction,
    Kind,
    ServerTransaction,
    State,
    Transaction,
    Transmit,
)

from ._builders import reply, request

STATUS_FOR = {"1xx": 180, "2xx": 200, "3xx-6xx": 486, "send_1xx": 180, "send_2xx": 200, "send_3xx-6xx": 486}


def make(kind: Kind, reliable: bool) -> Transaction:
    method = "INVITE" if kind in (Kind.INVITE_CLIENT, Kind.INVITE_SERVER) else "OPTIONS"
    req = request(method)
    if kind in (Kind.INVITE_CLIENT, Kind.NON_INVITE_CLIENT):
        tx = ClientTransaction(req, reliable=reliable)
        tx.start(0.0)
        return tx
    return ServerTransaction(req, reliable=reliable)


def message_for(tx: Transaction, name: str) -> Request | Response | None:
    if name in STATUS_FOR:
        return reply(tx.request, STATUS_FOR[name])
    if name == "request":
        return tx.request
    if name == "ack":
        return request("ACK", to_tag="callee1")
    return None


CASES = [
    (kind, state, name, reliable)
    for kind, table in TRANSITIONS.items()
    for state in table
    for name in sorted(NETWORK_INPUTS | USER_INPUTS | TIMER_INPUTS)
    for reliable in (False, True)
]


@pytest.mark.parametrize(("kind", "state", "name", "reliable"), CASES)
def test_every_state_and_input(kind: Kind, state: State, name: str, reliable: bool) -> None:
    tx = make(kind, reliable)
    tx.state = state
    step = TRANSITIONS[kind][state].get(name)
    try:
        actions = tx._input(name, 1.0, message_for(tx, name))
    except SipLocalError:
        assert name in USER_INPUTS and step is None
        assert tx.state is state
        return
    if step is None:
        assert actions == [] and tx.state is state
    else:
        assert tx.state is step.next_state
        if tx.state is State.TERMINATED:
            assert tx.get_timer() is None
    assert tx.state in TRANSITIONS[kind]


def test_tables_only_name_known_inputs_and_states() -> None:
    for table in TRANSITIONS.values():
        for steps in table.values():
            for name, step in steps.items():
                assert name in NETWORK_INPUTS | USER_INPUTS | TIMER_INPUTS
                assert step.next_state in table


OPS = st.one_of(
    st.tuples(st.just("response"), st.sampled_from([100, 180, 183, 200, 202, 302, 404, 486, 503, 603])),
    st.tuples(st.just("send"), st.sampled_from([100, 180, 200, 404, 486, 500])),
    st.tuples(st.just("advance"), st.floats(0.0, 20.0)),
    st.tuples(st.just("request"), st.just(0)),
    st.tuples(st.just("ack"), st.just(0)),
    st.tuples(st.just("transport_error"), st.just(0)),
)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(list(Kind)), st.booleans(), st.lists(OPS, max_size=40))
def test_random_sequences_keep_invariants(kind: Kind, reliable: bool, ops: list[tuple[str, float]]) -> None:
    tx = make(kind, reliable)
    now = 0.0
    transmits = 0
    for op, arg in ops:
        if op == "advance":
            now += arg
            actions = tx.handle_timer(now)
        elif op == "response":
            if not isinstance(tx, ClientTransaction):
                continue
            actions = tx.receive_response(reply(tx.request, int(arg)), now)
        elif op == "send":
            if not isinstance(tx, ServerTransaction):
                continue
            try:
                actions = tx.send_response(reply(tx.request, int(arg)), now)
            except SipLocalError:
                continue
        elif op == "request" and isinstance(tx, ServerTransaction):
            actions = tx.receive_request(tx.request, now)
        elif op == "ack" and isinstance(tx, ServerTransaction):
            actions = tx.receive_request(request("ACK", to_tag="callee1"), now)
        elif op == "transport_error":
            actions = tx.transport_error(now)
        else:
            continue
        transmits += sum(isinstance(a, Transmit) for a in actions)
        assert tx.state in TRANSITIONS[kind]
        deadline = tx.get_timer()
        if tx.terminated:
            assert deadline is None
        if reliable and deadline is not None:
            assert set(tx.deadlines()) & {"A", "E", "G"} == set()
    # Retransmissions are bounded by the timers: at most ~11 per 32 s of E/G.
    assert transmits <= 2 + len(ops) * 2 + 12

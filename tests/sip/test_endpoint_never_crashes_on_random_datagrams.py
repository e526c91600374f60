"""Hypothesis: whatever arrives (garbage, mutated torture messages, in any
order, at any time), the endpoint raises nothing and every datagram it sends
parses as a SIP message."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.sip.endpoint import Endpoint, RequestReceived
from hotline.sip.message import parse_message, response_for

from ._builders import request
from .test_parser_only_raises_parse_errors_on_random_input import SAMPLES, mutated

VALID = [request(m, branch=f"z9hG4bK{m}").serialize() for m in ("INVITE", "OPTIONS", "BYE", "CANCEL", "ACK")]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.one_of(mutated(), st.sampled_from(SAMPLES + VALID), st.binary(max_size=100)),
                          st.floats(0.0, 5.0)), max_size=15))
def test_endpoint_survives_anything(datagrams: list[tuple[bytes, float]]) -> None:
    ep = Endpoint(local_host="10.0.0.1", local_port=5060, rng=random.Random(1))
    now = 0.0
    for data, dt in datagrams:
        now += dt
        ep.handle_timer(now)
        ep.receive_datagram(data, ("10.0.0.8", 5060), now)
        while (event := ep.next_event()) is not None:
            if isinstance(event, RequestReceived):  # the transaction user answers everything
                status = 200 if len(event.request.body) % 2 else 486
                ep.send_response(event.key, response_for(event.request, status, to_tag="t"), now)
        for out, addr in ep.datagrams_to_send(now):
            parse_message(out)
            assert addr == ("10.0.0.8", 5060)
    # and every timer eventually runs down (unanswered requests would stay: the TU must answer)
    for _ in range(100):
        deadline = ep.get_timer()
        if deadline is None:
            break
        ep.handle_timer(deadline)
    assert ep.get_timer() is None and ep.transaction_count == 0

"""Playbooks for the four RFC 3261 §17 transactions with a fake clock:
every timer (A B D E F G H I J K, and RFC 6026's L and M) fires when and only
when it should; retransmissions only over unreliable transports."""

from __future__ import annotations

import pytest

from hotline.sip.errors import SipLocalError
from hotline.sip.message import Request, Response
from hotline.sip.transaction import (
    Action,
    ClientTransaction,
    Deliver,
    ServerTransaction,
    State,
    TimerConfig,
    Transmit,
)

from ._builders import reply, request


def sent(actions: list[Action]) -> list[Request | Response]:
    return [a.message for a in actions if isinstance(a, Transmit)]


def delivered(actions: list[Action]) -> list[str]:
    return [a.event.kind for a in actions if isinstance(a, Deliver)]


def run_until(tx: ClientTransaction | ServerTransaction, end: float) -> list[tuple[float, list[Action]]]:
    """Fire timers at their deadlines up to ``end``; (time, actions) per firing."""
    log: list[tuple[float, list[Action]]] = []
    while (deadline := tx.get_timer()) is not None and deadline <= end:
        log.append((deadline, tx.handle_timer(deadline)))
    return log


def test_invite_client_retransmits_on_timer_a_until_timer_b() -> None:
    invite = request("INVITE")
    tx = ClientTransaction(invite, reliable=False)
    assert sent(tx.start(0.0)) == [invite]
    assert tx.deadlines() == {"A": 0.5, "B": 32.0}
    assert tx.handle_timer(0.49) == []  # not yet due
    log = run_until(tx, 40.0)
    retransmits = [t for t, actions in log if sent(actions) == [invite]]
    assert retransmits == [0.5, 1.5, 3.5, 7.5, 15.5, 31.5]  # A doubles without a cap
    assert log[-1][0] == 32.0 and delivered(log[-1][1]) == ["timeout", "terminated"]
    assert tx.state is State.TERMINATED and tx.get_timer() is None


def test_invite_client_stops_retransmitting_on_1xx_and_acks_a_failure() -> None:
    invite = request("INVITE")
    tx = ClientTransaction(invite, reliable=False)
    tx.start(0.0)
    assert delivered(tx.receive_response(reply(invite, 100), 0.2)) == ["response"]
    assert tx.state is State.PROCEEDING and tx.get_timer() is None  # neither A nor B
    actions = tx.receive_response(reply(invite, 486), 5.0)
    assert delivered(actions) == ["response"] and tx.state is State.COMPLETED
    (ack,) = sent(actions)
    assert isinstance(ack, Request) and ack.method == "ACK"
    assert ack.top_via().branch == invite.top_via().branch and ack.cseq().number == invite.cseq().number
    assert ack.to_addr().tag == "callee1" and str(ack.uri) == str(invite.uri)
    # A retransmitted 486 is answered with the same ACK and not delivered again.
    again = tx.receive_response(reply(invite, 486), 6.0)
    assert sent(again) == [ack] and delivered(again) == []
    assert tx.deadlines() == {"D": 37.0}
    assert delivered(tx.handle_timer(37.0)) == ["terminated"]


def test_invite_client_on_reliable_transport_never_retransmits_and_d_is_zero() -> None:
    invite = request("INVITE")
    tx = ClientTransaction(invite, reliable=True)
    tx.start(0.0)
    assert tx.deadlines() == {"B": 32.0}
    tx.receive_response(reply(invite, 603), 1.0)
    assert tx.deadlines() == {"D": 1.0}
    tx.handle_timer(1.0)
    assert tx.terminated


def test_invite_client_accepts_2xx_and_its_retransmissions_until_timer_m() -> None:
    invite = request("INVITE")
    tx = ClientTransaction(invite, reliable=False)
    tx.start(0.0)
    ok = reply(invite, 200)
    actions = tx.receive_response(ok, 1.0)
    assert delivered(actions) == ["response"] and sent(actions) == []  # the TU ACKs a 2xx
    assert tx.state is State.ACCEPTED and tx.deadlines() == {"M": 33.0}
    assert delivered(tx.receive_response(ok, 2.0)) == ["response"]
    assert delivered(tx.receive_response(reply(invite, 180), 2.5)) == []
    assert delivered(tx.handle_timer(33.0)) == ["terminated"]


def test_non_invite_client_timer_e_caps_at_t2_and_f_times_out() -> None:
    bye = request("BYE", branch="z9hG4bKbye1", cseq=2)
    tx = ClientTransaction(bye, reliable=False)
    tx.start(0.0)
    assert tx.deadlines() == {"E": 0.5, "F": 32.0}
    log = run_until(tx, 40.0)
    retransmits = [t for t, actions in log if sent(actions)]
    assert retransmits == [0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5]
    assert delivered(log[-1][1]) == ["timeout", "terminated"] and log[-1][0] == 32.0


def test_non_invite_client_in_proceeding_retransmits_every_t2_then_k() -> None:
    options = request("OPTIONS", branch="z9hG4bKopt1")
    tx = ClientTransaction(options, reliable=False, timers=TimerConfig(t1=0.1, t2=2.0, t4=3.0))
    tx.start(0.0)
    tx.receive_response(reply(options, 100), 0.05)
    assert tx.state is State.PROCEEDING and tx.deadlines()["E"] == pytest.approx(0.1)
    tx.handle_timer(0.1)
    assert tx.deadlines()["E"] == pytest.approx(2.1)  # T2 in Proceeding
    actions = tx.receive_response(reply(options, 200), 2.0)
    assert delivered(actions) == ["response"] and tx.deadlines() == {"K": 5.0}  # T4 = 3
    assert delivered(tx.receive_response(reply(options, 200), 2.5)) == []  # absorbed
    assert delivered(tx.handle_timer(5.0)) == ["terminated"]


def test_non_invite_client_on_reliable_transport_k_is_zero() -> None:
    register = request("REGISTER", branch="z9hG4bKreg1")
    tx = ClientTransaction(register, reliable=True)
    tx.start(0.0)
    assert tx.deadlines() == {"F": 32.0}
    tx.receive_response(reply(register, 401), 0.3)
    assert tx.deadlines() == {"K": 0.3}


def test_invite_server_resends_final_on_timer_g_until_ack_then_i() -> None:
    invite = request("INVITE")
    tx = ServerTransaction(invite, reliable=False)
    assert tx.state is State.PROCEEDING
    ringing = reply(invite, 180)
    assert sent(tx.send_response(ringing, 0.1)) == [ringing]
    assert sent(tx.receive_request(invite, 0.6)) == [ringing]  # retransmitted INVITE
    busy = reply(invite, 486)
    assert sent(tx.send_response(busy, 1.0)) == [busy]
    assert tx.deadlines() == {"G": 1.5, "H": 33.0}
    log = run_until(tx, 10.0)
    assert [t for t, actions in log if sent(actions) == [busy]] == [1.5, 2.5, 4.5, 8.5]  # G: 0.5 1 2 4 (T2)
    assert sent(tx.receive_request(invite, 9.0)) == [busy]
    with pytest.raises(SipLocalError):
        tx.send_response(reply(invite, 500), 9.5)
    ack = request("ACK", cseq=1, to_tag="callee1")
    assert delivered(tx.receive_request(ack, 10.0)) == []  # absorbed: ACK for non-2xx
    assert tx.state is State.CONFIRMED and tx.deadlines() == {"I": 15.0}
    assert sent(tx.receive_request(invite, 11.0)) == []
    assert delivered(tx.handle_timer(15.0)) == ["terminated"]


def test_invite_server_timer_h_fires_when_ack_never_comes() -> None:
    invite = request("INVITE")
    tx = ServerTransaction(invite, reliable=True)
    tx.send_response(reply(invite, 404), 0.0)
    assert tx.deadlines() == {"H": 32.0}  # no G on a reliable transport
    assert delivered(tx.handle_timer(32.0)) == ["timeout", "terminated"]


def test_invite_server_accepted_passes_ack_up_and_ends_on_timer_l() -> None:
    invite = request("INVITE")
    tx = ServerTransaction(invite, reliable=False, timers=TimerConfig(t1=0.25))
    ok = reply(invite, 200)
    tx.send_response(ok, 1.0)
    assert tx.state is State.ACCEPTED and tx.deadlines() == {"L": 17.0}
    assert sent(tx.receive_request(invite, 1.5)) == []  # absorbed (RFC 6026)
    assert sent(tx.send_response(ok, 1.5)) == [ok]  # the TU retransmits its 2xx
    ack = request("ACK", branch="z9hG4bKack2xx", to_tag="callee1")
    assert delivered(tx.receive_request(ack, 2.0)) == ["ack"]
    with pytest.raises(SipLocalError):
        tx.send_response(reply(invite, 486), 2.0)
    assert delivered(tx.handle_timer(17.0)) == ["terminated"]


def test_non_invite_server_absorbs_then_resends_final_until_j() -> None:
    bye = request("BYE", branch="z9hG4bKbye9", cseq=3)
    tx = ServerTransaction(bye, reliable=False)
    assert tx.state is State.TRYING
    assert sent(tx.receive_request(bye, 0.1)) == []  # nothing to resend yet
    ok = reply(bye, 200)
    assert sent(tx.send_response(ok, 0.2)) == [ok]
    assert tx.deadlines() == {"J": 32.2}
    assert sent(tx.receive_request(bye, 5.0)) == [ok]
    with pytest.raises(SipLocalError):
        tx.send_response(reply(bye, 500), 6.0)
    assert delivered(tx.handle_timer(32.2)) == ["terminated"]


def test_non_invite_server_provisional_then_final_on_reliable_transport() -> None:
    msg = request("INFO", branch="z9hG4bKinfo1")
    tx = ServerTransaction(msg, reliable=True)
    trying = reply(msg, 100)
    tx.send_response(trying, 0.0)
    assert tx.state is State.PROCEEDING
    assert sent(tx.receive_request(msg, 0.1)) == [trying]
    tx.send_response(reply(msg, 200), 0.2)
    assert tx.deadlines() == {"J": 0.2}


def test_transport_errors_terminate_and_inform_the_user() -> None:
    invite = request("INVITE")
    tx = ClientTransaction(invite, reliable=False)
    tx.start(0.0)
    assert delivered(tx.transport_error(0.1)) == ["transport_error", "terminated"]
    assert tx.get_timer() is None and tx.transport_error(0.2) == []


def test_misuse_raises_local_errors() -> None:
    with pytest.raises(SipLocalError):
        ClientTransaction(request("ACK"), reliable=False)
    with pytest.raises(SipLocalError):
        ClientTransaction(request("INVITE", branch="old-style"), reliable=False)
    tx = ClientTransaction(request("INVITE"), reliable=False)
    tx.start(0.0)
    with pytest.raises(SipLocalError):
        tx.start(0.0)
    with pytest.raises(ValueError):
        TimerConfig(t1=5.0, t2=4.0)

"""Matching rules (RFC 3261 §17.1.3, §17.2.3 and the RFC 2543 fallback),
the ACK for a non-2xx and CANCEL construction (§9.1)."""

from __future__ import annotations

from hotline.sip.message import Request, parse_message
from hotline.sip.transaction import (
    ClientTransaction,
    client_key,
    client_key_for_response,
    make_cancel,
    server_key,
)

from ._builders import reply, request
from ._torture import torture


def test_server_key_uses_branch_sent_by_and_method() -> None:
    invite = request("INVITE", branch="z9hG4bKaa")
    assert server_key(invite) == ("server", "z9hG4bKaa", ("10.0.0.8", 5060), "INVITE")
    # The ACK for a non-2xx carries the INVITE's branch and matches its transaction.
    assert server_key(request("ACK", branch="z9hG4bKaa", to_tag="t")) == server_key(invite)
    # A CANCEL is its own transaction but finds the INVITE with method="INVITE".
    cancel = make_cancel(invite)
    assert server_key(cancel) != server_key(invite)
    assert server_key(cancel, "INVITE") == server_key(invite)
    # Same branch from another host is another transaction.
    assert server_key(request("INVITE", branch="z9hG4bKaa", sent_by="10.0.0.9:5060")) != server_key(invite)


def test_rfc2543_fallback_matches_retransmissions_and_ack() -> None:
    invite = parse_message(torture("inv2543"))
    assert isinstance(invite, Request)
    key = server_key(invite)
    assert key[0] == "server-2543"
    assert server_key(parse_message(torture("inv2543"))) == key  # type: ignore[arg-type]
    ack_bytes = torture("inv2543").replace(b"INVITE sip:UserB", b"ACK sip:UserB").replace(b"CSeq: 56 INVITE", b"CSeq: 56 ACK")
    ack = parse_message(ack_bytes)
    assert isinstance(ack, Request) and server_key(ack) == key
    other = parse_message(torture("inv2543").replace(b"CSeq: 56", b"CSeq: 57"))
    assert server_key(other) != key  # type: ignore[arg-type]


def test_bare_magic_cookie_falls_back_to_2543_matching() -> None:
    m = parse_message(torture("badbranch"))
    assert isinstance(m, Request) and server_key(m)[0] == "server-2543"


def test_client_key_matches_branch_and_cseq_method() -> None:
    invite = request("INVITE", branch="z9hG4bKcc")
    tx = ClientTransaction(invite, reliable=False)
    assert tx.key == client_key("z9hG4bKcc", "INVITE") == client_key_for_response(reply(invite, 180))
    cancel = make_cancel(invite)
    assert client_key_for_response(reply(cancel, 200)) == client_key("z9hG4bKcc", "CANCEL") != tx.key


def test_cancel_copies_what_section_9_1_requires() -> None:
    invite = request("INVITE", branch="z9hG4bKdd", cseq=7).replace()
    cancel = make_cancel(invite)
    assert cancel.method == "CANCEL" and str(cancel.uri) == str(invite.uri)
    assert cancel.cseq().number == 7 and cancel.cseq().method == "CANCEL"
    assert cancel.call_id() == invite.call_id() and cancel.from_addr() == invite.from_addr()
    assert cancel.to_addr() == invite.to_addr() and [v.branch for v in cancel.vias()] == ["z9hG4bKdd"]

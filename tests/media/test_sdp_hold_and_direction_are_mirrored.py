"""RFC 3264 §6.1 direction mirroring and hold detection (incl. c=0.0.0.0)."""

from __future__ import annotations

import pytest

from hotline.media.sdp import Direction, SdpSession, parse_sdp

from ._sdp_samples import ASTERISK_HOLD, ASTERISK_TRUNK, OLD_STYLE_HOLD


def session() -> SdpSession:
    return SdpSession("10.1.2.3", 40000, session_id=99)


@pytest.mark.parametrize(
    ("offered", "answered", "remote_hold"),
    [
        ("sendrecv", "sendrecv", False),
        ("sendonly", "recvonly", True),
        ("recvonly", "sendonly", False),
        ("inactive", "inactive", True),
    ],
)
def test_answer_direction_mirrors_the_offer(offered: Direction, answered: Direction, remote_hold: bool) -> None:
    offer = parse_sdp(ASTERISK_TRUNK.replace("a=sendrecv", f"a={offered}"))
    answer, audio = session().create_answer(offer)
    assert answer.media[0].direction == answered
    assert audio.direction == answered
    assert audio.remote_hold is remote_hold


def test_session_level_direction_applies_when_the_media_has_none() -> None:
    text = ASTERISK_TRUNK.replace("a=sendrecv\r\n", "").replace("t=0 0\r\n", "t=0 0\r\na=sendonly\r\n")
    answer, audio = session().create_answer(parse_sdp(text))
    assert answer.media[0].direction == "recvonly" and audio.remote_hold


def test_trunk_re_invite_with_sendonly_is_detected_as_hold_and_then_resumed() -> None:
    s = session()
    first, audio = s.create_answer(parse_sdp(ASTERISK_TRUNK))
    assert not audio.remote_hold and audio.send and audio.receive
    held, audio = s.create_answer(parse_sdp(ASTERISK_HOLD))
    assert audio.remote_hold and not audio.send and audio.receive
    assert held.origin.session_version == first.origin.session_version + 1
    resumed, audio = s.create_answer(parse_sdp(ASTERISK_TRUNK))
    assert not audio.remote_hold and audio.direction == "sendrecv"
    assert resumed.origin.session_version == held.origin.session_version + 1


def test_old_style_hold_with_null_connection_address_is_detected() -> None:
    answer, audio = session().create_answer(parse_sdp(OLD_STYLE_HOLD))
    assert audio.remote_hold
    assert audio.direction == "recvonly"
    assert not audio.send
    assert answer.media[0].direction == "recvonly"
    # Our own address is still advertised.
    assert answer.connection is not None and answer.connection.host == "10.1.2.3"


def test_local_hold_when_answering_limits_our_direction() -> None:
    _, audio = session().create_answer(parse_sdp(ASTERISK_TRUNK), direction="sendonly")
    assert audio.direction == "sendonly" and not audio.remote_hold
    _, audio = session().create_answer(parse_sdp(ASTERISK_HOLD), direction="sendonly")
    assert audio.direction == "inactive"


def test_putting_the_remote_on_hold_with_a_sendonly_re_offer() -> None:
    s = session()
    s.create_offer()
    s.process_answer(parse_sdp(ASTERISK_TRUNK))
    hold = s.create_offer("sendonly")
    assert hold.media[0].direction == "sendonly"
    answer = parse_sdp(ASTERISK_TRUNK.replace("a=sendrecv", "a=recvonly"))
    audio = s.process_answer(answer)
    assert audio.direction == "sendonly" and not audio.remote_hold
    # A remote answering our sendrecv offer with inactive means no media at all.
    s.create_offer()
    audio = s.process_answer(parse_sdp(ASTERISK_TRUNK.replace("a=sendrecv", "a=inactive")))
    assert audio.direction == "inactive" and audio.remote_hold

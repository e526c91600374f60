"""Telephony fixtures: the shared people (tests/conftest.py) with extensions, call
records and a real WAV recording under the test's media root."""

from __future__ import annotations

import datetime as dt
import wave
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from hotline.telephony.models import CallRecord

T0 = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.timezone.utc)


def give_extension(user: Any, extension: str) -> Any:
    user.extension = extension
    user.save(update_fields=["extension"])
    return user


def write_wav(relative: str, seconds: float = 0.5) -> Path:
    """A stereo 8 kHz 16-bit WAV like the PBX's recordings (caller left, agent right)."""
    path = Path(settings.MEDIA_ROOT) / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = int(8000 * seconds)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(bytes(range(256)) * (frames * 4 // 256) + b"\0" * (frames * 4 % 256))
    return path


def make_call(call_id: str, *, agent: Any = None, caller: str = "13812345678", minutes: int = 0, direction: str = "inbound",
              recorded: bool = True, **kw: Any) -> CallRecord:
    offered = T0 + dt.timedelta(minutes=minutes)
    rel = f"recordings/2026/11/23/{call_id}.wav" if recorded else ""
    if recorded:
        write_wav(rel)
    return CallRecord.objects.create(
        call_id=call_id, direction=direction, caller=caller, callee=kw.pop("callee", "12345"), trunk=kw.pop("trunk", "carrier"),
        agent_extension=agent.extension if agent else "", agent=agent, offered_at=offered,
        answered_at=offered + dt.timedelta(seconds=5), ended_at=offered + dt.timedelta(seconds=65), duration=60.0,
        hangup_side="caller", recording_path=rel, **kw,
    )


@pytest.fixture
def agents(people: Any) -> Any:
    """call_taker 1001, team_leader 1002, a second call-taker 1003."""
    from tests.conftest import make_user
    from hotline.accounts.models import Role

    give_extension(people.call_taker, "1001")
    give_extension(people.team_leader, "1002")
    people.other_taker = give_extension(make_user("other_taker", Role.CALL_TAKER), "1003")
    return people


@pytest.fixture(autouse=True)
def _fresh_channel_layer() -> Any:
    """Each test starts and ends with a new, empty channel layer: a group joined by a
    test must not stay behind (web.live skips its work only while no group exists, and
    tests elsewhere count those queries)."""
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()

"""Recordings are personal data: the agent of the call, team leaders, quality inspectors
and supervisors may hear them; call-takers, dispatchers and department users only when
the call is linked to a ticket they may see; administrators, statisticians and auditors
never. Every playback writes one audit row; Range requests serve the right bytes."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.conf import settings
from django.test import Client

from hotline.audit.models import AuditEntry
from hotline.cases import actions as case_actions
from tests.conftest import PASSWORD, ticket_input
from tests.telephony.conftest import make_call

pytestmark = pytest.mark.django_db


@pytest.fixture
def linked(agents: Any, tree: Any) -> Any:
    """c1 (taken by call_taker) registered as a ticket dispatched to 东华社区; c2 not linked."""
    make_call("c1@10.0.0.1", agent=agents.call_taker)
    make_call("c2@10.0.0.1", agent=agents.call_taker, minutes=5)
    t = case_actions.do_create_ticket(agents.call_taker, ticket_input(recording_ref="call:c1@10.0.0.1"))
    case_actions.do_dispatch(t.pk, agents.call_taker, tree.donghua_community.pk, [])
    agents.ticket = t
    return agents


def play(api: Any, call_id: str, **headers: str) -> Any:
    return api.client.get(f"/api/telephony/recording?call_id={quote(call_id, safe='')}", headers={**api.headers, **headers})


def body(response: Any) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.mark.parametrize(
    ("role", "c1", "c2"),
    [
        ("call_taker", True, True),        # the agent of both calls
        ("other_taker", False, False),     # another agent: not hers, and... (see below)
        ("team_leader", True, True),
        ("inspector", True, True),
        ("supervisor", True, True),
        ("dispatcher", True, False),       # through the linked ticket only
        ("handler", True, False),          # the ticket is in 东华街道's scope
        ("manager", True, False),
        ("water_handler", False, False),   # another department's scope
        ("west_handler", False, False),
        ("admin", False, False),
        ("statistician", False, False),
        ("auditor", False, False),
    ],
)
def test_who_may_play_which_recording(linked: Any, api_as: Any, role: str, c1: bool, c2: bool) -> None:
    api = api_as(getattr(linked, role))
    r1, r2 = play(api, "c1@10.0.0.1"), play(api, "c2@10.0.0.1")
    if role == "other_taker":
        c1 = True  # a call-taker works on tickets too: the linked ticket is visible to every call-taker
    assert (r1.status_code, r2.status_code) == (200 if c1 else 404, 200 if c2 else 404), role
    if c1:
        assert r1["Content-Type"] == "audio/wav" and body(r1)[:4] == b"RIFF"
    plays = AuditEntry.objects.filter(action="telephony.recording_play", actor=getattr(linked, role))
    assert plays.count() == int(c1) + int(c2)


def test_a_range_request_gets_the_right_bytes_and_one_playback_one_audit_row(linked: Any, api_as: Any) -> None:
    api = api_as(linked.team_leader)
    path = Path(settings.MEDIA_ROOT) / "recordings/2026/11/23/c1@10.0.0.1.wav"
    data = path.read_bytes()
    first = play(api, "c1@10.0.0.1", Range="bytes=0-")
    assert first.status_code == 206 and body(first) == data
    assert first["Content-Range"] == f"bytes 0-{len(data) - 1}/{len(data)}" and first["Accept-Ranges"] == "bytes"
    middle = play(api, "c1@10.0.0.1", Range="bytes=100-199")
    assert middle.status_code == 206 and body(middle) == data[100:200] and middle["Content-Length"] == "100"
    tail = play(api, "c1@10.0.0.1", Range="bytes=-50")
    assert tail.status_code == 206 and body(tail) == data[-50:]
    past = play(api, "c1@10.0.0.1", Range=f"bytes={len(data)}-")
    assert past.status_code == 416 and past["Content-Range"] == f"bytes */{len(data)}"
    assert AuditEntry.objects.filter(action="telephony.recording_play").count() == 1  # seeking is not a new playback
    entry = AuditEntry.objects.get(action="telephony.recording_play")
    assert entry.actor == linked.team_leader and "c1@10.0.0.1" in entry.object_repr and entry.ip == "10.1.2.3"


def test_missing_files_unrecorded_calls_and_paths_outside_the_media_root_are_404(linked: Any, api_as: Any, tmp_path: Path) -> None:
    api = api_as(linked.team_leader)
    make_call("nofile", agent=linked.call_taker).__class__.objects.filter(call_id="nofile").update(recording_path="recordings/none.wav")
    make_call("unrecorded", agent=linked.call_taker, recorded=False)
    secret = tmp_path / "secret.wav"
    secret.write_bytes(b"RIFF-not-for-you")
    make_call("escape", agent=linked.call_taker).__class__.objects.filter(call_id="escape").update(recording_path="../secret.wav")
    for call_id in ("nofile", "unrecorded", "escape", "no-such-call"):
        assert play(api, call_id).status_code == 404, call_id
    assert api.client.get("/api/telephony/recording", headers=api.headers).status_code == 422  # call_id missing
    assert not AuditEntry.objects.filter(action="telephony.recording_play").exists()
    assert api_as(None).client.get("/api/telephony/recording?call_id=c1%4010.0.0.1").status_code == 401


def test_the_ticket_page_shows_the_linked_recording_with_the_caller_masked_by_role(linked: Any) -> None:
    pages = {}
    for name in ("handler", "supervisor", "admin", "west_handler"):
        c = Client()
        assert c.login(username=getattr(linked, name).username, password=PASSWORD)
        pages[name] = c.get(f"/tickets/{linked.ticket.pk}/")
    handler = pages["handler"].content.decode()
    assert pages["handler"].status_code == 200
    assert 'id="call-recordings"' in handler and "<audio controls" in handler
    assert "/api/telephony/recording?call_id=c1%4010.0.0.1" in handler and "13812345678" in handler and "1:00" in handler
    supervisor = pages["supervisor"].content.decode()
    assert "<audio controls" in supervisor and "138****5678" in supervisor
    assert pages["admin"].status_code in (403, 404) and pages["west_handler"].status_code == 404


def test_a_confidential_tickets_caller_is_masked_for_the_department(linked: Any, tree: Any) -> None:
    make_call("c9", agent=linked.call_taker, caller="13912345678")
    t = case_actions.do_create_ticket(linked.call_taker, ticket_input(recording_ref="call:c9", confidential=True, contact_phone="13912345678"))
    case_actions.do_dispatch(t.pk, linked.call_taker, tree.donghua_community.pk, [])
    c = Client()
    assert c.login(username="handler", password=PASSWORD)
    page = c.get(f"/tickets/{t.pk}/").content.decode()
    assert "139****5678" in page and "13912345678" not in page and "<audio controls" in page


def test_the_recordings_section_is_available_in_english(linked: Any) -> None:
    c = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert c.login(username="supervisor", password=PASSWORD)
    page = c.get(f"/tickets/{linked.ticket.pk}/").content.decode()
    assert "Call recording" in page and "Caller number" in page and "Duration 1:00" in page and "来电号码" not in page

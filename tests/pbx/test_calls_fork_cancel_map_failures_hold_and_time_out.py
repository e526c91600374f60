"""B2BUA call control against SIPp phones (registered extensions) and a
hand-driven caller on the trunk's address: forking to several devices
(first 200 wins, the others CANCELled), failure mapping (486/480/404),
CANCEL before answer, hold/resume relayed by re-INVITE, media timeout,
the concurrent-call limit (503), and an extension calling an extension with
digest authentication."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from hotline.pbx.directory import MemoryDirectory, Trunk
from hotline.pbx.server import PbxServer

from tests.pbx._phones import run
from tests.pbx._sip_client import Caller, SipClient, sdp_offer
from tests.pbx._sip_peers import Peer, account, config, directory, sipp, sipp_phone, wait_for

TRUNK = Trunk("carrier", host="127.0.0.2", allowed_sources=("127.0.0.2",),
              did_routes={"12345": "8001", "12346": "8002", "12399": "7777"})


def make_directory() -> MemoryDirectory:
    return directory(accounts=[account("8001", "pw-8001"), account("8002", "pw-8002")], trunks=[TRUNK])


async def started(tmp: Path, directory_: MemoryDirectory, **overrides: Any) -> PbxServer:
    server = PbxServer(config(tmp, **overrides), directory_)
    await server.start()
    return server


async def finish(server: PbxServer, *peers: Peer) -> None:
    for peer in peers:
        await peer.stop()
    await server.stop()
    stats = server.stats()
    assert stats["calls"]["calls"] == 0 and stats["media"]["ports_in_use"] == 0, stats
    assert stats["sip"]["udp"]["handler_errors"] == 0 and stats["request_errors"] == 0, stats


def test_call_forks_to_every_device_first_answer_wins_and_the_other_is_cancelled(tmp_path: Path) -> None:
    d = make_directory()

    async def body() -> None:
        server = await started(tmp_path, d)
        addr = server.udp_address
        assert addr is not None
        answering = await sipp_phone(addr, "8001", "pw-8001", "uas_answer.xml", tmp_path)
        ringing = await sipp_phone(addr, "8001", "pw-8001", "uas_ring_until_cancel.xml", tmp_path)
        client = await SipClient.open(addr, host="127.0.0.2")
        try:
            await asyncio.sleep(0.3)
            caller = Caller(client, "12345")
            final = await caller.call()
            assert final is not None and final.status == 200, final
            assert 180 in caller.provisional
            assert b"m=audio" in final.body
            assert await ringing.wait(10) == 0, ringing.log()  # got CANCEL, answered 200 + 487
            await asyncio.sleep(3.5)  # the answering SIPp plays audio and DTMF before it waits for BYE
            client.send_raw(caller.in_dialog("BYE", 2).serialize())
            bye_ok = await client.recv(3)
            assert bye_ok is not None and bye_ok.status == 200
            assert await answering.wait(10) == 0, answering.log()
            await wait_for(lambda: len(d.records) == 1)
        finally:
            client.close()
            await finish(server, answering, ringing)
        record = d.records[0]
        assert record.agent_extension == "8001" and record.hangup_side == "caller" and record.answered_at

    run(body(), timeout=90)


def test_busy_unknown_and_unregistered_targets_are_mapped(tmp_path: Path) -> None:
    d = make_directory()

    async def body() -> None:
        server = await started(tmp_path, d)
        addr = server.udp_address
        assert addr is not None
        busy = await sipp_phone(addr, "8001", "pw-8001", "uas_busy.xml", tmp_path)
        client = await SipClient.open(addr, host="127.0.0.2")
        try:
            await asyncio.sleep(0.3)
            final = await Caller(client, "12345").call()
            assert final is not None and final.status == 486
            assert await busy.wait(10) == 0, busy.log()
            final = await Caller(client, "12346").call()  # 8002 exists but has no device registered
            assert final is not None and final.status == 480
            final = await Caller(client, "12399").call()  # DID routed to an extension that does not exist
            assert final is not None and final.status == 404
            final = await Caller(client, "55555").call()  # no DID route at all
            assert final is not None and final.status == 404
            await wait_for(lambda: len(d.records) == 1)
        finally:
            client.close()
            await finish(server, busy)
        record = d.records[0]
        assert record.answered_at is None and record.hangup_side == "callee" and record.hangup_cause == "486"
        assert record.recording_path == ""

    run(body(), timeout=60)


def test_cancel_before_answer_ends_every_fork_and_leaves_nothing_behind(tmp_path: Path) -> None:
    d = make_directory()

    async def body() -> None:
        server = await started(tmp_path, d)
        addr = server.udp_address
        assert addr is not None
        ringing = await sipp_phone(addr, "8001", "pw-8001", "uas_ring_until_cancel.xml", tmp_path)
        client = await SipClient.open(addr, host="127.0.0.2")
        try:
            await asyncio.sleep(0.3)
            caller = Caller(client, "12345")
            client.send_raw(caller.invite().serialize())
            statuses = []
            while 180 not in statuses:
                r = await client.recv(5)
                assert r is not None
                statuses.append(r.status)
            caller.cancel()
            finals = []
            for _ in range(2):
                r = await client.recv(5)
                assert r is not None
                finals.append((r.status, r.cseq().method))
            assert sorted(finals) == [(200, "CANCEL"), (487, "INVITE")]
            client.send_raw(caller.in_dialog("ACK", 1, branch=caller.branch).serialize())
            assert await ringing.wait(10) == 0, ringing.log()
            await wait_for(lambda: len(d.records) == 1)
        finally:
            client.close()
            await finish(server, ringing)
        record = d.records[0]
        assert record.hangup_side == "caller" and record.hangup_cause == "cancelled" and record.answered_at is None
        assert [e.kind for e in d.events] == ["ringing", "ended"]

    run(body(), timeout=60)


def test_hold_and_resume_are_relayed_by_reinvite(tmp_path: Path) -> None:
    d = make_directory()

    async def body() -> None:
        server = await started(tmp_path, d)
        addr = server.udp_address
        assert addr is not None
        phone = await sipp_phone(addr, "8001", "pw-8001", "uas_hold.xml", tmp_path)
        client = await SipClient.open(addr, host="127.0.0.2")
        try:
            await asyncio.sleep(0.3)
            caller = Caller(client, "12345")
            final = await caller.call()
            assert final is not None and final.status == 200
            call = next(iter(server.calls.calls.values()))
            assert call.bridge is not None and call.bridge.state == "relay"
            host = client.local[0]
            held = await client.send(caller.in_dialog("INVITE", 2, body=sdp_offer(host, 4000, "sendonly")), 5)
            assert held is not None and held.status == 200 and b"a=recvonly" in held.body
            client.send_raw(caller.in_dialog("ACK", 2).serialize())
            assert call.bridge.state == "held"
            await asyncio.sleep(0.5)
            resumed = await client.send(caller.in_dialog("INVITE", 3, body=sdp_offer(host, 4000, "sendrecv")), 5)
            assert resumed is not None and resumed.status == 200 and b"a=sendrecv" in resumed.body
            client.send_raw(caller.in_dialog("ACK", 3).serialize())
            assert call.bridge.state == "relay"
            await asyncio.sleep(0.5)
            client.send_raw(caller.in_dialog("BYE", 4).serialize())
            bye_ok = await client.recv(5)
            assert bye_ok is not None and bye_ok.status == 200
            # the phone saw a sendonly/inactive re-INVITE, then a sendrecv one, then BYE
            assert await phone.wait(10) == 0, phone.log()
        finally:
            client.close()
            await finish(server, phone)

    run(body(), timeout=60)


def test_media_timeout_hangs_up_both_sides(tmp_path: Path) -> None:
    d = make_directory()

    async def body() -> None:
        server = await started(tmp_path, d, media_timeout=1.5)
        addr = server.udp_address
        assert addr is not None
        phone = await sipp_phone(addr, "8001", "pw-8001", "uas_answer_silent.xml", tmp_path)
        client = await SipClient.open(addr, host="127.0.0.2")
        try:
            await asyncio.sleep(0.3)
            final = await Caller(client, "12345").call()  # this caller never sends RTP
            assert final is not None and final.status == 200
            bye = await client.wait_request("BYE", timeout=6)
            assert bye is not None
            assert await phone.wait(10) == 0, phone.log()  # the phone got its BYE too
            await wait_for(lambda: len(d.records) == 1)
        finally:
            client.close()
            await finish(server, phone)
        record = d.records[0]
        assert record.hangup_side == "system" and record.hangup_cause == "media-timeout"

    run(body(), timeout=60)


def test_calls_beyond_max_calls_get_503(tmp_path: Path) -> None:
    d = make_directory()

    async def body() -> None:
        server = await started(tmp_path, d, max_calls=1)
        addr = server.udp_address
        assert addr is not None
        ringing = await sipp_phone(addr, "8001", "pw-8001", "uas_ring_until_cancel.xml", tmp_path)
        client = await SipClient.open(addr, host="127.0.0.2")
        second = await SipClient.open(addr, host="127.0.0.2")
        try:
            await asyncio.sleep(0.3)
            first = Caller(client, "12345")
            client.send_raw(first.invite().serialize())
            r = await client.recv(5)
            while r is not None and r.status < 180:
                r = await client.recv(5)
            assert r is not None and r.status == 180
            refused = await Caller(second, "12345").call()
            assert refused is not None and refused.status == 503 and refused.headers.get("Retry-After")
            first.cancel()
            await wait_for(lambda: len(d.records) == 1)
            assert await ringing.wait(10) == 0, ringing.log()
        finally:
            client.close()
            second.close()
            await finish(server, ringing)

    run(body(), timeout=60)


def test_extension_calls_extension_after_digest_challenge(tmp_path: Path) -> None:
    d = make_directory()

    async def body() -> None:
        server = await started(tmp_path, d)
        addr = server.udp_address
        assert addr is not None
        phone = await sipp_phone(addr, "8001", "pw-8001", "uas_answer.xml", tmp_path)
        try:
            await asyncio.sleep(0.3)
            uac = await sipp("8002 calls 8001", "uac_call.xml", "-s", "8001", "-au", "8002", "-ap", "pw-8002", "-auth_uri", f"8001@{addr[0]}:{addr[1]}",
                             "-m", "1", "-d", "3000", remote=addr, timeout=30, cwd=tmp_path)
            try:
                assert await uac.wait(40) == 0, uac.log()
            finally:
                await uac.stop()
            assert await phone.wait(10) == 0, phone.log()
            await wait_for(lambda: len(d.records) == 1)
        finally:
            await finish(server, phone)
        record = d.records[0]
        assert record.direction == "internal" and record.caller == "8002" and record.callee == "8001"
        assert record.agent_extension == "8001" and record.answered_at is not None and record.recording_path

    run(body(), timeout=90)

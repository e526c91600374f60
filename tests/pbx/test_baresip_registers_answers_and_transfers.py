"""baresip (a real softphone) against the server: it registers as extension
8001 with digest, auto-answers a call from the trunk (SIPp caller with
G.711 RTP), audio flows both ways into the stereo recording; a call that
baresip blind-transfers (REFER) to extension 8002 (a SIPp phone); and a call
that baresip holds, resumes, then turns into a three-way call by typing
*3 8002 # (RFC 4733 DTMF)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.pbx._phones import run
from tests.pbx._sip_client import Caller, SipClient
from tests.pbx._sip_peers import Baresip, free_udp_port, sipp, sipp_phone, wait_for, wav_channel_levels
from tests.pbx.test_calls_fork_cancel_map_failures_hold_and_time_out import finish, make_directory, started


def test_baresip_registers_and_answers_a_trunk_call_with_audio_both_ways(tmp_path: Path) -> None:
    d = make_directory()

    async def body() -> None:
        server = await started(tmp_path, d)
        addr = server.udp_address
        assert addr is not None
        phone = Baresip(tmp_path, "8001", "pw-8001", addr)
        await phone.start(timeout=60)
        try:
            loop = asyncio.get_running_loop()
            await wait_for(lambda: bool(server.registrar.lookup("8001", loop.time())), timeout=10)
            media_a = free_udp_port("127.0.0.2")
            uac = await sipp("caller", "uac_call.xml", "-s", "12345", "-m", "1", "-d", "4000",
                             "-mi", "127.0.0.2", "-mp", str(media_a), remote=addr, local_ip="127.0.0.2",
                             timeout=30, cwd=tmp_path)
            try:
                assert await uac.wait(40) == 0, uac.log() + phone.log()
            finally:
                await uac.stop()
            await wait_for(lambda: len(d.records) == 1)
        finally:
            await phone.stop()
            await finish(server)
        record = d.records[0]
        assert record.agent_extension == "8001" and record.answered_at is not None and record.hangup_side == "caller"
        seconds, left, right = wav_channel_levels(tmp_path / "media" / record.recording_path)
        assert seconds > 4 and left > 100 and right > 100, (seconds, left, right)
        legs = server.calls.history[-1].counters["legs"]
        assert legs[1]["received"] > 150, legs  # baresip sent its WAV for the whole call
        assert legs[1]["sent"] == legs[0]["received"], legs

    run(body(), timeout=90)


def test_baresip_blind_transfers_a_call_to_another_extension(tmp_path: Path) -> None:
    d = make_directory()

    async def body() -> None:
        server = await started(tmp_path, d)
        addr = server.udp_address
        assert addr is not None
        phone = Baresip(tmp_path, "8001", "pw-8001", addr)
        await phone.start(timeout=60)
        target = await sipp_phone(addr, "8002", "pw-8002", "uas_answer_silent.xml", tmp_path)
        client = await SipClient.open(addr, host="127.0.0.2")
        try:
            loop = asyncio.get_running_loop()
            await wait_for(lambda: bool(server.registrar.lookup("8001", loop.time())), timeout=10)
            caller = Caller(client, "12345")
            final = await caller.call()
            assert final is not None and final.status == 200, phone.log()
            await wait_for(lambda: phone.has_event("CALL_ESTABLISHED"), timeout=5)
            call = next(iter(server.calls.calls.values()))
            await phone.command("transfer", f"sip:8002@{addr[0]}:{addr[1]}")
            await wait_for(lambda: call.b is not None and call.b.extension == "8002", timeout=10)
            await wait_for(lambda: phone.has_event("CALL_CLOSED"), timeout=10)
            bye = await client.send(caller.in_dialog("BYE", 2), 5)
            assert bye is not None and bye.status == 200
            assert await target.wait(10) == 0, target.log()
            await wait_for(lambda: len(d.records) == 1)
        finally:
            client.close()
            await phone.stop()
            await finish(server, target)
        assert d.records[0].agent_extension == "8002" and call.transfers == 1

    run(body(), timeout=90)


def test_baresip_holds_resumes_and_makes_a_three_way_call_with_dtmf(tmp_path: Path) -> None:
    d = make_directory()

    async def body() -> None:
        server = await started(tmp_path, d)
        addr = server.udp_address
        assert addr is not None
        phone = Baresip(tmp_path, "8001", "pw-8001", addr)
        await phone.start(timeout=60)
        third = await sipp_phone(addr, "8002", "pw-8002", "uas_answer_silent.xml", tmp_path)
        client = await SipClient.open(addr, host="127.0.0.2")
        try:
            loop = asyncio.get_running_loop()
            await wait_for(lambda: bool(server.registrar.lookup("8001", loop.time())), timeout=10)
            caller = Caller(client, "12345")
            final = await caller.call()
            assert final is not None and final.status == 200, phone.log()
            await wait_for(lambda: phone.has_event("CALL_ESTABLISHED"), timeout=5)
            call = next(iter(server.calls.calls.values()))
            assert call.bridge is not None
            # hold and resume from the softphone: re-INVITEs relayed to the caller
            await phone.command("hold")
            await wait_for(lambda: call.bridge is not None and call.bridge.state == "held", timeout=5)
            await phone.command("resume")
            await wait_for(lambda: call.bridge is not None and call.bridge.state == "relay", timeout=5)
            # three-way: the agent types *3 8002 # on the softphone
            # baresip sends RTP from its other local address after the re-INVITEs (192.0.2.x
            # then 127.0.0.1): the leg re-latches after 2 s of silence from the first source
            await asyncio.sleep(2.5)
            await phone.command("sndcode", "*38002#")
            await wait_for(lambda: len(call.parties) == 1, timeout=10)
            assert call.bridge.state == "conference" and len(call.bridge.legs) == 3
            await asyncio.sleep(0.5)
            bye = await client.send(caller.in_dialog("BYE", 2), 5)
            assert bye is not None and bye.status == 200
            assert await third.wait(10) == 0, third.log()
            await wait_for(lambda: phone.has_event("CALL_CLOSED"), timeout=10)
            await wait_for(lambda: len(d.records) == 1)
        finally:
            client.close()
            await phone.stop()
            await finish(server, third)
        assert [digit for role, digit in call.digits if role == "b"][-7:] == list("*38002#")

    run(body(), timeout=90)

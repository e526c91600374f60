"""A real SIPp call through the server: SIPp registers as extension 8001 and
answers (UAS); another SIPp on 127.0.0.2 (the trunk's address) calls the DID
12345 with G.711 RTP and DTMF.  Checks: audio crossed both ways through the
bridge, DTMF passed both ways, the WAV has both channels with signal, the
CDR and the live call events are right.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from hotline.pbx.directory import Trunk
from hotline.pbx.server import PbxServer

from tests.pbx._phones import run
from tests.pbx._sip_peers import (
    account,
    config,
    directory,
    free_udp_port,
    sipp,
    wait_for,
    wav_channel_levels,
)


def test_sipp_call_from_trunk_reaches_registered_extension_with_media_dtmf_recording_and_cdr(tmp_path: Path) -> None:
    trunk = Trunk("carrier", host="127.0.0.2", allowed_sources=("127.0.0.2",), did_routes={"12345": "8001"})
    directory_ = directory(accounts=[account("8001", "pw-8001")], trunks=[trunk])

    async def body() -> None:
        server = PbxServer(config(tmp_path), directory_)
        await server.start()
        try:
            addr = server.udp_address
            assert addr is not None
            phone_port = free_udp_port()
            reg = await sipp("register", "register.xml", "-s", "8001", "-au", "8001", "-ap", "pw-8001", "-m", "1",
                             remote=addr, port=phone_port, timeout=10, cwd=tmp_path)
            assert await reg.wait(15) == 0, reg.log()
            assert [b.aor for b in server.registrar.lookup("8001", asyncio.get_running_loop().time())] == ["8001"]
            media_b = free_udp_port()
            uas = await sipp("phone", "uas_answer.xml", "-m", "1", "-mi", "127.0.0.1", "-mp", str(media_b),
                             port=phone_port, timeout=30, cwd=tmp_path)
            await asyncio.sleep(0.3)
            media_a = free_udp_port("127.0.0.2")
            uac = await sipp("caller", "uac_call.xml", "-s", "12345", "-m", "1", "-d", "4000",
                             "-mi", "127.0.0.2", "-mp", str(media_a), remote=addr, local_ip="127.0.0.2",
                             timeout=30, cwd=tmp_path)
            try:
                assert await uac.wait(40) == 0, uac.log()
                assert await uas.wait(10) == 0, uas.log()
            finally:
                await uac.stop()
                await uas.stop()
            await wait_for(lambda: len(directory_.records) == 1, timeout=10)
        finally:
            await server.stop()
        record = directory_.records[0]
        assert record.direction == "inbound" and record.trunk == "carrier"
        assert record.caller == "13800138000" and record.callee == "8001" and record.agent_extension == "8001"
        assert record.answered_at is not None and record.hangup_side == "caller"
        assert 4.0 < record.duration_seconds < 20.0
        assert record.recording_path.startswith("recordings/") and record.recording_path.endswith(".wav")
        wav = tmp_path / "media" / record.recording_path
        seconds, left, right = wav_channel_levels(wav)
        assert seconds > 4.0
        assert left > 100 and right > 100, (left, right)  # both parties' audio is in the file
        call = server.calls.history[-1]
        legs = call.counters["legs"]
        # each leg received its peer's RTP (SIPp plays audio ~1.2 s / ~2.5 s, then the DTMF
        # capture replaces it) and every packet was sent on to the other peer
        assert legs[0]["received"] > 50 and legs[1]["received"] > 50, legs
        assert legs[1]["sent"] == legs[0]["received"] and legs[0]["sent"] == legs[1]["received"], legs
        assert ("a", "9") in call.digits and ("b", "1") in call.digits, call.digits
        kinds = [(e.kind, e.extension) for e in directory_.events]
        assert kinds == [("ringing", "8001"), ("answered", "8001"), ("ended", "8001")], kinds
        stats = server.stats()
        assert stats["calls"]["calls"] == 0 and stats["media"]["legs"] == 0 and stats["media"]["ports_in_use"] == 0

    run(body(), timeout=90)

"""Protection against the scanners that attack every public SIP server:
bans after failed digest checks (then silence), per-source rate limits,
trusted networks exempt — while a real phone on another address registers
as fast as ever.  The scanner is SIPp (wrong password, many REGISTERs per
second) and a raw-socket OPTIONS flood."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from hotline.pbx.server import PbxServer

from tests.pbx._phones import run
from tests.pbx._sip_client import SipClient
from tests.pbx._sip_peers import account, config, directory, sipp


def test_wrong_passwords_get_refused_then_banned_and_silenced(tmp_path: Path) -> None:
    async def body() -> None:
        server = PbxServer(config(tmp_path, ban_after_failures=3, ban_seconds=60), directory(
            accounts=[account("8001", "pw-8001")]))
        await server.start()
        addr = server.udp_address
        assert addr is not None
        attacker = await SipClient.open(addr, host="127.0.0.2")
        phone = await SipClient.open(addr, host="127.0.0.1")
        try:
            statuses = []
            for _ in range(3):
                r = await attacker.register("8001", "guess")
                statuses.append(r.status if r is not None else None)
            assert statuses == [401, 401, 403]
            assert server.protection.is_banned("127.0.0.2")
            # banned: even a correct password and an OPTIONS get no answer at all
            assert await attacker.register("8001", "pw-8001") is None
            assert await attacker.send(attacker.request("OPTIONS", "x"), timeout=0.5) is None
            # another address is not affected
            ok = await phone.register("8001", "pw-8001")
            assert ok is not None and ok.status == 200
            assert server.stats()["protection"]["banned_drops"] >= 2
        finally:
            attacker.close()
            phone.close()
            await server.stop()

    run(body(), timeout=30)


def test_trusted_networks_are_never_banned_nor_rate_limited(tmp_path: Path) -> None:
    async def body() -> None:
        server = PbxServer(config(tmp_path, ban_after_failures=2, rate_limit_per_second=1, rate_limit_burst=2,
                                  trusted_networks=("127.0.0.0/30",)),
                           directory(accounts=[account("8001", "pw-8001")]))
        await server.start()
        addr = server.udp_address
        assert addr is not None
        trusted = await SipClient.open(addr, host="127.0.0.2")
        try:
            for _ in range(4):
                r = await trusted.register("8001", "guess")
                assert r is not None and r.status == 401
            ok = await trusted.register("8001", "pw-8001")
            assert ok is not None and ok.status == 200
            assert server.stats()["protection"]["bans"] == 0 and server.stats()["protection"]["rate_limited"] == 0
        finally:
            trusted.close()
            await server.stop()

    run(body(), timeout=30)


def test_option_flood_is_rate_limited_per_source(tmp_path: Path) -> None:
    async def body() -> None:
        server = PbxServer(config(tmp_path, rate_limit_per_second=50, rate_limit_burst=100), directory(
            accounts=[account("8001", "pw-8001")]))
        await server.start()
        addr = server.udp_address
        assert addr is not None
        flood = await SipClient.open(addr, host="127.0.0.4")
        phone = await SipClient.open(addr, host="127.0.0.1")
        try:
            data = flood.request("OPTIONS", "scan").serialize()
            for _ in range(60):  # 3000 datagrams in ~0.3 s, in batches the socket buffers can hold
                for _ in range(50):
                    flood.send_raw(data)
                await asyncio.sleep(0.005)
            await asyncio.sleep(0.5)
            answered = flood.proto.queue.qsize()
            assert answered <= 100 + 50 * 3, answered  # the burst plus what the rate allows meanwhile
            limited = server.stats()["protection"]["rate_limited"]
            assert limited >= 1500 and limited + answered <= 3000, (limited, answered)
            t0 = time.perf_counter()
            ok = await phone.register("8001", "pw-8001")
            assert ok is not None and ok.status == 200
            assert time.perf_counter() - t0 < 1.0
        finally:
            flood.close()
            phone.close()
            await server.stop()

    run(body(), timeout=30)


def test_sipp_scanner_flood_with_wrong_passwords_does_not_slow_a_real_register(tmp_path: Path) -> None:
    async def body() -> None:
        # no rate limit: the ban alone must stop the scanner
        server = PbxServer(config(tmp_path, rate_limit_per_second=0, ban_after_failures=5), directory(
            accounts=[account("8001", "pw-8001")]))
        await server.start()
        addr = server.udp_address
        assert addr is not None
        scanner = await sipp("scanner", "register.xml", "-s", "8001", "-au", "8001", "-ap", "wrong",
                             "-r", "200", "-m", "2000", "-l", "400", remote=addr, local_ip="127.0.0.3",
                             timeout=6, cwd=tmp_path)
        phone = await SipClient.open(addr, host="127.0.0.1")
        try:
            await asyncio.sleep(1.0)  # the scanner is at full speed (or already banned)
            latencies = []
            for _ in range(5):
                t0 = time.perf_counter()
                ok = await phone.register("8001", "pw-8001")
                latencies.append(time.perf_counter() - t0)
                assert ok is not None and ok.status == 200
                await asyncio.sleep(0.2)
            await scanner.wait(20)
        finally:
            phone.close()
            await scanner.stop()
        stats = server.stats()
        await server.stop()
        assert max(latencies) < 0.5, latencies
        assert stats["protection"]["bans"] == 1 and stats["protection"]["banned_drops"] > 100, stats
        assert stats["auth_failures"] == 5, stats

    run(body(), timeout=60)

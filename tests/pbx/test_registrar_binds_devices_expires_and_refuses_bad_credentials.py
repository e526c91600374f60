"""The registrar over real UDP: digest against the directory's HA1, several
devices per extension, expiry limits (423), Contact * removal, OPTIONS, and
garbage that is answered 400 or dropped without hurting the server."""

from __future__ import annotations

import asyncio
from pathlib import Path

from hotline.pbx.server import PbxServer

from tests.pbx._phones import run
from tests.pbx._sip_client import SipClient
from tests.pbx._sip_peers import account, config, directory


def test_register_with_digest_binds_several_devices_and_honours_expiry_rules(tmp_path: Path) -> None:
    directory_ = directory(accounts=[account("8001", "pw-8001", max_bindings=2), account("8002", "pw-8002")])

    async def body() -> None:
        server = PbxServer(config(tmp_path, min_expires=60, max_expires=600), directory_)
        await server.start()
        addr = server.udp_address
        assert addr is not None
        clients = [await SipClient.open(addr) for _ in range(3)]
        try:
            loop = asyncio.get_running_loop()
            ok = await clients[0].register("8001", "pw-8001", expires=3600)
            assert ok is not None and ok.status == 200
            # the binding's expiry is clamped to max_expires and echoed in Contact
            assert "expires=600" in (ok.headers.get("Contact") or "")
            ok2 = await clients[1].register("8001", "pw-8001")
            assert ok2 is not None and ok2.status == 200 and len(ok2.headers.get_all("Contact")) == 2
            assert len(server.registrar.lookup("8001", loop.time())) == 2
            # a third device pushes out the oldest (max_bindings=2)
            ok3 = await clients[2].register("8001", "pw-8001")
            assert ok3 is not None and ok3.status == 200
            ports = {b.source[1] for b in server.registrar.lookup("8001", loop.time())}
            assert ports == {clients[1].local[1], clients[2].local[1]}
            # too brief
            brief = await clients[0].register("8002", "pw-8002", expires=10)
            assert brief is not None and brief.status == 423 and brief.headers.get("Min-Expires") == "60"
            # To must be the authenticated extension: 8002's password cannot register 8001
            other = await clients[0].register("8001", "pw-8002")
            assert other is not None and other.status == 401  # wrong credentials for 8001: challenged again
            # Contact * with Expires 0 removes every binding of the extension
            star = await clients[1].register("8001", "pw-8001", contact="*", expires=0)
            assert star is not None and star.status == 200
            assert server.registrar.lookup("8001", loop.time()) == []
            # Contact * without Expires: 0 is refused
            bad_star = await clients[1].register("8001", "pw-8001", contact="*", expires=60)
            assert bad_star is not None and bad_star.status == 400
            # expires=0 on one contact removes just that binding
            await clients[0].register("8002", "pw-8002")
            assert len(server.registrar.lookup("8002", loop.time())) == 1
            gone = await clients[0].register("8002", "pw-8002", expires=0)
            assert gone is not None and gone.status == 200 and server.registrar.lookup("8002", loop.time()) == []
            # unknown extension is treated like a wrong password
            unknown = await clients[2].register("9999", "x")
            assert unknown is not None and unknown.status == 401
        finally:
            for c in clients:
                c.close()
            await server.stop()

    run(body(), timeout=30)


def test_bindings_expire(tmp_path: Path) -> None:
    directory_ = directory(accounts=[account("8001", "pw-8001")])

    async def body() -> None:
        server = PbxServer(config(tmp_path, min_expires=1, max_expires=600), directory_)
        await server.start()
        addr = server.udp_address
        assert addr is not None
        client = await SipClient.open(addr)
        try:
            ok = await client.register("8001", "pw-8001", expires=1)
            assert ok is not None and ok.status == 200
            loop = asyncio.get_running_loop()
            assert len(server.registrar.lookup("8001", loop.time())) == 1
            await asyncio.sleep(1.2)
            assert server.registrar.lookup("8001", loop.time()) == []
            server.registrar.sweep(loop.time())
            assert server.registrar.bindings == {}
        finally:
            client.close()
            await server.stop()

    run(body(), timeout=30)


def test_options_is_answered_and_garbage_is_answered_400_or_dropped(tmp_path: Path) -> None:
    async def body() -> None:
        server = PbxServer(config(tmp_path), directory())
        await server.start()
        addr = server.udp_address
        assert addr is not None
        client = await SipClient.open(addr)
        try:
            options = await client.send(client.request("OPTIONS", "probe"))
            assert options is not None and options.status == 200
            assert "INVITE" in (options.headers.get("Allow") or "")
            assert options.headers.get("Accept") == "application/sdp"
            # pure garbage: dropped silently
            for junk in (b"\x00\x01\x02garbage", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", b"\xff" * 2000, b"SIP/2.0"):
                client.send_raw(junk)
            assert await client.recv(0.5) is None
            # a request with a broken header but enough to answer: 400
            broken = client.request("OPTIONS", "probe").serialize().replace(b"CSeq: ", b"CSeq: x")
            client.send_raw(broken)
            answer = await client.recv(2.0)
            assert answer is not None and answer.status == 400
            # an unknown method: 405/501, never a crash
            client.send_raw(client.request("OPTIONS", "probe").serialize().replace(b"OPTIONS", b"FROBNICATE"))
            answer = await client.recv(2.0)
            assert answer is not None and answer.status in (400, 405, 501)
            # BYE outside any dialog: 481
            bye = await client.send(client.request("BYE", "probe"))
            assert bye is not None and bye.status == 481
            # the server still works
            options = await client.send(client.request("OPTIONS", "probe"))
            assert options is not None and options.status == 200
            stats = server.stats()
            assert stats["sip"]["udp"]["handler_errors"] == 0 and stats["request_errors"] == 0
        finally:
            client.close()
            await server.stop()

    run(body(), timeout=30)

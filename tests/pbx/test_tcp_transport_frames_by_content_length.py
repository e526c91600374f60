"""The TCP listener: messages framed by Content-Length (split across
segments, several in one segment), REGISTER with digest over TCP, CRLF
keep-alives answered, and a framing error closing only that connection."""

from __future__ import annotations

import asyncio
from pathlib import Path

from hotline.pbx.server import PbxServer
from hotline.sip.digest import authorization, choose_challenge
from hotline.sip.headers import Headers
from hotline.sip.message import Request, Response, StreamFramer
from hotline.sip.uri import parse_uri

from tests.pbx._phones import run
from tests.pbx._sip_peers import account, config, directory


def request(method: str, port: int, local: tuple[str, int], cseq: int, extra: tuple[tuple[str, str], ...] = ()) -> Request:
    items = [
        ("Via", f"SIP/2.0/TCP {local[0]}:{local[1]};branch=z9hG4bKtcp{cseq}x{method};rport"),
        ("Max-Forwards", "70"), ("From", "<sip:8001@hotline>;tag=tcp1"), ("To", "<sip:8001@hotline>"),
        ("Call-ID", "tcp-call-1"), ("CSeq", f"{cseq} {method}"),
        ("Contact", f"<sip:8001@{local[0]}:{local[1]};transport=tcp>"), ("Expires", "300"), *extra,
    ]
    return Request.build(method, parse_uri(f"sip:127.0.0.1:{port}"), Headers(items))


def test_tcp_register_options_keepalive_and_framing_errors(tmp_path: Path) -> None:
    async def body() -> None:
        server = PbxServer(config(tmp_path), directory(accounts=[account("8001", "pw-8001")]))
        await server.start()
        assert server.tcp_address is not None
        port = server.tcp_address[1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        local = writer.get_extra_info("sockname")
        framer = StreamFramer()

        async def responses(count: int) -> list[Response]:
            out: list[Response] = []
            while len(out) < count:
                data = await asyncio.wait_for(reader.read(65536), 5)
                assert data, "connection closed"
                out += [m for m in framer.feed(data) if isinstance(m, Response)]
            return out

        try:
            # two OPTIONS in one segment, the second split across two writes
            one = request("OPTIONS", port, local, 1).serialize()
            two = request("OPTIONS", port, local, 2).serialize()
            writer.write(one + two[:40])
            await writer.drain()
            await asyncio.sleep(0.1)
            writer.write(two[40:])
            got = await responses(2)
            assert [r.status for r in got] == [200, 200] and [r.cseq().number for r in got] == [1, 2]
            # keep-alive
            writer.write(b"\r\n\r\n")
            data = await asyncio.wait_for(reader.read(10), 5)
            assert data.startswith(b"\r\n")
            # REGISTER with digest over TCP
            writer.write(request("REGISTER", port, local, 3).serialize())
            challenge = choose_challenge((await responses(1))[0].headers.get_all("WWW-Authenticate"))
            assert challenge is not None
            auth = authorization(challenge, method="REGISTER", uri=f"sip:127.0.0.1:{port}", username="8001",
                                 password="pw-8001", cnonce="abc")
            writer.write(request("REGISTER", port, local, 4, (("Authorization", auth),)).serialize())
            ok = (await responses(1))[0]
            assert ok.status == 200
            loop = asyncio.get_running_loop()
            [binding] = server.registrar.lookup("8001", loop.time())
            assert binding.channel is server.tcp and binding.source == (local[0], local[1])
            # a framing error (no Content-Length on a stream) closes this connection only
            writer.write(request("OPTIONS", port, local, 5).serialize().replace(b"Content-Length: 0\r\n", b""))
            writer.write(b"garbage without end of headers" * 3000)
            await writer.drain()
            rest = await asyncio.wait_for(reader.read(), 5)  # EOF
            assert b"SIP/2.0 200" not in rest
            reader2, writer2 = await asyncio.open_connection("127.0.0.1", port)
            writer2.write(request("OPTIONS", port, writer2.get_extra_info("sockname"), 6).serialize())
            data = await asyncio.wait_for(reader2.read(65536), 5)
            assert data.startswith(b"SIP/2.0 200")
            writer2.close()
        finally:
            writer.close()
            await server.stop()
        assert server.stats()["sip"]["tcp"]["handler_errors"] == 0

    run(body(), timeout=30)

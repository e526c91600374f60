"""Benchmark: throughput of the sans-IO SIP core on one core (no sockets).

    .venv/bin/python bench/sip_core.py --count 20000

Prints, for a typical softphone INVITE (with SDP) and the RFC 4475 wsinv
torture message: parses per second (parse_message), parse + all typed
accessors + validate_request per second; then the Endpoint: OPTIONS
transactions per second answered by a server endpoint (datagram in, event,
200 out), and whole calls per second between two endpoints over an in-memory
network (INVITE/100/180/200/ACK, BYE/200). Each figure is given per second
of wall time and per second of this process's CPU time. Bounded by --count
and --max-seconds per figure.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from pathlib import Path

from hotline.sip.endpoint import AckReceived, Endpoint, RequestReceived, ResponseReceived
from hotline.sip.headers import Headers
from hotline.sip.message import Request, parse_message, response_for
from hotline.sip.uri import parse_uri
from hotline.sip.validate import validate_request

TORTURE = Path("/work/shared/data/sip/rfc4475/wsinv.dat")
SDP = (b"v=0\r\no=- 3811 3811 IN IP4 10.0.0.8\r\ns=-\r\nc=IN IP4 10.0.0.8\r\nt=0 0\r\n"
       b"m=audio 40000 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n")


def typical_invite() -> bytes:
    headers = Headers([
        ("Via", "SIP/2.0/UDP 10.0.0.8:5060;branch=z9hG4bK74bf9;rport"),
        ("Max-Forwards", "70"),
        ("From", '"市民" <sip:13800000000@binjiang.example>;tag=9fxced76sl'),
        ("To", "<sip:12345@binjiang.example>"),
        ("Call-ID", "3848276298220188511@10.0.0.8"),
        ("CSeq", "1 INVITE"),
        ("Contact", "<sip:13800000000@10.0.0.8:5060;transport=udp>"),
        ("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO"),
        ("User-Agent", "Linphone/5.2"),
        ("Content-Type", "application/sdp"),
    ])
    return Request.build("INVITE", parse_uri("sip:12345@binjiang.example"), headers, SDP).serialize()


def rate(label: str, count: int, max_seconds: float, func: Callable[[int], None]) -> None:
    """Wall-clock and CPU-time rates: on a shared, overloaded machine the CPU
    figure (this process's own time) is the steadier one."""
    start = time.perf_counter()
    cpu_start = time.process_time()
    done = 0
    while done < count and time.perf_counter() - start < max_seconds:
        func(done)
        done += 1
    elapsed = time.perf_counter() - start
    cpu = max(time.process_time() - cpu_start, 1e-9)
    print(f"{label:<58} {done / elapsed:>9,.0f} /s wall {done / cpu:>9,.0f} /s cpu"
          f"   ({done} in {elapsed:.2f} s, {cpu / done * 1e6:.0f} µs cpu each)")


def full_check(data: bytes) -> None:
    m = parse_message(data)
    assert isinstance(m, Request)
    m.vias(); m.from_addr(); m.to_addr(); m.cseq(); m.contacts(); m.routes()
    validate_request(m)


def options_server(count: int, max_seconds: float) -> None:
    ep = Endpoint(local_host="10.0.0.1", local_port=5060, rng=random.Random(1))
    base = typical_invite().replace(b"INVITE", b"OPTIONS")

    def one(i: int) -> None:
        now = i * 0.001
        data = base.replace(b"branch=z9hG4bK74bf9", f"branch=z9hG4bKo{i}".encode())
        ep.receive_datagram(data, ("10.0.0.8", 5060), now)
        while (e := ep.next_event()) is not None:
            if isinstance(e, RequestReceived):
                ep.send_response(e.key, response_for(e.request, 200, to_tag="t"), now)
        ep.datagrams_to_send(now)
        if i % 1000 == 0:
            ep.handle_timer(now)

    rate("Endpoint: OPTIONS answered (datagram in -> 200 out)", count, max_seconds, one)
    print(f"{'':<58} live server transactions at the end: {ep.transaction_count} (timer J keeps them 32 s)")


def calls(count: int, max_seconds: float) -> None:
    uac = Endpoint(local_host="10.0.0.8", local_port=5060, rng=random.Random(2))
    uas = Endpoint(local_host="10.0.0.1", local_port=5060, rng=random.Random(3))
    peers = {("10.0.0.8", 5060): uac, ("10.0.0.1", 5060): uas}
    template = typical_invite()

    def pump(now: float) -> None:
        moved = True
        while moved:
            moved = False
            for addr, ep in peers.items():
                for data, dest in ep.datagrams_to_send(now):
                    moved = True
                    peers[dest].receive_datagram(data, addr, now)

    def one(i: int) -> None:
        now = i * 0.01
        invite = parse_message(template.replace(b"3848276298220188511", str(i).encode()).replace(
            b"branch=z9hG4bK74bf9", f"branch=z9hG4bKi{i}".encode()))
        assert isinstance(invite, Request)
        uac.send_request(invite, ("10.0.0.1", 5060), now)
        done = False
        while not done:
            pump(now)
            progressed = False
            while (e := uas.next_event()) is not None:
                progressed = True
                if isinstance(e, RequestReceived):
                    extra = (("Contact", "<sip:8001@10.0.0.1>"),)
                    if e.request.method == "INVITE":
                        uas.send_response(e.key, response_for(e.request, 180, to_tag="a"), now)
                    uas.send_response(e.key, response_for(e.request, 200, to_tag="a", extra=extra), now)
                elif isinstance(e, AckReceived):
                    bye = e.request.replace(method="BYE", headers=e.request.headers.with_replaced(
                        "CSeq", "2 BYE").with_replaced("Via", f"SIP/2.0/UDP 10.0.0.8:5060;branch=z9hG4bKb{i}"))
                    uac.send_request(bye, ("10.0.0.1", 5060), now)
            while (e := uac.next_event()) is not None:
                progressed = True
                if isinstance(e, ResponseReceived) and e.response.status == 200:
                    if e.response.cseq().method == "INVITE":
                        ack = invite.replace(method="ACK", headers=invite.headers.with_replaced(
                            "CSeq", "1 ACK").with_replaced("Via", f"SIP/2.0/UDP 10.0.0.8:5060;branch=z9hG4bKa{i}")
                            .with_replaced("To", e.response.headers.get("To") or ""), body=b"")
                        uac.send_ack(ack, ("10.0.0.1", 5060))
                    else:
                        done = True
            if not progressed and not done:
                raise RuntimeError("call stalled")
        if i % 200 == 0:
            uac.handle_timer(now)
            uas.handle_timer(now)

    rate("Two endpoints: whole calls (INVITE..ACK, BYE..200)", count, max_seconds, one)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=20000)
    parser.add_argument("--max-seconds", type=float, default=20.0)
    args = parser.parse_args()
    invite = typical_invite()
    wsinv = TORTURE.read_bytes() if TORTURE.exists() else invite
    print(f"typical INVITE: {len(invite)} bytes; wsinv: {len(wsinv)} bytes")
    rate("parse_message, typical INVITE", args.count, args.max_seconds, lambda i: parse_message(invite))
    rate("parse_message, RFC 4475 wsinv", args.count, args.max_seconds, lambda i: parse_message(wsinv))
    rate("parse + typed accessors + validate_request, typical INVITE", args.count, args.max_seconds,
         lambda i: full_check(invite))
    rate("parse + typed accessors + validate_request, wsinv", args.count, args.max_seconds, lambda i: full_check(wsinv))
    options_server(args.count, args.max_seconds)
    calls(max(args.count // 10, 1), args.max_seconds)


if __name__ == "__main__":
    main()

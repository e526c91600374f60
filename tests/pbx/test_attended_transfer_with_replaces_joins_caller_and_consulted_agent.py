"""Attended transfer (REFER with Replaces, RFC 3515 + RFC 3891): agent 8001
answers a caller, places a consultation call to 8002 (a SIPp phone) through
the server, then REFERs the caller with ``Refer-To: <sip:8002@pbx?Replaces=
<consultation dialog>>``.  The server joins the caller and 8002 in the
caller's bridge (8002 keeps its RTP leg, the caller keeps its own: no
re-INVITE), BYEs both of the agent's dialogs, and the CDR names 8002.

The agent here is driven by hand with hotline.sip messages (no Debian
softphone does attended transfer on command: baresip 1.0 has no such
command); the caller is a hand-driven UDP client and 8002 is SIPp."""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import quote

from hotline.sip.digest import authorization, choose_challenge
from hotline.sip.headers import Headers
from hotline.sip.message import Request, Response, parse_message, response_for
from hotline.sip.uri import parse_uri

from tests.pbx._phones import run
from tests.pbx._sip_client import Caller, SipClient, sdp_offer
from tests.pbx._sip_peers import sipp_phone, wait_for
from tests.pbx.test_calls_fork_cancel_map_failures_hold_and_time_out import finish, make_directory, started


async def next_message(client: SipClient, timeout: float = 5.0) -> Request | Response:
    data = await asyncio.wait_for(client.proto.queue.get(), timeout)
    return parse_message(data)


def test_refer_with_replaces_joins_the_caller_with_the_consulted_agent(tmp_path: Path) -> None:
    d = make_directory()

    async def body() -> None:
        server = await started(tmp_path, d)
        addr = server.udp_address
        assert addr is not None
        target = await sipp_phone(addr, "8002", "pw-8002", "uas_answer_silent.xml", tmp_path)
        agent = await SipClient.open(addr)
        host, port = agent.local[0], agent.local[1]
        ok = await agent.register("8001", "pw-8001")
        assert ok is not None and ok.status == 200
        client = await SipClient.open(addr, host="127.0.0.2")
        try:
            # 1. the caller rings the agent, the agent answers
            caller = Caller(client, "12345")
            client.send_raw(caller.invite().serialize())
            invite = await next_message(agent)
            while not (isinstance(invite, Request) and invite.method == "INVITE"):
                invite = await next_message(agent)
            agent_tag = "agt1"
            answer = response_for(invite, 200, to_tag=agent_tag, body=sdp_offer(host, 4100),
                                  extra=(("Contact", f"<sip:8001@{host}:{port}>"), ("Content-Type", "application/sdp")))
            agent.send_raw(answer.serialize())
            final = await client.recv(5)
            while final is not None and final.status < 200:
                final = await client.recv(5)
            assert final is not None and final.status == 200
            caller.remote_tag = final.to_addr().tag
            client.send_raw(caller.in_dialog("ACK", 1).serialize())
            call1 = next(iter(server.calls.calls.values()))
            # 2. the agent's consultation call to 8002 (digest on 407)
            cons_tag, cons_id = "cons1", "consult-1@agent"

            def consult_invite(cseq: int, auth: str | None) -> Request:
                items = [("Via", f"SIP/2.0/UDP {host}:{port};branch=z9hG4bKcons{cseq};rport"), ("Max-Forwards", "70"),
                         ("From", f"<sip:8001@hotline>;tag={cons_tag}"), ("To", "<sip:8002@hotline>"),
                         ("Call-ID", cons_id), ("CSeq", f"{cseq} INVITE"), ("Contact", f"<sip:8001@{host}:{port}>"),
                         ("Content-Type", "application/sdp")]
                if auth:
                    items.append(("Proxy-Authorization", auth))
                return Request.build("INVITE", parse_uri(f"sip:8002@{addr[0]}:{addr[1]}"), Headers(items),
                                     sdp_offer(host, 4200))

            agent.send_raw(consult_invite(1, None).serialize())
            challenge = None
            while challenge is None:
                m = await next_message(agent)
                if isinstance(m, Response) and m.status == 407:
                    challenge = m
            ack = Request.build("ACK", parse_uri(f"sip:8002@{addr[0]}:{addr[1]}"), Headers([
                ("Via", f"SIP/2.0/UDP {host}:{port};branch=z9hG4bKcons1;rport"), ("Max-Forwards", "70"),
                ("From", f"<sip:8001@hotline>;tag={cons_tag}"), ("To", challenge.headers.get("To") or ""),
                ("Call-ID", cons_id), ("CSeq", "1 ACK")]))
            agent.send_raw(ack.serialize())
            chosen = choose_challenge(challenge.headers.get_all("Proxy-Authenticate"))
            assert chosen is not None
            auth = authorization(chosen, method="INVITE", uri=f"sip:8002@{addr[0]}:{addr[1]}", username="8001",
                                 password="pw-8001", cnonce="c0ns")
            agent.send_raw(consult_invite(2, auth).serialize())
            consult_ok = None
            while consult_ok is None:
                m = await next_message(agent)
                if isinstance(m, Response) and m.status == 200 and m.cseq().method == "INVITE":
                    consult_ok = m
            server_tag = consult_ok.to_addr().tag
            agent.send_raw(Request.build("ACK", parse_uri(f"sip:hotline@{addr[0]}:{addr[1]}"), Headers([
                ("Via", f"SIP/2.0/UDP {host}:{port};branch=z9hG4bKconsack;rport"), ("Max-Forwards", "70"),
                ("From", f"<sip:8001@hotline>;tag={cons_tag}"), ("To", f"<sip:8002@hotline>;tag={server_tag}"),
                ("Call-ID", cons_id), ("CSeq", "2 ACK")])).serialize())
            assert len(server.calls.calls) == 2
            consult_call = server.calls.calls[cons_id]
            target_rtp = consult_call.b.rtp if consult_call.b else None
            caller_rtp = call1.a.rtp if call1.a else None
            # 3. REFER in the agent's dialog with the caller, replacing the consultation dialog
            replaces = quote(f"{cons_id};to-tag={server_tag};from-tag={cons_tag}", safe="")
            refer = Request.build("REFER", parse_uri(f"sip:hotline@{addr[0]}:{addr[1]}"), Headers([
                ("Via", f"SIP/2.0/UDP {host}:{port};branch=z9hG4bKrefer1;rport"), ("Max-Forwards", "70"),
                ("From", f"{invite.headers.get('To')};tag={agent_tag}"), ("To", invite.headers.get("From") or ""),
                ("Call-ID", invite.call_id()), ("CSeq", "1 REFER"), ("Contact", f"<sip:8001@{host}:{port}>"),
                ("Refer-To", f"<sip:8002@{addr[0]}:{addr[1]}?Replaces={replaces}>"),
                ("Referred-By", "<sip:8001@hotline>")]))
            agent.send_raw(refer.serialize())
            seen: list[str] = []
            byes: set[str] = set()
            while len(byes) < 2 or "202" not in seen:
                m = await next_message(agent, 10)
                if isinstance(m, Response):
                    seen.append(str(m.status))
                    continue
                agent.send_raw(response_for(m, 200).serialize())
                if m.method == "NOTIFY":
                    seen.append(m.body.decode().strip())
                elif m.method == "BYE":
                    byes.add(m.call_id())
            assert seen[0] == "202" and "SIP/2.0 100 Trying" in seen and "SIP/2.0 200 OK" in seen, seen
            assert byes == {invite.call_id(), cons_id}
            # the caller and 8002 are now in one bridge, each on its own original RTP leg
            assert call1.b is not None and call1.b.extension == "8002" and call1.transfers == 1
            assert call1.bridge is not None and call1.bridge.legs == [caller_rtp, target_rtp]
            assert call1.bridge.state == "relay"
            await wait_for(lambda: cons_id not in server.calls.calls)
            bye = await client.send(caller.in_dialog("BYE", 2), 5)
            assert bye is not None and bye.status == 200
            assert await target.wait(10) == 0, target.log()  # 8002 got its BYE from the caller's call
            await wait_for(lambda: len(d.records) == 2)
        finally:
            client.close()
            agent.close()
            await finish(server, target)
        by_id = {r.call_id: r for r in d.records}
        assert by_id[cons_id].hangup_cause == "transferred"
        main = by_id[call1.id]
        assert main.agent_extension == "8002" and main.hangup_side == "caller" and main.recording_path

    run(body(), timeout=90)

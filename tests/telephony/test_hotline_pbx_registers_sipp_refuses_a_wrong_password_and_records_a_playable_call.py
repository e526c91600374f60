"""End to end, nothing mocked: ``hotline pbx`` runs as a subprocess against the test
database; an administrator sets extension 8001's SIP password and a trunk with a DID
route through the API; SIPp (/usr/bin/sipp) registers as 8001 with that password (a
wrong password is refused); a second SIPp on 127.0.0.2 (the trunk) calls the DID; the
call ends as a ``CallRecord`` row linked to the agent, its recording plays through the
API (audited), and the PBX's screen-pop events arrive signed at the CTI URL.
"""

from __future__ import annotations

import http.server
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hotline.audit.models import AuditEntry
from hotline.telephony import cti
from hotline.telephony.models import CallRecord
from tests.pbx._phones import port_range
from tests.pbx._sip_peers import SCENARIOS, SIPP, free_udp_port, wav_channel_levels
from tests.web.conftest import _database_url

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]


class _CtiSink(http.server.BaseHTTPRequestHandler):
    received: list[tuple[bytes, str]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        type(self).received.append((body, self.headers.get(cti.SIGNATURE_HEADER, "")))
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def cti_sink() -> Iterator[tuple[str, list[tuple[bytes, str]]]]:
    """A stand-in for the web process's CTI endpoint: records what the PBX posts."""
    _CtiSink.received = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _CtiSink)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api/telephony/cti/events", _CtiSink.received
    finally:
        server.shutdown()
        server.server_close()


def _listening(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


@pytest.fixture
def carrier(agents: Any, api_as: Any) -> Any:
    """Extension 8001 for the call-taker, and a trunk from 127.0.0.2 whose DID 12345 rings
    it, set through the API before the PBX starts (it reads trunks at start)."""
    admin = api_as(agents.admin)
    agents.call_taker.extension = "8001"
    agents.call_taker.save()
    assert admin.post("/telephony/trunks", {"name": "carrier", "host": "127.0.0.2", "allowed_sources": ["127.0.0.2"]}).status_code == 201
    assert admin.post("/telephony/did-routes", {"trunk": "carrier", "did": "12345", "extension": "8001"}).status_code == 201
    return agents


@pytest.fixture
def pbx(carrier: Any, settings: Any, cti_sink: Any) -> Iterator[dict[str, Any]]:
    from django.db import connection

    port = free_udp_port()
    rtp = port_range(40)
    media = Path(tempfile.mkdtemp(prefix="hl-pbx-media-"))
    settings.MEDIA_ROOT = media  # the API in this process reads what the PBX writes
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(connection.settings_dict),
        "HOTLINE_DATA_DIR": str(settings.DATA_DIR),
        "HOTLINE_MEDIA_ROOT": str(media),
        "HOTLINE_SIP_LISTEN": f"127.0.0.1:{port}",
        "HOTLINE_SIP_TRANSPORTS": "udp,tcp",
        "HOTLINE_RTP_PORTS": f"{rtp.first}-{rtp.last}",
        "HOTLINE_SIP_REALM": settings.HOTLINE_SIP_REALM,
        "HOTLINE_CTI_URL": cti_sink[0],
        "HOTLINE_LOG_LEVEL": "INFO",
        "DJANGO_SETTINGS_MODULE": "hotline.settings",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    log = open(media / "pbx.log", "w+b")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([sys.executable, "-m", "hotline.cli", "pbx"], env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)

    def output() -> str:
        log.flush()
        log.seek(0)
        return log.read().decode(errors="replace")[-6000:]

    deadline = time.monotonic() + 30
    while not _listening(port):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise AssertionError("hotline pbx did not start:\n" + output())
        time.sleep(0.2)
    try:
        yield {"port": port, "media": media, "output": output, "proc": proc}
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _sipp(scenario: str, *args: str, remote: int | None = None, local_ip: str = "127.0.0.1", port: int | None = None,
          timeout: int = 20, cwd: Path) -> subprocess.Popen[bytes]:
    cmd = [SIPP]
    if remote is not None:
        cmd.append(f"127.0.0.1:{remote}")
    cmd += ["-sf", str(SCENARIOS / scenario), "-i", local_ip, "-p", str(port or free_udp_port(local_ip)),
            "-nostdin", "-timeout", f"{timeout}s", "-timeout_error", "-max_recv_loops", "10000", *args]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=cwd)


def _finish(proc: subprocess.Popen[bytes], timeout: float) -> tuple[int, str]:
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        raise AssertionError("SIPp did not finish:\n" + out.decode(errors="replace")[-3000:]) from None
    return proc.returncode, out.decode(errors="replace")[-3000:]


def test_register_refuse_call_record_and_play(agents: Any, api_as: Any, pbx: dict[str, Any], cti_sink: Any, tmp_path: Path) -> None:
    # The password is set while the PBX runs: accounts are read per REGISTER.
    r = api_as(agents.admin).post(f"/telephony/agents/{agents.call_taker.pk}/sip-password", {})
    assert r.status_code == 200, r.json_body
    password = r.json_body["password"]

    code, out = _finish(_sipp("register.xml", "-s", "8001", "-au", "8001", "-ap", "not-the-password", "-m", "1",
                              remote=pbx["port"], timeout=8, cwd=tmp_path), 20)
    assert code != 0, "a wrong password must be refused:\n" + out
    phone_port = free_udp_port()
    code, out = _finish(_sipp("register.xml", "-s", "8001", "-au", "8001", "-ap", password, "-m", "1",
                              remote=pbx["port"], port=phone_port, timeout=8, cwd=tmp_path), 20)
    assert code == 0, out + "\n--- pbx ---\n" + pbx["output"]()

    media_b = free_udp_port()
    uas = _sipp("uas_answer.xml", "-m", "1", "-mi", "127.0.0.1", "-mp", str(media_b), port=phone_port, timeout=40, cwd=tmp_path)
    time.sleep(0.3)
    media_a = free_udp_port("127.0.0.2")
    uac = _sipp("uac_call.xml", "-s", "12345", "-m", "1", "-d", "3000", "-mi", "127.0.0.2", "-mp", str(media_a),
                remote=pbx["port"], local_ip="127.0.0.2", timeout=20, cwd=tmp_path)
    code, out = _finish(uac, 40)
    try:
        assert code == 0, out + "\n--- pbx ---\n" + pbx["output"]()
        ucode, uout = _finish(uas, 15)
        assert ucode == 0, uout
    finally:
        if uas.poll() is None:
            uas.kill()
            uas.communicate()

    deadline = time.monotonic() + 15
    while not CallRecord.objects.exists() and time.monotonic() < deadline:
        time.sleep(0.3)
    call = CallRecord.objects.get()
    assert call.direction == "inbound" and call.trunk == "carrier" and call.caller == "13800138000"
    assert call.agent == agents.call_taker and call.agent_extension == "8001" and call.answered_at is not None
    assert 2.5 < call.duration < 20 and call.recording_path.startswith("recordings/")
    seconds, left, right = wav_channel_levels(pbx["media"] / call.recording_path)
    assert seconds > 2.5 and left > 100 and right > 100

    # The agent plays the recording of their own call through the API; the access is audited.
    r = api_as(agents.call_taker).client.get("/api/telephony/recording", {"call_id": call.call_id},
                                              headers=api_as(agents.call_taker).headers)
    assert r.status_code == 200 and r["Content-Type"] == "audio/wav"
    wav = tmp_path / "played.wav"
    wav.write_bytes(b"".join(r.streaming_content))
    with wave.open(str(wav)) as w:
        assert w.getnchannels() == 2 and w.getnframes() > 8000 * 2.5
    assert AuditEntry.objects.filter(action="telephony.recording_play", actor=agents.call_taker).count() == 1

    # Screen-pop events reached the CTI URL, signed with the shared secret.
    deadline = time.monotonic() + 5
    while len(cti_sink[1]) < 3 and time.monotonic() < deadline:
        time.sleep(0.2)
    events = [json.loads(body) for body, sig in cti_sink[1] if cti.verify(body, sig)]
    assert [(e["kind"], e["extension"], e["call_id"]) for e in events] == [
        ("ringing", "8001", call.call_id), ("answered", "8001", call.call_id), ("ended", "8001", call.call_id)]
    assert events[0]["caller"] == "13800138000"

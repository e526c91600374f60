"""``hotline.pbx.server.run(config, directory)`` — what ``hotline pbx`` calls — in
a real subprocess: it answers OPTIONS, then SIGTERM stops it cleanly (exit 0),
and a port already taken makes it fail with OSError instead of hanging."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.pbx._sip_peers import free_udp_port

SCRIPT = """
import sys
from pathlib import Path
from hotline.pbx.config import PbxConfig
from hotline.pbx.directory import MemoryDirectory
from hotline.pbx.server import run
port = int(sys.argv[1])
run(PbxConfig(sip_udp=("127.0.0.1", port), sip_tcp=None, rtp_ports=(41000, 41100),
              secret=b"0123456789abcdef0123", recordings_dir=Path(sys.argv[2])), MemoryDirectory())
print("stopped cleanly", flush=True)
"""


def options(port: int) -> bytes:
    return (
        f"OPTIONS sip:127.0.0.1:{port} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKrun1\r\n"
        "Max-Forwards: 70\r\nFrom: <sip:probe@x>;tag=1\r\nTo: <sip:probe@x>\r\nCall-ID: run-1\r\n"
        "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
    ).encode()


def test_run_answers_then_stops_on_sigterm(tmp_path: Path) -> None:
    port = free_udp_port()
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(port), str(tmp_path / "rec")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(0.5)
        answer = b""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not answer:
            sock.sendto(options(port), ("127.0.0.1", port))
            try:
                answer = sock.recv(4096)
            except socket.timeout:
                continue
        assert answer.startswith(b"SIP/2.0 200"), proc.stderr.read() if proc.poll() is not None else "no answer"
        # the port is taken now: a second server fails at once with OSError
        second = subprocess.run([sys.executable, "-c", SCRIPT, str(port), str(tmp_path / "rec2")],
                                capture_output=True, text=True, timeout=30)
        assert second.returncode != 0 and "OSError" in second.stderr
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
        assert proc.returncode == 0, err
        assert "stopped cleanly" in out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()

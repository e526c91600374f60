"""``hotline serve`` runs the PBX as a third supervised child (HOTLINE_PBX_ENABLED, on
by default) and stops it with the others; when the SIP port is taken the PBX exits and
is restarted with backoff while the web keeps answering."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.cli._run import cli_env
from tests.pbx._phones import port_range
from tests.pbx._sip_peers import free_udp_port

pytestmark = pytest.mark.slow


def _free_tcp() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(tmp_path: Path, sip_port: int) -> tuple[subprocess.Popen[str], int]:
    port = _free_tcp()
    rtp = port_range(20)
    env = cli_env(tmp_path / "var", HOTLINE_SIP_LISTEN=f"127.0.0.1:{sip_port}", HOTLINE_RTP_PORTS=f"{rtp.first}-{rtp.last}")
    proc = subprocess.Popen(
        [sys.executable, "-m", "hotline.cli", "serve", "--host", "127.0.0.1", "--port", str(port), "--no-worker", "--stop-timeout", "8"],
        env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    return proc, port


def _web_answers(port: int, proc: subprocess.Popen[str], seconds: float = 45) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/openapi.json", timeout=2) as r:
                return r.status == 200
        except OSError:
            time.sleep(0.3)
    return False


def _stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGTERM)
    try:
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return out


def test_the_pbx_child_listens_and_stops_with_the_others(tmp_path: Path) -> None:
    sip = free_udp_port()
    proc, port = _serve(tmp_path, sip)
    try:
        assert _web_answers(port, proc)
        deadline = time.monotonic() + 30
        listening = False
        while time.monotonic() < deadline and not listening:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                try:
                    s.bind(("127.0.0.1", sip))
                except OSError:
                    listening = True
            time.sleep(0.3)
        assert listening
    finally:
        out = _stop(proc)
    assert proc.returncode == 0, out
    assert "[pbx] 已启动" in out and "[pbx] 已停止" in out and "[web] 已停止" in out
    assert "[pbx] 退出码" not in out, out  # it did not crash


def test_a_taken_sip_port_makes_the_pbx_retry_while_the_web_serves(tmp_path: Path) -> None:
    sip = free_udp_port()
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", sip))
    try:
        proc, port = _serve(tmp_path, sip)
        try:
            assert _web_answers(port, proc)
            time.sleep(6)  # the pbx fails, waits 1 s, fails again, waits 2 s ...
            assert _web_answers(port, proc, 5)
        finally:
            out = _stop(proc)
    finally:
        udp.close()
    assert proc.returncode == 0, out
    restarts = re.findall(r"\[pbx\] 退出码 \d+", out)
    assert len(restarts) >= 2, out
    assert "[web] 退出码" not in out

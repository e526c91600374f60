"""``hotline web`` with ``HOTLINE_WEB_WORKERS=2`` on Linux: two processes, each
with a listening socket of its own on the one port (lib/shared_port). A burst of
keep-alive connections is spread over both (uvicorn's shared socket let one process
take all 16 of a load generator's connections in 2 of 15 runs); a port
some other program listens on is refused at once; SIGTERM stops both processes."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from hotline.lib import shared_port
from tests.cli._run import cli_env, free_port

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not shared_port.available(), reason="SO_REUSEPORT balancing is Linux only")]


def children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as f:
        return [int(p) for p in f.read().split()]


def socket_inodes(pid: int) -> set[int]:
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if m := re.fullmatch(r"socket:\[(\d+)\]", target):
            inodes.add(int(m.group(1)))
    return inodes


def tcp_inodes(port: int, state: str) -> set[int]:
    """Inodes of the TCP sockets on local ``port`` in ``state`` (/proc/net/tcp:
    "0A" listening, "01" established; of a connection, the server's side)."""
    found = set()
    with open("/proc/net/tcp", encoding="ascii") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if int(fields[1].split(":")[1], 16) == port and fields[3] == state:
                found.add(int(fields[9]))
    return found


def start_web(tmp_path: Path, port: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "hotline.cli", "web", "--host", "127.0.0.1", "--port", str(port), "--stop-timeout", "8"],
        env=cli_env(tmp_path / "var", HOTLINE_WEB_WORKERS="2"), cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


def wait_until_serving(proc: subprocess.Popen[str], port: int) -> None:
    deadline = time.monotonic() + 45
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            # Both processes listen before the test goes on.
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/static/web/app.css", timeout=2) as response:
                if response.status == 200 and len(listening_processes(proc.pid, port)) >= 2:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"hotline web did not start: exit {proc.poll()}")


def listening_processes(parent: int, port: int) -> list[int]:
    return [pid for pid in children(parent) if socket_inodes(pid) & tcp_inodes(port, "0A")]


def stop(proc: subprocess.Popen[str]) -> str:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        output, _ = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        output, _ = proc.communicate()
    return output


def test_a_burst_of_connections_is_spread_over_both_processes_and_sigterm_stops_them(tmp_path: Path) -> None:
    port = free_port()
    proc = start_web(tmp_path, port)
    clients: list[socket.socket] = []
    try:
        wait_until_serving(proc, port)
        workers = listening_processes(proc.pid, port)
        # Each process listens on a socket of its own (uvicorn's --workers share one):
        # that is what lets the kernel choose between them per connection.
        own = [socket_inodes(pid) & tcp_inodes(port, "0A") for pid in workers]
        assert len(own) == 2 and all(len(inodes) == 1 for inodes in own) and own[0] != own[1], own
        # 64 connections opened at once, as a load generator or a proxy's pool does;
        # a request on each, answered, so every one has been accepted by a process.
        for _ in range(64):
            c = socket.socket()
            c.setblocking(False)
            c.connect_ex(("127.0.0.1", port))
            clients.append(c)
        for c in clients:
            c.setblocking(True)
            c.settimeout(20)
            c.sendall(b"GET /static/web/app.css HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        for c in clients:
            assert c.recv(64).startswith(b"HTTP/1.1 200")
        open_here = tcp_inodes(port, "01")
        held = {pid: len(socket_inodes(pid) & open_here) for pid in workers}
        assert sum(held.values()) == 64, held
        # The kernel hashes each connection to one of the two sockets: below 12 of 64
        # on one side has a chance under 1 in 10^6 when the split is fair.
        assert min(held.values()) >= 12, held
    finally:
        for c in clients:
            c.close()
        output = stop(proc)
    assert proc.returncode == 0, output
    assert f"web server at http://127.0.0.1:{port}/: 2 个进程 / processes" in output, output
    assert "[web-1] 已停止" in output and "[web-2] 已停止" in output, output
    for pid in workers:
        assert not os.path.exists(f"/proc/{pid}") or open(f"/proc/{pid}/stat").read().split()[2] == "Z"


def test_a_port_another_program_listens_on_is_refused_at_once(tmp_path: Path) -> None:
    with socket.socket() as other:
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        proc = start_web(tmp_path, port)
        output = proc.communicate(timeout=60)[0]
    assert proc.returncode != 0
    assert "端口已被占用" in output and "the port is taken" in output, output
    assert "web-1" not in output  # no child was started to fail and restart


def test_a_second_hotline_web_on_the_same_port_is_refused(tmp_path: Path) -> None:
    """SO_REUSEPORT would let a second server of the same user join the first one's
    group and take half its connections; the check binds without it first."""
    port = free_port()
    first = start_web(tmp_path, port)
    try:
        wait_until_serving(first, port)
        second = start_web(tmp_path, port)
        output = second.communicate(timeout=60)[0]
        assert second.returncode != 0
        assert "端口已被占用" in output, output
        assert len(listening_processes(first.pid, port)) == 2
    finally:
        stop(first)


def test_check_free_and_listener_follow_the_kernel_rules() -> None:
    port = free_port()
    shared_port.check_free("127.0.0.1", port)  # nothing there
    a, b = shared_port.listener("127.0.0.1", port), shared_port.listener("127.0.0.1", port)
    try:
        shared_port.check_free("127.0.0.1", port)  # bound, not listening: still free
        a.listen()
        with pytest.raises(OSError):
            shared_port.check_free("127.0.0.1", port)
        b.listen()
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass
    finally:
        a.close()
        b.close()
    with socket.socket() as plain:  # a listener without SO_REUSEPORT admits no group
        plain.bind(("127.0.0.1", 0))
        plain.listen()
        with pytest.raises(OSError):
            shared_port.listener("127.0.0.1", plain.getsockname()[1]).close()

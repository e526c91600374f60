"""`hotline serve` creates the database on first run, serves the API on the given
port with a worker beside it, and stops every child on SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.cli._run import cli_env, free_port

pytestmark = pytest.mark.slow


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_serve_answers_openapi_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    var = tmp_path / "var"
    proc = subprocess.Popen(
        [sys.executable, "-m", "hotline.cli", "serve", "--host", "127.0.0.1", "--port", str(port), "--stop-timeout", "8"],
        env=cli_env(var, HOTLINE_PBX_ENABLED="false"), cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        status, deadline = None, time.monotonic() + 45
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/openapi.json", timeout=2) as response:
                    status = response.status
                    break
            except OSError:
                time.sleep(0.3)
        assert status == 200
        assert (var / "hotline.sqlite3").exists()
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, output
    assert f"http://127.0.0.1:{port}/" in output
    pids = [int(p) for p in re.findall(r"started, pid (\d+)", output)]
    assert len(pids) == 2  # web and worker
    assert not any(alive(pid) for pid in pids)
    assert "[web] 已停止" in output and "[worker] 已停止" in output

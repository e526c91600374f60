"""Run the ``hotline`` CLI as a subprocess against a data folder of its own."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on at this moment."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "HOTLINE_MEDIA_ROOT", "DJANGO_SETTINGS_MODULE", "HOTLINE_SECRET_KEY"}}
    env["HOTLINE_DATA_DIR"] = str(data_dir)
    env["HOTLINE_LOG_LEVEL"] = "WARNING"
    env.update(extra)
    return env


def hotline(data_dir: Path, *args: str, input: str | None = None, timeout: float = 60, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hotline.cli", *args], env=cli_env(data_dir, **env), cwd=data_dir.parent,
        capture_output=True, text=True, check=False, input=input, timeout=timeout,
    )


def ok(result: subprocess.CompletedProcess[Any]) -> subprocess.CompletedProcess[Any]:
    assert result.returncode == 0, f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    return result

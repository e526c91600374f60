"""Process supervision for ``hotline serve``: start child processes, restart a
crashed one with exponential backoff, stop them all cleanly on SIGINT/SIGTERM.

No Django here: a child is an argv list. The supervisor forwards the stop signal
to every child, waits up to ``stop_timeout`` seconds, then kills what is left.
Children run in their own session, so Ctrl-C in a terminal reaches only the
supervisor, which then stops them in order (each exactly once).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import FrameType


@dataclass(frozen=True)
class ChildSpec:
    """One supervised process: a name for the logs, the command, extra environment."""

    name: str
    argv: Sequence[str]
    env: Mapping[str, str] = field(default_factory=dict)


@dataclass
class _Child:
    spec: ChildSpec
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    restart_at: float | None = None
    backoff: float = 0.0
    restarts: int = 0


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Linux: ask the kernel to SIGTERM the child if the supervisor itself dies."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        except OSError:
            pass


class Supervisor:
    def __init__(
        self,
        specs: Sequence[ChildSpec],
        *,
        backoff_initial: float = 1.0,
        backoff_max: float = 30.0,
        stable_after: float = 30.0,
        stop_timeout: float = 10.0,
        poll: float = 0.2,
        log: Callable[[str], None] = print,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.children = [_Child(spec) for spec in specs]
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.stable_after = stable_after
        self.stop_timeout = stop_timeout
        self.poll = poll
        self.log = log
        self.clock = clock
        self.stopping = False
        self.stop_signal = signal.SIGTERM

    # --- signals -------------------------------------------------------------------

    def request_stop(self, signum: int = signal.SIGTERM, frame: FrameType | None = None) -> None:
        if self.stopping:
            return
        self.stopping = True
        self.stop_signal = signal.Signals(signum)
        self.log(f"收到 {signal.Signals(signum).name}，正在停止 / stopping all processes")

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGINT, self.request_stop)
        signal.signal(signal.SIGTERM, self.request_stop)

    # --- children ------------------------------------------------------------------

    def _start(self, child: _Child) -> None:
        env = dict(os.environ)
        env.update(child.spec.env)
        child.process = subprocess.Popen(
            list(child.spec.argv), env=env, start_new_session=True, preexec_fn=_die_with_parent  # noqa: PLW1509
        )
        child.started_at = self.clock()
        child.restart_at = None
        self.log(f"[{child.spec.name}] 已启动 / started, pid {child.process.pid}")

    def _check(self, child: _Child) -> None:
        now = self.clock()
        if child.process is None:
            if child.restart_at is not None and now >= child.restart_at:
                self._start(child)
            return
        code = child.process.poll()
        if code is None:
            return
        ran = now - child.started_at
        # A child that ran a while before dying starts over with a short delay.
        child.backoff = self.backoff_initial if ran >= self.stable_after or not child.backoff else min(child.backoff * 2, self.backoff_max)
        child.restarts += 1
        child.process = None
        child.restart_at = now + child.backoff
        self.log(f"[{child.spec.name}] 退出码 {code}，{child.backoff:.0f} 秒后重启 / exited with {code}, restarting in {child.backoff:.1f}s")

    def stop_all(self) -> None:
        running = [c for c in self.children if c.process is not None and c.process.poll() is None]
        for child in running:
            assert child.process is not None
            try:
                child.process.send_signal(self.stop_signal)
            except ProcessLookupError:
                pass
        deadline = self.clock() + self.stop_timeout
        for child in running:
            assert child.process is not None
            try:
                child.process.wait(timeout=max(deadline - self.clock(), 0.01))
            except subprocess.TimeoutExpired:
                self.log(f"[{child.spec.name}] 未按时退出，强制结束 / did not stop in time, killing")
                child.process.kill()
                child.process.wait()
            self.log(f"[{child.spec.name}] 已停止 / stopped")

    def run(self, *, install_signals: bool = True) -> int:
        if install_signals:
            self.install_signal_handlers()
        try:
            for child in self.children:
                self._start(child)
            while not self.stopping:
                for child in self.children:
                    self._check(child)
                time.sleep(self.poll)
        finally:
            self.stop_all()
        return 0

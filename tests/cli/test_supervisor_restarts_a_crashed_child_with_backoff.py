"""The supervisor restarts a child that exits, waiting longer after each quick
crash, and stops the others by signal, killing one that ignores it."""

from __future__ import annotations

import sys
import threading
import time

from hotline.lib.supervisor import ChildSpec, Supervisor


def test_a_crashing_child_is_restarted_with_growing_backoff() -> None:
    crash = ChildSpec("crash", [sys.executable, "-c", "raise SystemExit(3)"])
    lines: list[str] = []
    sup = Supervisor([crash], backoff_initial=0.1, backoff_max=0.4, poll=0.02, log=lines.append)
    threading.Timer(1.5, sup.request_stop).start()
    sup.run(install_signals=False)
    child = sup.children[0]
    assert child.restarts >= 3
    assert child.backoff == 0.4  # 0.1, 0.2, 0.4, capped
    assert any("exited with 3" in line for line in lines)


def test_stop_forwards_the_signal_and_kills_a_child_that_ignores_it() -> None:
    polite = ChildSpec("polite", [sys.executable, "-c", "import time; time.sleep(60)"])
    stubborn = ChildSpec("stubborn", [sys.executable, "-c",
                                      "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); time.sleep(60)"])
    lines: list[str] = []
    sup = Supervisor([polite, stubborn], stop_timeout=1.0, poll=0.02, log=lines.append)
    threading.Timer(1.0, sup.request_stop).start()
    started = time.monotonic()
    sup.run(install_signals=False)
    assert time.monotonic() - started < 5
    assert all(c.process is not None and c.process.poll() is not None for c in sup.children)
    assert any("stubborn" in line and "killing" in line for line in lines)

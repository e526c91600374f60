"""Django's SQLite backend with writers queued instead of left to SQLite's busy-sleep.

SQLite lets one connection write at a time. A second writer's ``BEGIN IMMEDIATE`` gets
SQLITE_BUSY and SQLite's busy handler retries after sleeping 1, 2, 5, 10, 15, 20, 25 …
ms: under load the write lock sits idle while the waiters sleep (registration with
several threads or web processes, docs/benchmarks.md). Here a write transaction first
takes

- a lock shared by this process's threads (woken the moment the previous writer in the
  process commits), then
- an advisory ``flock`` on ``<database>-writer.lock`` shared with the other processes,
  tried every 20–50 µs for 250 ms, then backing off to every 2 ms,

and only then sends ``BEGIN IMMEDIATE``; both are released after COMMIT or ROLLBACK.

**Checkpoints outside the queue.** SQLite's automatic checkpoint (every 1,000 WAL
pages; a registration writes about 50) runs inside the COMMIT that crosses the
threshold: it copies the pages back into the database and fsyncs, and with the queue
every other writer of every process waits for it. Connections of this backend raise
the automatic threshold to ``_AUTO_CHECKPOINT_PAGES`` (a safety net) and instead run
``PRAGMA wal_checkpoint(PASSIVE)`` themselves every ``_CHECKPOINT_EVERY`` queued
commits of the process, after releasing the queue: a passive checkpoint runs beside
the next writers instead of in front of them (docs/benchmarks.md).
The queue is only a faster way to wait: SQLite's own locking still decides, and after
the connection's ``timeout`` (20 s) a writer stops queueing and goes on to BEGIN as it
would without it, so nothing can wait longer than before, and programs that do not
use this backend (the sqlite3 shell, backups) are unaffected.

``ENGINE = "hotline.lib.sqlite3"`` (settings.py); ``vendor`` stays ``sqlite``.
"""

from __future__ import annotations

import fcntl
import sqlite3
import os
import threading
import time
from typing import Any

from django.db.backends.sqlite3 import base

_process_locks: dict[str, threading.Lock] = {}
_registry_lock = threading.Lock()

#: Cross-process polling: every 20–50 µs for the first ``_FAST_FOR`` seconds (a
#: registration holds the lock for about a millisecond, and every microsecond the free
#: lock waits for a sleeping poller is lost throughput: polling at 0.1–1 ms gave 243
#: registrations/s with 2 web processes, at 20–50 µs 352–362/s, docs/benchmarks.md),
#: then doubling up to ``_POLL_MAX`` so a long writer (a job's batch) costs no CPU.
_POLL_MIN, _POLL_FAST, _POLL_MAX = 0.00002, 0.00005, 0.002
_FAST_FOR = 0.25

#: a passive checkpoint after this many queued commits of the process (about 1,000 WAL
#: pages of registrations, SQLite's own default threshold)
_CHECKPOINT_EVERY = 20
#: SQLite's automatic checkpoint, left as a safety net for writes that do not pass
#: through the queue (autocommit statements outside ``atomic``)
_AUTO_CHECKPOINT_PAGES = 10000
_commits = [0]


def _process_lock(path: str) -> threading.Lock:
    with _registry_lock:
        return _process_locks.setdefault(path, threading.Lock())


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._writer_fd: int | None = None
        self._writer_held: tuple[threading.Lock | None, bool] | None = None

    def get_new_connection(self, conn_params: Any) -> Any:
        conn = super().get_new_connection(conn_params)
        if self._writer_path() is not None:
            conn.execute(f"PRAGMA wal_autocheckpoint={_AUTO_CHECKPOINT_PAGES}")
        return conn

    def _writer_path(self) -> str | None:
        name = str(self.settings_dict["NAME"])
        if self.is_in_memory_db() or name.startswith("file:"):
            return None
        return os.path.abspath(name) + "-writer.lock"

    def _queue_timeout(self) -> float:
        return float(self.settings_dict.get("OPTIONS", {}).get("timeout", 5))

    def _writer_acquire(self) -> None:
        if self._writer_held is not None:
            return
        path = self._writer_path()
        if path is None:
            return
        deadline = time.monotonic() + self._queue_timeout()
        plock: threading.Lock | None = _process_lock(path)
        if not plock.acquire(timeout=self._queue_timeout()):  # type: ignore[union-attr]
            plock = None  # waited as long as SQLite would have: go on without the queue
        flocked = False
        try:
            if self._writer_fd is None:
                self._writer_fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            pause = _POLL_MIN
            fast_until = time.monotonic() + _FAST_FOR
            while True:
                try:
                    fcntl.flock(self._writer_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    flocked = True
                    break
                except BlockingIOError:
                    now = time.monotonic()
                    if now >= deadline:
                        break
                    time.sleep(pause)
                    pause = min(pause * 2, _POLL_FAST if now < fast_until else _POLL_MAX)
        except OSError:
            pass  # an unwritable folder: SQLite's own waiting only
        self._writer_held = (plock, flocked)

    def _writer_release(self) -> None:
        held, self._writer_held = self._writer_held, None
        if held is None:
            return
        plock, flocked = held
        if flocked and self._writer_fd is not None:
            try:
                fcntl.flock(self._writer_fd, fcntl.LOCK_UN)
            except OSError:
                pass
        if plock is not None:
            plock.release()

    def _start_transaction_under_autocommit(self) -> None:
        self._writer_acquire()
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._writer_release()
            raise

    def _commit(self) -> None:
        queued = self._writer_held is not None and self._writer_held[1]
        try:
            super()._commit()
        finally:
            if self.connection is None or not self.connection.in_transaction:
                self._writer_release()  # a failed COMMIT keeps the queue until its ROLLBACK
        if queued:
            _commits[0] += 1
            if _commits[0] % _CHECKPOINT_EVERY == 0:
                self._checkpoint()

    def _checkpoint(self) -> None:
        """A passive checkpoint: copies what it can without waiting for readers or
        writers; SQLite lets one checkpointer run at a time (others return at once)."""
        if self.connection is None or self.connection.in_transaction:
            return
        try:
            self.connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.Error:
            pass  # housekeeping: never fail the commit that triggered it; the next one tries again

    def _rollback(self) -> None:
        try:
            super()._rollback()
        finally:
            self._writer_release()

    def _close(self) -> None:
        try:
            super()._close()
        finally:
            self._writer_release()
            if self._writer_fd is not None:
                try:
                    os.close(self._writer_fd)
                except OSError:
                    pass
                self._writer_fd = None

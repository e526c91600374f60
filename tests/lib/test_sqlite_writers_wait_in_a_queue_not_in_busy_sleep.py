"""SQLite write transactions queue (``hotline.lib.sqlite3``) before BEGIN IMMEDIATE:
a writer waits while another process holds the queue, starts as soon as it is free,
gives up queueing after the connection's timeout (never waits longer than SQLite
would), releases it on COMMIT and ROLLBACK, and loses no write under concurrency.

Each test uses a SQLite file of its own (not the test database), so it runs the same
whatever DATABASE_URL says; "another process" is a second open file description
holding the ``flock``, which is what another process would hold."""

from __future__ import annotations

import fcntl
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db.utils import ConnectionHandler


@pytest.fixture(autouse=True)
def _own_database_files(django_db_blocker: Any) -> Any:
    """These tests open SQLite files of their own, outside pytest-django's test database."""
    with django_db_blocker.unblock():
        yield


def _handler(path: Path, timeout: float = 20) -> ConnectionHandler:
    return ConnectionHandler({"default": {"ENGINE": "hotline.lib.sqlite3", "NAME": str(path),
                                          "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": timeout}}})


def _begin(conn: Any) -> None:
    conn.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)


def _end(conn: Any, commit: bool = True) -> None:
    conn.commit() if commit else conn.rollback()
    conn.set_autocommit(True)


def _setup(path: Path) -> None:
    conn = _handler(path)["default"]
    with conn.cursor() as c:
        c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, who TEXT)")
    conn.close()


def _hold_queue(path: Path) -> int:
    fd = os.open(f"{path}-writer.lock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def test_the_project_uses_the_queueing_backend_on_sqlite() -> None:
    engine = settings.DATABASES["default"]["ENGINE"]
    assert engine == "hotline.lib.sqlite3" or "postgresql" in engine


def test_a_writer_waits_while_another_process_holds_the_queue(tmp_path: Path) -> None:
    db = tmp_path / "q.sqlite3"
    _setup(db)
    fd = _hold_queue(db)  # the database itself is not locked: only the queue is
    h = _handler(db)
    begun = threading.Event()

    def writer() -> None:
        conn = h["default"]
        _begin(conn)
        begun.set()
        with conn.cursor() as c:
            c.execute("INSERT INTO t (who) VALUES ('writer')")
        _end(conn)
        conn.close()

    thread = threading.Thread(target=writer)
    thread.start()
    assert not begun.wait(0.5), "the writer began while another process held the queue"
    fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)
    assert begun.wait(10)
    thread.join(10)
    conn = h["default"]
    with conn.cursor() as c:
        c.execute("SELECT who FROM t")
        assert c.fetchall() == [("writer",)]
    conn.close()


def test_a_writer_stops_queueing_after_the_timeout_and_still_writes(tmp_path: Path) -> None:
    db = tmp_path / "q.sqlite3"
    _setup(db)
    fd = _hold_queue(db)  # never released during the test
    h = _handler(db, timeout=0.3)
    done: list[float] = []

    def writer() -> None:
        conn = h["default"]
        t0 = time.monotonic()
        _begin(conn)
        with conn.cursor() as c:
            c.execute("INSERT INTO t (who) VALUES ('late')")
        _end(conn)
        done.append(time.monotonic() - t0)
        conn.close()

    thread = threading.Thread(target=writer)
    thread.start()
    thread.join(15)
    os.close(fd)
    assert done, "the writer waited for the queue beyond its timeout"
    assert done[0] >= 0.3  # it did queue first


def test_commit_and_rollback_free_the_queue(tmp_path: Path) -> None:
    db = tmp_path / "q.sqlite3"
    _setup(db)
    conn = _handler(db)["default"]
    probe = os.open(f"{db}-writer.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        for commit in (True, False):
            _begin(conn)
            try:
                fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
                raise AssertionError("the queue was free during a write transaction")
            except BlockingIOError:
                pass
            _end(conn, commit=commit)
            fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)  # free again
            fcntl.flock(probe, fcntl.LOCK_UN)
    finally:
        os.close(probe)
        conn.close()


def test_concurrent_writers_lose_nothing(tmp_path: Path) -> None:
    db = tmp_path / "q.sqlite3"
    _setup(db)
    h = _handler(db)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        conn = h["default"]
        try:
            for i in range(40):
                _begin(conn)
                with conn.cursor() as c:
                    c.execute("SELECT COUNT(*) FROM t")
                    c.execute("INSERT INTO t (who) VALUES (%s)", [f"{n}-{i}"])
                _end(conn)
        except BaseException as exc:  # collected, asserted below
            errors.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    conn = h["default"]
    with conn.cursor() as c:
        c.execute("SELECT COUNT(DISTINCT who) FROM t")
        assert c.fetchone() == (160,)
    conn.close()


def test_checkpoints_run_after_the_queue_is_released_not_inside_a_commit(tmp_path: Path, monkeypatch: Any) -> None:
    # SQLite's automatic checkpoint would copy and fsync inside the COMMIT that crosses
    # its threshold, with every other writer queued behind it; the backend raises that
    # threshold to a safety net and checkpoints passively after releasing the queue.
    from hotline.lib.sqlite3 import base

    path = tmp_path / "db.sqlite3"
    handler = ConnectionHandler({"default": {"ENGINE": "hotline.lib.sqlite3", "NAME": str(path),
                                             "OPTIONS": {"transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL"}}})
    conn = handler["default"]
    with conn.cursor() as c:
        c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, who TEXT)")
        c.execute("PRAGMA wal_autocheckpoint")
        assert c.fetchone()[0] == base._AUTO_CHECKPOINT_PAGES
    seen: list[tuple[bool, tuple[int, int, int]]] = []
    original = base.DatabaseWrapper._checkpoint

    def watched(self: Any) -> None:
        fd = os.open(f"{path}-writer.lock", os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # free: nobody waits behind the checkpoint
            fcntl.flock(fd, fcntl.LOCK_UN)
            free = True
        except BlockingIOError:
            free = False
        finally:
            os.close(fd)
        original(self)
        seen.append((free, tuple(self.connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone())))

    monkeypatch.setattr(base.DatabaseWrapper, "_checkpoint", watched)
    monkeypatch.setattr(base, "_commits", [0])
    for i in range(base._CHECKPOINT_EVERY * 2):
        _begin(conn)
        with conn.cursor() as c:
            c.execute("INSERT INTO t (who) VALUES (%s)", [f"w{i}"])
        _end(conn)
    conn.close()
    assert len(seen) == 2
    for free, (busy, logged, done) in seen:
        assert free and busy == 0 and logged == done  # every WAL page was copied back

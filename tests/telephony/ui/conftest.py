"""Browser tests of the telephony pages: a live ``hotline web`` on the test database and
Debian's Chromium, built from tests/web's helpers (``Session``, ``_database_url``, ...).

The fixtures are **package-scoped** here, not session-scoped as in tests/web: Playwright's
sync API leaves its event loop set on the test thread while it runs, which makes a
second ``sync_playwright()`` (tests/web's) and asgiref's ``async_to_sync`` refuse to
start. Closing ours when this folder is done leaves the thread clean for what follows.
This folder is collected after the other telephony tests for the same reason.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.web.conftest import CHROMIUM, ROOT, Session, _database_url, _free_port


@pytest.fixture(scope="package")
def live_url(django_db_setup: Any, django_db_blocker: Any) -> Iterator[str]:
    import os

    from django.conf import settings
    from django.db import connection

    with django_db_blocker.unblock():
        url = _database_url(connection.settings_dict)
    port = _free_port()
    media = tempfile.mkdtemp(prefix="hl-tel-web-")
    env = {**os.environ, "DATABASE_URL": url, "HOTLINE_DATA_DIR": str(settings.DATA_DIR), "HOTLINE_MEDIA_ROOT": media,
           "HOTLINE_LOG_LEVEL": "WARNING", "DJANGO_SETTINGS_MODULE": "hotline.settings"}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    log = open(Path(media) / "server.log", "w+b")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([sys.executable, "-m", "hotline.cli", "web", "--host", "127.0.0.1", "--port", str(port)],
                            env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(base + "/static/web/app.css", timeout=2):
                break
        except (urllib.error.URLError, ConnectionError, OSError):
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                log.seek(0)
                raise RuntimeError("the web server did not start:\n" + log.read().decode(errors="replace")[-4000:]) from None
            time.sleep(0.2)
    try:
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        shutil.rmtree(media, ignore_errors=True)


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (scripts/install --test does it)")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def as_user(browser: Any, live_url: str, transactional_db: Any) -> Iterator[Any]:
    opened: list[Session] = []

    def make(user: Any, name: str | None = None) -> Session:
        s = Session(browser, live_url, name or (user.username if user else "citizen"))
        opened.append(s)
        if user is not None:
            s.login(user.username, "")
        return s

    yield make
    for s in opened:
        s.close()

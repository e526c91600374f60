"""Browser tests: a real uvicorn (``hotline web``) on 127.0.0.1 serving the test
database, driven by Playwright in Debian's chromium (``apt-get install chromium``;
never ``playwright install``).

- The server is a subprocess started once per test session on a free port, with
  ``DATABASE_URL`` pointing at pytest-django's test database; tests use
  ``transactional_db`` so what they create is committed and the server sees it.
- Playwright's sync API runs an event loop in the test thread, which makes Django
  refuse ORM calls from the test body ("async context"); the test process (only it)
  sets DJANGO_ALLOW_ASYNC_UNSAFE — the server is a separate process and unaffected.
- Every page the tests visit is saved as a screenshot in test-artifacts/screenshots/
  at 1366×768 for a reviewer to look at.
"""

from __future__ import annotations

import os
import shutil
import socket
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

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = os.environ.get("HOTLINE_TEST_CHROMIUM", "/usr/bin/chromium")
VIEWPORT = {"width": 1366, "height": 768}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _database_url(settings_dict: dict[str, Any]) -> str:
    engine = settings_dict["ENGINE"]
    if engine.endswith("sqlite3"):
        return f"sqlite:///{settings_dict['NAME']}"
    user = settings_dict.get("USER") or ""
    password = f":{settings_dict['PASSWORD']}" if settings_dict.get("PASSWORD") else ""
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    return f"postgres://{user}{password}{'@' if user else ''}{host}{port}/{settings_dict['NAME']}"


@pytest.fixture(scope="session")
def live_url(django_db_setup: Any, django_db_blocker: Any) -> Iterator[str]:
    """Base URL of a uvicorn serving the test database."""
    from django.conf import settings
    from django.db import connection

    with django_db_blocker.unblock():
        url = _database_url(connection.settings_dict)
    port = _free_port()
    media = tempfile.mkdtemp(prefix="hl-web-media-")
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "HOTLINE_DATA_DIR": str(settings.DATA_DIR),
        "HOTLINE_MEDIA_ROOT": media,
        "HOTLINE_LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "hotline.settings",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    log = open(Path(media) / "server.log", "w+b")
    proc = subprocess.Popen(
        [sys.executable, "-m", "hotline.cli", "web", "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(base + "/static/web/app.css", timeout=2):  # no database involved
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


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (scripts/install --test does it)")
    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            yield b
        finally:
            b.close()


class Session:
    """One person in one browser context (their own cookies), at 1366×768."""

    def __init__(self, browser: Any, base: str, name: str) -> None:
        self.base, self.name = base, name
        self.context = browser.new_context(viewport=VIEWPORT, locale="zh-CN", accept_downloads=True)
        self.context.set_default_timeout(15_000)
        self.page = self.context.new_page()
        self.console_errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.console_errors.append(str(exc)))

    def go(self, path: str) -> Any:
        return self.page.goto(self.base + path)

    def login(self, username: str, password: str) -> None:
        from tests.conftest import PASSWORD

        self.go("/accounts/login/")
        self.page.get_by_label("用户名", exact=True).fill(username)
        self.page.get_by_label("密码", exact=True).fill(password or PASSWORD)
        self.page.get_by_role("button", name="登录").click()
        self.page.wait_for_load_state()
        assert "/accounts/login/" not in self.page.url, f"login failed for {username}"

    def shot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def no_horizontal_scroll(self) -> None:
        width = self.page.evaluate("document.documentElement.scrollWidth")
        assert width <= VIEWPORT["width"], f"{self.page.url} is {width}px wide at 1366×768"

    def close(self) -> None:
        assert not self.console_errors, self.console_errors
        self.context.close()


@pytest.fixture
def as_user(browser: Any, live_url: str, transactional_db: Any) -> Iterator[Any]:
    """``as_user(user)`` gives a logged-in Session; ``as_user(None)`` an anonymous one."""
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

"""Browser tests of the telephony pages reuse the live server and Chromium fixtures of
tests/web (kept in this sub-folder because that module allows ORM calls from the
Playwright test thread, which the other telephony tests must not rely on)."""

from tests.web.conftest import as_user, browser, live_url  # noqa: F401

"""Browser tests of the telephony pages reuse the live server and Chromium fixtures of
tests/web (kept in this sub-folder, collected after the other telephony tests (Playwright's sync API leaves its event loop set
on the test thread, where asgiref's async_to_sync then refuses to run), and because that module allows ORM calls from the
Playwright test thread, which the other telephony tests must not rely on)."""

from tests.web.conftest import as_user, browser, live_url  # noqa: F401

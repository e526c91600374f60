"""The per-process caches (``cases.cache``: dictionary entries, API tokens) never
outlive a change: in the process that made it at once, in any other process within
``HOTLINE_CACHE_CHECK_SECONDS``.

"Another process" is real: a child Python process with Django set up on the same
test database makes the change through the normal service functions, as an
administrator's request served by another uvicorn worker would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from hotline.accounts import actions as account_actions
from hotline.cases import cache
from hotline.directory import actions as directory_actions
from hotline.directory.models import Source

pytestmark = pytest.mark.django_db(transaction=True)

BODY = {"contact_phone": "13900139000", "source": "wechat", "service_type": "consult", "summary": "咨询", "content": "咨询办事流程。"}


def _post(token: str, body: dict[str, Any] | None = None) -> Any:
    return Client().post("/api/tickets", json.dumps(body or BODY), content_type="application/json",
                         headers={"Authorization": f"Bearer {token}"})


def _in_another_process(code: str) -> None:
    """Run ``code`` (Django set up, ``admin`` bound to the administrator) in a child process
    connected to this test's database."""
    db = connection.settings_dict
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="hotline.settings")
    if db["ENGINE"].endswith("sqlite3"):
        env["DATABASE_URL"] = f"sqlite:///{db['NAME']}"
    else:
        env["DATABASE_URL"] = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    prelude = "import django\ndjango.setup()\nfrom hotline.accounts.models import User\nadmin = User.objects.get(username='admin')\n"
    out = subprocess.run([sys.executable, "-c", prelude + code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]


def _wait_for_check(settings: Any) -> None:
    time.sleep(settings.HOTLINE_CACHE_CHECK_SECONDS + 0.2)


def test_a_source_deactivated_in_another_process_is_refused_here_within_the_bound(people: Any, settings: Any) -> None:
    settings.HOTLINE_CACHE_CHECK_SECONDS = 1
    cache.clear()
    raw, _ = account_actions.do_issue_token(people.call_taker)
    assert _post(raw).status_code == 201  # 'wechat' and the token are cached now
    assert cache.store(cache.DICTIONARY)  # (really cached)
    wechat = Source.objects.get(code="wechat")
    _in_another_process(
        "from hotline.directory import actions\n"
        f"actions.do_update_entry(admin, 'source', {wechat.pk}, {{'active': False}})\n"
    )
    _wait_for_check(settings)
    r = _post(raw)
    assert r.status_code == 422, r.content
    assert {"field": "source", "rule": "exists"}.items() <= r.json()["errors"][0].items()


def test_a_source_deactivated_through_a_bulk_update_in_another_process_is_refused_here(people: Any, settings: Any) -> None:
    """``do_remove_entry`` of a referenced entry deactivates it with one UPDATE (no signal)."""
    settings.HOTLINE_CACHE_CHECK_SECONDS = 1
    cache.clear()
    raw, _ = account_actions.do_issue_token(people.call_taker)
    assert _post(raw).status_code == 201  # the new ticket refers to 'wechat': removal deactivates
    wechat = Source.objects.get(code="wechat")
    _in_another_process(
        "from hotline.directory import actions\n"
        f"print(actions.do_remove_entry(admin, 'source', {wechat.pk}))\n"
    )
    assert not Source.objects.get(pk=wechat.pk).active
    _wait_for_check(settings)
    assert _post(raw).status_code == 422


def test_a_change_made_in_this_process_takes_effect_at_once(people: Any, settings: Any) -> None:
    settings.HOTLINE_CACHE_CHECK_SECONDS = 3600  # other processes' changes would wait an hour
    cache.clear()
    raw, _ = account_actions.do_issue_token(people.call_taker)
    assert _post(raw).status_code == 201
    wechat = Source.objects.get(code="wechat")
    directory_actions.do_update_entry(people.admin, "source", wechat.pk, {"active": False})
    assert _post(raw).status_code == 422
    directory_actions.do_update_entry(people.admin, "source", wechat.pk, {"active": True})
    assert _post(raw).status_code == 201
    account_actions.do_update_user(people.admin, people.call_taker.pk, {"is_active": False})
    assert _post(raw).status_code == 401


def test_a_user_deactivated_in_another_process_loses_api_access_within_the_bound(people: Any, settings: Any) -> None:
    settings.HOTLINE_CACHE_CHECK_SECONDS = 1
    cache.clear()
    raw, _ = account_actions.do_issue_token(people.call_taker)
    assert _post(raw).status_code == 201
    _in_another_process(
        "from hotline.accounts import actions\n"
        f"actions.do_update_user(admin, {people.call_taker.pk}, {{'is_active': False}})\n"
    )
    _wait_for_check(settings)
    assert _post(raw).status_code == 401


def test_a_token_deleted_in_another_process_stops_working_within_the_bound(people: Any, settings: Any) -> None:
    settings.HOTLINE_CACHE_CHECK_SECONDS = 1
    cache.clear()
    raw, token = account_actions.do_issue_token(people.call_taker)
    assert _post(raw).status_code == 201
    _in_another_process(f"from hotline.accounts.models import ApiToken\nApiToken.objects.get(pk={token.pk}).delete()\n")
    _wait_for_check(settings)
    assert _post(raw).status_code == 401


def test_caching_off_reads_the_database_every_time(people: Any, settings: Any) -> None:
    settings.HOTLINE_CACHE_CHECK_SECONDS = 0
    cache.clear()
    raw, _ = account_actions.do_issue_token(people.call_taker)
    assert _post(raw).status_code == 201
    assert cache.store(cache.DICTIONARY) is None
    Source.objects.filter(code="wechat").update(active=False)  # no signal, no bump: only a fresh read sees it
    assert _post(raw).status_code == 422

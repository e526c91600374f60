"""Logins: Argon2 hashes, tokens for the API, lockout after repeated failures, and
unknown users answered exactly like wrong passwords."""

from __future__ import annotations

import datetime as dt

from django.test import override_settings
from django.utils import timezone

from hotline.accounts import actions
from hotline.accounts.models import ApiToken, User
from hotline.audit.models import AuditEntry
from tests.conftest import PASSWORD, Api, People


def token_request(username: str, password: str):  # type: ignore[no-untyped-def]
    return Api(None).post("/auth/token", {"username": username, "password": password})


def test_passwords_are_stored_with_argon2(people: People) -> None:
    assert people.call_taker.password.startswith("argon2")


def test_a_token_works_until_it_expires(people: People) -> None:
    r = token_request("dispatcher", PASSWORD)
    assert r.status_code == 200
    token = r.json_body["token"]
    client = Api(None)
    client.headers["Authorization"] = f"Bearer {token}"
    assert client.get("/me").json_body["username"] == "dispatcher"
    ApiToken.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert client.get("/me").status_code == 401


def test_only_the_hash_of_a_token_is_stored(people: People) -> None:
    token = token_request("dispatcher", PASSWORD).json_body["token"]
    assert not ApiToken.objects.filter(key_hash=token).exists()
    assert token not in str(list(ApiToken.objects.values()))


@override_settings(HOTLINE_LOCKOUT_THRESHOLD=3, HOTLINE_LOCKOUT_MINUTES=15)
def test_the_account_locks_after_three_failures_and_unlocks_after_fifteen_minutes(people: People) -> None:
    for _ in range(3):
        assert token_request("dispatcher", "wrong-password").status_code == 401
    locked = token_request("dispatcher", PASSWORD)
    assert locked.status_code == 423
    assert "locked" in locked.json_body["detail"]
    user = User.objects.get(username="dispatcher")
    later = user.locked_until + dt.timedelta(seconds=1)
    assert actions.do_login("dispatcher", PASSWORD, now=later).pk == user.pk
    assert AuditEntry.objects.filter(action="login.locked", object_id=str(user.pk)).count() == 1


def test_unknown_users_and_wrong_passwords_look_the_same(people: People) -> None:
    unknown = token_request("nobody", "whatever")
    wrong = token_request("dispatcher", "whatever")
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json_body == wrong.json_body


def test_inactive_users_cannot_log_in_or_use_old_tokens(people: People) -> None:
    client = Api(people.handler)
    User.objects.filter(pk=people.handler.pk).update(is_active=False)
    assert client.get("/me").status_code == 401
    assert token_request("handler", PASSWORD).status_code == 401


def test_only_administrators_manage_users_and_role_changes_are_audited(people: People, tree) -> None:  # type: ignore[no-untyped-def]
    assert Api(people.team_leader).get("/users").status_code == 403
    admin = Api(people.admin)
    created = admin.post("/users", {"username": "new_agent", "password": "Ag3nt-Pass-2026", "role": 10, "extension": "8001"})
    assert created.status_code == 201, created.json_body
    changed = admin.patch(f"/users/{created.json_body['id']}", {"role": 20})
    assert changed.json_body["role"] == 20
    row = AuditEntry.objects.get(action="user.role_change")
    assert row.actor_name == "admin" and row.ip == "10.1.2.3"
    assert {"field": "role", "old": 10, "new": 20} in row.changes


def test_user_input_errors_name_the_field(people: People, tree) -> None:  # type: ignore[no-untyped-def]
    admin = Api(people.admin)
    r = admin.post("/users", {"username": "x", "password": "123", "role": 999})
    assert r.status_code == 422
    assert {e["field"] for e in r.json_body["errors"]} == {"role"}
    r = admin.post("/users", {"username": "dept_user", "password": "Good-Pass-2026", "role": 40})
    assert r.json_body["errors"][0] == {"field": "department", "rule": "required_for_role", "message": "department users need a department"}
    r = admin.post("/users", {"username": "weak", "password": "123", "role": 10})
    assert r.json_body["errors"][0]["field"] == "password"

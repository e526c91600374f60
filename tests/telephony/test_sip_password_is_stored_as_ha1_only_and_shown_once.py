"""Administrators set or generate an agent's SIP password: only the HA1 values for
the realm are stored (MD5 and SHA-256), the generated password is returned once, the
change is audited without the password, and nobody else may do it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from hotline.audit.models import AuditEntry
from hotline.sip.digest import hash_a1
from hotline.telephony.models import SipCredential

pytestmark = pytest.mark.django_db


def _path(user: Any) -> str:
    return f"/telephony/agents/{user.pk}/sip-password"


def test_a_generated_password_is_shown_once_and_only_its_ha1_is_kept(agents: Any, api_as: Any, settings: Any) -> None:
    r = api_as(agents.admin).post(_path(agents.call_taker), {})
    assert r.status_code == 200, r.json_body
    password = r.json_body["password"]
    assert len(password) >= 16 and r.json_body["username"] == "1001" and r.json_body["usable"]
    cred = SipCredential.objects.get(user=agents.call_taker)
    assert cred.ha1_md5 == hash_a1("MD5", "1001", settings.HOTLINE_SIP_REALM, password)
    assert cred.ha1_sha256 == hash_a1("SHA-256", "1001", settings.HOTLINE_SIP_REALM, password)
    stored = json.dumps([list(SipCredential.objects.values().get()), list(AuditEntry.objects.values_list("changes", "object_repr"))], default=str)
    assert password not in stored
    # Reading the account never shows a password again.
    again = api_as(agents.admin).get(f"/telephony/agents/{agents.call_taker.pk}/sip-account")
    assert again.status_code == 200 and again.json_body["password"] is None
    assert AuditEntry.objects.filter(action="telephony.sip_password_set", object_id=str(cred.pk)).count() == 1


def test_a_chosen_password_is_not_echoed_and_replaces_the_old_one(agents: Any, api_as: Any, settings: Any) -> None:
    api = api_as(agents.admin)
    assert api.post(_path(agents.call_taker), {}).status_code == 200
    r = api.post(_path(agents.call_taker), {"password": "Desk-Phone-77"})
    assert r.status_code == 200 and r.json_body["password"] is None
    cred = SipCredential.objects.get(user=agents.call_taker)
    assert cred.ha1_md5 == hash_a1("MD5", "1001", settings.HOTLINE_SIP_REALM, "Desk-Phone-77")
    assert SipCredential.objects.count() == 1
    assert AuditEntry.objects.filter(action="telephony.sip_password_set").count() == 2


@pytest.mark.parametrize(
    ("password", "rule"),
    [("short", "length"), ("x" * 65, "length"), ("has space 123", "charset"), ("密码密码密码密码", "charset"), ("11111111", "too_simple"), (12345678, "type")],
)
def test_bad_passwords_are_refused_naming_the_rule(agents: Any, api_as: Any, password: Any, rule: str) -> None:
    r = api_as(agents.admin).post(_path(agents.call_taker), {"password": password})
    assert r.status_code == 422
    assert r.json_body["errors"][0]["field"] == "password"
    if not isinstance(password, int):  # a number is refused by the schema already
        assert r.json_body["errors"][0]["rule"] == rule
    assert not SipCredential.objects.exists()


def test_an_agent_without_extension_gets_no_password(agents: Any, api_as: Any) -> None:
    r = api_as(agents.admin).post(_path(agents.dispatcher), {})
    assert r.status_code == 422 and r.json_body["errors"][0] == {"field": "extension", "rule": "required", "message": r.json_body["errors"][0]["message"]}
    assert not SipCredential.objects.exists()


def test_unknown_users_and_unknown_fields_are_refused(agents: Any, api_as: Any) -> None:
    api = api_as(agents.admin)
    assert api.post("/telephony/agents/999999/sip-password", {}).status_code == 404
    r = api.post(_path(agents.call_taker), {"pasword": "Desk-Phone-77"})
    assert r.status_code == 422 and r.json_body["errors"][0]["field"] == "pasword" and r.json_body["errors"][0]["rule"] == "unknown"
    assert api.post(_path(agents.call_taker), "not json").status_code in (400, 422)


@pytest.mark.parametrize("role", ["call_taker", "team_leader", "dispatcher", "supervisor", "inspector", "statistician", "auditor", "handler", "manager"])
def test_only_administrators_manage_sip_accounts(agents: Any, api_as: Any, role: str) -> None:
    actor = getattr(agents, role)
    api = api_as(actor)
    assert api.post(_path(agents.call_taker), {"password": "Desk-Phone-77"}).status_code == 403
    assert api.post(_path(actor), {}).status_code == 403  # not even one's own
    assert api.patch(f"/telephony/agents/{agents.call_taker.pk}/sip-account", {"enabled": False}).status_code == 403
    assert api.get(f"/telephony/agents/{agents.call_taker.pk}/sip-account").status_code == 403
    assert not SipCredential.objects.exists()
    assert api_as(None).post(_path(agents.call_taker), {}).status_code == 401


def test_disable_and_enable_are_audited_and_a_changed_extension_makes_it_unusable(agents: Any, api_as: Any) -> None:
    api = api_as(agents.admin)
    assert api.patch(f"/telephony/agents/{agents.call_taker.pk}/sip-account", {"enabled": False}).status_code == 404  # none yet
    api.post(_path(agents.call_taker), {})
    r = api.patch(f"/telephony/agents/{agents.call_taker.pk}/sip-account", {"enabled": False})
    assert r.status_code == 200 and r.json_body["enabled"] is False and r.json_body["usable"] is False
    assert api.patch(f"/telephony/agents/{agents.call_taker.pk}/sip-account", {"enabled": "no"}).status_code == 422
    assert api.patch(f"/telephony/agents/{agents.call_taker.pk}/sip-account", {"enabled": True}).json_body["usable"] is True
    assert list(AuditEntry.objects.filter(action__startswith="telephony.sip_account_").values_list("action", flat=True).order_by("id")) == [
        "telephony.sip_account_disable", "telephony.sip_account_enable"]
    agents.call_taker.extension = "1009"
    agents.call_taker.save()
    assert api.get(f"/telephony/agents/{agents.call_taker.pk}/sip-account").json_body["usable"] is False

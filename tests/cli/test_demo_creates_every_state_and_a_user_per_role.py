"""`hotline demo` builds 滨江市 through the real actions: every ticket state, a user
per role, urges, extensions and supervisions on the timelines, passwords in a
private file; a second run refuses unless --reset."""

from __future__ import annotations

import io
import stat
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from hotline.accounts.models import Role, User
from hotline.cases.models import Status, Ticket, TicketEvent
from hotline.directory.models import Citizen, Department, District


@pytest.fixture
def demo(dictionary: None, settings: Any, tmp_path: Path) -> str:
    settings.DATA_DIR = tmp_path
    out = io.StringIO()
    call_command("demo", tickets=60, stdout=out)
    return out.getvalue()


def test_demo_reaches_every_ticket_state_with_a_user_per_role_and_prints_passwords(demo: str, tmp_path: Path) -> None:
    present = set(Ticket.objects.values_list("status", flat=True))
    assert present == set(Status.values)
    assert Ticket.objects.count() == 60
    assert {u.role for u in User.objects.all()} == set(Role.values)
    for username in ["calltaker", "dispatcher", "street_handler", "water_manager", "auditor"]:
        assert username in demo
    users_file = tmp_path / "demo-users.txt"
    assert stat.S_IMODE(users_file.stat().st_mode) == 0o600
    username, password = users_file.read_text(encoding="utf-8").splitlines()[1].split("\t")[:2]
    assert password in demo
    assert User.objects.get(username=username).check_password(password)
    city_has_districts_bureaus_and_special_citizens()


def test_demo_timelines_show_urges_extensions_supervisions_and_reopens_and_a_rerun_refuses(demo: str) -> None:
    kinds = set(TicketEvent.objects.values_list("kind", flat=True))
    for kind in ["urge", "supervise", "answer_supervision", "request_extension", "approve_extension", "refuse_extension",
                 "request_return", "accept_return", "send_back", "reopen", "merge", "auto_urge_red"]:
        assert kind in kinds, kind
    reopened_then_closed = Ticket.objects.filter(status=Status.CLOSED, reopen_count__gt=0)
    assert reopened_then_closed.exists()
    with pytest.raises(CommandError, match="--reset"):
        call_command("demo", tickets=5, stdout=io.StringIO())


def city_has_districts_bureaus_and_special_citizens() -> None:
    assert District.objects.filter(name__in=["东城区", "西城区", "南湖区", "北山区", "高新区"]).count() == 5
    assert Department.objects.filter(kind="center").exists()
    assert Department.objects.filter(name="市水务局").exclude(duty="").exclude(phone="").exists()
    assert Department.objects.filter(kind="community").count() >= 10
    assert any("VIP" in c.tags for c in Citizen.objects.all())
    assert Citizen.objects.filter(blacklisted=True).count() == 1


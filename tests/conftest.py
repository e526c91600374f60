"""Shared fixtures: a small department tree and one user per role.

Every permission test tells the same story with the same people:
- 东城区 (district) > 东华街道 (street) > 东华社区 (community);
- 市水务局 (a city bureau), 西城区 (another district);
- call_taker, team_leader, dispatcher, supervisor, inspector, statistician, admin,
  auditor at the center; handler/manager of 东华街道; water_handler of 市水务局;
  west_handler of 西城区.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from hotline.accounts import actions as account_actions
from hotline.accounts.models import Role, User
from hotline.directory.models import Department, DepartmentKind

PASSWORD = "Hotline-Test-2026"


def make_department(code: str, name: str, kind: str, parent: Department | None = None) -> Department:
    dept = Department.objects.create(code=code, name=name, kind=kind, parent=parent)
    dept.compute_path()
    dept.save(update_fields=["path", "depth"])
    return dept


@dataclass
class Tree:
    city: Department
    dongcheng: Department
    donghua: Department
    donghua_community: Department
    water: Department
    xicheng: Department


@pytest.fixture
def dictionary(db: Any) -> None:
    """The standard dictionary (migration 0002). Transactional tests flush the
    database after each test, so it is put back when missing."""
    from django.apps import apps

    from hotline.directory import seed
    from hotline.directory.models import Source

    if not Source.objects.exists():
        seed.apply(apps)


@pytest.fixture
def tree(dictionary: None) -> Tree:
    city = make_department("city", "滨江市人民政府", DepartmentKind.CITY)
    dongcheng = make_department("dongcheng", "东城区人民政府", DepartmentKind.DISTRICT, city)
    donghua = make_department("donghua", "东华街道办事处", DepartmentKind.STREET, dongcheng)
    community = make_department("donghua-c1", "东华社区居委会", DepartmentKind.COMMUNITY, donghua)
    water = make_department("water", "市水务局", DepartmentKind.BUREAU, city)
    xicheng = make_department("xicheng", "西城区人民政府", DepartmentKind.DISTRICT, city)
    return Tree(city, dongcheng, donghua, community, water, xicheng)


def make_user(username: str, role: Role, department: Department | None = None) -> User:
    return account_actions.do_create_user(
        None, {"username": username, "role": int(role), "department": department.pk if department else None, "display_name": username},
        PASSWORD,
    )


@dataclass
class People:
    call_taker: User
    team_leader: User
    dispatcher: User
    supervisor: User
    inspector: User
    statistician: User
    admin: User
    auditor: User
    handler: User
    manager: User
    water_handler: User
    west_handler: User


@pytest.fixture
def people(tree: Tree) -> People:
    return People(
        call_taker=make_user("call_taker", Role.CALL_TAKER),
        team_leader=make_user("team_leader", Role.TEAM_LEADER),
        dispatcher=make_user("dispatcher", Role.DISPATCHER),
        supervisor=make_user("supervisor", Role.SUPERVISOR),
        inspector=make_user("inspector", Role.QUALITY_INSPECTOR),
        statistician=make_user("statistician", Role.STATISTICIAN),
        admin=make_user("admin", Role.ADMIN),
        auditor=make_user("auditor", Role.AUDITOR),
        handler=make_user("handler", Role.DEPT_HANDLER, tree.donghua),
        manager=make_user("manager", Role.DEPT_MANAGER, tree.donghua),
        water_handler=make_user("water_handler", Role.DEPT_HANDLER, tree.water),
        west_handler=make_user("west_handler", Role.DEPT_HANDLER, tree.xicheng),
    )


class Api:
    """A JSON client for /api/ acting as one user (bearer token)."""

    def __init__(self, user: User | None) -> None:
        self.client = Client(REMOTE_ADDR="10.1.2.3")
        self.headers: dict[str, str] = {}
        if user is not None:
            raw, _ = account_actions.do_issue_token(user)
            self.headers["Authorization"] = f"Bearer {raw}"

    def _call(self, method: str, path: str, data: Any = None, **kw: Any) -> Any:
        fn = getattr(self.client, method)
        if data is not None and method != "get":
            kw.setdefault("content_type", "application/json")
            data = json.dumps(data, default=str)
        response = fn("/api" + path, data, headers=self.headers, **kw)
        try:
            response.json_body = response.json()
        except (ValueError, TypeError):
            response.json_body = None
        return response

    def get(self, path: str, params: dict[str, Any] | None = None, **kw: Any) -> Any:
        return self._call("get", path, params, **kw)

    def post(self, path: str, data: Any = None, **kw: Any) -> Any:
        return self._call("post", path, data if data is not None else {}, **kw)

    def patch(self, path: str, data: Any = None, **kw: Any) -> Any:
        return self._call("patch", path, data if data is not None else {}, **kw)

    def put(self, path: str, data: Any = None, **kw: Any) -> Any:
        return self._call("put", path, data if data is not None else {}, **kw)

    def delete(self, path: str, **kw: Any) -> Any:
        return self.client.delete("/api" + path, headers=self.headers, **kw)


@pytest.fixture
def api_as(db: Any):  # type: ignore[no-untyped-def]
    """``api_as(user)`` gives a JSON client authenticated as that user."""
    return Api


def ticket_input(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "citizen_name": "王先生",
        "contact_phone": "13812341234",
        "source": "phone",
        "service_type": "complaint",
        "category": "water.outage",
        "address": "东城区东华路88号",
        "summary": "东华路88号小区停水两天无通知",
        "content": "来电人反映东华路88号小区自昨天上午起停水，物业和水厂均未提前通知，老人孩子生活困难，要求尽快恢复供水。",
    }
    data.update(overrides)
    return data


#: A fixed moment for deadline tests: Monday 2026-11-23 10:00 Beijing time.
MONDAY = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


@pytest.fixture(autouse=True)
def _cheap_password_hashing(settings: Any) -> None:
    """Argon2 at its smallest cost (see tests/hashers.py): same algorithm, far less CPU."""
    settings.PASSWORD_HASHERS = ["tests.hashers.CheapArgon2PasswordHasher", *settings.PASSWORD_HASHERS]


@pytest.fixture(autouse=True)
def _media_in_tmp(settings: Any, tmp_path: Any) -> None:
    """Attachments and recordings written by a test land in its own temporary folder."""
    settings.MEDIA_ROOT = tmp_path / "media"


def run_together(functions: list[Callable[[], Any]]) -> list[Any]:
    """Run the functions in threads released at the same moment (each with its own
    database connection, closed after); their results, or the exceptions they raised."""
    barrier = threading.Barrier(len(functions))
    results: list[Any] = [None] * len(functions)

    def worker(i: int, fn: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=10)
            results[i] = fn()
        except Exception as exc:  # collected and asserted by the test
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, fn)) for i, fn in enumerate(functions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results

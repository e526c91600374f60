"""`hotline createuser` goes through accounts.actions.do_create_user: it prints a
generated password, or reads one from stdin, and refuses bad input by name."""

from __future__ import annotations

import io
import sys

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from hotline.accounts.models import Role, User
from tests.conftest import Tree


def test_createuser_prints_a_generated_password_that_works(tree: Tree) -> None:
    out = io.StringIO()
    call_command("createuser", username="d1", role="dispatcher", stdout=out)
    password = out.getvalue().split("password:")[1].strip()
    user = User.objects.get(username="d1")
    assert user.role == Role.DISPATCHER and user.check_password(password)


def test_createuser_reads_the_password_from_stdin_and_sets_the_department(tree: Tree, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("Water-Works-2026\n"))
    out = io.StringIO()
    call_command("createuser", username="w1", role="dept_handler", department="water", password_stdin=True, stdout=out)
    user = User.objects.get(username="w1")
    assert user.department == tree.water and user.check_password("Water-Works-2026")
    assert "password" not in out.getvalue()


def test_createuser_refuses_a_department_role_without_a_department(tree: Tree) -> None:
    with pytest.raises(CommandError, match="department"):
        call_command("createuser", username="x", role="dept_manager", stdout=io.StringIO())
    with pytest.raises(CommandError, match="unknown role"):
        call_command("createuser", username="x", role="mayor", stdout=io.StringIO())

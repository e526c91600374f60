"""``hotline createuser``: create an account through accounts.actions.do_create_user."""

from __future__ import annotations

import secrets
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from hotline.accounts.actions import do_create_user
from hotline.accounts.models import Role
from hotline.lib.errors import InvalidInput

ROLE_NAMES = {
    "call_taker": Role.CALL_TAKER, "team_leader": Role.TEAM_LEADER, "dispatcher": Role.DISPATCHER,
    "dept_handler": Role.DEPT_HANDLER, "dept_manager": Role.DEPT_MANAGER, "supervisor": Role.SUPERVISOR,
    "quality_inspector": Role.QUALITY_INSPECTOR, "statistician": Role.STATISTICIAN, "admin": Role.ADMIN,
    "auditor": Role.AUDITOR,
}


def parse_role(value: str) -> Role:
    key = value.strip().lower().replace("-", "_")
    if key in ROLE_NAMES:
        return ROLE_NAMES[key]
    if key.upper() in Role.__members__:
        return Role[key.upper()]
    for role in Role:
        if value.strip() in (str(role.value), str(role.label)):
            return role
    raise CommandError(f"unknown role {value!r}; one of: {', '.join(ROLE_NAMES)}")


def generate_password() -> str:
    """16 characters from an alphabet without look-alikes; passes the password policy."""
    alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(14)) + secrets.choice("23456789") + secrets.choice("abcdefghjkmnpqrstuvwxyz")


class Command(BaseCommand):
    help = "Create a user account (创建用户). Prints a generated password unless one is given on stdin."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", required=True)
        parser.add_argument("--role", required=True, help="; ".join(f"{k} ({ROLE_NAMES[k].label})" for k in ROLE_NAMES))
        parser.add_argument("--department", default=None, help="department code (required for department roles)")
        parser.add_argument("--display-name", default="")
        parser.add_argument("--phone", default="")
        parser.add_argument("--extension", default=None, help="telephone extension (agents)")
        parser.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")

    def handle(self, *args: Any, **opts: Any) -> None:
        role = parse_role(opts["role"])
        if opts["password_stdin"]:
            password = sys.stdin.readline().rstrip("\r\n")
            generated = False
        else:
            password, generated = generate_password(), True
        data: dict[str, Any] = {
            "username": opts["username"], "role": int(role), "department": opts["department"],
            "display_name": opts["display_name"] or opts["username"], "phone": opts["phone"],
        }
        if opts["extension"]:
            data["extension"] = opts["extension"]
        try:
            user = do_create_user(None, data, password)
        except InvalidInput as exc:
            raise CommandError("; ".join(e["message"] for e in exc.errors)) from exc
        dept = f", {user.department.name}" if user.department else ""
        self.stdout.write(self.style.SUCCESS(f"已创建用户 / created {user.username} ({role.label}{dept})"))
        if generated:
            self.stdout.write(f"密码 / password: {password}")

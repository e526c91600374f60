"""``hotline demo``: the demo city 滨江市 (hotline.cases.demo_data)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from hotline.accounts.models import User
from hotline.cases import demo_data
from hotline.cases.models import Status, Ticket


class Command(BaseCommand):
    help = "Create the demo city 滨江市: departments, users, citizens and tickets in every state (演示数据)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tickets", type=int, default=400, help="number of tickets (default 400)")
        parser.add_argument("--reset", action="store_true", help="erase this demo database first and build it again")
        parser.add_argument("--seed", type=int, default=12345, help="random seed (same seed, same city)")

    def progress(self, done: int, total: int) -> None:
        width = 30
        filled = int(width * done / total) if total else width
        end = "\n" if done >= total else ""
        self.stdout.write(f"\r  工单 / tickets [{'#' * filled}{'.' * (width - filled)}] {100 * done // max(total, 1):3d}% {done}/{total}", ending=end)
        self.stdout.flush()

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["tickets"] < 0:
            raise CommandError("--tickets must be 0 or more")
        call_command("migrate", interactive=False, verbosity=0)
        if demo_data.demo_present():
            if not opts["reset"]:
                raise CommandError("演示数据已存在 / the demo city is already in this database: use --reset to build it again")
            self.stdout.write("清空数据库 / erasing the demo database ...")
            demo_data.reset_demo()
        elif Ticket.objects.exists() or User.objects.exists():
            raise CommandError(
                "数据库中已有非演示数据 / this database already holds real users or tickets; build the demo in an empty "
                "data folder instead, e.g. HOTLINE_DATA_DIR=./demo-var hotline demo"
            )
        started = time.monotonic()
        self.stdout.write("正在生成演示城市 滨江市 / building the demo city ...")
        result = demo_data.build_demo(opts["tickets"], seed=opts["seed"], progress=self.progress)
        elapsed = time.monotonic() - started
        labels = dict(Status.choices)
        counts = ", ".join(f"{labels[k]} {v}" for k, v in result["counts"].items() if v)
        self.stdout.write(f"工单状态 / tickets by state: {counts}")
        urged = result["urged"]
        self.stdout.write(f"超时催办 / deadline job: {sum(urged.values())} automatic urges ({', '.join(f'{k} {v}' for k, v in urged.items())})")
        self.stdout.write(self.style.SUCCESS(f"完成 / done in {elapsed:.1f}s"))
        self.stdout.write("")
        self.stdout.write("演示账号 / demo accounts (密码只显示这一次 / passwords are shown once):")
        main = {u for u, *_ in demo_data.USER_SPECS}
        for username, password, role, dept in result["city"].passwords:
            if username in main:
                self.stdout.write(f"  {username:<16} {password:<14} {role}  {dept}")
        others = len(result["city"].passwords) - len(main)
        self.stdout.write(f"另有 {others} 个部门联络员账号 / plus {others} department liaison accounts, all listed in {result['users_file']} (mode 600)")

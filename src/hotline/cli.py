"""The ``hotline`` command: one entry point, one subcommand per process role.

Thin on purpose: it sets up Django and hands the arguments to a management
command (``src/hotline/cases/management/commands/``), where the work happens.
``hotline <command> --help`` shows the command's own options.
"""

from __future__ import annotations

import argparse
import os
import sys

#: subcommand -> (management command, description shown by ``hotline --help``)
COMMANDS: dict[str, tuple[str, str]] = {
    "serve": ("serve", "启动全部服务(网页+后台任务), 首次运行自动建库 / run everything: web + worker, creating the database on first run"),
    "web": ("serve", "只启动网页服务 uvicorn / run the web server (uvicorn) only"),
    "pbx": ("pbx", "电话交换服务(SIP注册、呼叫桥接、录音) / run the telephony engine: SIP registrar, call bridging, recording"),
    "worker": ("worker", "后台任务与定时作业(超时催办等) / background and periodic jobs (deadline urging, ...)"),
    "demo": ("demo", "生成演示城市“滨江市”的数据 / create the demo city 滨江市 with users and tickets"),
    "gen-tickets": ("gen_tickets", "批量生成工单(压测用) / add N generated tickets for benchmarks"),
    "createuser": ("createuser", "创建用户 / create a user account"),
    "backup": ("backup", "备份数据库和附件 / back up the database and media files to a .tar.gz"),
    "restore": ("restore", "从备份恢复 / restore a backup made by `hotline backup`"),
    "train-dispatch": ("train_dispatch", "训练智能分派模型 / train the dispatch suggestion model from handled tickets"),
    "reindex-knowledge": ("reindex_knowledge", "知识库与工单索引按新词典重建 / re-segment articles and the ticket index with the current dictionary"),
    "check": ("hotline_check", "检查配置与节假日日历 / check the configuration and the holiday calendar"),
    "import-holidays": ("import_holidays", "导入节假日安排(每年) / import a year's holiday schedule (docs/directory.md)"),
    "migrate": ("migrate", "升级数据库结构 / apply database migrations"),
    "manage": ("", "调用任意 Django 管理命令 / run any Django management command (manage <command> ...)"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hotline",
        description="12345 市民热线平台 / citizen-service hotline platform",
        epilog="`hotline <command> --help` 查看命令参数 / shows the options of one command.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="<command>")
    for name, (_, text) in COMMANDS.items():
        # Options belong to the management command: pass everything through.
        sub.add_parser(name, help=text, add_help=False).add_argument("args", nargs=argparse.REMAINDER)
    return parser


def management_argv(command: str, args: list[str]) -> list[str]:
    """The ``manage.py``-style argument list (program name first) for one subcommand."""
    if command == "manage":
        return ["hotline", *(args or ["help"])]
    if command == "web":
        args = ["--web-only", *args]
    return ["hotline", COMMANDS[command][0], *args]


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if not argv or argv[0] in {"-h", "--help"}:
        parser.print_help()
        return 0
    ns = parser.parse_args(argv[:1])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotline.settings")
    import django
    from django.core.management import execute_from_command_line

    django.setup()
    try:
        execute_from_command_line(management_argv(ns.command, argv[1:]))
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""`hotline --help` names every subcommand with a Chinese and an English description."""

from __future__ import annotations

import pytest

from hotline import cli


def test_help_lists_every_command_in_both_languages(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in ["serve", "web", "worker", "demo", "createuser", "backup", "restore", "check", "migrate", "manage"]:
        assert name in out
    assert "演示" in out and "demo city" in out


def test_subcommands_map_to_management_commands() -> None:
    assert cli.management_argv("check", ["--year", "2027"]) == ["hotline", "hotline_check", "--year", "2027"]
    assert cli.management_argv("web", ["--port", "9000"]) == ["hotline", "serve", "--web-only", "--port", "9000"]
    assert cli.management_argv("manage", ["showmigrations"]) == ["hotline", "showmigrations"]

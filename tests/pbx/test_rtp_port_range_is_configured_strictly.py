"""HOTLINE_RTP_PORTS is parsed strictly: a bad value stops start-up naming the variable and the rule."""

from __future__ import annotations

import pytest

from hotline.lib.env import ConfigError
from hotline.pbx.ports import PortRange, port_range_from_env


def test_default_and_valid_ranges(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HOTLINE_RTP_PORTS", raising=False)
    assert port_range_from_env() == PortRange(20000, 30000)
    monkeypatch.setenv("HOTLINE_RTP_PORTS", " 10000-10001 ")
    assert port_range_from_env().pairs == 1
    monkeypatch.setenv("HOTLINE_RTP_PORTS", "16384-32767")
    assert port_range_from_env().pairs == 8192


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("20000", "expected FIRST-LAST"),
        ("20000-30000-40000", "expected FIRST-LAST"),
        ("a-b", "must be integers"),
        ("20001-30000", "must be even"),
        ("80-30000", "at least 1024"),
        ("20000-70000", "at most 65535"),
        ("30000-20000", "at least one RTP/RTCP pair"),
        ("20000-20000", "at least one RTP/RTCP pair"),
    ],
)
def test_bad_ranges_are_refused(monkeypatch: pytest.MonkeyPatch, value: str, rule: str) -> None:
    monkeypatch.setenv("HOTLINE_RTP_PORTS", value)
    with pytest.raises(ConfigError, match=rf"HOTLINE_RTP_PORTS: .*{rule}"):
        port_range_from_env()

"""``pbx_config_from_settings``: the SIP listen address, transports, RTP range, realm
and secret from the settings; values we cannot use stop start-up naming the variable."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hotline.lib.env import ConfigError
from hotline.telephony.config import parse_hostport, pbx_config_from_settings


def test_the_defaults_and_chosen_values(settings: Any) -> None:
    config = pbx_config_from_settings()
    assert config.sip_udp == ("127.0.0.1", 5060) and config.sip_tcp == ("127.0.0.1", 5060)
    assert config.rtp_ports == (20000, 30001) and config.realm == "hotline" and len(config.secret) >= 16
    assert config.recordings_dir == Path(settings.MEDIA_ROOT) / "recordings" and config.max_calls == 500
    settings.HOTLINE_SIP_LISTEN = "0.0.0.0:5070"
    settings.HOTLINE_SIP_TRANSPORTS = ["udp"]
    settings.HOTLINE_RTP_PORTS = "40000-40099"
    settings.HOTLINE_SIP_REALM = "12345.example.cn"
    settings.HOTLINE_SIP_SECRET = "a-secret-of-sufficient-length"
    settings.HOTLINE_SIP_ADVERTISED_HOST = "198.51.100.9"
    settings.HOTLINE_PBX_MAX_CALLS = 40
    config = pbx_config_from_settings()
    assert config.sip_udp == ("0.0.0.0", 5070) and config.sip_tcp is None and config.rtp_ports == (40000, 40100)
    assert config.realm == "12345.example.cn" and config.secret == b"a-secret-of-sufficient-length"
    assert config.advertised_host == "198.51.100.9" and config.max_calls == 40


def test_the_derived_secret_is_the_same_in_every_process_and_differs_per_installation(settings: Any) -> None:
    first = pbx_config_from_settings().secret
    assert pbx_config_from_settings().secret == first
    settings.SECRET_KEY = "another-installation-" + "x" * 40
    assert pbx_config_from_settings().secret != first
    assert settings.SECRET_KEY.encode() not in first


@pytest.mark.parametrize(
    ("name", "value", "variable"),
    [
        ("HOTLINE_SIP_LISTEN", "127.0.0.1", None),  # port 5060 implied: fine
        ("HOTLINE_SIP_LISTEN", "127.0.0.1:0", "HOTLINE_SIP_LISTEN"),
        ("HOTLINE_SIP_LISTEN", "127.0.0.1:99999", "HOTLINE_SIP_LISTEN"),
        ("HOTLINE_SIP_LISTEN", "sip.example.cn:5060", "HOTLINE_SIP_LISTEN"),
        ("HOTLINE_SIP_LISTEN", "::1:5060", "HOTLINE_SIP_LISTEN"),
        ("HOTLINE_SIP_TRANSPORTS", ["udp", "tls"], "HOTLINE_SIP_TRANSPORTS"),
        ("HOTLINE_SIP_TRANSPORTS", [], "HOTLINE_SIP_TRANSPORTS"),
        ("HOTLINE_RTP_PORTS", "20001-30000", "HOTLINE_RTP_PORTS"),
        ("HOTLINE_RTP_PORTS", "20000", "HOTLINE_RTP_PORTS"),
        ("HOTLINE_RTP_PORTS", "20000-20001", "HOTLINE_RTP_PORTS"),
        ("HOTLINE_SIP_REALM", 'bad"realm', "HOTLINE_SIP_REALM"),
        ("HOTLINE_SIP_SECRET", "short", "HOTLINE_SIP_SECRET"),
    ],
)
def test_bad_values_name_the_variable(settings: Any, name: str, value: Any, variable: str | None) -> None:
    setattr(settings, name, value)
    if variable is None:
        pbx_config_from_settings()
        return
    with pytest.raises(ConfigError, match=variable):
        pbx_config_from_settings()


def test_listen_address_forms() -> None:
    assert parse_hostport("[::1]:5070") == ("::1", 5070)
    assert parse_hostport(":5080") == ("0.0.0.0", 5080)
    assert parse_hostport("localhost:5060") == ("127.0.0.1", 5060)


def test_hotline_pbx_stops_at_start_naming_the_bad_variable(tmp_path: Path) -> None:
    from tests.cli._run import hotline

    result = hotline(tmp_path / "var", "pbx", HOTLINE_RTP_PORTS="20001-30000", timeout=60)
    assert result.returncode != 0
    assert "HOTLINE_RTP_PORTS" in result.stderr and "even" in result.stderr

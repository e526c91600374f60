"""``PbxConfig`` from the settings (``HOTLINE_SIP_*``, ``HOTLINE_RTP_PORTS``, ...).

Strict: a value we cannot use raises ``ConfigError`` naming the variable, so
``hotline pbx`` stops at start-up instead of running with a surprise.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from pathlib import Path
from typing import Any

from django.conf import settings

from hotline.lib.env import ConfigError
from hotline.pbx.config import PbxConfig
from hotline.pbx.ports import parse_port_range

TRANSPORTS = ("udp", "tcp")


def parse_hostport(value: str, name: str = "HOTLINE_SIP_LISTEN", default_port: int = 5060) -> tuple[str, int]:
    """``host:port``, ``[v6]:port``, ``host`` (port 5060) or ``:port`` (all interfaces)."""
    text = value.strip()
    if not text:
        raise ConfigError(f"{name}: expected host:port, got an empty value")
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            raise ConfigError(f"{name}: expected [v6-address]:port, got {value!r}")
        port_text = rest[1:] if rest else str(default_port)
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    elif ":" in text:
        raise ConfigError(f"{name}: an IPv6 address needs brackets ([::1]:5060), got {value!r}")
    else:
        host, port_text = text, str(default_port)
    host = host or "0.0.0.0"
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ConfigError(f"{name}: port must be 1-65535, got {value!r}")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if host != "localhost":
            raise ConfigError(f"{name}: the listen host must be an IP address (or localhost), got {host!r}") from None
        host = "127.0.0.1"
    return host, int(port_text)


def sip_secret() -> bytes:
    """``HOTLINE_SIP_SECRET``, or a key derived from ``SECRET_KEY`` (same in every process
    sharing the data folder). Keys the registrar's nonces and the PBX → web CTI link."""
    explicit = getattr(settings, "HOTLINE_SIP_SECRET", "") or ""
    if explicit:
        if len(explicit.encode()) < 16:
            raise ConfigError("HOTLINE_SIP_SECRET: must be at least 16 bytes")
        return explicit.encode()
    return hmac.new(settings.SECRET_KEY.encode(), b"hotline.telephony.sip-secret", hashlib.sha256).digest()


def recordings_dir() -> Path:
    return Path(settings.MEDIA_ROOT) / "recordings"


def pbx_config_from_settings(**overrides: Any) -> PbxConfig:
    """The PBX configuration of this installation; ``overrides`` replace single fields."""
    transports = [t.strip().lower() for t in settings.HOTLINE_SIP_TRANSPORTS]
    unknown = [t for t in transports if t not in TRANSPORTS]
    if unknown or not transports:
        raise ConfigError(f"HOTLINE_SIP_TRANSPORTS: expected a comma list of {', '.join(TRANSPORTS)}, got {settings.HOTLINE_SIP_TRANSPORTS!r}")
    listen = parse_hostport(settings.HOTLINE_SIP_LISTEN)
    try:
        ports = parse_port_range(settings.HOTLINE_RTP_PORTS)
    except ValueError as exc:
        raise ConfigError(f"HOTLINE_RTP_PORTS: {exc}") from None
    if ports.last + 1 - ports.first < 4:
        raise ConfigError("HOTLINE_RTP_PORTS: the range must hold at least 4 ports")
    realm = settings.HOTLINE_SIP_REALM.strip()
    if not realm or '"' in realm or "\\" in realm or len(realm) > 128:
        raise ConfigError(f"HOTLINE_SIP_REALM: 1-128 characters without quotes or backslashes, got {realm!r}")
    advertised = (settings.HOTLINE_SIP_ADVERTISED_HOST or "").strip()
    values: dict[str, Any] = {
        "sip_udp": listen if "udp" in transports else None,
        "sip_tcp": listen if "tcp" in transports else None,
        "advertised_host": advertised,
        # PbxConfig's range is [low, high); the setting's last port is inclusive.
        "rtp_ports": (ports.first, ports.last + 1),
        "rtp_host": listen[0],
        "realm": realm,
        "secret": sip_secret(),
        "recordings_dir": recordings_dir(),
        "max_calls": settings.HOTLINE_PBX_MAX_CALLS,
    }
    values.update(overrides)
    try:
        return PbxConfig(**values)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None

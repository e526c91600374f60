"""Configuration of one PBX process (built from settings by ``hotline pbx``).

No Django here: ``hotline.telephony.config.pbx_config_from_settings()`` builds
this from ``HOTLINE_SIP_*`` / ``HOTLINE_RTP_*`` environment settings, tests and
benchmarks build it directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["PbxConfig"]


@dataclass(frozen=True)
class PbxConfig:
    # Where SIP listens; None disables that transport.
    sip_udp: tuple[str, int] | None = ("127.0.0.1", 5060)
    sip_tcp: tuple[str, int] | None = ("127.0.0.1", 5060)
    # Host written into Via/Contact/SDP c= lines ("" = the listen host).
    advertised_host: str = ""
    # RTP port range, inclusive low, exclusive high; even ports for RTP.
    rtp_ports: tuple[int, int] = (20000, 30000)
    rtp_host: str = "127.0.0.1"
    # Digest realm (HA1 values in the directory are computed for it) and the
    # HMAC secret of stateless nonces (at least 16 bytes).
    realm: str = "hotline"
    secret: bytes = b""
    # Recordings are written under this directory (the media root's recordings/).
    recordings_dir: Path = Path("recordings")
    record_calls: bool = True
    # Limits and protection.
    max_calls: int = 500
    media_timeout: float = 30.0
    min_expires: int = 60
    max_expires: int = 3600
    rate_limit_per_second: float = 50.0  # SIP requests per source address
    rate_limit_burst: int = 100
    ban_after_failures: int = 5  # failed digest checks before a ban
    ban_seconds: float = 600.0
    # Networks that are never rate limited or banned (e.g. a load-test host, the SBC).
    trusted_networks: tuple[str, ...] = ()
    # Digest algorithms offered in challenges, one header each, in this order.  MD5
    # only by default: baresip 1.0 and SIPp fail on a SHA-256 challenge instead of
    # skipping it, and most desk phones know only MD5 (RFC 8760 clients can be
    # served ("SHA-256", "MD5")).  Added by the SIP engine; optional.
    digest_algorithms: tuple[str, ...] = ("MD5",)

    def __post_init__(self) -> None:
        if self.secret and len(self.secret) < 16:
            raise ValueError("PbxConfig.secret must be at least 16 bytes")
        low, high = self.rtp_ports
        if not (1024 <= low < high <= 65536) or high - low < 4:
            raise ValueError("PbxConfig.rtp_ports must be a range of at least 4 ports within 1024..65536")

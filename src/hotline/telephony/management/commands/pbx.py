"""``hotline pbx``: the telephony engine alone (SIP registrar, B2BUA, recording).

Reads its configuration from the settings (``telephony.config``) and the case
system through ``telephony.store.DjangoDirectory``. ``hotline serve`` runs it as a
supervised child when ``HOTLINE_PBX_ENABLED`` (the default)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from hotline.lib.env import ConfigError


class Command(BaseCommand):
    help = "Run the telephony engine (SIP/RTP) alone (电话交换服务)."
    requires_system_checks = ()

    def handle(self, *args: Any, **opts: Any) -> None:
        from hotline.telephony.config import pbx_config_from_settings
        from hotline.telephony.store import DjangoDirectory

        try:
            config = pbx_config_from_settings()
        except ConfigError as exc:
            raise CommandError(str(exc)) from None
        try:
            from hotline.pbx.server import run
        except ImportError as exc:
            raise CommandError(f"the telephony engine is not available: {exc}") from None
        config.recordings_dir.mkdir(parents=True, exist_ok=True)
        listen = ", ".join(f"{proto} {addr[0]}:{addr[1]}" for proto, addr in (("udp", config.sip_udp), ("tcp", config.sip_tcp)) if addr)
        self.stdout.write(f"电话交换服务 / pbx: SIP {listen}, RTP {config.rtp_ports[0]}-{config.rtp_ports[1] - 1}, realm {config.realm}")
        self.stdout.flush()
        run(config, DjangoDirectory())

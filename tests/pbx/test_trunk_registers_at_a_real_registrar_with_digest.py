"""The PBX registers to a carrier trunk (``Trunk.register``) at a real registrar: SIPp
on 127.0.0.3 plays the carrier, challenges the first REGISTER with a 401 (MD5 digest,
qop=auth) and checks our answer with SIPp's own digest code (``verifyauth``) against
the trunk's credentials. Right credentials: 200 OK, the trunk is registered and takes
the registrar's expiry (60 s, not the 3600 s asked for). Wrong password: 403, the
trunk is not registered and keeps the status for the status page.
"""

from __future__ import annotations

from pathlib import Path

from hotline.pbx.directory import Trunk
from hotline.pbx.server import PbxServer

from tests.pbx._phones import run
from tests.pbx._sip_peers import config, directory, free_udp_port, sipp, wait_for

CARRIER = "127.0.0.3"


def _register(tmp_path: Path, *, password_sent: str) -> tuple[int, bool, int, str]:
    """Run one registration against the SIPp registrar; returns (status, registered,
    expires, SIPp's log)."""
    port = free_udp_port(CARRIER)
    trunk = Trunk("carrier", host=CARRIER, port=port, username="hz12345", password=password_sent,
                  register=True, register_expires=3600)

    async def body() -> tuple[int, bool, int, str]:
        registrar = await sipp("carrier registrar", "uas_registrar.xml", "-m", "1",
                               local_ip=CARRIER, port=port, timeout=20, cwd=tmp_path)
        server = PbxServer(config(tmp_path), directory(trunks=[trunk]))
        try:
            await server.start()
            assert len(server.trunk_registrations) == 1
            reg = server.trunk_registrations[0]
            await wait_for(lambda: reg.last_status != 0, timeout=15)
            code = await registrar.wait(15)
            assert code == 0, registrar.log()
            return reg.last_status, reg.registered, reg.expires, registrar.log()
        finally:
            await server.stop()
            await registrar.stop()

    return run(body(), timeout=40)


def test_trunk_registers_with_the_right_credentials_and_takes_the_registrars_expiry(tmp_path: Path) -> None:
    status, registered, expires, log = _register(tmp_path, password_sent="Carrier-Secret-9")
    assert (status, registered) == (200, True), log
    assert expires == 60


def test_trunk_with_a_wrong_password_is_refused_and_not_registered(tmp_path: Path) -> None:
    status, registered, expires, log = _register(tmp_path, password_sent="wrong-password")
    assert (status, registered) == (403, False), log
    assert expires == 3600

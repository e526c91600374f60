"""Real SIP peers for the PBX tests: SIPp (/usr/bin/sipp) and baresip, run as
subprocesses on 127.0.0.x, each bounded in time and killed at the end.

Nothing is mocked: the server under test is a real :class:`PbxServer` on
UDP port 0; the peers are the Debian packages' binaries.
"""

from __future__ import annotations

import asyncio
import socket
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hotline.pbx.config import PbxConfig
from hotline.pbx.directory import MemoryDirectory, SipAccount, Trunk
from hotline.sip.digest import hash_a1

from tests.pbx._phones import port_range

SIPP = "/usr/bin/sipp"
BARESIP = "/usr/bin/baresip"
SCENARIOS = Path(__file__).parent / "sipp"
REALM = "hotline"
SECRET = b"test-secret-0123456789abcdef"


def account(ext: str, password: str, **kwargs: Any) -> SipAccount:
    return SipAccount(ext, {alg: hash_a1(alg, ext, REALM, password) for alg in ("MD5", "SHA-256")}, **kwargs)


def free_udp_port(host: str = "127.0.0.1") -> int:
    """A port free for UDP *and* TCP on ``host`` right now (SIPp binds both)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.bind((host, 0))
            port = u.getsockname()[1]
            if port % 2:
                continue  # even ports leave room for SIPp's media port + 2
            try:
                with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
                    t.bind((host, port))
            except OSError:
                continue
            return int(port)
    raise RuntimeError("no free port")


def config(tmp: Path, **overrides: Any) -> PbxConfig:
    pr = port_range(40)
    values: dict[str, Any] = dict(
        sip_udp=("127.0.0.1", 0), sip_tcp=("127.0.0.1", 0), rtp_ports=(pr.first, pr.last + 1),
        rtp_host="127.0.0.1", realm=REALM, secret=SECRET, recordings_dir=tmp / "media" / "recordings",
        media_timeout=10.0,
    )
    values.update(overrides)
    return PbxConfig(**values)


def directory(*, accounts: Sequence[SipAccount] = (), trunks: Sequence[Trunk] = ()) -> MemoryDirectory:
    return MemoryDirectory(accounts, trunks)


@dataclass
class Peer:
    proc: asyncio.subprocess.Process
    name: str
    out: bytes = b""
    err: bytes = b""

    async def wait(self, timeout: float) -> int:
        try:
            self.out, self.err = await asyncio.wait_for(self.proc.communicate(), timeout)
        except asyncio.TimeoutError:
            self.kill()
            self.out, self.err = await self.proc.communicate()
            raise AssertionError(f"{self.name} did not finish within {timeout}s:\n{self.log()}")
        assert self.proc.returncode is not None
        return self.proc.returncode

    def kill(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()

    async def stop(self) -> None:
        """Kill (if still running) and reap the process."""
        self.kill()
        try:
            await asyncio.wait_for(self.proc.wait(), 5)
        except asyncio.TimeoutError:
            pass

    def log(self) -> str:
        return (self.out.decode(errors="replace") + self.err.decode(errors="replace"))[-4000:]


async def sipp(name: str, scenario: str, *args: str, remote: tuple[str, int] | None = None,
               local_ip: str = "127.0.0.1", port: int | None = None, timeout: int = 30, cwd: Path | None = None) -> Peer:
    """Start SIPp with ``scenario`` (a file in tests/pbx/sipp); it quits by itself after ``timeout`` s."""
    cmd = [SIPP]
    if remote is not None:
        cmd.append(f"{remote[0]}:{remote[1]}")
    cmd += ["-sf", str(SCENARIOS / scenario), "-i", local_ip, "-p", str(port or free_udp_port(local_ip)),
            "-nostdin", "-timeout", f"{timeout}s", "-timeout_error", "-trace_err", "-max_recv_loops", "10000"]
    cmd += list(args)
    proc = await asyncio.create_subprocess_exec(
        *cmd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=str(cwd) if cwd else None,
    )
    return Peer(proc, name)


def wav_channel_levels(path: Path) -> tuple[float, float, float]:
    """(seconds, RMS of the left channel, RMS of the right channel)."""
    with wave.open(str(path), "rb") as w:
        assert w.getnchannels() == 2 and w.getsampwidth() == 2 and w.getframerate() == 8000
        frames = w.readframes(w.getnframes())
    samples = np.frombuffer(frames, dtype="<i2").reshape(-1, 2).astype(np.float64)
    seconds = samples.shape[0] / 8000
    rms = np.sqrt(np.mean(samples**2, axis=0)) if samples.size else np.zeros(2)
    return seconds, float(rms[0]), float(rms[1])


async def wait_for(predicate: Any, timeout: float = 10.0, interval: float = 0.05) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(interval)


async def sipp_phone(server: tuple[str, int], ext: str, password: str, scenario: str, cwd: Path, *args: str,
                     timeout: int = 30) -> Peer:
    """A SIPp "phone": REGISTER ``ext`` from a free port, then run the UAS ``scenario`` on that port."""
    port = free_udp_port()
    reg = await sipp(f"register {ext}", "register.xml", "-s", ext, "-au", ext, "-ap", password, "-m", "1",
                     remote=server, port=port, timeout=10, cwd=cwd)
    code = await reg.wait(15)
    assert code == 0, reg.log()
    media = free_udp_port()
    return await sipp(f"phone {ext} {scenario}", scenario, "-m", "1", "-mi", "127.0.0.1", "-mp", str(media),
                      *args, port=port, timeout=timeout, cwd=cwd)

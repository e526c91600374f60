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


class Baresip:
    """baresip (Debian package) as a softphone: temp config dir, aufile audio source
    (a WAV), aubridge as the player (no sound card), commands and events over ctrl_tcp
    (netstring JSON)."""

    def __init__(self, tmp: Path, ext: str, password: str, server: tuple[str, int], *,
                 source_wav: str = "", answer: str = "auto") -> None:
        self.dir = tmp / f"baresip-{ext}"
        self.dir.mkdir(parents=True, exist_ok=True)
        if not source_wav:  # aufile in baresip 1.0 needs 8 kHz: a 30 s 523 Hz tone
            source_wav = str(self.dir / "tone.wav")
            t = np.arange(8000 * 30) / 8000
            tone = (6000 * np.sin(2 * np.pi * 523 * t)).astype("<i2")
            with wave.open(source_wav, "wb") as w:
                w.setnchannels(1)
                w.setsampwidth(2)
                w.setframerate(8000)
                w.writeframes(tone.tobytes())
        self.sip_port = free_udp_port()
        self.ctrl_port = free_udp_port()
        (self.dir / "config").write_text(
            "poll_method epoll\n"
            f"sip_listen 127.0.0.1:{self.sip_port}\n"
            "audio_player aubridge,nil\n"
            f"audio_source aufile,{source_wav}\n"
            "audio_alert aubridge,nil\n"
            "module_path /usr/lib/baresip/modules\n"
            "module g711.so\nmodule aufile.so\nmodule aubridge.so\nmodule ctrl_tcp.so\n"
            "module_app account.so\nmodule_app menu.so\n"
            f"ctrl_tcp_listen 127.0.0.1:{self.ctrl_port}\n"
            "rtp_timeout 0\n"
        )
        (self.dir / "accounts").write_text(
            f"<sip:{ext}@{server[0]}:{server[1]}>;auth_pass={password};regint=120;answermode={answer}"
            ";audio_codecs=PCMU,PCMA\n"
        )
        self.events: list[dict[str, Any]] = []
        self.responses: list[dict[str, Any]] = []
        self.proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._task: asyncio.Task[None] | None = None
        self.output = b""

    async def start(self, timeout: int = 60) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            BARESIP, "-f", str(self.dir), "-t", str(timeout),
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while True:
            try:
                self._reader, self._writer = await asyncio.open_connection("127.0.0.1", self.ctrl_port)
                break
            except OSError:
                if loop.time() > deadline:
                    raise
                await asyncio.sleep(0.1)
        self._task = loop.create_task(self._read())

    async def _read(self) -> None:
        import json

        assert self._reader is not None
        while True:
            try:
                length = await self._reader.readuntil(b":")
                data = await self._reader.readexactly(int(length[:-1]) + 1)
            except (asyncio.IncompleteReadError, ValueError, ConnectionError):
                return
            try:
                message = json.loads(data[:-1])
            except ValueError:
                continue
            (self.events if message.get("event") else self.responses).append(message)

    async def command(self, command: str, params: str = "") -> None:
        import json

        assert self._writer is not None
        body = json.dumps({"command": command, "params": params, "token": command}).encode()
        self._writer.write(str(len(body)).encode() + b":" + body + b",")
        await self._writer.drain()

    def has_event(self, kind: str) -> bool:
        return any(e.get("type") == kind for e in self.events)

    async def stop(self) -> None:
        if self._writer is not None:
            self._writer.close()
        if self._task is not None:
            self._task.cancel()
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
        if self.proc is not None:
            try:
                out, _ = await asyncio.wait_for(self.proc.communicate(), 5)
                self.output = out or b""
            except asyncio.TimeoutError:
                pass

    def log(self) -> str:
        return self.output.decode(errors="replace")[-3000:] + "\n" + repr(self.events[-10:])


def dtmf_pcap(path: Path, digits: str, *, payload_type: int = 101, gap_ms: int = 120) -> None:
    """A pcap (Ethernet/IPv4/UDP/RTP) of RFC 4733 events for ``digits``, built with
    hotline.media's DtmfSender, for SIPp's ``play_pcap_audio`` (Debian's captures hold
    one digit each, with sequence numbers that go backwards between files)."""
    import random as _random
    import struct

    from hotline.media.dtmf import DtmfSender
    from hotline.media.rtp import RtpSender

    rtp = RtpSender(payload_type=0, rng=_random.Random(5))
    sender = DtmfSender(rtp, payload_type)
    records = []
    t = 1_700_000_000.0
    for digit in digits:
        for offset, packet in sender.schedule(digit, duration_ms=100):
            records.append((t + offset, packet.serialize()))
        t += 0.1 + gap_ms / 1000 + 0.06
        rtp.advance(round(gap_ms * 8))
    out = bytearray(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    for ts, payload in records:
        udp = struct.pack("!HHHH", 10000, 20000, 8 + len(payload), 0) + payload
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                         bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1])) + udp
        frame = b"\x00" * 12 + b"\x08\x00" + ip
        sec = int(ts)
        out += struct.pack("<IIII", sec, int((ts - sec) * 1e6), len(frame), len(frame)) + frame
    path.write_bytes(bytes(out))

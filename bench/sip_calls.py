"""Benchmark: real SIP calls through the PBX server, SIPp as the load generator.

    .venv/bin/python bench/sip_calls.py --calls 50,100,200,400 --seconds 60 --cps 50 --cps-seconds 60

Two measurements, both on 127.0.0.1, both bounded in time and count:

**Concurrent recorded calls** (``--calls``).  For each N the server (this file with
``--serve``: a PbxServer on uvloop, every call recorded to a stereo WAV in a temporary
folder) runs in its own process pinned to CPU 0.  A SIPp "phone" registers as extension
8001 (digest) and answers every call with ``-rtp_echo`` (the RTP it receives from the
server goes back to the server); a SIPp caller on 127.0.0.2 (the trunk's address) places N
calls at 20 calls/s, each streaming G.711 µ-law RTP (``rtp_stream``, 20 ms packets) for
``--seconds`` after the ramp, then BYE.  So every call has two legs with RTP both ways
through the bridge.  In the steady window (all N calls up) the server reports, from
its own legs:

* relay integrity: packets received on each leg vs sent on by the other leg;
* loss: RTP sequence gaps seen by the server on the caller legs (SIPp → server) and on
  the phone legs (server → SIPp echo → server: includes the server's own sending);
* jitter: RFC 3550 interarrival jitter on the caller legs (the generator's pacing, the
  baseline) and on the phone legs (after the server's relay and SIPp's echo); "added"
  is the difference — an upper bound of what the server adds, since the echo path
  crosses SIPp and the loopback twice;
* kernel drops on the server's own sockets (/proc/net/udp): loss attributable to it;
* CPU (% of one core, getrusage) and RSS per call (steady RSS − idle RSS) / N.

**Call set-up rate** (``--cps``): SIPp places ``cps × cps-seconds`` calls at ``--cps``
calls/s (1 s each, signalling only, still bridged and recorded); reported: successful
and failed calls (from SIPp's own counters), the server's CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve()
sys.path.insert(0, str(HERE.parents[1] / "src"))
sys.path.insert(0, str(HERE.parent))

from rtp_relay import cpu_seconds, new_loop, pin, raise_fd_limit, rss_kb, udp_socket_drops  # noqa: E402

SIPP = "/usr/bin/sipp"
SCENARIOS = HERE.parent / "sipp"
PASSWORD = "bench-8001"


# --------------------------------------------------------------------------- server process


async def serve(args: argparse.Namespace) -> None:
    from hotline.media import g711  # noqa: F401  (warm import)
    from hotline.pbx.config import PbxConfig
    from hotline.pbx.directory import MemoryDirectory, SipAccount, Trunk
    from hotline.pbx.server import PbxServer
    from hotline.sip.digest import hash_a1

    rec = Path(args.recordings)
    config = PbxConfig(
        sip_udp=("127.0.0.1", 0), sip_tcp=None, rtp_ports=(args.rtp_low, args.rtp_low + 4000),
        rtp_host="127.0.0.1", secret=b"bench-secret-0123456789", recordings_dir=rec / "recordings",
        max_calls=2000, media_timeout=30.0, rate_limit_per_second=0, trusted_networks=("127.0.0.0/8",),
    )
    account = SipAccount("8001", {a: hash_a1(a, "8001", "hotline", PASSWORD) for a in ("MD5", "SHA-256")},
                         max_bindings=5)
    trunk = Trunk("load", host="127.0.0.2", allowed_sources=("127.0.0.2",), did_routes={"12345": "8001"})
    directory = MemoryDirectory([account], [trunk])
    server = PbxServer(config, directory)
    await server.start()
    assert server.udp_address is not None
    print(json.dumps({"port": server.udp_address[1]}), flush=True)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    lag: list[float] = []
    expected = loop.time() + 0.01

    def tick() -> None:
        nonlocal expected, handle
        now = loop.time()
        lag.append(now - expected)
        expected = now + 0.01
        handle = loop.call_at(expected, tick)

    handle = loop.call_at(expected, tick)
    while True:
        line = (await reader.readline()).decode().strip()
        if not line or line == "quit":
            break
        if line == "reset":
            lag.clear()
        if line in ("stats", "reset"):
            legs_a, legs_b = [], []
            for call in server.calls.calls.values():
                if call.bridge is not None and call.a is not None and call.b is not None:
                    legs_a.append(call.a.rtp.counters())
                    legs_b.append(call.b.rtp.counters())
            ports = {server.udp_address[1]} | {leg.port for leg in server.engine.endpoints} | {
                leg.port + 1 for leg in server.engine.endpoints}
            lag_ms = np.array(lag) * 1000 if lag else np.zeros(1)
            print(json.dumps({
                "cpu": cpu_seconds(), "rss_kb": rss_kb(), "t": time.monotonic(),
                "legs_a": legs_a, "legs_b": legs_b, "drops": udp_socket_drops(ports),
                "records": len(directory.records), "stats": server.stats(),
                "lag_ms": [float(lag_ms.mean()), float(np.percentile(lag_ms, 99)), float(lag_ms.max())],
            }), flush=True)
    handle.cancel()
    await server.stop()
    print(json.dumps({"records": len(directory.records), "stopped": True}), flush=True)


# --------------------------------------------------------------------------- driver


class Server:
    def __init__(self, args: argparse.Namespace, recordings: Path, rtp_low: int) -> None:
        cmd = [sys.executable, str(HERE), "--serve", "--recordings", str(recordings), "--rtp-low", str(rtp_low)]
        self.proc = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            preexec_fn=lambda: pin(0) and None,
        )
        self.port = int(self._read()["port"])

    def _read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("server process exited")
        result: dict[str, Any] = json.loads(line)
        return result

    def ask(self, what: str = "stats") -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(what + "\n")
        self.proc.stdin.flush()
        return self._read()

    def stop(self) -> dict[str, Any]:
        try:
            result = self.ask("quit")
        except (RuntimeError, BrokenPipeError, ValueError):
            result = {}
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        return result


def free_port(host: str = "127.0.0.1") -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def sipp(args: list[str], cwd: Path, nice: int) -> subprocess.Popen[bytes]:
    cmd = [SIPP, *args, "-nostdin", "-timeout_error"]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=cwd,
                            preexec_fn=lambda: pin(1) and None)


def sipp_counts(output: bytes) -> tuple[int, int]:
    text = output.decode(errors="replace")
    ok = re.findall(r"Successful call\s*\|\s*\d+\s*\|\s*(\d+)", text)
    failed = re.findall(r"Failed call\s*\|\s*\d+\s*\|\s*(\d+)", text)
    return (int(ok[-1]) if ok else -1, int(failed[-1]) if failed else -1)


def register_phone(server_port: int, work: Path, nice: int) -> tuple[int, int]:
    phone_port = free_port()
    reg = sipp(["127.0.0.1:%d" % server_port, "-sf", str(SCENARIOS / "bench_register.xml"), "-s", "8001",
                "-au", "8001", "-ap", PASSWORD, "-m", "1", "-i", "127.0.0.1", "-p", str(phone_port),
                "-timeout", "10s"], work, nice)
    out, _ = reg.communicate(timeout=20)
    if reg.returncode != 0:
        raise RuntimeError("REGISTER failed:\n" + out.decode(errors="replace")[-2000:])
    media = free_port()
    media -= media % 2
    return phone_port, media


def run_concurrent(n: int, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    recordings = work / f"rec-{n}"
    recordings.mkdir()
    server = Server(args, recordings, 20000)
    try:
        phone_port, media = register_phone(server.port, work, args.nice)
        uas = sipp(["-sf", str(SCENARIOS / "bench_uas.xml"), "-i", "127.0.0.1", "-p", str(phone_port),
                    "-mi", "127.0.0.1", "-mp", str(media), "-rtp_echo", "-timeout",
                    f"{int(args.seconds + n / 20 + 60)}s", "-max_socket", "5000"], work, args.nice)
        time.sleep(0.5)
        idle = server.ask("stats")
        ramp = n / 20
        hold_ms = int((args.seconds + ramp + 4) * 1000)
        scenario = work / "bench_uac.xml"  # SIPp does not expand keywords inside <exec>
        scenario.write_text((SCENARIOS / "bench_uac.xml").read_text().replace("[rtp_file]", str(work / "tone.ulaw")))
        uac = sipp(["127.0.0.1:%d" % server.port, "-sf", str(scenario), "-s", "12345",
                    "-i", "127.0.0.2", "-p", str(free_port("127.0.0.2")), "-mi", "127.0.0.2",
                    "-mp", "30000",
                    "-r", "20", "-l", str(n), "-m", str(n), "-d", str(hold_ms),
                    "-timeout", f"{int(args.seconds + 2 * ramp + 60)}s", "-max_socket", "5000"], work, args.nice)
        time.sleep(ramp + 3)
        first = server.ask("reset")
        time.sleep(args.seconds)
        second = server.ask("stats")
        out_uac, _ = uac.communicate(timeout=ramp + 90)
        ok, failed = sipp_counts(out_uac)
        time.sleep(1.0)
        uas.kill()
        uas.communicate()
        end = server.stop()
    except BaseException:
        server.proc.kill()
        raise
    return summarise(n, idle, first, second, ok, failed, end, args.seconds)


def summarise(n: int, idle: dict[str, Any], first: dict[str, Any], second: dict[str, Any], ok: int, failed: int,
              end: dict[str, Any], seconds: float) -> dict[str, Any]:
    def total(snapshot: dict[str, Any], legs: str, key: str) -> float:
        return float(sum(leg[key] for leg in snapshot[legs]))

    wall = second["t"] - first["t"]
    cpu = second["cpu"] - first["cpu"]
    recv_a = total(second, "legs_a", "received") - total(first, "legs_a", "received")
    recv_b = total(second, "legs_b", "received") - total(first, "legs_b", "received")
    sent_a = total(second, "legs_a", "sent") - total(first, "legs_a", "sent")
    sent_b = total(second, "legs_b", "sent") - total(first, "legs_b", "sent")
    lost_a = total(second, "legs_a", "lost") - total(first, "legs_a", "lost")
    lost_b = total(second, "legs_b", "lost") - total(first, "legs_b", "lost")
    jit_a = [leg["jitter_ms"] for leg in second["legs_a"]]
    jit_b = [leg["jitter_ms"] for leg in second["legs_b"]]
    return {
        "calls": n, "up": len(second["legs_a"]), "seconds": round(wall, 1),
        "cpu_pct": round(100 * cpu / wall, 1),
        "cpu_us_per_packet": round(1e6 * cpu / max(1.0, recv_a + recv_b), 1),
        "packets_in": int(recv_a + recv_b), "packets_out": int(sent_a + sent_b),
        "relay_gap": int((recv_a - sent_b) + (recv_b - sent_a)),
        "lost_caller_legs": int(lost_a), "lost_phone_legs": int(lost_b),
        "jitter_caller_ms": round(float(np.mean(jit_a)) if jit_a else 0.0, 2),
        "jitter_phone_ms": round(float(np.mean(jit_b)) if jit_b else 0.0, 2),
        "jitter_phone_p99_ms": round(float(np.percentile(jit_b, 99)) if jit_b else 0.0, 2),
        "added_jitter_ms": round((float(np.mean(jit_b)) - float(np.mean(jit_a))) if jit_a and jit_b else 0.0, 2),
        "loop_lag_ms": [round(x, 1) for x in second["lag_ms"]],
        "kernel_drops_server": int(second["drops"]),
        "rss_per_call_kib": round((second["rss_kb"] - idle["rss_kb"]) / max(1, n), 1),
        "sipp_ok": ok, "sipp_failed": failed, "cdrs": end.get("records", -1),
    }


def run_cps(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    recordings = work / "rec-cps"
    recordings.mkdir()
    server = Server(args, recordings, 20000)
    total_calls = int(args.cps * args.cps_seconds)
    try:
        phone_port, media = register_phone(server.port, work, args.nice)
        uas = sipp(["-sf", str(SCENARIOS / "bench_uas.xml"), "-i", "127.0.0.1", "-p", str(phone_port),
                    "-mi", "127.0.0.1", "-mp", str(media), "-timeout", f"{int(args.cps_seconds + 60)}s",
                    "-max_socket", "5000"], work, args.nice)
        time.sleep(0.5)
        first = server.ask("reset")
        uac = sipp(["127.0.0.1:%d" % server.port, "-sf", str(SCENARIOS / "bench_uac_signalling.xml"), "-s", "12345",
                    "-i", "127.0.0.2", "-p", str(free_port("127.0.0.2")), "-mi", "127.0.0.2",
                    "-r", str(args.cps), "-m", str(total_calls), "-d", "1000", "-l", str(int(args.cps * 10)),
                    "-timeout", f"{int(args.cps_seconds + 60)}s", "-max_socket", "5000"], work, args.nice)
        t0 = time.monotonic()
        out_uac, _ = uac.communicate(timeout=args.cps_seconds + 90)
        elapsed = time.monotonic() - t0
        second = server.ask("stats")
        ok, failed = sipp_counts(out_uac)
        time.sleep(1.5)
        uas.kill()
        uas.communicate()
        end = server.stop()
    except BaseException:
        server.proc.kill()
        raise
    cpu = second["cpu"] - first["cpu"]
    return {
        "target_cps": args.cps, "calls": total_calls, "sipp_ok": ok, "sipp_failed": failed,
        "failure_pct": round(100 * max(0, failed) / max(1, total_calls), 3), "elapsed_s": round(elapsed, 1),
        "achieved_cps": round(ok / max(1e-9, elapsed - 1.0), 1), "server_cpu_pct": round(100 * cpu / elapsed, 1),
        "cdrs": end.get("records", -1), "loop_lag_ms": [round(x, 1) for x in second["lag_ms"]],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--recordings", default="", help=argparse.SUPPRESS)
    parser.add_argument("--rtp-low", type=int, default=20000, help=argparse.SUPPRESS)
    parser.add_argument("--calls", default="50,100,200,400", help="concurrent call levels ('' = skip)")
    parser.add_argument("--seconds", type=float, default=60.0, help="steady window per level (max 120)")
    parser.add_argument("--cps", type=float, default=50.0, help="set-up rate (0 = skip)")
    parser.add_argument("--cps-seconds", type=float, default=60.0, help="set-up rate run length (max 120)")
    parser.add_argument("--nice", type=int, default=0,
                        help="nice increment for this process, the server and SIPp, also applied to their scheduler "
                             "autogroup (e.g. -10 as root, so that other work on a shared machine does not starve them)")
    args = parser.parse_args()
    raise_fd_limit()
    if args.serve:
        loop = new_loop(True)
        asyncio.set_event_loop(loop)
        loop.run_until_complete(serve(args))
        return
    if args.nice:
        os.nice(args.nice)  # inherited by the server and SIPp (which also get `nice -n`)
        try:  # with sched_autogroup (Debian's default) nice only ranks processes inside one session
            Path("/proc/self/autogroup").write_text(str(args.nice))
        except OSError:
            pass
    args.seconds = min(args.seconds, 120.0)
    args.cps_seconds = min(args.cps_seconds, 120.0)
    work = Path(tempfile.mkdtemp(prefix="hl-sipbench-"))
    try:
        from hotline.media import g711

        t = np.arange(8000 * 10) / 8000
        pcm = (8000 * np.sin(2 * np.pi * 440 * t)).astype(np.int16)
        (work / "tone.ulaw").write_bytes(g711.encode_ulaw(pcm))
        print(f"# {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}; load average {os.getloadavg()}", flush=True)
        for level in [int(x) for x in args.calls.split(",") if x.strip()]:
            row = run_concurrent(level, args, work)
            print(json.dumps(row), f"# load {os.getloadavg()[0]:.1f}", flush=True)
        if args.cps > 0:
            row = run_cps(args, work)
            print(json.dumps(row), f"# load {os.getloadavg()[0]:.1f}", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

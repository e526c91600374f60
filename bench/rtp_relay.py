"""Benchmark: N recorded G.711 calls relayed by the pbx media engine on one core.

    .venv/bin/python bench/rtp_relay.py --calls 50,100,200,400 --seconds 60

For each N the script

1. runs a **baseline**: the load generator's phones send to each other
   directly over loopback (no server) to measure the generator's own pacing
   jitter and loss;
2. starts the **server** (this file with ``--serve``) in a separate process
   pinned to CPU 0: a MediaEngine with N bridges (2N RTP endpoints), every
   call recorded to a stereo WAV in a temporary folder;
3. runs the **generator** in this process pinned to CPU 1: 2N UDP sockets,
   each sending 20 ms PCMU packets (160 bytes of a tone) to its leg for
   ``--seconds`` seconds, staggered in 4 groups 5 ms apart, and measuring
   what comes back: per-stream loss (packets sent in the measured window,
   identified by an index in the first 4 payload bytes, minus those received)
   and the RFC 3550 interarrival jitter at the receiving side.

Printed per N: loss, mean/p99/max jitter through the server and in the
baseline, the added jitter (mean through server - mean baseline), the
server's CPU use (% of one core, from getrusage), its event-loop lateness,
RSS per call, and the datagrams the kernel dropped because a socket's receive
buffer was full (from /proc/net/udp), split between the server's sockets
(loss attributable to the server) and the generator's.

Bounded: every run stops after ``--seconds``; ports come from ``--ports``;
everything listens on 127.0.0.1.  This times the media engine alone (no SIP);
bench/sip_calls.py puts the same relay behind real SIP calls from SIPp.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve()
sys.path.insert(0, str(HERE.parents[1] / "src"))

from hotline.media import g711  # noqa: E402

PTIME = 0.02
SPP = 160
GROUPS = 4
HEADER = struct.Struct("!BBHII")
INDEX = struct.Struct("!I")  # the sender's packet index, in the first 4 payload bytes


def rss_kb() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_seconds() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def udp_rcvbuf_errors() -> int:
    with open("/proc/net/snmp") as fh:
        lines = [line.split() for line in fh if line.startswith("Udp:")]
    header, values = lines[0], lines[1]
    return int(values[header.index("RcvbufErrors")])


def udp_socket_drops(ports: set[int]) -> int:
    """Datagrams the kernel dropped on the UDP sockets bound to ``ports`` (receive buffer full)."""
    total = 0
    with open("/proc/net/udp") as fh:
        next(fh)
        for line in fh:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) in ports:
                total += int(fields[-1])
    return total


def raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def pin(cpu: int) -> str:
    """Pin this process to one CPU (when it exists); return the CPUs now allowed."""
    try:
        if cpu < (os.cpu_count() or 1):
            os.sched_setaffinity(0, {cpu})
        return ",".join(str(c) for c in sorted(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return "unpinned"


def new_loop(use_uvloop: bool) -> asyncio.AbstractEventLoop:
    if use_uvloop:
        try:
            import uvloop

            return uvloop.new_event_loop()
        except ImportError:
            pass
    return asyncio.new_event_loop()


# --------------------------------------------------------------------------- server


class LoopLag:
    """Measures how late a 10 ms timer fires: the event loop's scheduling delay."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.samples: list[float] = []
        self.expected = loop.time() + 0.01
        self.handle = loop.call_at(self.expected, self._tick)

    def _tick(self) -> None:
        now = self.loop.time()
        self.samples.append(now - self.expected)
        self.expected = now + 0.01
        self.handle = self.loop.call_at(self.expected, self._tick)

    def reset(self) -> None:
        self.samples.clear()

    def stop(self) -> None:
        self.handle.cancel()


async def serve(args: argparse.Namespace) -> None:
    from hotline.pbx.engine import MediaEngine
    from hotline.pbx.ports import RtpPortAllocator, parse_port_range

    cpu = pin(args.cpu)
    loop = asyncio.get_running_loop()
    engine = MediaEngine(
        RtpPortAllocator(parse_port_range(args.ports), host="127.0.0.1"),
        max_calls=args.n, media_timeout=args.seconds + 30, setup_timeout=120,
    )
    record_dir = Path(args.record_dir) if args.record_dir else None
    rss_before = rss_kb()
    bridges = []
    ports = []
    for i in range(args.n):
        caller = await engine.open_endpoint()
        agent = await engine.open_endpoint()
        bridges.append(engine.bridge(caller, agent, record_to=record_dir / f"call-{i}.wav" if record_dir else None))
        ports.append((caller.port, agent.port))
    rss_setup = rss_kb()
    lag = LoopLag(loop)
    print(json.dumps({"ports": ports, "cpu": cpu}), flush=True)
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    cpu0 = wall0 = 0.0
    received0 = 0
    while True:
        line = (await reader.readline()).decode().strip()
        if line == "start":
            cpu0, wall0 = cpu_seconds(), time.monotonic()
            received0 = sum(leg.received for b in bridges for leg in b.legs)
            lag.reset()
        elif line == "stop" or not line:
            break
    cpu1, wall1 = cpu_seconds(), time.monotonic()
    rss_load = rss_kb()
    lags = np.array(lag.samples or [0.0]) * 1000
    lag.stop()
    legs = [leg for b in bridges for leg in b.legs]
    stats = {
        "cpu_percent": 100.0 * (cpu1 - cpu0) / max(1e-9, wall1 - wall0),
        "cpu_seconds": cpu1 - cpu0,
        "received_measured": sum(leg.received for leg in legs) - received0,
        "rss_before_kb": rss_before,
        "rss_setup_kb": rss_setup,
        "rss_load_kb": rss_load,
        "loop_lag_mean_ms": float(lags.mean()),
        "loop_lag_p99_ms": float(np.percentile(lags, 99)),
        "loop_lag_max_ms": float(lags.max()),
        "relayed": sum(b.relayed for b in bridges),
        "dropped": sum(b.dropped for b in bridges),
        "received": sum(leg.received for leg in legs),
        "sent": sum(leg.sent for leg in legs),
        "unsent": sum(leg.unsent for leg in legs),
        "garbage": sum(leg.garbage for leg in legs),
        "foreign": sum(leg.foreign for leg in legs),
        "callback_errors": sum(leg.callback_errors for leg in legs),
        "server_seen_lost": sum(max(0, leg.stats.cumulative_lost) for leg in legs if leg.stats),
        "recording_buffered_kb": sum(b.recorder.buffered_bytes for b in bridges if b.recorder) // 1024,
    }
    t0 = time.monotonic()
    for b in bridges:
        b.end("hangup")
    written = await asyncio.gather(*(b.wait_recording() for b in bridges))
    await engine.close()
    stats["teardown_s"] = time.monotonic() - t0
    stats["recorded_mb"] = sum(written) / 1e6
    print(json.dumps(stats), flush=True)


# --------------------------------------------------------------------------- generator


@dataclass
class Stream:
    """What one phone receives: loss and RFC 3550 interarrival jitter."""

    received: int = 0
    jitter: float = 0.0  # seconds
    last_arrival: float = 0.0
    last_ts: int = 0
    first: int = 1 << 62  # count packets whose index (first 4 payload bytes) is in [first, end)
    end: int = 1 << 62


class PhoneProtocol(asyncio.DatagramProtocol):
    __slots__ = ("stream", "loop")

    def __init__(self, stream: Stream, loop: asyncio.AbstractEventLoop) -> None:
        self.stream = stream
        self.loop = loop

    def datagram_received(self, data: bytes, addr: Any) -> None:
        s = self.stream
        if len(data) < 16 or data[1] & 0x7F != 0:  # PCMU only: the server's RTCP reports go to
            return  # "port + 1" of each phone, which may be another phone's socket here
        (index,) = INDEX.unpack_from(data, 12)
        if not s.first <= index < s.end:
            return
        now = self.loop.time()
        _, _, _, ts, _ = HEADER.unpack_from(data)
        if s.received:
            delta = (ts - s.last_ts) & 0xFFFFFFFF
            if delta >= 0x80000000:  # an older packet (reordered): signed difference
                delta -= 0x100000000
            d = abs((now - s.last_arrival) - delta / 8000.0)
            s.jitter += (d - s.jitter) / 16.0
        s.received += 1
        s.last_arrival = now
        s.last_ts = ts


@dataclass
class Phone:
    transport: asyncio.DatagramTransport
    to: tuple[str, int]
    stream: Stream
    ssrc: int
    seq: int = 0
    ts: int = 0
    sent: int = 0


@dataclass
class GenResult:
    sent: int
    received: int
    jitters_ms: list[float] = field(default_factory=list)
    lost_streams: int = 0
    server_socket_drops: int = 0
    generator_socket_drops: int = 0


async def generate(pairs: list[tuple[int, int]] | None, n: int, seconds: float, signal: Any = None) -> GenResult:
    """Open 2n phones; ``pairs`` = server ports per call, or None for the loopback baseline."""
    loop = asyncio.get_running_loop()
    phones: list[Phone] = []
    for i in range(2 * n):
        stream = Stream()
        transport, _ = await loop.create_datagram_endpoint(
            lambda s=stream: PhoneProtocol(s, loop), local_addr=("127.0.0.1", 0)
        )
        phones.append(Phone(transport, ("127.0.0.1", 0), stream, ssrc=0x1000 + i))  # type: ignore[arg-type]
    for i in range(n):
        a, b = phones[2 * i], phones[2 * i + 1]
        if pairs is None:  # baseline: the two phones of a call talk directly
            a.to = b.transport.get_extra_info("sockname")[:2]
            b.to = a.transport.get_extra_info("sockname")[:2]
        else:
            a.to = ("127.0.0.1", pairs[i][0])
            b.to = ("127.0.0.1", pairs[i][1])
    t = np.arange(SPP * 50) / 8000
    frames = [g711.encode_ulaw((6000 * np.sin(2 * np.pi * 440 * t)).astype(np.int16)[k * SPP : (k + 1) * SPP]) for k in range(50)]
    groups = [phones[g::GROUPS] for g in range(GROUPS)]

    def send_group(group: list[Phone], k: int) -> None:
        payload = frames[k % 50][4:]
        for p in group:
            p.transport.sendto(
                HEADER.pack(0x80, 0, p.seq & 0xFFFF, p.ts & 0xFFFFFFFF, p.ssrc) + INDEX.pack(p.sent) + payload, p.to
            )
            p.seq += 1
            p.ts += SPP
            p.sent += 1

    async def pace(total_ticks: int) -> None:
        start = loop.time() + 0.05
        for k in range(total_ticks):
            for g, group in enumerate(groups):
                due = start + k * PTIME + g * PTIME / GROUPS
                delay = due - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                send_group(group, k)

    # warm-up: every phone sends, so the server latches every leg
    await pace(10)
    await asyncio.sleep(0.3)
    for i, p in enumerate(phones):
        p.stream.first = phones[i ^ 1].sent  # what p receives was sent by its peer
    if signal is not None:
        signal("start")
    server_ports = {port + k for pair in (pairs or []) for port in pair for k in (0, 1)}
    own_ports = {p.transport.get_extra_info("sockname")[1] for p in phones}
    drops0 = udp_socket_drops(server_ports), udp_socket_drops(own_ports)
    await pace(int(round(seconds / PTIME)))
    for i, p in enumerate(phones):
        p.stream.end = phones[i ^ 1].sent
    await asyncio.sleep(1.0)  # drain: packets still queued in the server count if they arrive now
    drops1 = udp_socket_drops(server_ports), udp_socket_drops(own_ports)
    if signal is not None:
        signal("stop")
    result = GenResult(sent=0, received=0)
    result.server_socket_drops = drops1[0] - drops0[0]
    result.generator_socket_drops = drops1[1] - drops0[1]
    for p in phones:
        expected = p.stream.end - p.stream.first
        result.sent += expected
        result.received += p.stream.received
        result.jitters_ms.append(p.stream.jitter * 1000)
        if p.stream.received < expected:
            result.lost_streams += 1
    for p in phones:
        p.transport.close()
    await asyncio.sleep(0.05)
    return result


def summarise(r: GenResult) -> dict[str, float]:
    j = np.array(r.jitters_ms)
    return {
        "sent": r.sent,
        "lost": r.sent - r.received,
        "loss_percent": 100.0 * (r.sent - r.received) / max(1, r.sent),
        "lost_streams": r.lost_streams,
        "server_socket_drops": r.server_socket_drops,
        "generator_socket_drops": r.generator_socket_drops,
        "jitter_mean_ms": float(j.mean()),
        "jitter_p99_ms": float(np.percentile(j, 99)),
        "jitter_max_ms": float(j.max()),
    }


def run_one(n: int, args: argparse.Namespace) -> dict[str, Any]:
    row: dict[str, Any] = {"calls": n}
    # 1. baseline through loopback only
    loop = new_loop(not args.no_uvloop)
    err0 = udp_rcvbuf_errors()
    base = summarise(loop.run_until_complete(generate(None, n, args.baseline_seconds)))
    loop.close()
    row["baseline"] = base
    row["baseline_rcvbuf_errors"] = udp_rcvbuf_errors() - err0

    # 2. server process on the other core
    record_dir = Path(tempfile.mkdtemp(prefix="hl-bench-rec-")) if not args.no_record else None
    cmd = [sys.executable, str(HERE), "--serve", "--n", str(n), "--ports", args.ports, "--seconds", str(args.seconds),
           "--cpu", "0"]
    if record_dir is not None:
        cmd += ["--record-dir", str(record_dir)]
    if args.no_uvloop:
        cmd.append("--no-uvloop")
    server = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None and server.stdin is not None
        hello = json.loads(server.stdout.readline())
        stdin = server.stdin

        def signal(word: str) -> None:
            stdin.write(word + "\n")
            stdin.flush()

        loop = new_loop(not args.no_uvloop)
        err0 = udp_rcvbuf_errors()
        through = summarise(loop.run_until_complete(generate([tuple(p) for p in hello["ports"]], n, args.seconds, signal)))
        loop.close()
        row["rcvbuf_errors"] = udp_rcvbuf_errors() - err0
        server_stats = json.loads(server.stdout.readline())
        server.wait(timeout=120)
    finally:
        if server.poll() is None:
            server.kill()
        if record_dir is not None:
            shutil.rmtree(record_dir, ignore_errors=True)
    row["server_cpu"] = hello["cpu"]
    row["through"] = through
    row["server"] = server_stats
    row["added_jitter_ms"] = through["jitter_mean_ms"] - base["jitter_mean_ms"]
    row["rss_per_call_kb"] = (server_stats["rss_load_kb"] - server_stats["rss_before_kb"]) / n
    # CPU time per packet the server received (each is parsed, re-stamped, sent on and recorded):
    # unlike the CPU share, this does not depend on how much of the core other processes took
    row["cpu_us_per_packet"] = 1e6 * server_stats["cpu_seconds"] / max(1, server_stats["received_measured"])
    return row


def print_table(rows: list[dict[str, Any]]) -> None:
    print()
    print("| calls | streams | server CPU % of 1 core | CPU µs per packet | loop lag mean / p99 / max ms | lost (server) | "
          "lost (baseline) | jitter mean / p99 / max ms through server | baseline jitter mean / p99 ms | "
          "added jitter ms | RSS per call KiB | dropped at server sockets / generator sockets |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        t, b, s = r["through"], r["baseline"], r["server"]
        print(
            f"| {r['calls']} | {2 * r['calls']} | {s['cpu_percent']:.0f} | {r['cpu_us_per_packet']:.1f} | "
            f"{s['loop_lag_mean_ms']:.2f} / {s['loop_lag_p99_ms']:.2f} / {s['loop_lag_max_ms']:.1f} | "
            f"{t['lost']} of {t['sent']} ({t['loss_percent']:.3f} %) | {b['lost']} of {b['sent']} | "
            f"{t['jitter_mean_ms']:.2f} / {t['jitter_p99_ms']:.2f} / {t['jitter_max_ms']:.2f} | "
            f"{b['jitter_mean_ms']:.2f} / {b['jitter_p99_ms']:.2f} | {r['added_jitter_ms']:.2f} | "
            f"{r['rss_per_call_kb']:.0f} | {t['server_socket_drops']} / {t['generator_socket_drops']} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", default="50,100,200,400", help="comma-separated numbers of concurrent calls")
    parser.add_argument("--seconds", type=float, default=60.0, help="measured duration per run (default 60)")
    parser.add_argument("--baseline-seconds", type=float, default=None, help="loopback baseline duration (default: --seconds)")
    parser.add_argument("--ports", default="30000-32999", help="RTP port range for the server")
    parser.add_argument("--no-record", action="store_true", help="do not record the calls")
    parser.add_argument("--no-uvloop", action="store_true", help="use the stdlib event loop even if uvloop is installed")
    parser.add_argument("--json", action="store_true", help="also print the raw figures as JSON")
    parser.add_argument("--nice", type=int, default=0,
                        help="nice increment of the generator and the server it starts, also applied to their "
                             "scheduler autogroup (e.g. -10 as root, so that other work on a shared machine does "
                             "not starve them)")
    # internal: the server process
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--record-dir", default="", help=argparse.SUPPRESS)
    parser.add_argument("--cpu", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    raise_fd_limit()
    if args.serve:
        loop = new_loop(not args.no_uvloop)
        if os.environ.get("HOTLINE_BENCH_PROFILE"):  # developer aid: cProfile of the server
            import cProfile

            cProfile.runctx("loop.run_until_complete(serve(args))", globals(), locals(),
                            os.environ["HOTLINE_BENCH_PROFILE"])
        else:
            loop.run_until_complete(serve(args))
        loop.close()
        return
    if args.seconds <= 0 or args.seconds > 600:
        parser.error("--seconds must be in (0, 600]")
    if args.baseline_seconds is None:
        args.baseline_seconds = args.seconds
    calls = [int(c) for c in args.calls.split(",") if c.strip()]
    if any(c < 1 or c > 1000 for c in calls):
        parser.error("--calls values must be 1..1000")
    if args.nice:
        os.nice(args.nice)  # inherited by the server process
        try:  # with sched_autogroup (Debian's default) nice only ranks processes inside one session
            Path("/proc/self/autogroup").write_text(str(args.nice))
        except OSError:
            pass
    generator_cpu = pin(1)
    try:
        import uvloop  # noqa: F401

        loop_kind = "stdlib asyncio" if args.no_uvloop else "uvloop"
    except ImportError:
        loop_kind = "stdlib asyncio"
    print(f"# rtp_relay: {os.cpu_count()} CPUs, generator on CPU {generator_cpu}, server on CPU 0, {loop_kind}, "
          f"recording {'off' if args.no_record else 'on'}, nice {args.nice:+d}, "
          f"{args.seconds:g} s per run, load average "
          f"{os.getloadavg()[0]:.1f} at start", flush=True)
    rows = []
    for n in calls:
        row = run_one(n, args)
        rows.append(row)
        t = row["through"]
        print(f"# {n} calls: CPU {row['server']['cpu_percent']:.0f} %, lost {t['lost']}/{t['sent']}, "
              f"jitter {t['jitter_mean_ms']:.2f} ms (baseline {row['baseline']['jitter_mean_ms']:.2f}), "
              f"RSS/call {row['rss_per_call_kb']:.0f} KiB, load {os.getloadavg()[0]:.1f}", flush=True)
        if args.json:
            print(json.dumps(row), flush=True)
    print_table(rows)


if __name__ == "__main__":
    main()

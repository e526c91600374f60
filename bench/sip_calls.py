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
* CPU (% of one core, getrusage) and RSS per call (steady RSS − idle RSS) / N;
* **the jitter the server adds, measured at the server** (``--capture-seconds``, on by
  default): for the first C seconds of the steady window ``tcpdump`` (pinned to the
  generator's core, 62-byte snap length: headers and 8 payload bytes, nanosecond kernel timestamps)
  captures every RTP packet into and out of the server's port range on loopback.  On
  loopback the capture timestamp of an incoming packet is taken when SIPp's ``sendto``
  hands it to the loopback device, i.e. when it is queued on the server's socket; that of
  an outgoing packet when the server's ``sendto`` hands it over.  Each relayed packet is
  matched with the packet it came from (same bridge, the other leg's port, sequence number
  minus the stream's constant re-stamping offset), giving its **transit time through the
  server** (kernel arrival → our sendto: socket queueing, loop lag, our processing).  The
  server's added jitter is the RFC 3550 jitter of that transit time per relayed stream
  (J += (|D(i−1, i)| − J) / 16 with D the transit difference of consecutive packets), the
  same estimator a phone applies to arrival times, so a constant delay adds nothing and
  every variation the server causes is counted.  Reported: transit mean / p99 / max,
  jitter mean / p99 over all samples of all streams, packets matched, the capture's own
  kernel drops.  The SIPp-side columns (caller-leg and phone-leg jitter) are kept: they
  include SIPp's pacing and echo.  What the capture costs the server: the kernel copies
  each of the server's *outgoing* packets to the capture socket in the server's
  ``sendto``, so CPU per packet is also reported separately for the capture part of the
  window and for the rest (``cpu_us_per_packet_capturing`` / ``..._not_capturing``); the
  main CPU columns are over the whole window as before.

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
TCPDUMP = "/usr/bin/tcpdump"
RTP_LOW, RTP_HIGH = 20000, 24000  # the server's RTP port range (rtp_ports below)
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
    import gc

    gc_pauses: dict[int, list[float]] = {0: [], 1: [], 2: []}  # cyclic GC pauses (s) per generation
    gc_start = [0.0]

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            gc_start[0] = time.perf_counter()
        else:
            gc_pauses[info["generation"]].append(time.perf_counter() - gc_start[0])

    gc.callbacks.append(on_gc)

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
            for pauses in gc_pauses.values():
                pauses.clear()
        if line in ("stats", "reset"):
            legs_a, legs_b, pairs = [], [], []
            for call in server.calls.calls.values():
                if call.bridge is not None and call.a is not None and call.b is not None:
                    legs_a.append(call.a.rtp.counters())
                    legs_b.append(call.b.rtp.counters())
                    pairs.append([call.a.rtp.port, call.b.rtp.port])
            ports = {server.udp_address[1]} | {leg.port for leg in server.engine.endpoints} | {
                leg.port + 1 for leg in server.engine.endpoints}
            lag_ms = np.array(lag) * 1000 if lag else np.zeros(1)
            print(json.dumps({
                "cpu": cpu_seconds(), "rss_kb": rss_kb(), "t": time.monotonic(),
                "legs_a": legs_a, "legs_b": legs_b, "pairs": pairs, "drops": udp_socket_drops(ports),
                "records": len(directory.records), "stats": server.stats(),
                "lag_ms": [float(lag_ms.mean()), float(np.percentile(lag_ms, 99)), float(lag_ms.max())],
                "gc": {str(g): [len(p), round(1000 * sum(p), 1), round(1000 * max(p, default=0.0), 2)]
                       for g, p in gc_pauses.items()}, "gc_objects": len(gc.get_objects()),
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


# --------------------------------------------------------------------------- transit capture


def start_capture(pcap: Path, n: int, seconds: float) -> subprocess.Popen[bytes]:
    """tcpdump of the server's RTP ports on loopback, bounded in time (``timeout``) and count (``-c``)."""
    count = int(220 * n * seconds) + 1000  # 4 streams × 50 packets/s per call in and out, plus margin
    cmd = ["timeout", "-s", "INT", f"{seconds:.1f}", TCPDUMP, "-i", "lo", "-nn", "-q", "-s", "62", "-B", "65536",
           "--time-stamp-precision=nano", "-c", str(count), "-w", str(pcap),
           f"udp and portrange {RTP_LOW}-{RTP_HIGH - 1}"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            preexec_fn=lambda: pin(1) and None)
    time.sleep(0.3)  # let tcpdump open the capture before the window starts
    return proc


def stop_capture(proc: subprocess.Popen[bytes]) -> int:
    """Wait for tcpdump to stop by itself; return the packets the kernel dropped from the capture."""
    try:
        _, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    found = re.search(rb"(\d+) packets? dropped by kernel", err or b"")
    if found is None:
        raise RuntimeError("tcpdump failed: " + (err or b"").decode(errors="replace")[-500:])
    return int(found.group(1))


def transit_figures(pcap: Path, pairs: list[list[int]]) -> dict[str, Any]:
    """Per relayed packet: capture time out of the server − capture time into it (see the docstring)."""
    import struct
    from collections import Counter, defaultdict

    data = pcap.read_bytes()
    if len(data) < 24 or struct.unpack_from("<I", data, 0)[0] != 0xA1B23C4D:
        raise RuntimeError("not a little-endian nanosecond pcap file")
    l2 = {1: 14, 101: 0, 113: 16}[struct.unpack_from("<I", data, 20)[0] & 0xFFFF]
    other = {}
    for a, b in pairs:
        other[a], other[b] = b, a
    ins: dict[int, list[tuple[int, int, bytes]]] = defaultdict(list)
    outs: dict[int, list[tuple[int, int, bytes]]] = defaultdict(list)
    rec, hdr = struct.Struct("<IIII"), struct.Struct("!HH")
    off, end = 24, len(data)
    while off + 16 <= end:
        sec, nsec, incl, _ = rec.unpack_from(data, off)
        ip = off + 16 + l2
        off += 16 + incl
        if incl < l2 + 40 or data[ip + 9] != 17:
            continue
        udp = ip + (data[ip] & 0x0F) * 4
        if udp + 28 > off or 192 <= data[udp + 9] <= 223:  # truncated, or RTCP on the RTP port
            continue
        sport, dport = hdr.unpack_from(data, udp)
        seq = (data[udp + 10] << 8) | data[udp + 11]
        t = sec * 1_000_000_000 + nsec
        prefix = data[udp + 20 : udp + 28]
        if RTP_LOW <= sport < RTP_HIGH:
            if not sport & 1:  # odd ports carry RTCP
                outs[sport].append((t, seq, prefix))
        elif RTP_LOW <= dport < RTP_HIGH and not dport & 1:
            ins[dport].append((t, seq, prefix))
    transit_all: list[np.ndarray] = []
    jitter_all: list[np.ndarray] = []
    matched = unmatched = 0
    for port_in, arrivals in ins.items():
        port_out = other.get(port_in)
        sent = outs.get(port_out) if port_out is not None else None
        if not sent or not arrivals:
            continue
        # The stream's re-stamping offset (out seq - in seq, constant while the source
        # stays): over in packets up to 2 s before each of the first out packets, the
        # difference seen most often among pairs whose payloads (first 8 bytes) agree.
        diffs: Counter[int] = Counter()
        lo = 0
        for t_out, s_out, pfx_out in sent[:100]:
            while lo < len(arrivals) and arrivals[lo][0] < t_out - 2_000_000_000:
                lo += 1
            hi = lo
            while hi < len(arrivals) and arrivals[hi][0] <= t_out:
                if arrivals[hi][2] == pfx_out:
                    diffs[(s_out - arrivals[hi][1]) & 0xFFFF] += 1
                hi += 1
        if not diffs:
            unmatched += len(sent)
            continue
        shift = diffs.most_common(1)[0][0]
        by_seq = {s: (t, pfx) for t, s, pfx in arrivals}
        transit = []
        for t_out, s_out, pfx_out in sent:
            got = by_seq.get((s_out - shift) & 0xFFFF)
            if got is None or got[1] != pfx_out or not 0 <= t_out - got[0] < 2_000_000_000:
                unmatched += 1  # its arrival was before the capture started, or another source
                continue
            transit.append(t_out - got[0])
        matched += len(transit)
        if len(transit) < 2:
            continue
        tr = np.array(transit, dtype=np.float64) / 1e6  # ms
        d = np.abs(np.diff(tr))
        jit = np.empty_like(d)
        jv = 0.0
        for i, x in enumerate(d.tolist()):  # RFC 3550 A.8 on the transit time
            jv += (x - jv) / 16.0
            jit[i] = jv
        transit_all.append(tr)
        jitter_all.append(jit[32:] if len(jit) > 64 else jit)  # leave out the estimator's warm-up
    if not transit_all:
        return {"matched": 0, "unmatched": unmatched}
    tr, jit = np.concatenate(transit_all), np.concatenate(jitter_all)
    return {
        "streams": len(transit_all), "matched": matched, "unmatched": unmatched,
        "transit_ms": [round(float(tr.mean()), 3), round(float(np.percentile(tr, 99)), 3), round(float(tr.max()), 1)],
        "server_jitter_ms": round(float(jit.mean()), 3), "server_jitter_p99_ms": round(float(np.percentile(jit, 99)), 3),
    }


# --------------------------------------------------------------------------- runs


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
        capture, mid, capture_drops = None, None, -1
        pcap = work / f"capture-{n}.pcap"
        capture_seconds = min(args.capture_seconds, args.seconds / 2)
        if capture_seconds > 0 and not Path(TCPDUMP).exists():
            print(f"# {TCPDUMP} not found (Debian package tcpdump): no server-side jitter figures", flush=True)
            capture_seconds = 0
        if capture_seconds > 0:
            capture = start_capture(pcap, n, capture_seconds + 0.3)
        first = server.ask("reset")
        if capture is not None:
            time.sleep(capture_seconds)
            mid = server.ask("stats")
            capture_drops = stop_capture(capture)
            time.sleep(max(0.0, args.seconds - capture_seconds - (time.monotonic() - mid["t"])))
        else:
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
    row = summarise(n, idle, first, second, ok, failed, end, args.seconds)
    if mid is not None:
        def cpu_per_packet(a: dict[str, Any], b: dict[str, Any]) -> float:
            packets = sum(leg["received"] for leg in b["legs_a"] + b["legs_b"]) - sum(
                leg["received"] for leg in a["legs_a"] + a["legs_b"])
            return round(1e6 * (b["cpu"] - a["cpu"]) / max(1, packets), 1)

        row["cpu_us_per_packet_capturing"] = cpu_per_packet(first, mid)
        row["cpu_us_per_packet_not_capturing"] = cpu_per_packet(mid, second)
        row["capture"] = {"seconds": round(mid["t"] - first["t"], 1), "kernel_drops": capture_drops,
                          **transit_figures(pcap, second["pairs"])}
        pcap.unlink(missing_ok=True)
    return row


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
        "gc_count_total_max_ms": second.get("gc"), "gc_objects": second.get("gc_objects"),
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
    parser.add_argument("--capture-seconds", type=float, default=10.0,
                        help="capture RTP in and out of the server on loopback for this long at the start of each "
                             "steady window to measure its transit time and added jitter (0 = off; at most half the "
                             "window)")
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

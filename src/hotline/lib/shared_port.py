"""Several web processes on one TCP port, each with a listening socket of its own.

uvicorn's ``--workers`` gives every process the same listening socket. Each one's
event loop accepts every connection that is waiting when it wakes, so a burst of
keep-alive connections (a reverse proxy's pool, a load generator) can land on one
process: seen in 2 of 15 benchmark runs as 16 connections to one process and none to
the other, one core busy, the other idle, and a third less throughput.

With ``SO_REUSEPORT`` (Linux) each process binds a socket of its own and the
kernel spreads new connections over the listening sockets by a hash of the
connection's addresses, so no process can take them all. The kernel only admits
sockets of the same user to the group. Not on Linux, ``hotline web`` keeps
uvicorn's shared socket (``available()`` is false).

A socket with ``SO_REUSEPORT`` could also join another program's group on the
same port, so ``check_free`` first binds without it: that fails when anything
listens there, as a second ``hotline web`` on the same port would. No Django here.
"""

from __future__ import annotations

import socket
import sys


def available() -> bool:
    """The kernel balances connections over ``SO_REUSEPORT`` listeners (Linux 3.9+)."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def _socket(host: str) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    # As uvicorn does: a restart may bind while the last run's connections are in TIME_WAIT.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    return sock


def check_free(host: str, port: int) -> None:
    """Raise ``OSError`` (EADDRINUSE) if a socket listens on ``host:port``, ours or
    another program's. A bind with ``SO_REUSEADDR`` but without ``SO_REUSEPORT``
    conflicts with every listener there, and with nothing else."""
    with _socket(host) as probe:
        probe.bind((host, port))


def listener(host: str, port: int) -> socket.socket:
    """A bound socket in ``host:port``'s ``SO_REUSEPORT`` group; uvicorn calls
    ``listen`` on it. The kernel hands connections only to listening sockets."""
    sock = _socket(host)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(False)
    return sock

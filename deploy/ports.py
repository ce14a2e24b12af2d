"""Free ports for the servers the launcher and the tests start on this machine.

A port from bind(0) comes from the kernel's range for outgoing connections
(/proc/sys/net/ipv4/ip_local_port_range, 32768-60999 on Debian), so a client connection opened
between choosing the port and the server binding it (a service's AMQP or database connection,
seconds later) can take it: CI once lost a test stack's gateway to `Address already in use`
that way. `free_port` picks below that range instead, checked with the bind the servers do
(0.0.0.0, SO_REUSEADDR), and never hands out the same port twice in one process."""
from __future__ import annotations

import random
import socket

_HANDED_OUT: set[int] = set()
LOWEST = 10000


def _ephemeral_start(default: int = 32768) -> int:
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range", encoding="ascii") as fh:
            return int(fh.read().split()[0])
    except (OSError, ValueError, IndexError):
        return default


def bindable(port: int) -> bool:
    """Whether a server could bind `port` now (0.0.0.0, SO_REUSEADDR, as gunicorn does)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("0.0.0.0", port))
            return True
        except OSError:
            return False


def free_port() -> int:
    """A port nothing listens on now, outside the range outgoing connections use."""
    top = max(LOWEST + 2000, min(_ephemeral_start(), 32768))
    for _ in range(200):
        port = random.randrange(LOWEST, top)
        if port not in _HANDED_OUT and bindable(port):
            _HANDED_OUT.add(port)
            return port
    with socket.socket() as s:     # a crowded machine: what the kernel offers
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

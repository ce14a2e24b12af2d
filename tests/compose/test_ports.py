"""The ports the launcher and the tests give their servers (deploy/ports.py): below the kernel's
range for outgoing connections, free when handed out, never twice. A port from that range was
taken by a client connection between its choice and the gateway's bind (CI, `Address already
in use`)."""
import socket

from deploy import ports


def test_ports_are_free_below_the_outgoing_range_and_never_repeated():
    start = ports._ephemeral_start()
    got = [ports.free_port() for _ in range(100)]
    assert len(set(got)) == 100
    assert all(ports.LOWEST <= p < min(start, 32768) for p in got), (start, got[:5])
    for p in got[:10]:
        with socket.socket() as s:   # nothing listens there: a server can bind it
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("0.0.0.0", p))


def test_a_port_something_listens_on_is_never_handed_out(monkeypatch):
    with socket.socket() as busy:
        busy.bind(("0.0.0.0", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        offered = iter([taken, taken, taken + 1 if taken + 1 != taken else taken + 2])
        monkeypatch.setattr(ports.random, "randrange", lambda a, b: next(offered))
        monkeypatch.setattr(ports, "_HANDED_OUT", set())
        assert ports.free_port() != taken

"""`python -m portfolio_common.health <service>`: exit 0 when the service answers `ping`."""
import sys


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    service = argv[0]
    from .rpc_transport import rpc_proxy
    try:
        # As the service's own broker user: its reply queue is named after it, and `ping` of
        # its own service is a call its permissions allow (portfolio_common.broker_access).
        with rpc_proxy(client=service, timeout=5) as rpc:
            ok = getattr(rpc, service).ping() == "pong"
    except Exception as exc:  # noqa: BLE001 - any failure is "unhealthy"
        print(f"{service}: {exc!r}")
        return 1
    print(f"{service}: ok" if ok else f"{service}: bad answer")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

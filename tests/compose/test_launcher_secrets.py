"""The launcher hands out the caller signing keys as compose does: each process only its own.

No process is started: these read the environment `deploy.launcher.Stack` would start each
process with, and the secrets it keeps in its workdir.
"""
import json
import stat

from deploy.launcher import PROCESSES, Stack
from portfolio_common import trust
from portfolio_common.caller import Caller, Signer, Verifier


def stack(tmp_path, **kw):
    return Stack(workdir=tmp_path, amqp_uri="amqp://guest:guest@127.0.0.1:5672/x", s3_endpoint="127.0.0.1:1", **kw)


def test_each_process_gets_only_its_own_signing_key(tmp_path, monkeypatch):
    # even when the launching shell holds every key (as the test process does)
    for name, value in trust.generate_keys().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("GATEWAY_SIGNING_KEY_FILE", "/somewhere/else.pem")
    st = stack(tmp_path)
    for name in PROCESSES:
        env = st.env_for(name)
        keys = {k for k in env if k.endswith("_SIGNING_KEY") or k.endswith("_SIGNING_KEY_FILE")}
        assert keys == {trust.signing_key_name(name)}, (name, keys)
        assert env[trust.signing_key_name(name)] == st.secrets[trust.signing_key_name(name)]
        assert env[trust.PUBLIC_KEYS] == st.secrets[trust.PUBLIC_KEYS]
    tools = st.client_env()
    assert {k for k in tools if "_SIGNING_KEY" in k} == {"OPS_SIGNING_KEY"}


def test_keys_are_generated_once_kept_private_and_verify(tmp_path):
    (tmp_path / "secrets.json").write_text(json.dumps({"CALLER_KEY": "retired"}))
    first = stack(tmp_path).secrets
    assert "CALLER_KEY" not in first and "CALLER_KEY" not in (tmp_path / "secrets.json").read_text()
    assert stat.S_IMODE((tmp_path / "secrets.json").stat().st_mode) == 0o600
    assert stack(tmp_path).secrets == first      # generated once per workdir
    who = Caller(user_id="u", username="u", tenant="day", roles=("student",))
    token = Signer("gateway", first["GATEWAY_SIGNING_KEY"]).mint(who, "files")
    assert Verifier("files", first[trust.PUBLIC_KEYS]).verify(token).roles == ("student",)


def test_given_keys_are_used_and_the_public_keys_follow_them(tmp_path):
    given = trust.generate_keys()
    st = stack(tmp_path, secrets=given)
    assert st.secrets["GATEWAY_SIGNING_KEY"] == given["GATEWAY_SIGNING_KEY"]
    assert json.loads(st.secrets[trust.PUBLIC_KEYS]) == json.loads(given[trust.PUBLIC_KEYS])

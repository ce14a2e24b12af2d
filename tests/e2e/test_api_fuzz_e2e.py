"""Fuzzing in the suite (issue 6 item 16): Schemathesis generates requests from the API's own
OpenAPI document (`/api/v1/openapi.json`) and sends them to a running platform with a student's
and a registrar's bearer token. No server error, no response outside the documented schema,
status code, content type or headers is allowed.

Bounded: at most FUZZ_EXAMPLES cases per operation and phase, and FUZZ_TIMEOUT_S per run (a run
that takes longer fails). Deterministic by default (FUZZ_SEED); set FUZZ_SEED to another number
to explore further. Every finding became a fix and a named regression test (for example
tests/e2e/test_api_errors_e2e.py).

The platform is its own: the registrar's fuzzed calls may lock a school year, which must not
touch the shared e2e platform's flows. Sign-out and ending one's own session are excluded, so
each run keeps its session to the end (checked).
"""
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import requests

from tests.e2e.conftest import PASSWORD
from tests.support.ids import SECRETS
from tests.support.stack import running_stack

FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "30"))
FUZZ_TIMEOUT_S = int(os.environ.get("FUZZ_TIMEOUT_S", "240"))
FUZZ_SEED = os.environ.get("FUZZ_SEED", "20261129")
CHECKS = ("not_a_server_error,response_schema_conformance,status_code_conformance,"
          "content_type_conformance,response_headers_conformance")
# operations that end the caller's own session: the run would go on signed out
KEEP_SIGNED_IN = ("DELETE /api/v1/auth/token", "DELETE /api/v1/auth/sessions/{session_id}")


@pytest.fixture(scope="module")
def fuzz_stack(tmp_path_factory, pg_base_url, amqp_uri, s3_endpoint, run_id):
    with running_stack(tmp_path_factory.mktemp("fuzz"), name="fuzz", pg_base_url=pg_base_url,
                       amqp_uri=amqp_uri, s3_endpoint=s3_endpoint, secrets=SECRETS, run_id=run_id) as st:
        yield st


def schemathesis_run(base, token, workdir: Path):
    exe = Path(sys.executable).parent / "schemathesis"
    cmd = [str(exe), "run", base + "/api/v1/openapi.json", "--header", f"Authorization: Bearer {token}",
           "--checks", CHECKS, "--max-examples", str(FUZZ_EXAMPLES), "--seed", FUZZ_SEED,
           "--request-timeout", "30", "--workers", "1", "--no-color",
           "--report", "junit", "--report-junit-path", str(workdir / "junit.xml")]
    for name in KEEP_SIGNED_IN:
        cmd += ["--exclude-name", name]
    try:
        # cwd: Schemathesis keeps a cache directory in the working directory
        return subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, timeout=FUZZ_TIMEOUT_S)
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"Schemathesis took over {FUZZ_TIMEOUT_S} s:\n{(exc.stdout or '')[-4000:]}") from None


@pytest.mark.parametrize("username", ["s_day01", "reg_day"])
def test_fuzzing_the_api_finds_no_server_error_and_no_schema_violation(fuzz_stack, tmp_path, username):
    base = fuzz_stack.gateway_url
    r = requests.post(base + "/api/v1/auth/token", json={"username": username, "password": PASSWORD})
    assert r.status_code == 201, r.text
    token = r.json()["token"]
    log_offset = fuzz_stack.log_path("gateway").stat().st_size

    res = schemathesis_run(base, token, tmp_path)
    out = res.stdout + res.stderr
    assert res.returncode == 0, f"Schemathesis found problems (seed {FUZZ_SEED}):\n{out[-8000:]}"

    cases = ET.parse(tmp_path / "junit.xml").getroot().iter("testcase")
    operations = {c.get("name") for c in cases}
    assert len(operations) >= 20, f"too few operations fuzzed: {sorted(operations)}"
    me = requests.get(base + "/api/v1/me", headers={"Authorization": "Bearer " + token})
    assert me.status_code == 200, "the fuzzer lost its session: it tested the sign-in wall, not the API"
    with open(fuzz_stack.log_path("gateway"), "rb") as fh:
        fh.seek(log_offset)
        log = fh.read().decode("utf-8", "replace")
    assert "Traceback" not in log, log[-4000:]

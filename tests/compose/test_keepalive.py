"""The ingress closes an idle upstream connection before gunicorn does (deploy/nginx/ingress.conf
against gateway/gunicorn_conf.py and files/gunicorn_conf.py). The other way round, gunicorn
closes a connection nginx is about to reuse and the user gets a 502 (tests/e2e/test_keepalive_e2e.py
shows the launched servers keep an idle connection)."""
import re
from pathlib import Path

import files.gunicorn_conf as files_conf
import gateway.gunicorn_conf as gateway_conf

INGRESS = Path(__file__).resolve().parents[2] / "deploy" / "nginx" / "ingress.conf"


def upstream_keepalive_timeouts():
    """{upstream name: keepalive_timeout in seconds} of every upstream block of the ingress."""
    text = INGRESS.read_text()
    found = {}
    for name, body in re.findall(r"upstream\s+(\w+)\s*\{(.*?)\}", text, flags=re.S):
        m = re.search(r"^\s*keepalive_timeout\s+(\d+)s?\s*;", body, flags=re.M)
        found[name] = int(m.group(1)) if m else 60  # nginx's default for upstream keep-alive
    return found


def test_every_upstream_is_known_and_idles_out_before_its_server():
    timeouts = upstream_keepalive_timeouts()
    assert set(timeouts) == {"gateway", "files_replicas"}
    assert timeouts["gateway"] < gateway_conf.keepalive
    assert timeouts["files_replicas"] < files_conf.keepalive


def test_gunicorn_keeps_connections_longer_than_its_two_second_default():
    assert gateway_conf.keepalive > 2 and files_conf.keepalive > 2
    assert gateway_conf.worker_class == files_conf.worker_class == "gthread"

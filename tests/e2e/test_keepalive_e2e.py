"""A kept-alive connection idle for a few seconds still serves the next request (the launched
gateway and files service, as the ingress and API clients use them).

The fault this holds (CI, test_reminders_e2e): gunicorn's default keep-alive of 2 s closed an
idle connection at the moment the client sent its next request on it, and the client got
"Remote end closed connection without response"; behind the nginx ingress, which keeps upstream
connections 60 s, that is a 502 for a user. gateway/gunicorn_conf.py and files/gunicorn_conf.py
keep connections 75 s."""
import http.client
import time
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.slow
IDLE_S = 6  # longer than gunicorn's default (2 s) and the files service's old value (5 s)


@pytest.mark.parametrize("which", ["gateway", "files"])
def test_a_connection_idle_for_seconds_serves_the_next_request(stack, which):
    url = urlsplit(stack.gateway_url if which == "gateway" else stack.files_url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    try:
        conn.request("GET", "/healthz")
        first = conn.getresponse()
        first.read()
        assert first.status == 200
        assert (first.getheader("Connection") or "").lower() != "close"
        sock = conn.sock
        time.sleep(IDLE_S)
        conn.request("GET", "/healthz")  # on the same socket: http.client does not reconnect by itself
        assert conn.sock is sock
        second = conn.getresponse()
        second.read()
        assert second.status == 200
    finally:
        conn.close()

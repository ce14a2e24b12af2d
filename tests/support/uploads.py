"""How an API client uploads evidence: ask the gateway for a ticket, then send the bytes to the
files service with it (never through the gateway). Shared by the e2e tests, the reliability
burst and the bench."""
from urllib.parse import quote

import requests


class Answer:
    """The last HTTP answer of the two steps, shaped like a requests.Response for the tests."""

    def __init__(self, status_code, body, text=""):
        self.status_code, self._body, self.text = status_code, body, text

    @property
    def ok(self):
        return 200 <= self.status_code < 300

    def json(self):
        return self._body


def _answer(r):
    try:
        body = r.json()
    except ValueError:
        body = None
    return Answer(r.status_code, body, r.text)


def request_ticket(session, gateway_url, section_id, description, idempotency_key=None, headers=None, timeout=60,
                   slot=None):
    h = dict(headers or {})
    if idempotency_key:
        h["Idempotency-Key"] = idempotency_key
    body = {"section_id": section_id, "description": description}
    if slot:  # the outcome's slot: document (the default) or media
        body["slot"] = slot
    return session.post(gateway_url + "/api/v1/outcomes/tickets", json=body, headers=h, timeout=timeout)


def send_file(session, ticket, content, filename, timeout=120):
    """POST the whole file to the files service's upload_url with the ticket."""
    return session.post(ticket["upload_url"], data=content, timeout=timeout, headers={
        "Authorization": f"Bearer {ticket['files_token']}", "X-Upload-Ticket": ticket["ticket"],
        "X-Filename": quote(filename or ""), "Content-Type": "application/octet-stream"})


def upload_outcome(session, gateway_url, section_id, description, content, filename="成果.pdf",
                   idempotency_key=None, headers=None, timeout=120, slot=None) -> Answer:
    """Both steps; 201 (or 200 for a replay) with {outcome_id, file_id, sha256, ...}, or the
    refusal of whichever step refused."""
    t = request_ticket(session, gateway_url, section_id, description, idempotency_key, headers, timeout, slot)
    if t.status_code != 201:
        return _answer(t)
    ticket = t.json()
    r = send_file(session, ticket, content, filename, timeout)
    a = _answer(r)
    if a.ok and isinstance(a._body, dict):
        a._body = {"outcome_id": ticket["outcome_id"], "status": "processing", **a._body}
    return a


def reupload_outcome(session, gateway_url, outcome_id, description, content, filename="成果.pdf",
                     timeout=120, slot=None) -> Answer:
    """A file for an existing outcome (a RETURNED outcome uploaded again, or its empty `slot`
    filled): the gateway's ticket for the same outcome, then the bytes to the files service;
    201 with {outcome_id, file_id, sha256, ...} or the refusal."""
    body = {"description": description, **({"slot": slot} if slot else {})}
    t = session.post(f"{gateway_url}/api/v1/outcomes/{outcome_id}/reupload", json=body, timeout=timeout)
    if t.status_code != 201:
        return _answer(t)
    ticket = t.json()
    a = _answer(send_file(session, ticket, content, filename, timeout))
    if a.ok and isinstance(a._body, dict):
        a._body = {"outcome_id": ticket["outcome_id"], "status": "processing", **a._body}
    return a

"""Packages kept for download (files/downloads.py) against real PostgreSQL and S3 (SeaweedFS):
submission deposits a package (streamed to S3 in parts, checked against the SHA-256 it
announced), the person who asked gets a ticket (60 s, one download), the bytes come back
streamed with their length, name and no-store, the download is logged; the sweeper deletes a
day-old package for good. Attackers: another user's or tenant's ticket request, a forged
ticket, a ticket of another download, a replayed ticket, an expired one, a forged deposit."""
import datetime as dt
import hashlib
import os
import time
import uuid
from urllib.parse import quote

import pika
import pytest
import sqlalchemy as sa

from files import downloads
from files.app import create_app
from portfolio_common import caller as caller_mod
from portfolio_common import signing
from portfolio_common.amqp import declare_topology
from tests.support import servers
from tests.support.callers import as_gateway, signer
from tests.support.ids import BUCKET_PREFIX, S3_FILES, SECRETS

LINK_KEY = SECRETS["FILES_LINK_KEY"]
ZIP = "application/zip"


@pytest.fixture(scope="module")
def vhost_uri(amqp_uri, run_id):
    name = f"pt_{run_id}_files_dl"
    uri = servers.create_vhost(amqp_uri, name)
    conn = pika.BlockingConnection(pika.URLParameters(uri))
    declare_topology(conn.channel(), delays=[1000])
    conn.close()
    yield uri
    servers.delete_vhost(name)


@pytest.fixture
def files(service_db, s3_endpoint, vhost_uri):
    prefix = f"{BUCKET_PREFIX}d{uuid.uuid4().hex[:6]}"
    app = create_app({"DATABASE_URL": service_db("files").engine.url.render_as_string(hide_password=False),
                      "AMQP_URI": vhost_uri, "S3_ENDPOINT": s3_endpoint, "S3_ACCESS_KEY": S3_FILES[0],
                      "S3_SECRET_KEY": S3_FILES[1], "S3_BUCKET_PREFIX": prefix, "SWEEP_EVERY_S": 3600,
                      "SEALED_CONSUMER": False, "LOCKED_CONSUMER": False})
    app.config["TESTING"] = True
    ext = app.extensions["files"]
    yield app.test_client(), ext
    ext["stop"].set()
    ext["engine"].dispose()


def person(tenant="day", roles=("registrar",)):
    return caller_mod.Caller(user_id=str(uuid.uuid4()), username="reg", tenant=tenant, roles=roles)


def as_submission(tenant="day"):
    """What submission sends files: its own token (`system:submission`) for one tenant."""
    return signer("submission").mint(caller_mod.service_caller("submission", tenant), "files")


def deposit(client, requester, data, *, token=None, sha=None, name="050407-115-1-上傳檔.zip", length=None):
    headers = {"X-Portfolio-Caller": token or as_submission(requester.tenant), "Content-Type": ZIP,
               "X-Filename": quote(name), "X-Content-SHA256": sha or hashlib.sha256(data).hexdigest(),
               "X-Requested-By": requester.user_id, "X-Package-Purpose": "national-package",
               "X-Package-Subject": "115-1"}
    if length is not None:
        headers["Content-Length"] = str(length)
    return client.post("/v1/packages", data=data, headers=headers)


def ticket_path(client, who, download_id):
    r = client.post(f"/v1/downloads/{download_id}/link", headers={"X-Portfolio-Caller": as_gateway(who, "files")})
    assert r.status_code == 200, r.get_data(as_text=True)
    return "/" + r.get_json()["path"]


def code(resp):
    return resp.status_code, resp.get_json()["error"]["code"]


def test_a_package_in_parts_comes_back_whole_streamed_once_and_logged(files):
    client, ext = files
    reg = person()
    data = os.urandom(12 * 1024 * 1024 + 321)          # over the 5 MB part size: a multipart upload
    r = deposit(client, reg, data)
    assert r.status_code == 201, r.get_data(as_text=True)
    meta = r.get_json()
    assert (meta["size"], meta["sha256"], meta["filename"]) == (len(data), hashlib.sha256(data).hexdigest(),
                                                                "050407-115-1-上傳檔.zip")
    expires = dt.datetime.fromisoformat(meta["expires_at"])
    assert dt.timedelta(hours=23) < expires - dt.datetime.now(dt.timezone.utc) <= dt.timedelta(days=1)

    link = client.post(f"/v1/downloads/{meta['download_id']}/link",
                       headers={"X-Portfolio-Caller": as_gateway(reg, "files")}).get_json()
    assert link["expires_in"] <= 60 and link["sha256"] == meta["sha256"]
    head = client.head("/" + link["path"])            # a look first: nothing spent, nothing logged
    assert head.status_code == 200 and head.headers["Content-Length"] == str(len(data))
    assert ext["downloads"].log_of(uuid.UUID(meta["download_id"])) == []
    got = client.get("/" + link["path"], environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert got.status_code == 200
    assert not got.is_sequence              # streamed, not one buffer
    body = b"".join(got.response)
    assert hashlib.sha256(body).hexdigest() == meta["sha256"]
    assert got.headers["Content-Length"] == str(len(data)) and got.headers["Cache-Control"] == "no-store"
    assert got.headers["Content-Type"] == ZIP
    assert got.headers["Content-Disposition"] == (
        "attachment; filename=\"050407-115-1-___.zip\"; filename*=UTF-8''050407-115-1-"
        + quote("上傳檔", safe="") + ".zip")
    log = ext["downloads"].log_of(uuid.UUID(meta["download_id"]))
    assert [(str(e["user_id"]), e["remote_addr"]) for e in log] == [(reg.user_id, "10.1.2.3")]
    # the same ticket again: refused, nothing more is logged
    again = client.get("/" + link["path"])
    assert code(again) == (403, "link_used")
    assert len(ext["downloads"].log_of(uuid.UUID(meta["download_id"]))) == 1
    # a new ticket for the same person serves a new download (a broken one is asked again)
    assert client.get(ticket_path(client, reg, meta["download_id"])).status_code == 200


def test_only_the_person_who_asked_gets_a_ticket(files):
    client, _ = files
    reg = person()
    meta = deposit(client, reg, b"PK" + os.urandom(1000)).get_json()
    missing = client.post(f"/v1/downloads/{uuid.uuid4()}/link", headers={"X-Portfolio-Caller": as_gateway(reg, "files")})
    assert code(missing) == (404, "not_found")
    for other in (person("day"),                                   # another registrar of the tenant
                  caller_mod.Caller(user_id=reg.user_id, username="reg", tenant="ce", roles=("registrar",)),
                  person("ce"), person("day", roles=("student",))):
        r = client.post(f"/v1/downloads/{meta['download_id']}/link",
                        headers={"X-Portfolio-Caller": as_gateway(other, "files")})
        assert code(r) == (404, "not_found"), other       # the same answer as a missing id
    r = client.post(f"/v1/downloads/{meta['download_id']}/link")
    assert code(r) == (401, "token_invalid")


def test_forged_foreign_and_expired_tickets_are_refused(files):
    client, _ = files
    reg, other = person(), person("ce")
    mine = deposit(client, reg, b"PK" + os.urandom(2000)).get_json()
    theirs = deposit(client, other, b"PK" + os.urandom(2000)).get_json()
    good = ticket_path(client, reg, mine["download_id"])
    ticket = good.split("ticket=")[1]
    # another download's ticket on this one (the other tenant's registrar's, and back)
    their_ticket = ticket_path(client, other, theirs["download_id"]).split("ticket=")[1]
    assert code(client.get(f"/v1/downloads/{mine['download_id']}?ticket={their_ticket}")) == (403, "link_invalid")
    assert code(client.get(f"/v1/downloads/{theirs['download_id']}?ticket={ticket}")) == (403, "link_invalid")
    # forged: claims for this download signed with another key, a changed payload, none at all
    forged = signing.sign({"download_id": mine["download_id"], "tenant": "day", "user_id": reg.user_id,
                           "ticket_id": str(uuid.uuid4())}, "not-the-key", ttl=60, purpose=downloads.TICKET_PURPOSE)
    assert code(client.get(f"/v1/downloads/{mine['download_id']}?ticket={forged}")) == (403, "link_invalid")
    payload, mac = ticket.split(".")
    assert code(client.get(f"/v1/downloads/{mine['download_id']}?ticket={payload[:-2]}xx.{mac}")) == (403, "link_invalid")
    assert code(client.get(f"/v1/downloads/{mine['download_id']}")) == (403, "link_invalid")
    # an upload ticket or a file link key's signature of another purpose is not a download ticket
    other_purpose = signing.sign({"download_id": mine["download_id"], "tenant": "day", "user_id": reg.user_id,
                                  "ticket_id": str(uuid.uuid4())}, LINK_KEY, ttl=60, purpose="upload-ticket")
    assert code(client.get(f"/v1/downloads/{mine['download_id']}?ticket={other_purpose}")) == (403, "link_invalid")
    # expired: a ticket of 1 s, used 2 s later
    short = signing.sign({"download_id": mine["download_id"], "tenant": "day", "user_id": reg.user_id,
                          "ticket_id": str(uuid.uuid4())}, LINK_KEY, ttl=1, purpose=downloads.TICKET_PURPOSE)
    time.sleep(2.1)
    assert code(client.get(f"/v1/downloads/{mine['download_id']}?ticket={short}")) == (403, "link_invalid")
    # the good one still works once
    assert client.get(good).status_code == 200


def test_only_submission_deposits_and_the_bytes_must_be_what_it_announced(files):
    client, ext = files
    reg = person()
    data = b"PK" + os.urandom(5000)
    # a person (even the registrar) or another service: not allowed
    for token in (as_gateway(reg, "files"), signer("records").mint(caller_mod.service_caller("records", "day"), "files"),
                  signer("submission").mint(caller_mod.service_caller("submission"), "files")):   # no one tenant
        assert code(deposit(client, reg, data, token=token)) == (403, "not_allowed")
    # a token for another audience
    assert deposit(client, reg, data, token=signer("submission").mint(
        caller_mod.service_caller("submission", "day"), "records")).status_code == 401
    # bytes that are not the announced SHA-256: nothing kept
    r = deposit(client, reg, data, sha="0" * 64)
    assert code(r) == (422, "package_damaged")
    with ext["engine"].connect() as c:
        assert c.execute(sa.text("select count(*) from package_downloads")).scalar() == 0
    bucket = ext["store"].bucket_for("day")
    assert [v for v in ext["store"].versions(bucket, "downloads/") if not v.is_delete_marker] == []
    for bad in ({"X-Package-Purpose": "anything"}, {"X-Requested-By": "not-a-user"}, {"Content-Type": "text/html"},
                {"X-Filename": quote("../../etc/passwd")}):
        headers = {"X-Portfolio-Caller": as_submission(), "Content-Type": ZIP, "X-Filename": "a.zip",
                   "X-Content-SHA256": hashlib.sha256(data).hexdigest(), "X-Requested-By": reg.user_id,
                   "X-Package-Purpose": "national-package"} | bad
        assert client.post("/v1/packages", data=data, headers=headers).status_code == 422, bad


def test_a_day_old_package_is_deleted_for_good_and_no_longer_handed_out(files):
    client, ext = files
    reg = person()
    meta = deposit(client, reg, b"PK" + os.urandom(3000)).get_json()
    path = ticket_path(client, reg, meta["download_id"])
    store, repo = ext["store"], ext["downloads"]
    bucket = store.bucket_for("day")
    key = f"downloads/{meta['download_id']}"
    assert [v.object_name for v in store.versions(bucket, key)] == [key]
    assert downloads.sweep_expired_downloads(repo, store) == 0                 # not yet a day old
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1, seconds=1)
    assert downloads.sweep_expired_downloads(repo, store, now=later) == 1
    assert store.versions(bucket, key) == []                                   # every version gone
    assert repo.get(uuid.UUID(meta["download_id"]))["state"] == "expired"
    assert code(client.get(path)) == (410, "download_expired")                 # a ticket issued before
    r = client.post(f"/v1/downloads/{meta['download_id']}/link", headers={"X-Portfolio-Caller": as_gateway(reg, "files")})
    assert code(r) == (410, "download_expired")
    assert "download_expired" in r.get_json()["error"]["code"] and "一天" in r.get_json()["error"]["message_zh"]


def test_the_bucket_carries_the_one_day_rule_for_downloads(files):
    """The store's own backstop. SeaweedFS keeps the rule (what it enforces itself is its own
    matter, see STACK-NOTES.md): the sweeper above is what deletes a package here."""
    _, ext = files
    store = ext["store"]
    bucket = store.ensure_bucket("day")
    rules = {r.rule_id: r for r in store.client.get_bucket_lifecycle(bucket).rules}
    rule = rules["expire-downloads"]
    assert rule.rule_filter.prefix == "downloads/" and rule.expiration.days == 1
    assert "sweep-quarantine" in rules


def test_the_download_log_is_append_only(files):
    client, ext = files
    reg = person()
    meta = deposit(client, reg, b"PK" + os.urandom(100)).get_json()
    assert client.get(ticket_path(client, reg, meta["download_id"])).status_code == 200
    with pytest.raises(sa.exc.DBAPIError):
        with ext["engine"].begin() as c:
            c.execute(sa.text("delete from package_download_log"))

"""files/downloads.py with fakes (no I/O): who may deposit, who gets a ticket, one download per
ticket, a day's keeping. The real-server behaviour is in tests/integration/test_package_downloads.py."""
import datetime as dt
import hashlib
import io
import uuid

import pytest

from files import downloads
from files.repository import FakeDownloadRepository, FakeObjectStore
from portfolio_common.caller import Caller, service_caller

KEY = "unit-link-key"


def person(tenant="day"):
    return Caller(user_id=str(uuid.uuid4()), username="reg", tenant=tenant, roles=("registrar",))


def keep(repo, store, who, data=b"PK\x03\x04 package", caller=None, sha=None, **kw):
    args = dict(filename="050407-115-1-national-package.zip", content_type="application/zip",
                sha256=sha or hashlib.sha256(data).hexdigest(), requested_by=who.user_id,
                purpose="national-package", subject="115-1 package") | kw
    return downloads.store_package(repo, store, caller or service_caller("submission", who.tenant),
                                   io.BytesIO(data), len(data), **args)


def ticket_of(link):
    return link["path"].split("ticket=")[1]


def test_kept_for_the_one_who_asked_and_one_download_per_ticket():
    repo, store, reg = FakeDownloadRepository(), FakeObjectStore(), person()
    meta = keep(repo, store, reg)
    assert meta["size"] == len(b"PK\x03\x04 package")
    link = downloads.download_ticket(repo, reg, meta["download_id"], KEY)
    assert link["expires_in"] == 60 and link["path"].startswith(f"v1/downloads/{meta['download_id']}?ticket=")
    row = downloads.open_download(repo, meta["download_id"], ticket_of(link), KEY, remote_addr="10.0.0.1")
    assert row["sha256"] == meta["sha256"]
    with pytest.raises(Exception) as exc:
        downloads.open_download(repo, meta["download_id"], ticket_of(link), KEY)
    assert exc.value.code == "link_used"
    assert [e["remote_addr"] for e in repo.log_of(meta["download_id"])] == ["10.0.0.1"]


@pytest.mark.parametrize("other", ["another registrar", "other tenant, same user id"])
def test_no_one_else_gets_a_ticket(other):
    repo, store, reg = FakeDownloadRepository(), FakeObjectStore(), person()
    meta = keep(repo, store, reg)
    who = person() if other == "another registrar" else Caller(reg.user_id, "reg", "ce", ("registrar",))
    with pytest.raises(Exception) as exc:
        downloads.download_ticket(repo, who, meta["download_id"], KEY)
    assert exc.value.code == "not_found" and exc.value.details.get("refused")


def test_only_submission_for_one_tenant_deposits_and_the_bytes_must_match():
    repo, store, reg = FakeDownloadRepository(), FakeObjectStore(), person()
    for caller in (reg, service_caller("records", "day"), service_caller("submission")):
        with pytest.raises(Exception) as exc:
            keep(repo, store, reg, caller=caller)
        assert exc.value.code == "not_allowed"
    with pytest.raises(Exception) as exc:
        keep(repo, store, reg, sha="0" * 64)
    assert exc.value.code == "package_damaged"
    assert store.objects == {} and repo.rows == {}


def test_a_day_later_it_is_deleted_and_refused():
    repo, store, reg = FakeDownloadRepository(), FakeObjectStore(), person()
    meta = keep(repo, store, reg)
    link = downloads.download_ticket(repo, reg, meta["download_id"], KEY)
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1, seconds=1)
    assert downloads.sweep_expired_downloads(repo, store, now=later) == 1
    assert store.objects == {}
    for call in (lambda: downloads.open_download(repo, meta["download_id"], ticket_of(link), KEY),
                 lambda: downloads.download_ticket(repo, reg, meta["download_id"], KEY)):
        with pytest.raises(Exception) as exc:
            call()
        assert exc.value.code == "download_expired"

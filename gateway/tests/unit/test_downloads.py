"""Built files (national rosters and package, transfer packages) with a fake RPC pool and a fake
files service: the gateway answers a 303 to files with the metadata, never the bytes; the build
call goes through the pool that waits RPC_BUILD_TIMEOUT, not the 30 s one; the OpenAPI document
says so."""
import uuid

import pytest

from gateway import downloads
from gateway.app import create_app

REGISTRAR = {"user_id": str(uuid.uuid4()), "username": "reg_day", "display_name": "吳組長", "must_change_password": False,
             "session_id": str(uuid.uuid4()), "grants": [{"tenant": "day", "role": "registrar"}], "proxy_for": {}}
SHA = "ab" * 32
BUILT = {"filename": "050407-115-1-national-package.zip", "content_type": "application/zip", "size": 3 * 1024 ** 3,
         "sha256": SHA, "problem_count": 0, "download_id": str(uuid.uuid4()), "expires_at": "2026-12-01T10:00:00+00:00"}


class FakePool:
    def __init__(self, answers=None):
        self.calls, self.answers = [], answers or {}

    def call(self, service, method, *args, **kwargs):
        self.calls.append((service, method))
        if (service, method) == ("accounts", "resolve_session"):
            return dict(REGISTRAR)
        if (service, method) == ("submission", "get_calendar"):
            return None
        return self.answers[(service, method)]


@pytest.fixture
def world(monkeypatch):
    app = create_app({"TESTING": True})
    ordinary, build = FakePool(), FakePool({("submission", "national_roster_file"): BUILT,
                                           ("submission", "export_transfer_package"): dict(BUILT, key_id="050407:submission:0f")})
    app.extensions["rpc"], app.extensions["rpc_build"] = ordinary, build
    asked = []

    def link(download_id):
        asked.append(download_id)
        return {"url": f"http://files.test/v1/downloads/{download_id}?ticket=t{len(asked)}", "expires_in": 60,
                "filename": BUILT["filename"], "size": BUILT["size"], "sha256": SHA}
    monkeypatch.setattr(downloads, "package_link", link)
    client = app.test_client()
    with client.session_transaction() as s:
        s["st"] = "st-1"
    return app, client, ordinary, build, asked


def test_the_api_answers_a_303_to_files_with_the_metadata_and_no_bytes(world):
    app, client, ordinary, build, asked = world
    r = client.get("/api/v1/national/115/1/rosters/package")
    assert r.status_code == 303
    assert r.headers["Location"] == f"http://files.test/v1/downloads/{BUILT['download_id']}?ticket=t1"
    assert r.headers["Cache-Control"] == "no-store" and r.headers["X-Package-SHA256"] == SHA
    body = r.get_json()
    assert body["download_url"] == r.headers["Location"] and body["size"] == 3 * 1024 ** 3
    assert body["expires_in"] == 60 and body["download_id"] == BUILT["download_id"] and len(r.data) < 1000
    assert asked == [BUILT["download_id"]]
    # the build went through the long-waiting pool, nothing else did
    assert build.calls == [("submission", "national_roster_file")]
    assert ("submission", "national_roster_file") not in ordinary.calls

    r = client.get(f"/api/v1/students/{uuid.uuid4()}/transfer-package")
    assert r.status_code == 303 and r.headers["X-Transfer-Key-Id"] == "050407:submission:0f"
    assert r.get_json()["key_id"] == "050407:submission:0f"


def test_the_portal_link_redirects_too(world):
    _, client, _, build, _ = world
    r = client.get("/national/files/package?year=115&semester=1")
    assert r.status_code == 303 and r.headers["Location"].startswith("http://files.test/v1/downloads/")


def test_the_build_pool_waits_longer_than_the_ordinary_one():
    app = create_app({"TESTING": True})
    assert app.extensions["rpc"].timeout == 30 and app.extensions["rpc_build"].timeout == 900
    app = create_app({"TESTING": True, "RPC_BUILD_TIMEOUT": 1800})
    assert app.extensions["rpc_build"].timeout == 1800


def test_the_openapi_document_describes_the_303():
    spec = create_app().test_client().get("/api/v1/openapi.json").get_json()
    for path in ("/api/v1/national/{school_year}/{semester}/rosters/{roster}", "/api/v1/me/transfer-package",
                 "/api/v1/students/{student_id}/transfer-package", "/api/v1/downloads/{download_id}"):
        answers = spec["paths"][path]["get"]["responses"]
        assert "303" in answers, path
        assert "download_url" in str(answers["303"]) or "$ref" in str(answers["303"]), path
    assert "410" in spec["paths"]["/api/v1/downloads/{download_id}"]["get"]["responses"]

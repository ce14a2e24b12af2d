"""Calls the gateway makes: services over RPC (pool) and the files service over HTTP."""
import threading
import time
from urllib.parse import quote

import requests
from flask import current_app, request

from .auth import caller_token, sessions_changed
from .errors import ApiError

_local = threading.local()


def rpc(service, method, *args, **kwargs):
    """RPC with the verified caller, signed for this service only, as first argument."""
    result = current_app.extensions["rpc"].call(service, method, caller_token(service), *args, **kwargs)
    if service == "accounts":
        sessions_changed(method, args, kwargs)
    return result


def rpc_build(service, method, *args, **kwargs):
    """`rpc` for a call that builds a file to download (downloads.py): its own pool of proxies
    that wait RPC_BUILD_TIMEOUT (900 s) instead of 30 s, for a package of gigabytes. The caller
    token is checked when the call starts."""
    return current_app.extensions["rpc_build"].call(service, method, caller_token(service), *args, **kwargs)


def rpc_many(*calls, settled=False) -> list:
    """Several RPCs with the verified caller at once, answers in order: each call is
    (service, method, *args). For a page that needs independent answers of several services
    (the teacher's queue: certification and records work side by side). Not for accounts
    calls that change sessions (they go through `rpc`). `settled`: a refused call's answer is
    its RemoteError instead of raising (RpcPool.call_many)."""
    batch = [(service, method, (caller_token(service), *args), {}) for service, method, *args in calls]
    pool = current_app.extensions["rpc"]
    return pool.call_many(batch, settled=True) if settled else pool.call_many(batch)


def rpc_public(service, method, *args, **kwargs):
    """RPC without a caller (sign-in, the session RPCs that take the session token itself)."""
    result = current_app.extensions["rpc"].call(service, method, *args, **kwargs)
    if service == "accounts":
        sessions_changed(method, args, kwargs)
    return result


def _http():
    if getattr(_local, "session", None) is None:
        _local.session = requests.Session()
    return _local.session


def _files_error(resp):
    try:
        err = resp.json()["error"]
        return ApiError(err["code"], detail=err.get("message"))
    except (ValueError, KeyError, TypeError):
        return ApiError("storage_unavailable" if resp.status_code >= 500 else "internal")


def files_public_url() -> str:
    """The files service as the browser (or API client) reaches it: FILES_PUBLIC_URL, made
    absolute when it is a path on the portal's own origin (behind the ingress: /files)."""
    # unset: the files service's own address (the page's CSP then does not name it: set it)
    base = (current_app.config["FILES_PUBLIC_URL"] or current_app.config["FILES_URL"]).rstrip("/")
    if base.startswith("/"):
        base = request.host_url.rstrip("/") + base
    return base


def files_token() -> str:
    """The caller token the browser or API client presents to the files service with the
    upload ticket: signed by the gateway for the audience `files` only, short-lived (a
    resumable upload asks for a fresh one: POST /files-token, /api/v1/files/token)."""
    return caller_token("files")


def _files_get(path, **kw):
    url = current_app.config["FILES_URL"].rstrip("/") + path
    try:
        return _http().get(url, timeout=10, **kw)
    except requests.RequestException:
        _local.session = None
        raise ApiError("storage_unavailable") from None


def file_link(file_id: str, disposition: str = "inline", grant: str | None = None) -> str:
    """files checks who may read the file and answers a short-lived link for it only; the
    browser is sent there, so no file byte passes through the gateway. `grant`: records' read
    grant of an item's proof (records decides who reads an item; files checks the grant)."""
    url = current_app.config["FILES_URL"].rstrip("/") + f"/v1/files/{quote(file_id, safe='')}/link"
    body = {"disposition": disposition} | ({"grant": grant} if grant else {})
    try:
        resp = _http().post(url, json=body, timeout=10,
                            headers={"X-Portfolio-Caller": caller_token("files")})
    except requests.RequestException:
        _local.session = None
        raise ApiError("storage_unavailable") from None
    if resp.status_code != 200:
        raise _files_error(resp)
    return files_public_url() + "/" + resp.json()["path"]


def package_link(download_id: str) -> dict:
    """A file built for the caller (files/downloads.py): files checks it is the caller's, in
    their tenant (else not_found; download_expired after a day) and answers a ticket valid 60 s
    for one download. -> {url (absolute, the browser's address of files), expires_in, filename,
    size, sha256}."""
    url = current_app.config["FILES_URL"].rstrip("/") + f"/v1/downloads/{quote(str(download_id), safe='')}/link"
    try:
        resp = _http().post(url, timeout=10, headers={"X-Portfolio-Caller": caller_token("files")})
    except requests.RequestException:
        _local.session = None
        raise ApiError("storage_unavailable") from None
    if resp.status_code != 200:
        raise _files_error(resp)
    out = resp.json()
    return {"url": files_public_url() + "/" + out.pop("path"), **out}


_limits_cache = {}


def upload_limits(school_year) -> dict | None:
    """What may be uploaded this school year (files owns the limits); None when files does not
    answer (the page then shows the national defaults in words)."""
    hit = _limits_cache.get(school_year)
    if hit and hit[0] > time.monotonic():
        return hit[1]
    try:
        resp = _files_get("/v1/limits", params={"school_year": school_year})
        fams = resp.json()["families"] if resp.status_code == 200 else None
    except (ApiError, ValueError, KeyError):
        fams = None
    if fams:
        _limits_cache[school_year] = (time.monotonic() + 300, fams)
    return fams

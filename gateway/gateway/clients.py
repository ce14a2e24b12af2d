"""Calls the gateway makes: services over RPC (pool) and the files service over HTTP."""
import threading
from urllib.parse import quote

import requests
from flask import current_app

from .auth import caller_token, sessions_changed
from .errors import ApiError

_local = threading.local()


def rpc(service, method, *args, **kwargs):
    """RPC with the verified caller, signed for this service only, as first argument."""
    result = current_app.extensions["rpc"].call(service, method, caller_token(service), *args, **kwargs)
    if service == "accounts":
        sessions_changed(method, args, kwargs)
    return result


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


def upload_outcome_file(ticket: str, stream, filename: str, length: int) -> dict:
    url = current_app.config["FILES_URL"].rstrip("/") + "/v1/outcome-files"
    try:
        resp = _http().post(url, data=stream, timeout=120, headers={
            "X-Portfolio-Caller": caller_token("files"), "X-Upload-Ticket": ticket,
            "X-Filename": quote(filename or ""), "Content-Length": str(length),
            "Content-Type": "application/octet-stream"})
    except requests.RequestException:
        _local.session = None
        raise ApiError("storage_unavailable") from None
    if resp.status_code != 201:
        raise _files_error(resp)
    return resp.json()


def open_file(file_id: str):
    url = current_app.config["FILES_URL"].rstrip("/") + f"/v1/files/{quote(file_id)}"
    try:
        resp = _http().get(url, stream=True, timeout=60, headers={"X-Portfolio-Caller": caller_token("files")})
    except requests.RequestException:
        _local.session = None
        raise ApiError("storage_unavailable") from None
    if resp.status_code != 200:
        raise _files_error(resp)
    return resp

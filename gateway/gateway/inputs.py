"""Input every request must meet before any view or service sees it, so that what a client
cannot mean is a clear 4xx and never a 500 deep inside a service:

- no NUL character anywhere in the path, the query, form fields or JSON strings and keys
  (PostgreSQL text cannot hold one: the service's query failed with a 500);
- a JSON body that Python can parse (a deeply nested one raised RecursionError: a 500);
- an API body is JSON, except on the one form operation (the upload, multipart/form-data):
  anything else is 415 unsupported_media_type instead of an unhelpful "field missing".

Found by fuzzing the API (issue 6 items 13 and 16); each has a regression test in
tests/e2e/test_api_errors_e2e.py.
"""
import json

from flask import request

from .errors import ApiError

NUL = "\x00"
# API operations that take a multipart/form-data body (the file upload); every other API
# operation with a body takes JSON.
MULTIPART_ENDPOINTS = {"api_outcomes.Outcomes", "api_imports.ImportOne"}  # + the spreadsheet imports


def _has_nul(value) -> bool:
    """True when a NUL is in any string or key of a JSON value (iterative: no recursion limit)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if NUL in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _has_body() -> bool:
    return bool(request.content_length) or request.headers.get("Transfer-Encoding", "").lower() == "chunked"


def check_request():
    """before_request: raise ApiError (400 malformed_request, 415 unsupported_media_type)."""
    # `next` (where to go after sign-in) never reaches a service; web.safe_next refuses a NUL in
    # it by falling back to the home page, so a bad link still signs the user in
    if NUL in request.path or any(NUL in k or (NUL in v and k != "next")
                                  for k, v in request.args.items(multi=True)):
        raise ApiError("malformed_request", detail="NUL characters are not accepted")
    api = request.path.startswith("/api/")
    if api and request.url_rule is not None and _has_body() and request.method in ("POST", "PUT", "PATCH"):
        multipart = request.endpoint in MULTIPART_ENDPOINTS
        form = request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded")
        if not (form if multipart else request.is_json):  # a form without its file: 422 file_missing
            raise ApiError("unsupported_media_type",
                           detail="send multipart/form-data" if multipart else "send application/json")
    if request.is_json and _has_body():
        try:
            body = json.loads(request.get_data(cache=True))
        except RecursionError:
            raise ApiError("malformed_request", detail="JSON nested too deeply") from None
        except ValueError:  # JSONDecodeError, UnicodeDecodeError: webargs answers these in detail
            return
        if _has_nul(body):
            raise ApiError("malformed_request", detail="NUL characters are not accepted")
    elif request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        # a part whose name the multipart parser cannot read comes out with the name None
        # (found by fuzzing: name="x\\"): neither a NUL nor a field anyone asked for
        if any(NUL in (k or "") or NUL in (v or "") for k, v in request.form.items(multi=True)):
            raise ApiError("malformed_request", detail="NUL characters are not accepted")

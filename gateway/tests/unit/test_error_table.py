"""The one table that maps error codes to HTTP: every code is complete and reachable."""
import pytest
from nameko.exceptions import RemoteError

from gateway.errors import ERRORS, ApiError, to_api_error
from gateway.rpc import ServiceUnavailable


@pytest.mark.parametrize("code", sorted(ERRORS))
def test_every_code_has_status_and_both_languages(code):
    status, zh, en = ERRORS[code]
    assert 400 <= status < 600 and zh and en
    body = ApiError(code).body()
    assert body["error"]["code"] == code and body["error"]["message_zh"] == zh


@pytest.mark.parametrize("code", sorted(set(ERRORS) - {"internal"}))
def test_service_errors_keep_their_code_across_rpc(code):
    err = to_api_error(RemoteError("Whatever", f"[{code}] text from the service"))
    assert (err.code, err.status) == (code, ERRORS[code][0])


def test_unknown_and_infrastructure_errors():
    assert to_api_error(RemoteError("KeyError", "'x'")).code == "internal"
    assert to_api_error(RemoteError("ValidationError", "{'a': ['bad']}")).code == "invalid"
    assert to_api_error(ServiceUnavailable("down")).status == 503


def test_service_error_codes_are_all_mapped():
    """Every code a service can raise has a row in the table (no silent 500s)."""
    import inspect

    import accounts.errors
    import certification.errors
    import files.errors
    import records.errors
    import submission.errors
    from portfolio_common.errors import PortfolioError
    for mod in (accounts.errors, records.errors, certification.errors, submission.errors, files.errors):
        for _, cls in inspect.getmembers(mod, inspect.isclass):
            if issubclass(cls, PortfolioError) and cls.code not in ("error", "malformed_event"):
                assert cls.code in ERRORS, f"{mod.__name__}.{cls.__name__} code {cls.code} unmapped"


# ---------------------------------------------------------------- the documented error body

def _spec():
    from gateway.app import create_app
    return create_app().test_client().get("/api/v1/openapi.json").get_json()


def _error_validator(spec):
    import jsonschema
    return jsonschema.Draft7Validator({"$ref": "#/components/schemas/Error", "components": spec["components"]})


def test_the_openapi_document_declares_one_error_schema_for_every_error_response():
    spec = _spec()
    responses = spec["components"]["responses"]
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            if method == "parameters":
                continue
            for status, resp in op["responses"].items():
                if status.startswith(("2", "3")):
                    continue
                resp = responses[resp["$ref"].rsplit("/", 1)[1]] if "$ref" in resp else resp
                schema = resp["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Error"}, (method, path, status)


@pytest.mark.parametrize("code", sorted(ERRORS))
def test_every_error_body_matches_the_declared_schema(code):
    validator = _error_validator(_spec())
    validator.validate(ApiError(code).body())
    validator.validate(ApiError(code, detail="why", fields={"json": {"x": ["Missing data."]}}).body())


def test_a_body_outside_the_schema_is_caught_by_it():
    """The check above is not vacuous: flask-smorest's own error shape would fail it."""
    import jsonschema
    with pytest.raises(jsonschema.ValidationError):
        _error_validator(_spec()).validate({"code": 405, "status": "Method Not Allowed"})


@pytest.mark.parametrize("exc,code,status", [
    ("BadRequest", "malformed_request", 400),
    ("NotFound", "not_found", 404),
    ("MethodNotAllowed", "method_not_allowed", 405),
    ("NotAcceptable", "bad_request", 406),
    ("UnsupportedMediaType", "unsupported_media_type", 415),
    ("UnprocessableEntity", "invalid", 422),
    ("RequestEntityTooLarge", "request_too_large", 413),
    ("InternalServerError", "internal", 500),
])
def test_http_refusals_get_their_own_code_not_internal(exc, code, status):
    import werkzeug.exceptions as wexc
    err = to_api_error(getattr(wexc, exc)())
    assert (err.code, err.status) == (code, status)


def test_a_code_no_one_mapped_becomes_internal_and_stays_documented():
    err = ApiError("no_such_code", detail="from the files service")
    assert (err.code, err.status) == ("internal", 500)
    assert "no_such_code" in err.body()["error"]["detail"]
    _error_validator(_spec()).validate(err.body())

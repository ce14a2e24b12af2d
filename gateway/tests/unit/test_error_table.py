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

"""The files service answers the browser itself: its codes, statuses and sentences are the
gateway's one table's (gateway/gateway/errors.py)."""
import pytest

from files import errors as files_errors
from gateway.errors import ERRORS


@pytest.mark.parametrize("cls", files_errors.ALL, ids=lambda c: c.code)
def test_files_refusals_are_in_the_one_table(cls):
    status, zh, en = ERRORS[cls.code]
    assert (status, zh, en) == (cls.http_status, cls.zh, cls.en)

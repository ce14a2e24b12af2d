import pytest

from submission import domain
from submission.errors import NotSelectable, SelectionQuotaExceeded


def test_selection_rules():
    ok = {str(i) for i in range(8)}
    assert domain.check_selection(["1", "2", "1"], ok) == ["1", "2"]
    assert domain.check_selection([], ok) == []
    with pytest.raises(SelectionQuotaExceeded):
        domain.check_selection([str(i) for i in range(7)], ok)
    with pytest.raises(NotSelectable):
        domain.check_selection(["99"], ok)

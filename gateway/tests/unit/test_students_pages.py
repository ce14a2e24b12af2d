"""How the history page words the values of a history row: never an exception, whatever a kind stores."""
from gateway.students import value_name


def test_values_of_every_shape_read_as_words():
    assert value_name(None) == "（空）" and value_name(True) == "是" and value_name(1) == "1"
    assert value_name("repeat") == "重讀" and value_name("changed") == "已變更"
    assert value_name(["a", "b"]) == "a、b" and value_name([]) == "（無）"
    assert value_name({"school_year": 115, "outcome_ids": ["x"]}) == "學年度 115；課程學習成果 x"

"""How the history page words the values of a history row: never an exception, whatever a kind stores."""
from gateway.students import value_name


def test_values_of_every_shape_read_as_words():
    assert value_name(None) == "（空）" and value_name(True) == "是" and value_name(1) == "1"
    assert value_name("repeat") == "重讀" and value_name("changed") == "已變更"
    assert value_name(["a", "b"]) == "a、b" and value_name([]) == "（無）"
    assert value_name({"school_year": 115, "outcome_ids": ["x"]}) == "學年度 115；課程學習成果 x"


def test_field_problems_from_records_travel_in_the_documented_error_shape():
    from nameko.exceptions import RemoteError

    from gateway.errors import ErrorSchema, to_api_error
    err = to_api_error(RemoteError("FieldsInvalid", '[fields_invalid] [{"field": "national_id", "code": '
                                                    '"national_id_checksum", "params": {}}, {"field": "x", "code": '
                                                    '"duplicate_in_file", "params": {"first_row": 3}}]'))
    body = err.body()
    assert ErrorSchema().validate(body) == {}
    assert body["error"]["fields"]["record"]["national_id"][0]["code"] == "national_id_checksum"
    assert body["error"]["fields"]["record"]["x"][0]["message_zh"] == "與第 3 列重複；每筆資料只能有一列。"

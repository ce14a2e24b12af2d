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


def test_a_sealed_student_is_listed_as_sealed_with_name_and_class_only():
    """records.list_students lists a sealed student as {id, name, class, sealed}: the page says
    so, links nowhere and shows no 學號, ID, birth date or status (brief national item 5)."""
    from flask import render_template

    from gateway.app import create_app
    from gateway.students import STATUS_NAMES
    app = create_app({})
    sealed = {"id": "s-1", "name": "陳怡君", "class_code": "101", "class_name": "一甲", "school_year": 110,
              "sealed": True}
    other = {"id": "s-2", "student_no": "1150002", "name": "林柏宇", "class_code": "101", "class_name": "一甲",
             "seat_no": 2, "national_id_masked": "B1******80", "birth_date_roc": "0990305", "status": "enrolled",
             "sealed": False}
    with app.test_request_context("/students"):
        html = render_template("students.html", students=[sealed, other], classes=[], class_code="",
                               STATUS_NAMES=STATUS_NAMES)
    row = html.split('data-sealed="1"')[1].split("</tr>")[0]
    assert "陳怡君" in row and "101 一甲" in row and "已封存" in row
    assert "s-1" not in html and "href" not in row and "None" not in row
    assert 'data-student-no="1150002"' in html and "B1******80" in html

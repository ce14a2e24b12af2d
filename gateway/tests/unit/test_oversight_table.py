"""The oversight page's class slice shows each class's code before its name, and the export
carries the code in its own column (spreadsheets sort and look classes up by code)."""
from gateway import oversight


def rows():
    return [{"key": "101", "label": "資訊科一年甲班", "name": "資訊科一年甲班", "open": 2, "certified": 1,
             "returned": 0, "withdrawn": 0, "decided": 1, "median_hours_to_decide": 3.5},
            {"key": None, "label": None, "name": "未分班", "open": 1, "certified": 0,
             "returned": 0, "withdrawn": 0, "decided": 0, "median_hours_to_decide": None}]


def test_the_class_export_ends_with_the_class_code_and_keeps_the_page_columns_first():
    head, body = oversight._table("class", rows())
    assert head[:3] == ["班級", "待認證", "已認證"] and head[-1] == "班級代碼"
    assert body[0][0] == "資訊科一年甲班" and body[0][-1] == "101"
    assert body[1][0] == "未分班" and body[1][-1] == ""


def test_other_slices_have_no_code_column():
    head, body = oversight._table("subject", rows())
    assert "班級代碼" not in head and len(body[0]) == len(head)


def test_the_page_shows_the_code_before_the_name():
    from gateway.app import create_app
    app = create_app()
    with app.test_request_context("/certification/oversight?by=class"):
        from flask import render_template
        html = render_template("oversight.html", rows=rows(), by="class", slices=oversight.SLICES,
                               closing=[], can_proxy=False, within_days=7)
    assert '<span class="class-code">101</span> 資訊科一年甲班' in html
    assert ">未分班</th>" in html

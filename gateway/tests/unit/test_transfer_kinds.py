"""The 轉入 sections (_transferred_items.html) render every kind of a transfer package from items
shaped as the package writes them (records/<kind>.json; docs/transfer-package.md): each column
the page shows is a key the item has, and codes read as the portal's zh-TW names (QA: 幹部、社團
與服務 and 缺勤紀錄 showed blank columns because the page looked for keys the package lacks)."""
import re

import pytest
from flask import render_template

from gateway.app import create_app
from gateway.transfer import KIND_FIELDS, KIND_LABELS

# one item of each kind, with the keys records' transfer export gives it (school_year on the row)
ITEMS = {
    "course_grades": {"id": "g1", "semester": 1, "course_code": "111111111111111111111", "subject_name": "程式設計",
                      "grade_level": 1, "credits": 3, "semester_grade": "85", "passed": True, "makeup_grade": None,
                      "makeup_passed": None, "credit_counted": True, "remark": None, "yearly_grade": None,
                      "yearly_passed": None},
    "course_outcomes": {"outcome_id": "o1", "school_year": 115, "semester": 2, "course_code": "C1",
                        "subject_name": "資料庫", "description": "期末專題", "status": "certified", "files": [],
                        "certification": None},
    "performances": {"school_year": 115, "id": "p1", "kind": "licence", "fields": {"licence_code": "123"},
                     "description": "丙級證照", "entered_by": "student", "state": "ready", "file": None},
    "autobiography": {"version_no": 2, "autobiography": "我…", "career_plan": "資訊工程", "expectations": "",
                      "strengths": "", "interests": "", "written_at": "2026-05-01T10:00:00+08:00",
                      "status": "approved", "reviewed_by_username": "t_lin", "reviewed_at": None},
    "activities": {"id": "a1", "semester": 1, "category": "cadre", "name": "班聯會", "position": "副會長",
                   "hours": None, "started_on": "2026-09-01", "ended_on": None, "description": None},
    "competitions": {"id": "c1", "semester": 2, "name": "校內程式競賽", "event": None, "result": "第一名",
                     "announced_on": "2026-05-20", "description": "個人組"},
    "attendance": {"semester": 1, "absence_code": "03", "periods": 4},
    "status_changes": {"change": "transfer_in", "effective_on": "2026-02-10", "other_school_code": "010301",
                       "school_year": 114, "semester": 2},
}
WANT = {  # column label -> what the cell says
    "course_grades": {"學期": "1", "課程代碼": "111111111111111111111", "科目": "程式設計", "學分": "3",
                      "學期成績": "85", "及格": "是"},
    "course_outcomes": {"學期": "2", "科目": "資料庫", "簡述": "期末專題", "狀態": "已認證"},
    "performances": {"類別": "檢定證照紀錄", "說明": "丙級證照", "狀態": "已上傳證明"},
    "autobiography": {"版本": "2", "生涯規劃": "資訊工程", "狀態": "已核可"},
    "activities": {"學期": "1", "類別": "幹部", "名稱": "班聯會", "職務": "副會長", "時數": ""},
    "competitions": {"學期": "2", "名稱": "校內程式競賽", "成績": "第一名", "公布日期": "2026-05-20"},
    "attendance": {"學期": "1", "假別": "03 病假", "節數": "4"},
    "status_changes": {"學期": "2", "異動類別": "轉入", "異動日期": "2026-02-10", "原校或借讀學校代碼": "010301"},
}


def test_every_kind_of_the_format_has_its_columns_and_an_example():
    assert set(KIND_FIELDS) == set(KIND_LABELS) == set(ITEMS) == set(WANT)
    for kind, fields in KIND_FIELDS.items():
        assert {f for f, _ in fields} <= set(ITEMS[kind]), kind  # only keys the package has


@pytest.fixture(scope="module")
def app():
    return create_app({})


@pytest.fixture(autouse=True)
def tenant_names(monkeypatch):
    """The page names the origin's division from accounts (an RPC): named here, no broker."""
    from gateway import tenants
    monkeypatch.setattr(tenants, "names", lambda refresh=False: {"day": "日間部", "ce": "進修部"})


@pytest.mark.parametrize("kind", sorted(ITEMS))
def test_each_kind_renders_every_column_with_the_portal_names(app, kind):
    view = {"imports": [{"import_id": "i1", "origin_school_code": "010301", "origin_tenant": "day", "verified": True,
                         "exported_at": "2026-11-30T10:13:04.413415+00:00", "imported_at": "2026-11-30T10:20:00+00:00",
                         "imported_by_username": "reg_day", "origin_student": {"student_no": "S1", "name": "王小明"},
                         "items": [{"id": "x1", "kind": kind, "school_year": 115, "item": ITEMS[kind]}],
                         "files": []}]}
    with app.test_request_context("/"):
        html = render_template("_transferred_items.html", view=view, file_base="/f/__FILE__")
    table = re.search(rf'<table data-kind="{kind}".*?</table>', html, re.S).group(0)
    heads = re.findall(r'<th scope="col">([^<]*)</th>', table)
    assert heads == ["學年度", *WANT[kind], "證明檔案"]
    cells = dict(re.findall(r'<td data-label="([^"]*)">\s*(.*?)\s*</td>', table, re.S))
    assert {k: cells[k] for k in WANT[kind]} == WANT[kind]
    assert cells["學年度"] == "115" and "日間部" in html


@pytest.mark.parametrize("raw,shown", [
    ("2026-11-30T10:13:04.413415+00:00", "115/11/30 18:13"),   # the QA's: raw ISO on the preview
    ("2026-11-30T14:02:11.532+08:00", "115/11/30 14:02"),
    ("2026-11-30T02:02:11Z", "115/11/30 10:02"),
    ("2026-11-30T10:13:04", "2026-11-30T10:13:04"),            # no offset: as the origin wrote it
    ("yesterday", "yesterday"), ("9999-12-31T23:59:59-12:00", "9999-12-31T23:59:59-12:00"), (None, ""),
])
def test_the_export_time_of_a_package_reads_as_the_portal_shows_times(raw, shown):
    from gateway.transfer import package_time
    assert package_time(raw) == shown

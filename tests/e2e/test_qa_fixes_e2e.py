"""Two bugs a tester found, against the running platform (classes 178 and 179 of 日間部,
national IDs letter D block 1; tests/browser/test_class_move_browser.py has 進修部's 178/179).

1. Moving a student to another class on 學生基本資料 renamed the target class for everyone in
   it (the form still held the old class's name). Now the portal does not carry the old name
   along, and records refuses a name other than an existing class's own (class_name_differs).
2. A school's own package imported back into the same division was accepted (the student's
   records duplicated as 轉入): now transfer_same_school (422), nothing stored. Day -> 進修部 of
   the same school stays allowed (tests/e2e/test_transfer_import_e2e.py)."""
import re

import pytest

from tests.e2e.test_admin_import_e2e import csrf, portal
from tests.support import uploads
from tests.support.school import add_class

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def classes(stack, api):
    """178 資料處理科一年甲班 (11517801, 11517802) and 179 資料處理科一年乙班 (11517803, moved
    there by the API, which creates the class: a new code with its name)."""
    names = add_class(stack, prefix="qfa", class_code="178", subject="班級移動甲", n=3, nid_letter="D", nid_block=1,
                      class_name="資料處理科一年甲班")
    reg = api("reg_day")
    st = _student(reg, "11517803")
    r = reg.put(f"/students/{st['id']}", json={"student_no": st["student_no"], "name": st["name"], "class_code": "179",
                                              "class_name": "資料處理科一年乙班", "version": st["version"]})
    assert r.status_code == 200 and r.json()["class_name"] == "資料處理科一年乙班", r.text
    return names


def _student(reg, student_no):
    return next(s for s in reg.get("/students").json() if s["student_no"] == student_no)


def test_moving_a_student_in_the_portal_keeps_the_target_class_name(stack, api, classes):
    reg = api("reg_day")
    st = _student(reg, "11517801")
    s, _ = portal(stack, "reg_day")
    url = f"{stack.gateway_url}/registrar/students/{st['id']}"
    page = s.get(url, timeout=30)
    form = dict(re.findall(r'<input id="f-([a-z_]+)" name="\1" value="([^"]*)"', page.text))
    assert form["class_name"] == "資料處理科一年甲班"   # the form comes pre-filled with the old class's name
    form |= {"csrf_token": csrf(page.text), "version": str(st["version"]), "gender": "", "class_type_code": "",
             "status": "enrolled", "class_code": "179"}   # the registrar changes only 班級代碼
    r = s.post(url, data=form, timeout=30, allow_redirects=False)
    assert r.status_code == 302, r.text[:800]
    moved = reg.get(f"/students/{st['id']}").json()
    assert (moved["class_code"], moved["class_name"]) == ("179", "資料處理科一年乙班")
    other = _student(reg, "11517803")
    assert other["class_name"] == "資料處理科一年乙班"           # nobody else's class was renamed
    hist = reg.get(f"/students/{st['id']}/history").json()
    assert hist[-1]["before"]["class_code"] == "178" and hist[-1]["after"]["class_code"] == "179"
    # a name that differs from the existing class's is refused beside the field, nothing written
    page = s.get(url, timeout=30)
    form |= {"csrf_token": csrf(page.text), "version": str(moved["version"]), "class_code": "178",
             "class_name": "被改掉的班名"}
    r = s.post(url, data=form, timeout=30)
    assert r.status_code == 422 and "已有名稱「資料處理科一年甲班」" in r.text, r.text[:800]
    assert reg.get(f"/students/{st['id']}").json()["class_code"] == "179"
    assert _student(reg, "11517802")["class_name"] == "資料處理科一年甲班"


def test_the_api_refuses_renaming_an_existing_class_through_one_student(api, classes):
    reg = api("reg_day")
    st = _student(reg, "11517803")
    r = reg.put(f"/students/{st['id']}", json={"student_no": st["student_no"], "name": st["name"],
                                              "class_code": "179", "class_name": "別的名字", "version": st["version"]})
    assert r.status_code == 422, r.text
    (p,) = r.json()["error"]["fields"]["record"]["class_name"]
    assert p["code"] == "class_name_differs" and "資料處理科一年乙班" in p["message_zh"]
    assert _student(reg, "11517803")["class_name"] == "資料處理科一年乙班"


def test_a_divisions_own_package_is_not_imported_back(stack, api, classes):
    reg = api("reg_day")
    st = _student(reg, "11517802")
    r = reg.get(f"/students/{st['id']}/transfer-package")
    assert r.status_code == 200, r.text[:300]
    t = reg.post(f"/students/{st['id']}/transfer-imports/tickets")
    assert t.status_code == 201, t.text
    up = uploads.send_file(reg.s, t.json(), r.content, "本校.zip")
    assert up.status_code == 201, up.text
    for path in ("/transfer-imports/preview", "/transfer-imports"):
        got = reg.post(f"/students/{st['id']}{path}", json={"file_id": up.json()["file_id"]})
        assert got.status_code == 422, got.text
        assert got.json()["error"]["code"] == "transfer_same_school"
        assert "本校本部別匯出" in got.json()["error"]["message_zh"]
    assert reg.get(f"/students/{st['id']}/transfer-imports").json()["imports"] == []
    # the portal's preview says it in a sentence too (the upload page again, 422)
    s, _ = portal(stack, "reg_day")
    page = s.get(f"{stack.gateway_url}/students/{st['id']}/transfer-import/preview",
                 params={"file": up.json()["file_id"]}, timeout=60)
    assert page.status_code == 422 and 'data-code="transfer_same_school"' in page.text, page.text[:300]
    assert "本校本部別匯出的檔案，不需要轉入" in page.text

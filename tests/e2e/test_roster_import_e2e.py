"""The registrar's student roster (學籍資料, kind student_profile) over HTTP, through the portal
as a registrar uses it: the system admin imports the student accounts first, then reg_day
uploads the roster -> preview (records' dry run, nothing written, national IDs masked) -> the
same file with confirm and the preview's basis -> report; the same file again changes nothing.
The shared cases R02, R07 and R09 are previewed with their right answers.

Every run uses its own accounts, student numbers, class code and national IDs (letter P,
random digits with a valid checksum), so runs never collide with the demo or each other.
"""
import hashlib
import html
import os
import random
import re
import uuid

import pytest

from records.domain import national_id_checksum_ok
from tests.e2e.test_admin_import_e2e import Admin, count, csrf, people_csv, portal

pytestmark = pytest.mark.slow

HEADER = "學號,姓名,身分證號,出生日期,班級代碼,班級名稱,座號,帳號"
CASES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "cases")


def national_id(rng):
    body = "P" + rng.choice("12") + "".join(rng.choice("0123456789") for _ in range(7))
    return next(body + d for d in "0123456789" if national_id_checksum_ok(body + d))


def bad_checksum(nid):
    return nid[:-1] + str((int(nid[-1]) + 1) % 10)


def roster_csv(rows, header=HEADER):
    return ("\ufeff" + header + "\r\n" + "".join(",".join(map(str, r)) + "\r\n" for r in rows)).encode("utf-8")


def problems(page_html):
    """[(row, column, code, zh message)] of the preview's problem table."""
    return [(int(row), col, code, html.unescape(re.sub(r"<[^>]+>", "", msg)).strip())
            for row, col, code, msg in re.findall(
                r'<tr data-row="(\d+)" data-column="([a-z_]*)" data-code="([a-z_0-9]+)">\s*<td[^>]*>[^<]*</td>\s*'
                r'<td>[^<]*</td>\s*<td>[^<]*</td>\s*<td>([^<]*)</td>', page_html)]


def hidden(page_html, name):
    m = re.search(rf'name="{name}" value="([^"]*)"', page_html)
    return m.group(1) if m else None


class Registrar:
    def __init__(self, stack, username="reg_day", path="/registrar/roster"):
        self.base, self.path = stack.gateway_url, path
        self.s, r = portal(stack, username)
        assert r.status_code == 302, r.text

    def upload(self, data, filename="學生名冊.csv", confirm_from=None):
        form = {"csrf_token": csrf(self.s.get(self.base + self.path, timeout=30).text),
                "school_year": "115", "semester": "1"}
        if isinstance(confirm_from, dict):  # a hand-made confirm
            form |= {"confirm": "1"} | confirm_from
        elif confirm_from is not None:  # the preview page: its file fingerprint and basis
            form |= {"confirm": "1", "sha256": hidden(confirm_from, "sha256") or "", "basis": hidden(confirm_from, "basis") or ""}
        return self.s.post(self.base + self.path, data=form, timeout=60, files={"file": (filename, data, "text/csv")})


@pytest.fixture(scope="module")
def school(stack):
    """7 student accounts of 日間部 made by the admin's people import; 6 national IDs."""
    tag = uuid.uuid4().hex[:8]
    rng = random.Random(tag)
    users = [f"rst_{tag}_{i}" for i in range(7)]
    admin = Admin(stack)
    data = people_csv([[u, f"學籍{i}", "roster-pass-1", "日間部:學生"] for i, u in enumerate(users)])
    admin.upload(data)
    report = admin.upload(data, confirm_sha=hashlib.sha256(data).hexdigest())
    assert count(report.text, "count-created") == 7, report.text
    ids = set()
    while len(ids) < 6:
        ids.add(national_id(rng))
    return {"tag": tag, "users": users, "ids": sorted(ids), "class": f"R{tag}", "registrar": Registrar(stack)}


def good_rows(school, n=3):
    tag, cls, ids, users = school["tag"], school["class"], school["ids"], school["users"]
    return [[f"R{tag}{i}", f"學籍{i}", ids[i].lower() if i == 1 else ids[i], "0940315", cls, "測試科一年甲班", i + 1, users[i]]
            for i in range(n)]


def test_roster_preview_confirm_report_and_reimport_changes_nothing(school):
    reg, ids = school["registrar"], school["ids"]
    data = roster_csv(good_rows(school))
    digest = hashlib.sha256(data).hexdigest()

    preview = reg.upload(data)
    assert preview.status_code == 200, preview.text
    assert problems(preview.text) == [] and count(preview.text, "count-problems") == 0
    created_before = count(preview.text, "count-created")
    assert (created_before, count(preview.text, "count-updated")) in ((3, 0), (0, 0))  # (0,0): another test ran first
    assert 'data-testid="confirm"' in preview.text and f'value="{digest}"' in preview.text
    for nid in ids[:3]:
        assert nid not in preview.text and nid.lower() not in preview.text
        assert f"{nid[:3]}*****{nid[-2:]}" in preview.text
    assert preview.headers["Cache-Control"] == "no-store"
    assert count(reg.upload(data).text, "count-created") == created_before  # a preview writes nothing

    report = reg.upload(data, confirm_from=preview.text)
    assert report.status_code == 200, report.text
    assert 'data-testid="report"' in report.text and all(nid not in report.text for nid in ids)

    again = reg.upload(data)
    assert problems(again.text) == []
    assert (count(again.text, "count-created"), count(again.text, "count-updated"),
            count(again.text, "count-unchanged")) == (0, 0, 3)
    report2 = reg.upload(data, confirm_from=again.text)
    assert (count(report2.text, "count-created"), count(report2.text, "count-updated"),
            count(report2.text, "count-unchanged")) == (0, 0, 3)


def test_a_roster_with_problems_is_refused_whole_by_row_and_column(school):
    reg, tag, cls, ids, users = school["registrar"], school["tag"], school["class"], school["ids"], school["users"]
    good = roster_csv(good_rows(school))
    reg.upload(good, confirm_from=reg.upload(good).text)  # idempotent if the other test ran first

    bad_id = bad_checksum(ids[3])
    rows = [[f"R{tag}0", "改了名字", ids[0], "0940315", cls, "測試科一年甲班", 1, users[0]],     # row 2: valid update
            [f"R{tag}3", "檢查碼錯", bad_id, "0940315", cls, "測試科一年甲班", 4, users[3]],     # row 3
            [f"R{tag}4", "新同學", ids[4], "94/02/31", cls, "測試科一年甲班", 5, users[4]],     # row 4: no such date
            [f"R{tag}5", "同身分證", ids[4], "0940315", cls, "測試科一年甲班", 6, users[5]],     # row 5: same ID as row 4
            [f"R{tag}6", "撞到舊生", ids[1], "0940315", cls, "測試科一年甲班", 7, users[6]]]     # row 6: ID of R{tag}1
    data = roster_csv(rows)
    preview = reg.upload(data)
    assert preview.status_code == 200, preview.text
    found = problems(preview.text)
    assert [(row, col, code) for row, col, code, _ in found] == [
        (3, "national_id", "national_id_checksum"), (4, "birth_date", "date_impossible"),
        (5, "national_id", "duplicate_in_file"), (6, "national_id", "duplicate_national_id")]
    assert found[0][3].startswith("身分證號：") and "第 4 列" in found[2][3]
    assert 'name="confirm"' not in preview.text and "整份檔案都不會匯入" in preview.text
    for nid in (bad_id, ids[0], ids[1], ids[4]):
        assert nid not in preview.text

    r = reg.upload(data, confirm_from={"sha256": hashlib.sha256(data).hexdigest(), "basis": ""})  # confirming anyway
    assert r.status_code == 422 and "沒有匯入任何資料" in r.text
    assert all(nid not in r.text for nid in (bad_id, ids[0], ids[1], ids[4]))
    again = reg.upload(good)  # nothing written: row 2's new name was not applied
    assert (count(again.text, "count-created"), count(again.text, "count-updated"),
            count(again.text, "count-unchanged")) == (0, 0, 3)


def test_a_change_made_after_the_preview_refuses_the_confirm(school, api):
    reg, tag = school["registrar"], school["tag"]
    good = roster_csv(good_rows(school))
    reg.upload(good, confirm_from=reg.upload(good).text)
    renamed = roster_csv([[*r[:1], r[1] + "改", *r[2:]] for r in good_rows(school)])
    preview = reg.upload(renamed)
    assert count(preview.text, "count-updated") == 3
    registrar = api("reg_day")
    (st,) = [s for s in registrar.get("/students").json() if s["student_no"] == f"R{tag}0".upper()]
    body = {k: (st[k] if st[k] is not None else "") for k in ("student_no", "class_code", "birth_date")}
    r = registrar.put(f"/students/{st['id']}", json=body | {"name": "表單改名", "seat_no": "1", "version": st["version"]})
    assert r.status_code == 200, r.text
    r = reg.upload(renamed, confirm_from=preview.text)
    assert r.status_code == 409 and "沒有匯入" in r.text
    assert registrar.get(f"/students/{st['id']}").json()["name"] == "表單改名"


def test_unknown_or_non_student_account_is_a_row_problem(school):
    reg, tag, cls, ids = school["registrar"], school["tag"], school["class"], school["ids"]
    data = roster_csv([[f"R{tag}9", "沒有帳號", ids[5], "", cls, "測試科一年甲班", 9, f"nobody_{tag}"],
                       [f"R{tag}8", "老師帳號", ids[5], "", cls, "測試科一年甲班", 8, "t_wang"]])
    found = problems(reg.upload(data).text)
    assert [(row, col, code) for row, col, code, _ in found if code == "student_account_missing"] == [
        (2, "username", "student_account_missing"), (3, "username", "student_account_missing")]
    assert "找不到此學生帳號" in found[0][3]


def shared_case(name):
    folder = os.path.join(CASES, name)
    (f,) = [n for n in os.listdir(folder) if n != "EXPECTED.md"]
    with open(os.path.join(folder, f), "rb") as fh:
        return f, fh.read()


def test_shared_case_R02_big5_rows_with_lost_characters_are_flagged_not_imported(stack):
    reg = Registrar(stack)
    name, data = shared_case("R02_big5_rare_char")
    page = reg.upload(data, filename=name)
    assert [(row, col, code) for row, col, code, _ in problems(page.text)] == [
        (2, "name", "character_lost"), (3, "name", "character_lost")]
    assert 'name="confirm"' not in page.text and "Big5" in page.text


def test_shared_case_R07_text_formulas_read_as_their_codes(stack):
    reg = Registrar(stack)
    name, data = shared_case("R07_excel_text_formula")
    page = reg.upload(data, filename=name)
    assert problems(page.text) == [], problems(page.text)
    assert 'data-key="1150001"' in page.text and 'data-key="1150002"' in page.text and "=&#34;" not in page.text
    assert ">101<" in page.text


def test_shared_case_R09_roc_birth_dates_read_and_an_impossible_one_flagged(stack):
    reg = Registrar(stack)
    name, data = shared_case("R09_roc_birth_date")
    page = reg.upload(data, filename=name)
    assert [(row, col, code) for row, col, code, _ in problems(page.text)] == [(3, "birth_date", "date_impossible")]


def test_only_a_registrar_may_import_a_roster(stack):
    s, r = portal(stack, "t_wang")
    assert r.status_code == 302
    for path in ("/registrar/roster", "/registrar/imports/status_change", "/registrar/students"):
        assert s.get(stack.gateway_url + path, timeout=30).status_code == 403
    page = s.get(stack.gateway_url + "/certification", timeout=30).text
    assert "/registrar/roster" not in page
    r = s.post(stack.gateway_url + "/registrar/roster", data={"csrf_token": csrf(page)},
               files={"file": ("x.csv", b"a,b\n", "text/csv")}, timeout=30)
    assert r.status_code == 403
    admin, _ = portal(stack, "admin")  # a system admin is not the registrar
    assert admin.get(stack.gateway_url + "/registrar/roster", timeout=30).status_code == 403
    reg = Registrar(stack)
    home = reg.s.get(stack.gateway_url + "/registrar/roster", timeout=30)
    assert home.status_code == 200 and "匯入學籍資料" in home.text and "出生日期" in home.text

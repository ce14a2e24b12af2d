"""The registrar's roster import (學籍資料) over HTTP, through the portal as a registrar uses it:
the system admin imports the student accounts first, then reg_day uploads the roster ->
preview (nothing written, national IDs masked) -> the same file with confirm -> report.

Every run uses its own accounts, student numbers, class code and national IDs (letter P,
random digits with a valid checksum), so runs never collide with the demo or each other.
"""
import hashlib
import random
import uuid

import pytest

from records.domain import national_id_checksum_ok
from tests.e2e.test_admin_import_e2e import Admin, count, csrf, people_csv, portal, problems

pytestmark = pytest.mark.slow

HEADER = "學號,姓名,身分證號,班級代碼,班級名稱,座號,帳號"


def national_id(rng):
    body = "P" + rng.choice("12") + "".join(rng.choice("0123456789") for _ in range(7))
    return next(body + d for d in "0123456789" if national_id_checksum_ok(body + d))


def bad_checksum(nid):
    return nid[:-1] + str((int(nid[-1]) + 1) % 10)


def roster_csv(rows):
    return ("\ufeff" + HEADER + "\r\n" + "".join(",".join(map(str, r)) + "\r\n" for r in rows)).encode("utf-8")


class Registrar:
    def __init__(self, stack, username="reg_day"):
        self.base = stack.gateway_url
        self.s, r = portal(stack, username)
        assert r.status_code == 302, r.text

    def upload(self, data, filename="學生名冊.csv", confirm_sha=None):
        form = {"csrf_token": csrf(self.s.get(self.base + "/registrar/roster", timeout=30).text),
                "school_year": "115", "semester": "1"}
        if confirm_sha:
            form |= {"confirm": "1", "sha256": confirm_sha}
        return self.s.post(self.base + "/registrar/roster", data=form, timeout=60,
                           files={"file": (filename, data, "text/csv")})


@pytest.fixture(scope="module")
def school(stack):
    """7 student accounts of 日間部 made by the admin's people import; 3 national IDs."""
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
    return {"tag": tag, "users": users, "ids": sorted(ids), "class": f"R{tag}",
            "registrar": Registrar(stack)}


def test_roster_preview_confirm_report_and_reimport_changes_nothing(school):
    reg, tag, cls, ids, users = school["registrar"], school["tag"], school["class"], school["ids"], school["users"]
    rows = [[f"R{tag}{i}", f"學籍{i}", ids[i], cls, "測試科一年甲班", i + 1, users[i]] for i in range(3)]
    data = roster_csv(rows)
    digest = hashlib.sha256(data).hexdigest()

    preview = reg.upload(data)
    assert preview.status_code == 200, preview.text
    assert problems(preview.text) == [] and count(preview.text, "count-problems") == 0
    assert (count(preview.text, "count-created"), count(preview.text, "count-updated"),
            count(preview.text, "count-unchanged")) == (3, 0, 0)
    assert 'data-testid="confirm"' in preview.text and f'value="{digest}"' in preview.text
    for nid in ids[:3]:
        assert nid not in preview.text
        assert f"{nid[:3]}*****{nid[-2:]}" in preview.text
    assert preview.headers["Cache-Control"] == "no-store"

    # a preview writes nothing: previewing again still says "created"
    assert count(reg.upload(data).text, "count-created") == 3

    report = reg.upload(data, confirm_sha=digest)
    assert report.status_code == 200, report.text
    assert 'data-testid="report"' in report.text
    assert (count(report.text, "count-created"), count(report.text, "count-updated"),
            count(report.text, "count-unchanged"), count(report.text, "count-refused")) == (3, 0, 0, 0)
    assert all(nid not in report.text for nid in ids)

    again = reg.upload(data)
    assert problems(again.text) == []
    assert (count(again.text, "count-created"), count(again.text, "count-updated"),
            count(again.text, "count-unchanged")) == (0, 0, 3)
    report2 = reg.upload(data, confirm_sha=digest)
    assert (count(report2.text, "count-created"), count(report2.text, "count-updated"),
            count(report2.text, "count-unchanged")) == (0, 0, 3)


def test_a_roster_with_problems_is_refused_whole_with_row_numbers(school):
    reg, tag, cls, ids, users = school["registrar"], school["tag"], school["class"], school["ids"], school["users"]
    good = roster_csv([[f"R{tag}{i}", f"學籍{i}", ids[i], cls, "測試科一年甲班", i + 1, users[i]] for i in range(3)])
    reg.upload(good)
    reg.upload(good, confirm_sha=hashlib.sha256(good).hexdigest())  # idempotent if the other test ran first

    bad_id = bad_checksum(ids[3])
    rows = [[f"R{tag}0", "改了名字", ids[0], cls, "測試科一年甲班", 1, users[0]],      # row 2: valid update
            [f"R{tag}3", "檢查碼錯", bad_id, cls, "測試科一年甲班", 4, users[3]],      # row 3
            [f"R{tag}4", "新同學", ids[4], cls, "測試科一年甲班", 5, users[4]],        # row 4
            [f"R{tag}5", "同身分證", ids[4], cls, "測試科一年甲班", 6, users[5]],      # row 5: same ID as row 4
            [f"R{tag}6", "撞到舊生", ids[1], cls, "測試科一年甲班", 7, users[6]]]      # row 6: ID of R{tag}1
    data = roster_csv(rows)
    digest = hashlib.sha256(data).hexdigest()

    preview = reg.upload(data)
    assert preview.status_code == 200, preview.text
    found = problems(preview.text)
    assert [(row, code) for row, code, _ in found] == [
        (3, "national_id_invalid"), (5, "duplicate_national_id_in_file"), (6, "duplicate_national_id")]
    assert found[0][2] == "身分證號格式或檢查碼不正確。"
    assert "第 4 列" in found[1][2]
    assert "身分證號與另一位學生重複" in found[2][2]
    assert 'name="confirm"' not in preview.text and "整份檔案都不會匯入" in preview.text
    for nid in (bad_id, ids[0], ids[1], ids[4]):
        assert nid not in preview.text

    r = reg.upload(data, confirm_sha=digest)  # confirming anyway (a hand-made POST)
    assert r.status_code == 422 and "沒有匯入任何資料" in r.text
    assert all(nid not in r.text for nid in (bad_id, ids[0], ids[1], ids[4]))

    # nothing written: the good roster is still unchanged (row 2's new name was not applied),
    # and the new student of row 4 would still be created
    again = reg.upload(good)
    assert (count(again.text, "count-created"), count(again.text, "count-updated"),
            count(again.text, "count-unchanged")) == (0, 0, 3)
    alone = reg.upload(roster_csv([rows[2]]))
    assert problems(alone.text) == [] and count(alone.text, "count-created") == 1


def test_unknown_account_is_a_row_problem(school):
    reg, tag, cls, ids = school["registrar"], school["tag"], school["class"], school["ids"]
    data = roster_csv([[f"R{tag}9", "沒有帳號", ids[5], cls, "測試科一年甲班", 9, f"nobody_{tag}"],
                       [f"R{tag}8", "老師帳號", ids[5][:-1] + "x", cls, "測試科一年甲班", 8, "t_wang"]])
    found = problems(school["registrar"].upload(data).text)
    assert [(row, code) for row, code, _ in found if code == "student_account_missing"] == [
        (2, "student_account_missing"), (3, "student_account_missing")]
    assert "找不到此學生帳號" in found[0][2]


def test_only_a_registrar_may_import_a_roster(stack):
    s, r = portal(stack, "t_wang")
    assert r.status_code == 302
    assert s.get(stack.gateway_url + "/registrar/roster", timeout=30).status_code == 403
    page = s.get(stack.gateway_url + "/certification", timeout=30).text
    assert "/registrar/roster" not in page
    r = s.post(stack.gateway_url + "/registrar/roster", data={"csrf_token": csrf(page)},
               files={"file": ("x.csv", b"a,b\n", "text/csv")}, timeout=30)
    assert r.status_code == 403
    admin, _ = portal(stack, "admin")  # a system admin is not the registrar
    assert admin.get(stack.gateway_url + "/registrar/roster", timeout=30).status_code == 403
    reg = Registrar(stack)
    home = reg.s.get(stack.gateway_url + "/registrar/roster", timeout=30)
    assert home.status_code == 200 and "學籍匯入" in home.text and "課務系統" in home.text


def test_screenshot_of_a_preview_with_problems(stack, school, tmp_path):
    """For a person to look at: test-results/roster/preview-problems.png (Debian's Chromium)."""
    import os
    from pathlib import Path
    if not os.access("/usr/bin/chromium", os.X_OK):
        pytest.fail("Chromium is missing: /usr/bin/chromium (scripts/servers.sh ensure-chromium)")
    from playwright import sync_api
    tag, cls, ids, users = school["tag"], school["class"], school["ids"], school["users"]
    csv_file = tmp_path / "學生名冊.csv"
    csv_file.write_bytes(roster_csv([
        [f"R{tag}0", "學籍0", ids[0], cls, "測試科一年甲班", 1, users[0]],
        [f"R{tag}3", "檢查碼錯", bad_checksum(ids[3]), cls, "測試科一年甲班", 4, users[3]],
        [f"R{tag}4", "新同學", ids[4], cls, "測試科一年甲班", 5, users[4]],
        [f"R{tag}5", "同身分證", ids[4], cls, "測試科一年甲班", 6, users[5]],
        [f"R{tag}6", "撞到舊生", ids[1], cls, "測試科一年甲班", 7, users[6]],
        [f"R{tag}7", "沒有帳號", ids[5], cls, "測試科一年甲班", 8, f"nobody_{tag}"]]))
    shots = Path(__file__).resolve().parents[2] / "test-results" / "roster"
    shots.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--no-first-run"])
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900}, locale="zh-TW")
            page.goto(stack.gateway_url + "/login")
            page.fill("input[name=username]", "reg_day")
            page.fill("input[name=password]", "demo-pass-2026")
            page.click("button[type=submit]")
            page.goto(stack.gateway_url + "/registrar/roster")
            page.set_input_files("input[name=file]", str(csv_file))
            page.click("[data-testid=upload-form] button[type=submit]")
            page.wait_for_selector("[data-testid=problems]")
            text = page.content()
            page.screenshot(path=str(shots / "preview-problems.png"), full_page=True)
        finally:
            browser.close()
    assert all(nid not in text for nid in ids)

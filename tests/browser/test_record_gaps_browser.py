"""Gaps a tester found in the student records (issue 8), each in a real browser at 1280 and 390
px with axe-core, and through the API:

- the registrar's roster import shows what a file changes before it is written: reg_day imports
  a roster, edits it (a student moved to another class and seat, a name and birth date
  corrected, one row as it was, a new student), previews it and sees, for each student it
  updates, every field old -> new; the row as it was marked 無變更, the new one 新增; then
  confirms. The API's preview answers the same, national IDs masked on both sides;
- a performance (多元表現) has its 異動紀錄 link and page, like every other item kind;
- the homeroom teacher sees the class's performances in the class view and opens a proof
  through records' read grant; the homeroom teacher of another class is refused.

Claims class codes 155-156 (155's homeroom teacher is t_wang, 156's rgphr), national IDs of
letter B block 3, usernames rgp*. Screenshots: test-results/browser/roster-changes-*.png, record-gaps-*.png
"""
import requests
import pytest
from nameko.standalone.rpc import ClusterRpcProxy
from playwright.sync_api import expect

from tests.browser.pages import PASSWORD, check, sign_in
from tests.reliability.burst import valid_national_ids
from tests.support.callers import as_system
from tests.support.school import add_class

pytestmark = pytest.mark.slow

HEADER = "學號,姓名,身分證號,出生日期,性別,班級代碼,班級名稱,座號,帳號"
IDS = valid_national_ids(5, "B", 3)   # 3 of add_class's, the new student's, a corrected one


@pytest.fixture(scope="module")
def students(stack):
    add_class(stack, prefix="rgp", class_code="155", subject="名冊差異", n=3, nid_letter="B", nid_block=3,
              homeroom="t_wang")
    with ClusterRpcProxy({"AMQP_URI": stack.amqp_uri}, timeout=120) as rpc:  # an account, no record yet
        report = rpc.accounts.import_people(as_system("day", "accounts"), [{
            "username": "rgp04", "display_name": "新同學", "password": PASSWORD,
            "grants": [{"tenant": "day", "role": "student"}]}, {   # the homeroom teacher of class 156
            "username": "rgphr", "display_name": "二班導師", "password": PASSWORD,
            "grants": [{"tenant": "day", "role": "homeroom_teacher"}, {"tenant": "day", "role": "subject_teacher"}]}])
        assert not report["refused"], report
    add_class(stack, prefix="rgq", class_code="156", subject="名冊差異二", n=0, nid_letter="B", nid_block=3,
              homeroom="rgphr", class_name="名冊差異二班")
    return ["rgp01", "rgp02", "rgp03"]


def roster(rows) -> bytes:
    return ("\ufeff" + HEADER + "\r\n" + "".join(",".join(r) + "\r\n" for r in rows)).encode("utf-8")


FIRST = [["11515501", "名冊同學01", IDS[0], "0991015", "1", "155", "名冊差異班", "1", "rgp01"],
         ["11515502", "名冊同學02", IDS[1], "0991120", "2", "155", "名冊差異班", "2", "rgp02"],
         ["11515503", "名冊同學03", IDS[2], "1000214", "1", "155", "名冊差異班", "3", "rgp03"]]
SECOND = [["11515501", "名冊同學01", IDS[0], "0991015", "1", "156", "名冊差異二班", "5", "rgp01"],  # moved
          ["11515502", "名冊同學貳", IDS[1], "0991121", "2", "155", "名冊差異班", "2", "rgp02"],  # corrected
          FIRST[2],                                                                           # as it was
          ["11515504", "新同學", IDS[3], "1000301", "2", "155", "名冊差異班", "4", "rgp04"]]     # new


def upload(page, path):
    page.get_by_label("學年度（民國年）").fill("115")
    page.get_by_label("檔案（.csv 或 .xlsx").set_input_files(str(path))
    page.get_by_role("button", name="上傳並預覽").click()


def confirm(page, path):
    form = page.get_by_test_id("confirm-form")
    form.get_by_label("同一個檔案").set_input_files(str(path))
    form.get_by_test_id("confirm").click()
    expect(page.get_by_test_id("report")).to_be_visible()


def expect_changes(table, changes):
    """The preview's table of one student's changes holds exactly these {field: (old, new)}."""
    expect(table.locator("tr[data-field]")).to_have_count(len(changes))
    for field, (before, after) in changes.items():
        expect(table.locator(f"tr[data-field={field}] td.before")).to_have_text(before)
        expect(table.locator(f"tr[data-field={field}] td.after")).to_have_text(after)


def test_the_preview_shows_each_change_old_to_new_then_imports(browser, stack, shots_dir, tmp_path, students):
    first, second = tmp_path / "名冊.csv", tmp_path / "名冊-修改.csv"
    first.write_bytes(roster(FIRST))
    second.write_bytes(roster(SECOND))
    errors, problems = [], []
    ctx, page = sign_in(browser, stack, "reg_day", errors)
    try:
        page.goto("/registrar/roster")
        upload(page, first)
        confirm(page, first)

        page.goto("/registrar/roster")
        upload(page, second)
        rows = page.get_by_test_id("preview-rows")
        expect(rows.locator("tr[data-key='11515501'] .badge")).to_have_text("更新")
        expect(rows.locator("tr[data-key='11515503'] .badge")).to_have_text("無變更")
        expect(rows.locator("tr[data-key='11515504'] .badge")).to_have_text("新增")
        changes = page.get_by_test_id("changes")
        expect_changes(changes.locator("table[data-key='11515501']"), {   # moved
            "class_code": ("155", "156"), "class_name": ("名冊差異班", "名冊差異二班"), "seat_no": ("1", "5")})
        expect_changes(changes.locator("table[data-key='11515502']"), {   # corrected
            "name": ("名冊同學02", "名冊同學貳"), "birth_date": ("0991120", "0991121")})
        expect(changes.locator("table[data-key='11515503']")).to_have_count(0)   # nothing to show
        expect(changes.locator("table[data-key='11515504']")).to_have_count(0)
        for nid in IDS:
            assert nid not in page.content()
        check(page, shots_dir, "preview", problems, prefix="roster-changes")

        confirm(page, second)
        report = page.get_by_test_id("report")
        expect(report.get_by_test_id("count-updated")).to_contain_text("2")
        expect(report.get_by_test_id("count-created")).to_contain_text("1")
        expect(report.get_by_test_id("count-unchanged")).to_contain_text("1")
        check(page, shots_dir, "report", problems, prefix="roster-changes")
    finally:
        ctx.close()
    assert problems == [], "\n".join(problems)
    assert errors == [], errors

    # the API's preview says the same: the imported file changes nothing now; a corrected
    # national ID shows masked on both sides, never in clear
    token = requests.post(stack.gateway_url + "/api/v1/auth/token",
                          json={"username": "reg_day", "password": PASSWORD}, timeout=60).json()["token"]

    def preview(rows):
        r = requests.post(stack.gateway_url + "/api/v1/imports/student_profile",
                          headers={"Authorization": f"Bearer {token}"},
                          data={"dry_run": "true", "school_year": "115", "semester": "1"},
                          files={"file": ("名冊.csv", roster(rows), "text/csv")}, timeout=60)
        assert r.status_code == 200, r.text
        return r
    again = preview(SECOND).json()
    assert again["summary"] == {"created": 0, "updated": 0, "unchanged": 4}
    assert [r["changes"] for r in again["rows"]] == [[], [], [], []]
    corrected = preview([SECOND[2][:2] + [IDS[4]] + SECOND[2][3:]])
    (row,) = corrected.json()["rows"]
    assert row["changes"] == [{"field": "national_id", "label": "身分證號", "before": IDS[2][:3] + "*****" + IDS[2][-2:],
                               "after": IDS[4][:3] + "*****" + IDS[4][-2:]}]
    assert IDS[2] not in corrected.text and IDS[4] not in corrected.text


def api_client(stack, username):
    from tests.e2e.conftest import Api
    return Api(stack.gateway_url, username)


def record_performance(stack, username, tag):
    r = api_client(stack, username).post("/performances", json={"kind": "competition", "fields": {
        "name": "全國技能競賽", "event": "網頁設計", "level_code": "3", "award": "佳作", "announced_on": "1151120",
        "description": f"技能競賽佳作 {tag}"}})
    assert r.status_code == 201, r.text
    return r.json()


def test_a_performance_has_its_history_link_and_page(browser, stack, shots_dir, students):
    p = record_performance(stack, "rgp03", "history")
    errors, problems = [], []
    ctx, page = sign_in(browser, stack, "rgp03", errors)
    try:
        page.goto("/performances")
        row = page.get_by_test_id("performances").locator(f"tr[data-performance='{p['id']}']")
        expect(row.get_by_test_id("history-link")).to_be_visible()
        check(page, shots_dir, "performances", problems, prefix="record-gaps")
        row.get_by_test_id("history-link").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("多元表現的異動紀錄")
        created = page.get_by_test_id("history").locator("tr[data-action=created]")
        expect(created).to_contain_text("rgp03")
        expect(created).to_contain_text("競賽名稱")          # the sheet's fields by their labels
        expect(created).to_contain_text("技能競賽佳作 history")
        expect(created).to_contain_text("競賽參與紀錄")       # the kind in words
        check(page, shots_dir, "performance-history", problems, prefix="record-gaps")
    finally:
        ctx.close()
    assert problems == [], "\n".join(problems)
    assert errors == [], errors
    # the same history through the API, for its readers only
    rows = api_client(stack, "t_wang").get(f"/performances/{p['id']}/history")   # homeroom of 155
    assert rows.status_code == 200 and [r["action"] for r in rows.json()] == ["created"], rows.text
    assert api_client(stack, "rgp02").get(f"/performances/{p['id']}/history").status_code == 404


def test_the_homeroom_teacher_opens_a_performance_proof_from_the_class_view(browser, stack, shots_dir, students):
    from tests.support import evidence as ev
    from tests.support import uploads
    from tests.e2e.conftest import eventually
    p = record_performance(stack, "rgp03", "proof")
    student = api_client(stack, "rgp03")
    data = ev.pdf(tag="rgp-proof")
    ticket = student.post(f"/performances/{p['id']}/tickets")
    assert ticket.status_code == 201, ticket.text
    assert uploads.send_file(student.s, ticket.json(), data, "證明.pdf").status_code == 201
    eventually(lambda: next(x for x in student.get("/performances").json() if x["id"] == p["id"])["state"] == "ready")

    errors, problems = [], []
    ctx, page = sign_in(browser, stack, "t_wang", errors)
    try:
        page.goto("/records/class?class=155")
        card = page.locator(f"article[data-performance='{p['id']}']")
        expect(card).to_contain_text("技能競賽佳作 proof")
        expect(card.get_by_test_id("proof")).to_contain_text("證明.pdf")
        check(page, shots_dir, "class-performances", problems, prefix="record-gaps")
        href = card.get_by_test_id("proof-download").get_attribute("href")
        got = page.request.get(href)            # the gateway -> records' grant -> the files service
        assert got.status == 200 and got.body() == data, got.status
        card.get_by_test_id("history-link").click()
        expect(page.get_by_test_id("history").locator("tr[data-action=proof_attached]")).to_have_count(1)
    finally:
        ctx.close()
    assert problems == [], "\n".join(problems)
    assert errors == [], errors

    # the attacker: the homeroom teacher of another class, in the browser and through the API
    ctx, page = sign_in(browser, stack, "rgphr", [])
    try:
        assert page.request.get(href, max_redirects=0).status == 404
        assert page.request.get("/records/class?class=155").status == 404
    finally:
        ctx.close()
    other = api_client(stack, "rgphr")
    r = other.get(f"/performances/{p['id']}/proof", allow_redirects=False)
    assert r.status_code == 404, r.text
    assert api_client(stack, "t_wang").get(f"/performances/{p['id']}/proof", allow_redirects=False).status_code == 302

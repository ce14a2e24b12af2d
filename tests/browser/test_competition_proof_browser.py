"""The organising unit (org_day) in a real browser: enters an in-school competition for a
student, uploads its proof straight to the files service from the 校內競賽 page, opens the
item's 異動紀錄 (who, when, before -> after); the student then finds the competition with its
proof and ROC dates on 我的紀錄 and opens the proof. The course-consultation teacher's and the
activities section's pages too (every role with pages has a browser test). Each page at desktop
width and on a 390-pixel phone, checked by axe-core (WCAG 2.1 A/AA) under the portal's CSP.
Screenshots for a person to look at: test-results/browser/proofs-*.png
"""
import re

import pytest
from playwright.sync_api import expect

from tests.browser import pages
from tests.browser.test_registrar_profile_browser import AXE
from tests.support import evidence as ev

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def students(stack):
    from tests.support.school import add_class
    return add_class(stack, prefix="cprf", class_code="165", subject="競賽證明實習", n=2, nid_letter="G")


def check(page, shots_dir, name, problems):
    pages.check(page, shots_dir, name, problems, prefix="proofs")


def test_the_organising_unit_uploads_a_proof_and_the_student_opens_it(browser, stack, students, shots_dir,
                                                                     tmp_path):
    assert AXE.is_file(), "axe-core is missing: run `make setup`"
    errors, problems = [], []
    ctx, page = pages.sign_in(browser, stack, "org_day", errors)
    ctx.set_default_timeout(20_000)
    try:
        page.get_by_role("link", name="校內競賽").first.click()
        expect(page.get_by_role("heading", level=1)).to_have_text("校內競賽")
        page.get_by_label("班級").select_option("165")
        page.get_by_role("button", name="顯示").click()
        card = page.locator("section[data-student-no='11516501']")
        expect(page.locator("#proof")).to_contain_text("先為學生新增一筆")
        card.get_by_test_id("add").click()
        page.get_by_label("競賽名稱").fill("校內科展")
        page.get_by_label("項目與內容").fill("物理組：單擺週期與擺長的關係")
        page.get_by_label("結果（獎項）").fill("第一名")
        page.get_by_label("結果公布日期").fill("115/11/10")
        page.get_by_test_id("save").click()
        expect(page.locator(".flash.ok")).to_contain_text("11516501")
        card = page.locator("section[data-student-no='11516501']")
        expect(card).to_contain_text("115/11/10")           # dates of a record: the ROC calendar
        expect(card.get_by_test_id("proof")).to_contain_text("尚未上傳")
        check(page, shots_dir, "org-list", problems)
        # the proof: straight to the files service, then the card links it
        proof = tmp_path / "科展獎狀.pdf"
        proof.write_bytes(ev.pdf())
        value = page.locator("#proof-item option", has_text="11516501").first.get_attribute("value")
        page.get_by_label("哪一筆").select_option(value)
        page.locator("#upload input[type=file]").set_input_files(str(proof))
        page.locator("form#upload[data-ready=true]").wait_for()  # upload.js has taken the form
        page.get_by_role("button", name="上傳證明").click()
        expect(page.get_by_test_id("upload-msg")).to_contain_text("證明已上傳")
        for _ in range(50):   # proof-uploaded reaches records within moments
            page.reload()
            if page.locator("section[data-student-no='11516501'] [data-testid=proof] a").count():
                break
            page.wait_for_timeout(200)
        link = page.locator("section[data-student-no='11516501'] [data-testid=proof] a").first
        expect(link).to_have_text("科展獎狀.pdf")
        check(page, shots_dir, "org-list-with-proof", problems)
        # the item's history
        page.locator("section[data-student-no='11516501']").get_by_test_id("history-link").first.click()
        expect(page.get_by_role("heading", level=1)).to_have_text("校內競賽的異動紀錄")
        rows = page.get_by_test_id("history").locator("tbody tr")
        expect(rows.nth(0)).to_contain_text("新增")
        expect(rows.nth(0)).to_contain_text("org_day")
        expect(rows.nth(0)).to_contain_text("115/11/10")
        expect(rows.nth(1)).to_contain_text("上傳證明文件")
        expect(rows.nth(1)).to_contain_text("科展獎狀.pdf")
        check(page, shots_dir, "history", problems)
        # an entry made by mistake is voided with a reason: kept, struck through, still legible
        page.get_by_role("link", name="校內競賽").first.click()
        page.get_by_label("班級").select_option("165")
        page.get_by_role("button", name="顯示").click()
        page.locator("section[data-student-no='11516501']").get_by_test_id("add").click()
        page.get_by_label("競賽名稱").fill("誤植的比賽")
        page.get_by_label("項目與內容").fill("輸入錯誤")
        page.get_by_label("結果（獎項）").fill("佳作")
        page.get_by_label("結果公布日期").fill("115/11/12")
        page.get_by_test_id("save").click()
        expect(page.locator(".flash.ok")).to_contain_text("11516501")
        card = page.locator("section[data-student-no='11516501'] article", has_text="誤植的比賽")
        card.get_by_label("作廢原因").fill("輸入錯誤的學生")
        card.get_by_role("button", name="作廢").click()
        expect(page.locator("section[data-student-no='11516501'] article.voided")).to_contain_text("誤植的比賽")
        check(page, shots_dir, "org-list-voided", problems)   # the struck-through card meets contrast too
    finally:
        ctx.close()

    ctx, page = pages.sign_in(browser, stack, students[0], errors)
    ctx.set_default_timeout(20_000)
    try:
        page.get_by_role("link", name="我的紀錄").first.click()
        section = page.locator("section[data-kind='competition']")
        expect(section).to_contain_text("校內科展")
        expect(section).to_contain_text("115/11/10")
        entry = section.locator("article", has_text="校內科展")
        expect(entry.get_by_test_id("proof")).to_contain_text("科展獎狀.pdf")
        expect(section.locator("article.voided")).to_contain_text("誤植的比賽")   # kept, marked voided
        check(page, shots_dir, "student-mine", problems)
        with page.expect_popup() as popup:
            entry.get_by_test_id("proof").get_by_role("link", name="科展獎狀.pdf", exact=True).click()
        opened = popup.value
        opened.wait_for_load_state()
        assert re.search(r"/v1/files/[0-9a-f-]+\?", opened.url), opened.url
        opened.close()
    finally:
        ctx.close()

    # the other student of the class sees none of it
    ctx, page = pages.sign_in(browser, stack, students[1], errors)
    try:
        page.get_by_role("link", name="我的紀錄").first.click()
        expect(page.locator("section[data-kind='competition']")).to_contain_text("尚無紀錄")
    finally:
        ctx.close()
    assert problems == [], problems
    assert errors == [], errors


@pytest.mark.parametrize("username,link,heading", [
    ("t_consult", "課程諮詢紀錄", "課程諮詢紀錄"),
    ("act_day", "幹部、社團、服務學習", "幹部、社團、服務學習"),
])
def test_the_other_units_pages(browser, stack, shots_dir, username, link, heading):
    errors, problems = [], []
    ctx, page = pages.sign_in(browser, stack, username, errors)
    ctx.set_default_timeout(30_000)   # a shared machine: the first list of a class may take a while
    try:
        page.get_by_role("link", name=link).first.click()
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        check(page, shots_dir, f"{username}-list", problems)
        page.locator("section[data-student-no]").first.get_by_test_id("add").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("新增")
        check(page, shots_dir, f"{username}-form", problems)
    finally:
        ctx.close()
    assert problems == [], problems
    assert errors == [], errors

"""The registrar (reg_day) enters a semester grade for 黃雅婷 (1150003, class 102) in a real
browser — a pass flag that contradicts the grade is refused beside its field first — and opens the
grade-sheet import page; the student then sees the grade under 修課紀錄 on 我的紀錄; the homeroom
teacher's class view and the elective officer's import page. Each page at desktop width and on a
390-pixel phone, checked by axe-core (WCAG 2.1 A/AA) under the portal's CSP. Screenshots:
test-results/browser/items-grades-*.png"""
import pytest
from playwright.sync_api import expect

from tests.browser.test_registrar_profile_browser import AXE
from tests.browser.test_staff_items_browser import check, sign_in

pytestmark = pytest.mark.slow


def test_the_registrar_enters_a_grade_and_the_student_sees_it(browser, stack, shots_dir):
    assert AXE.is_file(), "axe-core is missing: run `make setup`"
    errors, problems = [], []
    ctx, page = sign_in(browser, stack, "reg_day", errors)
    try:
        page.get_by_role("link", name="修課紀錄（學期成績）").first.click()
        expect(page.get_by_role("heading", level=1)).to_have_text("修課紀錄（學期成績）")
        page.get_by_label("班級").select_option("102")
        page.get_by_role("button", name="顯示").click()
        card = page.locator("section[data-student-no='1150003']")
        card.get_by_test_id("add").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("新增修課紀錄（學期成績）")
        page.get_by_label("課程代碼").fill("115050407H11A0102")
        page.get_by_label("學期學業成績").fill("45")
        page.get_by_label("成績及格").select_option("是")
        page.get_by_test_id("save").click()
        expect(page.locator(".field-error[data-field=passed]")).to_contain_text("及格標準 60 分")
        expect(page.get_by_label("成績及格")).to_have_attribute("aria-invalid", "true")
        check(page, shots_dir, "grades-form-refused", problems)
        page.get_by_label("學期學業成績").fill("72")
        page.get_by_label("成績及格").select_option("")
        page.get_by_label("質性文字描述").fill("能獨立完成程式作業。")
        page.get_by_test_id("save").click()
        expect(page.locator(".flash.ok")).to_contain_text("1150003")
        card = page.locator("section[data-student-no='1150003']")
        expect(card).to_contain_text("程式設計實習")
        expect(card).to_contain_text("72")
        check(page, shots_dir, "grades-registrar-list", problems)
        page.get_by_role("link", name="成績匯入").first.click()
        expect(page.get_by_role("heading", level=1)).to_have_text("匯入學期成績（學生成績名冊）")
        check(page, shots_dir, "grades-import", problems)
        page.get_by_role("link", name="多元表現匯入").first.click()
        page.get_by_role("link", name="檢定證照紀錄").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("匯入多元表現：檢定證照紀錄")
        check(page, shots_dir, "grades-performance-import", problems)
    finally:
        ctx.close()

    ctx, page = sign_in(browser, stack, "s_day03", errors)
    try:
        page.get_by_role("link", name="我的紀錄").first.click()
        section = page.locator("section[data-kind='course_grade']")
        expect(section).to_contain_text("程式設計實習")
        expect(section).to_contain_text("能獨立完成程式作業。")
        check(page, shots_dir, "grades-student-mine", problems)
    finally:
        ctx.close()

    ctx, page = sign_in(browser, stack, "t_wang", errors)
    try:
        page.get_by_role("link", name="班級紀錄").first.click()
        expect(page.locator("main")).to_contain_text("修課紀錄（學期成績）")
        check(page, shots_dir, "grades-homeroom-class", problems)
    finally:
        ctx.close()

    ctx, page = sign_in(browser, stack, "elective_day", errors)
    try:
        page.get_by_role("link", name="選修加選").first.click()
        expect(page.get_by_role("heading", level=1)).to_have_text("匯入選修課加選名單")
        check(page, shots_dir, "grades-elective-import", problems)
    finally:
        ctx.close()
    assert not errors, errors
    assert not problems, "\n".join(problems)

"""A guidance counsellor (許老師, counsel) enters a career-plan assessment for 林柏宇 (s_day02) in
a real browser, a refused field shown beside it first; the student then sees it on 我的紀錄 and
writes the autobiography and study plan, which the counsellor returns with a comment; the
homeroom teacher of 101 (t_wang) sees the class view; the discipline section's import page.
Each page at desktop width and on a 390-pixel phone, checked by axe-core (WCAG 2.1 A/AA) under the
portal's own CSP. Screenshots for a person to look at: test-results/browser/items-*.png
"""
import pytest
from playwright.sync_api import expect

from tests.browser import pages
from tests.browser.test_registrar_profile_browser import AXE

pytestmark = pytest.mark.slow


def check(page, shots_dir, name, problems):
    pages.check(page, shots_dir, name, problems, prefix="items")


sign_in = pages.sign_in


def test_a_counsellor_enters_a_career_plan_and_the_student_sees_it(browser, stack, shots_dir):
    assert AXE.is_file(), "axe-core is missing: run `make setup`"
    errors, problems = [], []
    ctx, page = sign_in(browser, stack, "counsel", errors)
    try:
        page.get_by_role("link", name="學群探索與就業規劃").first.click()
        expect(page.get_by_role("heading", level=1)).to_have_text("學群探索與就業規劃")
        card = page.locator("section[data-student-no='1150002']")
        check(page, shots_dir, "counsellor-list", problems)
        card.get_by_test_id("add").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("新增學群探索與就業規劃")
        page.get_by_label("評估日期").fill("115/02/30")
        page.get_by_label("建議學群").fill("資訊學群、設計學群")
        page.get_by_label("升學與就業規劃建議").fill("對網頁設計有興趣，建議高二修習多媒體設計並參加校內競賽。")
        page.get_by_test_id("save").click()
        expect(page.locator(".field-error[data-field=assessed_on]")).to_contain_text("沒有這一天")
        expect(page.get_by_label("評估日期")).to_have_attribute("aria-invalid", "true")
        check(page, shots_dir, "counsellor-form-refused", problems)
        page.get_by_label("評估日期").fill("115/11/18")
        page.get_by_test_id("save").click()
        expect(page.locator(".flash.ok")).to_contain_text("1150002")
        expect(page.locator("section[data-student-no='1150002']")).to_contain_text("資訊學群、設計學群")
    finally:
        ctx.close()

    ctx, page = sign_in(browser, stack, "s_day02", errors)
    try:
        page.get_by_role("link", name="我的紀錄").first.click()
        section = page.locator("section[data-kind='career_assessment']")
        expect(section).to_contain_text("資訊學群、設計學群")
        expect(section).to_contain_text("counsel")
        check(page, shots_dir, "student-mine", problems)
        # the autobiography and study plan: written, saved as a version for review
        page.get_by_role("link", name="自傳與學習計畫").click()
        page.get_by_label("生涯規劃（學習計畫）").fill("高二選修多媒體設計，報考科大數位設計系。")
        page.get_by_label("自我期許").fill("每學期完成一件作品。")
        page.get_by_label("優勢").fill("有耐心，願意反覆修改。")
        page.get_by_label("興趣").fill("網頁設計、攝影。")
        page.get_by_test_id("save").click()
        expect(page.locator(".flash.ok")).to_contain_text("送交")
        expect(page.get_by_test_id("status")).to_contain_text("待審閱")
        check(page, shots_dir, "student-autobiography", problems)
    finally:
        ctx.close()

    ctx, page = sign_in(browser, stack, "counsel", errors)
    try:
        page.get_by_role("link", name="自傳審閱").first.click()
        page.get_by_role("link", name="1150002").click()
        page.get_by_label("審閱意見（退回時必填）").fill("請寫出想參加的校內競賽。")
        page.get_by_role("button", name="退回修改").click()
        expect(page.locator(".flash.ok")).to_contain_text("退回")
        expect(page.locator(".review-comment").first).to_contain_text("校內競賽")
        check(page, shots_dir, "counsellor-autobiography", problems)
    finally:
        ctx.close()

    ctx, page = sign_in(browser, stack, "t_wang", errors)
    try:
        page.get_by_role("link", name="班級紀錄").first.click()
        expect(page.locator("section[data-student-no='1150002']")).to_contain_text("資訊學群、設計學群")
        check(page, shots_dir, "homeroom-class", problems)
    finally:
        ctx.close()

    ctx, page = sign_in(browser, stack, "disc_day", errors)
    try:
        page.get_by_role("link", name="出缺勤").first.click()
        check(page, shots_dir, "discipline-list", problems)
        page.get_by_role("link", name="出缺勤匯入").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("匯入出缺勤")
        check(page, shots_dir, "discipline-import", problems)
    finally:
        ctx.close()
    assert not errors, errors
    assert not problems, "\n".join(problems)

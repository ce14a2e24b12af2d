"""Moving a student to another class on 學生基本資料 in a real browser (QA: the form, pre-filled
with the old class's name, renamed the target class for everyone in it). reg_ce (進修部, classes
178 and 179, national IDs letter E block 1): 11517803 is moved to the new class 179 with its
name (creates it); 11517801 is moved by changing only 班級代碼 - saved, and 179 keeps its name;
a different name for an existing class is refused beside the field in zh-TW. Desktop and
390 px, axe-core clean. Screenshots: test-results/browser/class-move-*.png"""
import pytest
from playwright.sync_api import expect

from tests.browser.pages import check, sign_in
from tests.support.school import add_class

pytestmark = pytest.mark.slow


def open_student(page, student_no):
    page.goto("/registrar/students")
    page.get_by_role("link", name=student_no, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(student_no)


def test_a_class_move_keeps_the_target_class_name(browser, stack, shots_dir):
    add_class(stack, prefix="qcm", class_code="178", subject="進修班級移動", n=3, nid_letter="E", nid_block=1,
              tenant="ce", class_name="資料處理科一年甲班")
    errors, problems = [], []
    ctx, page = sign_in(browser, stack, "reg_ce", errors)
    try:
        open_student(page, "11517803")                      # a new class: code and name
        page.locator("#f-class_code").fill("179")
        page.locator("#f-class_name").fill("資料處理科一年乙班")
        page.get_by_test_id("save").click()
        expect(page.locator("#f-class_name")).to_have_value("資料處理科一年乙班")

        open_student(page, "11517801")                      # the QA's input: only 班級代碼 changed
        expect(page.locator("#f-class_name")).to_have_value("資料處理科一年甲班")
        page.locator("#f-class_code").fill("179")
        page.get_by_test_id("save").click()
        expect(page.get_by_text("已儲存。")).to_be_visible()
        expect(page.locator("#f-class_code")).to_have_value("179")
        expect(page.locator("#f-class_name")).to_have_value("資料處理科一年乙班")   # 179 was not renamed

        page.locator("#f-class_code").fill("178")           # a name other than 178's own: refused
        page.locator("#f-class_name").fill("被改掉的班名")
        page.get_by_test_id("save").click()
        expect(page.locator("p.field-error[data-field=class_name]")).to_contain_text(
            "班級 178 已有名稱「資料處理科一年甲班」")
        check(page, shots_dir, "refused", problems, prefix="class-move")

        page.goto("/registrar/students")
        for no, name in (("11517801", "資料處理科一年乙班"), ("11517802", "資料處理科一年甲班"),
                         ("11517803", "資料處理科一年乙班")):
            expect(page.get_by_role("row").filter(has_text=no)).to_contain_text(name)
        check(page, shots_dir, "list", problems, prefix="class-move")
        assert not errors, errors
        assert not problems, "\n".join(problems)
    finally:
        ctx.close()

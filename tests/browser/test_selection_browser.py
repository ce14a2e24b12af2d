"""The student's 勾選 page and the registrar's pre-lock overview in a real browser (tenant
`day`, class 191 of its own): counters per kind, a reason beside each item that cannot be
ticked, the consent text and button; the registrar's overview by class, the lock of one class
(asked first; a warning for the student without consent), the student's page read-only, an
unlock with a reason. Each page at 1280 and 390 px, checked by axe-core (WCAG 2.1 A/AA) under
the CSP. Screenshots: test-results/browser/selection-*.png"""
import re

import pytest
from playwright.sync_api import expect

from tests.browser import pages
from tests.browser.test_registrar_profile_browser import AXE
from tests.e2e.conftest import Api, eventually, pdf
from tests.support.school import add_class

pytestmark = pytest.mark.slow


def check(page, shots_dir, name, problems):
    pages.check(page, shots_dir, name, problems, prefix="selection")


def open_as(browser, stack, username, errors):
    return pages.sign_in(browser, stack, username, errors)[1]


def test_student_selects_and_consents_registrar_locks_and_unlocks(browser, stack, shots_dir):
    assert AXE.is_file(), "axe-core is missing: run `make setup`"
    names = add_class(stack, prefix="selb", class_code="191", subject="勾選瀏覽", n=2, teacher="t_lin", nid_letter="L")
    student, teacher = Api(stack.gateway_url, names[0]), Api(stack.gateway_url, "t_lin")
    section = student.section("勾選瀏覽")
    ids = [student.upload(section["id"], f"瀏覽成果 {i}", pdf()).json()["outcome_id"] for i in range(3)]
    tasks = eventually(lambda: (lambda got: got if len(got) == 3 else None)(
        {t["outcome_id"]: t["id"] for t in teacher.get("/certification/tasks").json() if t["outcome_id"] in ids}))
    assert teacher.post("/certification/decisions", json={"action": "certify", "task_ids": [tasks[i] for i in ids[:2]]}).ok
    eventually(lambda: len(student.get("/selections/115").json()["candidates"]) == 2)

    errors, problems = [], []
    page = open_as(browser, stack, names[0], errors)
    page.goto("/selection")
    expect(page.get_by_test_id("count-outcome")).to_have_text(re.compile(r"課程學習成果 已選 0 / 6"))
    expect(page.get_by_test_id("count-performance")).to_have_text(re.compile(r"多元表現 已選 0 / 10"))
    waiting = page.get_by_test_id("outcome-row").filter(has_text="瀏覽成果 2")
    expect(waiting).to_contain_text("尚未認證")
    expect(waiting.get_by_role("checkbox")).to_be_disabled()
    page.get_by_label("勾選 勾選瀏覽 瀏覽成果 0").check()
    expect(page.get_by_test_id("count-outcome")).to_have_text(re.compile(r"已選 1 / 6"))
    page.get_by_role("button", name="儲存勾選").click()
    expect(page.locator(".flash", has_text="已儲存勾選")).to_be_visible()
    expect(page.get_by_test_id("consent-text")).to_contain_text("同意")
    expect(page.get_by_test_id("consent-state")).to_contain_text("尚未同意")
    check(page, shots_dir, "student-before-consent", problems)
    page.get_by_role("button", name="我已閱讀並同意釋出").click()
    expect(page.get_by_test_id("consent-state")).to_contain_text("同意釋出")
    expect(page.get_by_role("button", name="撤回同意")).to_be_visible()
    check(page, shots_dir, "student-consented", problems)

    reg = open_as(browser, stack, "reg_day", errors)
    reg.goto("/registrar/selection?year=115")
    row = reg.get_by_test_id("class-row").filter(has_text="勾選瀏覽班")
    expect(row.locator("td").nth(4)).to_contain_text("1")
    expect(row.get_by_test_id("no-consent")).to_contain_text("1 人")
    check(reg, shots_dir, "registrar-overview", problems)
    reg.get_by_label("範圍", exact=True).select_option("class")
    reg.get_by_label("班級（範圍選「一個班級」時）").select_option("191")
    asked = []
    reg.once("dialog", lambda d: (asked.append(d.message), d.accept()))
    reg.get_by_role("button", name="鎖定勾選").click()
    expect(reg.locator(".flash", has_text="已鎖定 勾選瀏覽班")).to_be_visible()
    expect(reg.locator(".flash.warn", has_text="未同意釋出")).to_be_visible()
    assert asked and "鎖定" in asked[0]
    expect(reg.get_by_test_id("locked")).to_contain_text("瀏覽成果 0")
    check(reg, shots_dir, "registrar-locked", problems)

    page.reload()
    expect(page.get_by_test_id("lock-notice")).to_contain_text("註冊組")
    expect(page.get_by_label("勾選 勾選瀏覽 瀏覽成果 0")).to_be_disabled()
    expect(page.get_by_role("button", name="儲存勾選")).to_have_count(0)
    expect(page.get_by_role("button", name="撤回同意")).to_have_count(0)
    check(page, shots_dir, "student-locked", problems)

    reg.get_by_label("學號（多位以逗號分隔）").fill("11519101")
    reg.get_by_label("原因（必填，會留存紀錄）").fill("學生要更正勾選")
    reg.get_by_role("button", name="解除鎖定").click()
    expect(reg.locator(".flash", has_text="已解除 1 位")).to_be_visible()
    expect(reg.get_by_test_id("lock-log")).to_contain_text("學生要更正勾選")
    check(reg, shots_dir, "registrar-unlocked", problems)
    page.reload()
    expect(page.get_by_role("button", name="儲存勾選")).to_be_visible()

    assert not errors, errors
    assert not problems, "\n".join(map(str, problems))
    for p in (page, reg):
        p.context.close()

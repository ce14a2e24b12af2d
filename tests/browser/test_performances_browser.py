"""The student's 多元表現 page in a real browser: a refused field named beside it, a recorded
competition, its proof sent straight to the files service (progress, then 已上傳證明), a void
with its reason, a 390-pixel phone, and axe-core (WCAG 2.1 AA) finding nothing.

Screenshots for a person to look at: test-results/browser/performances-*.png
"""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_upload_browser import PASSWORD, axe_violations
from tests.support import evidence as ev

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def students(stack):
    from tests.support.school import add_class
    return add_class(stack, prefix="perfb", class_code="194", subject="多元表現實習", n=2, nid_letter="W")


def test_a_student_records_a_competition_uploads_its_proof_and_voids_a_mistake(browser, stack, students,
                                                                            shots_dir, tmp_path):
    errors = []
    ctx = browser.new_context(base_url=stack.gateway_url, locale="zh-TW", viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(20_000)
    page = ctx.new_page()
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.goto("/login")
    page.get_by_label("帳號").fill(students[0])
    page.get_by_label("密碼").fill(PASSWORD)
    page.get_by_role("button", name="登入").click()
    page.get_by_role("link", name="多元表現").first.click()
    expect(page).to_have_url(re.compile(r"/performances"))
    expect(page.get_by_role("heading", name="競賽參與紀錄")).to_be_visible()

    # a refused field is named beside it, and what was typed stays
    page.get_by_label("競賽名稱").fill("全國技能競賽")
    page.get_by_label("競賽等級代碼").fill("三級")
    page.get_by_label("結果公布日期").fill("1150231")
    page.get_by_label("內容簡述").fill("全國技能競賽 網頁設計 佳作")
    page.get_by_test_id("perf-save").click()
    expect(page.locator(".field-error[data-field=level_code]")).to_contain_text("代碼")
    expect(page.locator(".field-error[data-field=announced_on]")).to_contain_text("沒有這一天")
    expect(page.get_by_label("競賽名稱")).to_have_value("全國技能競賽")
    assert axe_violations(page) == []
    page.screenshot(path=str(shots_dir / "performances-refused.png"), full_page=True)

    page.get_by_label("競賽等級代碼").fill("3")
    page.get_by_label("結果公布日期").fill("115/11/20")
    page.get_by_test_id("perf-save").click()
    expect(page.locator(".flash.ok")).to_contain_text("請接著上傳證明文件")
    row = page.locator("[data-testid=performances] tbody tr").first
    expect(row).to_contain_text("待上傳證明")

    # the proof: straight to the files service, then the row says so
    proof = tmp_path / "獎狀.pdf"
    proof.write_bytes(ev.pdf())
    page.get_by_label("檔案").set_input_files(str(proof))
    page.locator("form#upload[data-ready=true]").wait_for()  # upload.js has taken the form
    page.get_by_role("button", name="上傳證明").click()
    expect(page.get_by_test_id("upload-msg")).to_contain_text("證明已上傳", timeout=30_000)
    expect(page.locator("[data-testid=performances] tbody tr").first).to_contain_text("已上傳證明", timeout=30_000)
    expect(page.locator("[data-testid=performances] tbody tr").first).to_contain_text("獎狀.pdf")
    page.screenshot(path=str(shots_dir / "performances-desktop.png"), full_page=True)

    # a second one recorded by mistake is voided with its reason, and stays listed
    page.get_by_role("link", name="作品成果").click()
    page.get_by_label("名稱").fill("重複的作品")
    page.get_by_label("日期").fill("2026-11-01")
    page.get_by_label("內容簡述").fill("不小心重複登錄")
    page.get_by_test_id("perf-save").click()
    mistaken = page.locator("[data-testid=performances] tbody tr", has_text="不小心重複登錄")
    mistaken.locator("summary", has_text="作廢").click()
    mistaken.get_by_label("原因").fill("重複登錄")
    mistaken.get_by_role("button", name="確定作廢").click()
    expect(page.locator(".flash.ok")).to_contain_text("已作廢")
    expect(page.locator("[data-testid=performances] tbody tr", has_text="不小心重複登錄")).to_contain_text("作廢原因：重複登錄")

    # a phone: nothing wider than the screen
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than a 390px phone"
    assert axe_violations(page) == []
    page.screenshot(path=str(shots_dir / "performances-phone.png"), full_page=True)
    # the refused form answers 422 on purpose (the browser logs that status); nothing else
    assert [e for e in errors if "422" not in e] == []
    ctx.close()

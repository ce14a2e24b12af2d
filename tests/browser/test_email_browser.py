"""A person's own reminder address in a real browser (issue 10 item 5): from 我的登入 to the
電子郵件 page, a malformed address refused in Traditional Chinese with nothing stored, a good
one saved, then removed. Each state at 1280 and 390 px, checked by axe-core (WCAG 2.1 A/AA)
under the CSP. Screenshots: test-results/browser/email-*.png"""
import pytest
from playwright.sync_api import expect

from tests.browser import pages
from tests.browser.test_registrar_profile_browser import AXE
from tests.e2e.conftest import Api
from tests.support.school import add_class

pytestmark = pytest.mark.slow


def check(page, shots_dir, name, problems):
    pages.check(page, shots_dir, name, problems, prefix="email")


def test_a_student_sets_and_removes_their_reminder_address(browser, stack, shots_dir):
    assert AXE.is_file(), "axe-core is missing: run `make setup`"
    (name,) = add_class(stack, prefix="mailb", class_code="162", subject="電郵瀏覽", n=1, nid_letter="J")
    errors, problems = [], []
    ctx, page = pages.sign_in(browser, stack, name, errors)
    page.goto("/sessions")
    page.get_by_role("link", name="電子郵件（認證提醒）").click()
    expect(page.get_by_role("heading", name="電子郵件")).to_be_visible()
    expect(page.get_by_test_id("email-current")).to_contain_text("尚未設定")
    check(page, shots_dir, "empty", problems)

    page.get_by_label("電子郵件", exact=True).fill("王同學 <mailb01@school.example>")
    page.get_by_role("button", name="儲存").click()
    expect(page.locator(".flash.error")).to_contain_text("電子郵件格式不正確")
    expect(page.get_by_label("電子郵件", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_test_id("email-current")).to_contain_text("尚未設定")
    check(page, shots_dir, "refused", problems)
    assert Api(stack.gateway_url, name).get("/me/email").json() == {"email": None}

    page.get_by_label("電子郵件", exact=True).fill(" mailb01@School.Example ")
    page.get_by_role("button", name="儲存").click()
    expect(page.locator(".flash.ok")).to_contain_text("已儲存電子郵件：mailb01@school.example")
    expect(page.get_by_test_id("email-current")).to_contain_text("mailb01@school.example")
    check(page, shots_dir, "saved", problems)
    assert Api(stack.gateway_url, name).get("/me/email").json() == {"email": "mailb01@school.example"}

    page.get_by_label("電子郵件", exact=True).fill("")
    page.get_by_role("button", name="儲存").click()
    expect(page.locator(".flash.ok")).to_contain_text("已移除電子郵件")
    expect(page.get_by_test_id("email-current")).to_contain_text("尚未設定")
    ctx.close()
    assert problems == [] and errors == [], (problems, errors)

"""The sealing page in a real browser (日間部 註冊組 reg_day): a future application date is
refused beside the form with its zh-TW sentence, a good one is recorded with the day the
student will be sealed, a read request for a student who is not sealed is refused; at desktop
width and on a 390-pixel phone, checked by axe-core under the portal's own CSP.
Screenshots: test-results/browser/registrar-sealing-*.png
"""
import datetime as dt

import pytest
from playwright.sync_api import expect

from tests.browser.test_registrar_profile_browser import AXE, check

pytestmark = pytest.mark.slow


def test_the_registrar_records_an_application_date_on_a_phone_and_passes_axe(browser, stack, shots_dir):
    assert AXE.is_file(), "axe-core is missing: run `make setup`"
    ctx = browser.new_context(base_url=stack.gateway_url, locale="zh-TW", viewport={"width": 1280, "height": 900})
    ctx.add_init_script(path=str(AXE))
    ctx.set_default_timeout(10_000)
    page = ctx.new_page()
    errors, problems = [], []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" and "Failed to load resource"
            not in m.text else None)
    try:
        page.goto("/login")
        page.get_by_label("帳號").fill("reg_day")
        page.get_by_label("密碼").fill("demo-pass-2026")
        page.get_by_role("button", name="登入").click()
        page.get_by_role("link", name="封存", exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_have_text("申請入學日期與封存")
        expect(page.locator(".hint").first).to_contain_text("註冊組")
        check(page, shots_dir, "sealing", problems)

        form = page.get_by_test_id("application-form")
        form.get_by_label("學號").fill("1150003")
        form.get_by_label("申請入學日期").fill((dt.date.today() + dt.timedelta(days=3)).isoformat())
        form.get_by_role("button", name="記錄日期").click()
        expect(page.locator(".flash.error")).to_contain_text("申請入學日期不正確")
        check(page, shots_dir, "sealing-refused", problems)

        yesterday = dt.date.today() - dt.timedelta(days=1)
        form = page.get_by_test_id("application-form")
        form.get_by_label("學號").fill("1150003")
        form.get_by_label("申請入學日期").fill(yesterday.isoformat())
        form.get_by_role("button", name="記錄日期").click()
        due = yesterday.replace(year=yesterday.year + 5) if not (yesterday.month == 2 and yesterday.day == 29) \
            else yesterday.replace(year=yesterday.year + 5, day=28)
        expect(page.locator(".flash.ok")).to_contain_text(f"將於 {due.isoformat()} 封存")

        req = page.get_by_test_id("request-form")
        req.get_by_label("學號").fill("1150003")
        req.get_by_label("原因").fill("補發在校紀錄")
        req.get_by_role("button", name="送出申請").click()
        expect(page.locator(".flash.error")).to_contain_text("尚未封存")
        check(page, shots_dir, "sealing-request-refused", problems)
        assert not errors, errors
        assert not problems, "\n".join(problems)
    finally:
        ctx.close()

"""The school calendar in a real browser (tenant `ce`, 教務組 reg_ce): the current term with the
days left, the edit form refusing a selection window past the school completion date beside its
field, a moved national deadline saved and shown in the history; the student's view. Each page
at desktop width and on a 390-pixel phone, checked by axe-core (WCAG 2.1 A/AA) under the CSP.
Screenshots for a person to look at: test-results/browser/calendar-*.png

The stack is shared: the national deadline is put back before the test ends."""
import datetime as dt

import pytest
from playwright.sync_api import expect

from tests.browser.test_registrar_profile_browser import AXE, axe_violations

pytestmark = pytest.mark.slow
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}


def check(page, shots_dir, name, problems):
    for label, (w, h) in WIDTHS.items():
        page.set_viewport_size({"width": w, "height": h})
        problems += [f"{name} @{label}: {v}" for v in axe_violations(page)]
        if label == "phone":
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            if overflow > 1:
                problems.append(f"{name} @phone: the page scrolls sideways by {overflow}px")
        page.screenshot(path=str(shots_dir / f"calendar-{name}-{label}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def sign_in(page, username):
    page.goto("/login")
    page.get_by_label("帳號").fill(username)
    page.get_by_label("密碼").fill("demo-pass-2026")
    page.get_by_role("button", name="登入").click()


def test_the_academic_section_edits_the_calendar_and_a_student_reads_it(browser, stack, shots_dir):
    assert AXE.is_file(), "axe-core is missing: run `make setup` (npm ci installs node_modules/axe-core)"
    errors, problems = [], []
    ctx = browser.new_context(base_url=stack.gateway_url, locale="zh-TW", viewport={"width": 1280, "height": 900})
    ctx.add_init_script(path=str(AXE))
    ctx.set_default_timeout(10_000)
    page = ctx.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" and "Failed to load resource"
            not in m.text else None)
    restore = None
    try:
        sign_in(page, "reg_ce")
        page.get_by_role("link", name="行事曆").click()
        expect(page.get_by_test_id("current-term")).to_contain_text("115 學年度第 1 學期")
        expect(page.get_by_test_id("days-left-upload")).to_contain_text("還有")
        check(page, shots_dir, "view-registrar", problems)

        page.get_by_test_id("edit-link").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("編輯行事曆（教務組）")
        form = page.get_by_test_id("term-form-t115-1")
        deadline = dt.date.fromisoformat(form.get_by_label("全國上傳截止日").input_value())
        restore = {"全國上傳截止日": deadline.isoformat(), "勾選截止": form.get_by_label("勾選截止").input_value()}
        # a selection window past the completion date: refused beside its field, nothing saved
        completion = deadline - dt.timedelta(days=14)
        form.get_by_label("勾選截止").fill((completion + dt.timedelta(days=1)).isoformat())
        form.get_by_test_id("save").click()
        form = page.get_by_test_id("term-form-t115-1")
        expect(form.locator(".field-error[data-field=selection_closes_on]")).to_contain_text(completion.isoformat())
        expect(form.get_by_label("勾選截止")).to_have_attribute("aria-invalid", "true")
        check(page, shots_dir, "edit-refused", problems)
        # moving the national deadline later moves the completion date: now it fits
        form.get_by_label("全國上傳截止日").fill((deadline + dt.timedelta(days=7)).isoformat())
        form.get_by_test_id("save").click()
        expect(page.locator(".flash.ok")).to_contain_text("已儲存 115 學年度第 1 學期")
        page.get_by_text("變更紀錄").first.click()
        expect(page.get_by_test_id("changes-115-1").locator("tbody tr").first).to_contain_text("reg_ce")
        expect(page.get_by_test_id("changes-115-1").locator("tbody tr").first).to_contain_text(
            f"{deadline.isoformat()} → {(deadline + dt.timedelta(days=7)).isoformat()}")
        check(page, shots_dir, "edit-saved", problems)

        # the student reads the same calendar (after the gateway's 5 s cache at most)
        page.get_by_role("button", name="登出").click()
        sign_in(page, "s_ce01")
        page.goto("/calendar")
        expect(page.get_by_test_id("completion")).to_contain_text(
            (deadline + dt.timedelta(days=7 - 14)).isoformat())
        expect(page.get_by_test_id("edit-link")).to_have_count(0)
        check(page, shots_dir, "view-student", problems)
        page.goto("/outcomes")
        expect(page.get_by_test_id("upload-window")).to_contain_text("還有")
        check(page, shots_dir, "outcomes-student", problems)
    finally:
        if restore:  # put the national deadline and the selection window back
            ctx2 = browser.new_context(base_url=stack.gateway_url)
            p2 = ctx2.new_page()
            sign_in(p2, "reg_ce")
            p2.goto("/calendar/edit")
            f2 = p2.get_by_test_id("term-form-t115-1")
            for label, value in restore.items():
                f2.get_by_label(label).fill(value)
            f2.get_by_test_id("save").click()
            expect(p2.locator(".flash.ok")).to_be_visible()
            ctx2.close()
        ctx.close()
    assert not problems, "\n".join(problems)
    assert not errors, errors

"""The registrar's student profile pages in a real browser (tenant `ce`, 周組長 reg_ce):
the list with masked IDs, the form (a refused field shown beside it, then a save), a status
change, the history, the import page and a preview with problems; each page at desktop width
and on a 390-pixel phone, checked by axe-core (WCAG 2.1 A/AA) under the portal's own CSP.

axe-core comes from npm (node_modules, installed by scripts/setup.sh) and is injected as an
init script, which the page's Content-Security-Policy does not apply to.
Screenshots for a person to look at: test-results/browser/registrar-*.png
"""
import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.slow

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
CASES = Path(__file__).resolve().parents[3] / "shared" / "cases"
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}


def axe_violations(page):
    return page.evaluate("""async () => {
        const r = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                       nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
    }""")


def check(page, shots_dir, name, problems):
    """axe at both widths, no horizontal scrolling of the page itself on a phone, screenshots."""
    for label, (w, h) in WIDTHS.items():
        page.set_viewport_size({"width": w, "height": h})
        found = axe_violations(page)
        problems += [f"{name} @{label}: {v}" for v in found]
        if label == "phone":
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            if overflow > 1:
                wide = page.evaluate("""() => [...document.querySelectorAll('body *')]
                    .filter(e => !e.closest('.scroll') && e.getBoundingClientRect().right > window.innerWidth + 1)
                    .slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))""")
                problems.append(f"{name} @phone: the page scrolls sideways by {overflow}px: {wide}")
        page.screenshot(path=str(shots_dir / f"registrar-{name}-{label}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_registrar_profile_pages_work_on_a_phone_and_pass_axe(browser, stack, shots_dir, tmp_path):
    assert AXE.is_file(), "axe-core is missing: run `make setup` (npm ci installs node_modules/axe-core)"
    ctx = browser.new_context(base_url=stack.gateway_url, locale="zh-TW", viewport={"width": 1280, "height": 900})
    ctx.add_init_script(path=str(AXE))
    ctx.set_default_timeout(10_000)
    page = ctx.new_page()
    errors, problems = [], []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # a refused script or style (Content-Security-Policy) shows as a console error "Refused to ...";
    # "Failed to load resource" is the 422 form page itself or the favicon, not a fault
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" and "Failed to load resource"
            not in m.text else None)
    try:
        page.goto("/login")
        page.get_by_label("帳號").fill("reg_ce")
        page.get_by_label("密碼").fill("demo-pass-2026")
        page.get_by_role("button", name="登入").click()
        page.get_by_role("link", name="學籍資料").click()

        # the list: masked IDs only
        # (other tests of the shared stack add ce students of their own: the demo's two are there)
        table = page.get_by_test_id("students")
        for no in ("N1150001", "N1150002"):
            expect(table.locator("tbody tr", has_text=no)).to_have_count(1)
        expect(table.locator("tbody tr", has_text="N1150001").get_by_test_id("masked-id")).to_have_text("E22*****85")
        check(page, shots_dir, "list", problems)

        # the form: a bad national ID is refused beside its field, nothing saved
        page.get_by_role("link", name="N1150002").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("N1150002")
        page.get_by_label("身分證號").fill("K123456789")
        page.get_by_test_id("save").click()
        expect(page.locator(".field-error[data-field=national_id]")).to_contain_text("檢查碼")
        expect(page.get_by_label("身分證號")).to_have_attribute("aria-invalid", "true")
        check(page, shots_dir, "form-refused", problems)
        # a good change: full-width seat number, ROC birth date
        page.get_by_label("身分證號").fill("")
        page.get_by_label("出生日期").fill("94/3/15")
        page.get_by_label("座號").fill("１２")
        page.get_by_test_id("save").click()
        expect(page.locator(".flash.ok")).to_contain_text("已儲存")
        expect(page.get_by_label("座號")).to_have_value("12")
        expect(page.get_by_label("出生日期")).to_have_value("0940315")
        expect(page.locator(".mono").first).to_have_text("0940315")

        # a status change, kept in the list
        form = page.get_by_test_id("status-form")
        form.get_by_label("類別").select_option("repeat")
        form.get_by_label("異動日期").fill("115/09/01")
        form.get_by_role("button", name="新增異動").click()
        expect(page.get_by_test_id("status-changes").locator("tr[data-change=repeat]")).to_have_count(1)
        check(page, shots_dir, "form", problems)

        # the history: who, when, before and after
        page.get_by_role("link", name="異動紀錄（誰、何時、改前、改後）").click()
        hist = page.get_by_test_id("history")
        expect(hist.locator("tr[data-action=updated]").first).to_contain_text("reg_ce")
        expect(hist.locator("tr[data-action=updated]").first).to_contain_text("2005-03-15")
        check(page, shots_dir, "history", problems)

        # the import page and a preview with problems (R09: an impossible birth date)
        page.get_by_role("link", name="學籍匯入").click()
        check(page, shots_dir, "import", problems)
        page.get_by_label("檔案（.csv 或 .xlsx").set_input_files(str(next((CASES / "R09_roc_birth_date").glob("*.csv"))))
        page.get_by_role("button", name="上傳並預覽").click()
        problems_table = page.get_by_test_id("problems")
        expect(problems_table.locator("tr[data-code=date_impossible]")).to_have_count(1)
        check(page, shots_dir, "import-preview", problems)
    finally:
        ctx.close()
    assert problems == [], "\n".join(problems)
    assert errors == [], errors  # no script errors, no Content-Security-Policy violations

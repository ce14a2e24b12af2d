"""The registrar (註冊組, day) from the pre-check to the receipt and the correction, and the
student's 我的上傳結果 with an error report, in a real browser on a stack of their own (the
national loop locks day's 115). Each page at desktop width and on a 390-pixel phone, checked by
axe-core (WCAG 2.1 A/AA) under the portal's own CSP. Screenshots: test-results/browser/national-*.png
"""
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.support.national import (SUBJECT_N1, SUBJECT_N2, api_of, certify_and_select, national_stack,
                                    set_birth_dates)

pytestmark = pytest.mark.slow

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}
PASSWORD = "demo-pass-2026"


@pytest.fixture(scope="module")
def world(tmp_path_factory, pg_base_url, amqp_uri, s3_endpoint, run_id):
    with national_stack(tmp_path_factory, "natbrowser", pg_base_url=pg_base_url, amqp_uri=amqp_uri,
                        s3_endpoint=s3_endpoint, run_id=run_id) as (stack, codes):
        api = api_of(stack)
        certify_and_select(api, "nat_a01", SUBJECT_N1)
        certify_and_select(api, "nat_b01", SUBJECT_N2)
        assert api("reg_day").post("/selections/115/lock").status_code == 201
        yield stack, api


def axe_violations(page):
    return page.evaluate("""async () => {
        const r = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                       nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
    }""")


def check(page, shots_dir, name, problems):
    for label, (w, h) in WIDTHS.items():
        page.set_viewport_size({"width": w, "height": h})
        problems += [f"{name} @{label}: {v}" for v in axe_violations(page)]
        if label == "phone":
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            if overflow > 1:
                problems.append(f"{name} @phone: the page scrolls sideways by {overflow}px")
        page.screenshot(path=str(shots_dir / f"national-{name}-{label}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def new_page(browser, stack, errors):
    ctx = browser.new_context(base_url=stack.gateway_url, locale="zh-TW", viewport={"width": 1280, "height": 900})
    ctx.add_init_script(path=str(AXE))
    ctx.set_default_timeout(15_000)
    page = ctx.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" and "Failed to load resource"
            not in m.text else None)
    page.on("dialog", lambda d: d.accept())    # the confirm() before a submission
    return ctx, page


def login(page, username):
    page.goto("/login")
    page.get_by_label("帳號").fill(username)
    page.get_by_label("密碼").fill(PASSWORD)
    page.get_by_role("button", name="登入").click()


def test_registrar_precheck_submit_receipt_and_the_students_report(browser, world, shots_dir):
    assert AXE.is_file(), "axe-core is missing: run `make setup`"
    stack, api = world
    errors, problems = [], []
    reg_ctx, reg = new_page(browser, stack, errors)
    stu_ctx, stu = new_page(browser, stack, errors)
    try:
        # the registrar's pre-check names the students and rows to correct; submitting is disabled
        login(reg, "reg_day")
        reg.get_by_role("link", name="國家資料庫上傳").click()
        expect(reg.get_by_role("heading", level=1)).to_contain_text("註冊組")
        table = reg.get_by_test_id("precheck-problems")
        # the two students made here lack the birth date: their course-outcome and 學生資料名冊
        # rows; the demo school's four students (in the rosters too, though they selected
        # nothing) came with birth date and gender through the registrar's roster import
        expect(table.locator("td[data-code=birth_date_missing]")).to_have_count(4)
        expect(table).to_contain_text("學生資料名冊・學生資料")
        # every roster is offered for download, and the whole package
        rosters = reg.get_by_test_id("rosters")
        expect(rosters.locator("tbody tr")).to_have_count(6)
        with reg.expect_download() as got:
            rosters.get_by_role("link", name="下載課程學習成果名冊（Excel）").click()
        assert got.value.suggested_filename == "050407-115-1-課程學習成果名冊.xlsx"
        with reg.expect_download() as got:
            rosters.get_by_role("link", name="下載整份上傳檔（ZIP）").click()
        assert got.value.suggested_filename.endswith("national-package.zip")
        expect(reg.get_by_test_id("submit")).to_be_disabled()
        check(reg, shots_dir, "precheck-problems", problems)

        set_birth_dates(api("reg_day"))   # corrected in the student profiles (records)
        reg.reload()
        expect(reg.get_by_test_id("precheck-summary")).to_contain_text("全部通過檢查")
        reg.get_by_test_id("submit").click()
        expect(reg.locator(".flash.ok")).to_contain_text("收訖 14 列、退件 1 列")
        expect(reg.locator("tr[data-result=refused]")).to_have_count(1)
        expect(reg.locator("tr[data-result=refused]")).to_contain_text("課程代碼不在課程計畫平臺的代碼表中")
        check(reg, shots_dir, "batch", problems)

        # the student sees the refused row and reports it
        login(stu, "nat_b01")
        stu.get_by_role("link", name="我的上傳結果").click()
        row = stu.locator("tr[data-result=refused]")
        expect(row).to_contain_text("未收訖")
        check(stu, shots_dir, "my-rows", problems)
        row.get_by_label("哪裡有誤？").fill("這門課的課程代碼學校已送審")
        row.get_by_role("button", name="回報錯誤").click()
        expect(stu.locator(".flash.ok")).to_contain_text("已送出錯誤回報")
        expect(stu.locator("tr[data-result=refused]")).to_contain_text("待處理")
        check(stu, shots_dir, "my-rows-reported", problems)

        # the registrar records the correction on the row
        reg.reload()
        report = reg.get_by_test_id("report")
        expect(report).to_contain_text("課程代碼學校已送審")
        report.get_by_label("更正說明").fill("已補登課程代碼，重新上傳")
        report.get_by_role("button", name="記錄更正").click()
        expect(reg.locator(".flash.ok")).to_contain_text("已記錄更正")
        expect(reg.get_by_test_id("report")).to_contain_text("已更正")
        check(reg, shots_dir, "batch-corrected", problems)
        reg.get_by_role("link", name="← 國家資料庫上傳").click()
        expect(reg.get_by_test_id("batches").locator("tbody tr")).to_have_count(1)
        expect(reg.get_by_test_id("reports")).to_contain_text("已更正")
        check(reg, shots_dir, "overview", problems)
    finally:
        reg_ctx.close()
        stu_ctx.close()
    assert problems == [], "\n".join(problems)
    assert errors == [], errors

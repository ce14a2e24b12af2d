"""認證統計 (certification oversight) in a real browser: the executive secretary (李教務主任,
`dean`) reaches it from the navigation, switches slices (教師 by name, 班級 by name), sees the
rounds still open as the certification window closes with the teacher's NAME and a link that
opens 代理人 with that teacher filled in, and downloads CSV and xlsx of the table shown; the
homeroom teacher of class 174 sees only that class. Each state at 1280 and 390 px, axe-core.

Screenshots: test-results/browser/oversight-*.png
"""
import datetime as dt
import io

import pytest
from nameko.standalone.rpc import ClusterRpcProxy
from playwright.sync_api import expect

from portfolio_common import clock
from tests.browser.pages import check, sign_in
from tests.e2e.conftest import Api, eventually, pdf
from tests.support.calendars import publish_calendar, wait_applied
from tests.support.callers import as_system
from tests.support.school import PASSWORD, add_class

pytestmark = pytest.mark.slow

SUBJECT, CLASS, CLASS_NAME = "統計頁面實作", "174", "資訊科二年戊班"


@pytest.fixture(scope="module")
def world(stack):
    with ClusterRpcProxy({"AMQP_URI": stack.amqp_uri}, timeout=60) as rpc:
        report = rpc.accounts.import_people(as_system("day", "accounts"), [{
            "username": "ovp_hr", "display_name": "鄭導師", "password": PASSWORD,
            "grants": [{"tenant": "day", "role": "homeroom_teacher"}]}])
    assert not report["refused"], report
    names = add_class(stack, prefix="ovp", class_code=CLASS, subject=SUBJECT, n=2, nid_letter="J", nid_block=1,
                      homeroom="ovp_hr", class_name=CLASS_NAME)
    for u in names:
        who = Api(stack.gateway_url, u)
        r = who.upload(who.section(SUBJECT)["id"], "統計頁面用成果", pdf(), "成果.pdf")
        assert r.status_code in (200, 201), r.text
    wang = Api(stack.gateway_url, "t_wang")
    eventually(lambda: len([t for t in wang.get("/certification/tasks").json() if t["subject_name"] == SUBJECT]) == 2)
    return names


def test_oversight_page_slices_names_proxy_link_and_downloads(browser, stack, shots_dir, world):
    import openpyxl
    today = clock.today_in_school()
    closing = {"opens_on": str(today - dt.timedelta(days=30)), "closes_on": str(today + dt.timedelta(days=3))}
    wait_applied(stack, publish_calendar(stack, "day", certification=closing))
    errors, problems = [], []
    try:
        ctx, page = sign_in(browser, stack, "dean", errors)
        if page.get_by_label("部別").input_value() != "day":   # 李教務主任 holds both tenants: 日間部 here
            with page.expect_navigation():
                page.get_by_label("部別").select_option("day")
        page.get_by_role("navigation").first.get_by_role("link", name="認證統計").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("課程學習成果認證統計")

        # per teacher: names, not ids
        table = page.get_by_test_id("figures")
        expect(table.get_by_role("rowheader", name="王老師")).to_be_visible()
        check(page, shots_dir, "teacher", problems, prefix="oversight")

        # open at the window's close: 王老師 by name, a link that fills in 代理人's form
        closing_table = page.get_by_test_id("closing")
        row = closing_table.locator("tr").filter(has_text=SUBJECT)
        expect(row.get_by_role("rowheader")).to_have_text("王老師")
        expect(row).to_contain_text(f"{closing['closes_on']}（即將截止）")

        # per class: the class's name; the downloads carry the same table
        page.get_by_role("link", name="依班級").click()
        expect(page.get_by_role("heading", name="依班級統計")).to_be_visible()
        mine = page.get_by_test_id("figures").locator("tr").filter(has_text=CLASS_NAME)
        expect(mine.locator("td").first).to_have_text("2")
        check(page, shots_dir, "class", problems, prefix="oversight")
        with page.expect_download() as dl:
            page.get_by_test_id("csv").click()
        text = open(dl.value.path(), encoding="utf-8-sig").read()
        assert text.splitlines()[0].startswith("班級,待認證,已認證") and text.splitlines()[0].endswith(",班級代碼")
        assert any(line.startswith(f"{CLASS_NAME},2,") and line.endswith(f",{CLASS}") for line in text.splitlines())
        with page.expect_download() as dl:
            page.get_by_test_id("xlsx").click()
        assert dl.value.suggested_filename.endswith(".xlsx")
        ws = openpyxl.load_workbook(io.BytesIO(open(dl.value.path(), "rb").read())).active
        assert (CLASS_NAME, 2) in [(r[0], r[1]) for r in ws.iter_rows(min_row=2, values_only=True)]

        page.get_by_role("link", name="依班級").click()
        row = page.get_by_test_id("closing").locator("tr").filter(has_text=SUBJECT)
        row.get_by_role("link", name="為王老師指定代理人").click()
        expect(page.get_by_label("被代理教師帳號（留空為自己）")).to_have_value("t_wang")
        ctx.close()

        # the homeroom teacher of 174: the page from the navigation, their class only
        ctx, page = sign_in(browser, stack, "ovp_hr", errors)
        page.get_by_role("navigation").first.get_by_role("link", name="認證統計").click()
        page.get_by_role("link", name="依班級").click()
        rows = page.get_by_test_id("figures").locator("tbody tr")
        expect(rows).to_have_count(1)
        expect(rows.first.get_by_role("rowheader")).to_have_text(f"{CLASS} {CLASS_NAME}")  # the code, then the name
        expect(page.get_by_text("範圍：您擔任導師的班級")).to_be_visible()
        expect(page.get_by_role("link", name="為王老師指定代理人")).to_have_count(0)   # not theirs to hand out
        check(page, shots_dir, "homeroom", problems, prefix="oversight")
        # the whole-school slice sums their class only, and its row says so (a tester read it
        # as the school's total)
        page.get_by_role("link", name="全校").click()
        (whole,) = page.get_by_test_id("figures").locator("tbody tr").all()
        expect(whole.get_by_role("rowheader")).to_have_text("日間部（您負責的範圍）")
        expect(whole.locator("td").first).to_have_text("2")
        ctx.close()
    finally:
        wait_applied(stack, publish_calendar(stack, "day"))
    assert problems == [], problems
    assert errors == [], errors

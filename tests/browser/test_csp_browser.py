"""The portal under its Content-Security-Policy, in a real browser (issue 6 item 8): pages of
every role load with no CSP violation reported, and what the moved scripts do still works:
the selection counter, select-all on the certification queue, the division switch, the
confirmation before a lock, the upload form's counter, and the admin pages' nonce'd styles.

Day-school people (`day`); nothing is written except one certified and one pending outcome of
s_day03's, made through the API for the pages to have something to show.
Screenshots at 1280 px and 390 px wide: test-results/browser/csp-*.png
"""
import re
import time

import pytest
import requests
from playwright.sync_api import expect

from tests.e2e.conftest import pdf
from tests.support import uploads

pytestmark = pytest.mark.slow

PASSWORD = "demo-pass-2026"
CSP_LISTENER = """
document.addEventListener('securitypolicyviolation', (e) => {
  (window.__cspViolations = window.__cspViolations || []).push(
    `${e.violatedDirective} blocked ${e.blockedURI || 'inline'} at ${e.sourceFile || document.location.href}:${e.lineNumber}`);
});
"""
WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


class Person:
    """One person's browser context, recording console errors, page errors and CSP reports."""

    def __init__(self, browser, stack, username, width="desktop"):
        self.ctx = browser.new_context(base_url=stack.gateway_url, locale="zh-TW", viewport=WIDTHS[width])
        self.ctx.set_default_timeout(10_000)
        self.ctx.add_init_script(CSP_LISTENER)  # added by the browser's devtools: not subject to the CSP
        self.page = self.ctx.new_page()
        self.problems = []
        # "Failed to load resource" names no address: subresources are checked by their responses
        self.page.on("console", lambda m: m.type in ("error", "warning") and not m.text.startswith(
            "Failed to load resource") and self.problems.append(f"console {m.type}: {m.text}"))
        self.page.on("pageerror", lambda exc: self.problems.append(f"page error: {exc}"))
        self.page.on("response", lambda r: r.request.resource_type != "document" and r.status >= 400
                     and self.problems.append(f"{r.status} for {r.url}"))
        # a load cut short by the next navigation (net::ERR_ABORTED) is no fault of the page
        self.page.on("requestfailed", lambda r: "ERR_ABORTED" not in (r.failure or "") and self.problems.append(
            f"failed: {r.url} {r.failure}"))
        if username:
            self.page.goto("/login")
            self.page.get_by_label("帳號").fill(username)
            self.page.get_by_label("密碼").fill(PASSWORD)
            self.page.get_by_role("button", name="登入").click()
            expect(self.page.get_by_test_id("who")).to_be_visible()

    def visit(self, path):
        resp = self.page.goto(path)
        assert "frame-ancestors 'none'" in resp.headers["content-security-policy"], path
        return resp

    def violations(self):
        found = self.page.evaluate("window.__cspViolations || []")
        return found + [p for p in self.problems if "Content Security Policy" in p or "Refused to" in p]

    def assert_clean(self, where):
        assert self.violations() == [], f"{where}: CSP violations {self.violations()}"
        assert self.problems == [], f"{where}: {self.problems}"

    def shot(self, shots_dir, name):
        self.page.screenshot(path=str(shots_dir / f"csp-{name}.png"), full_page=True)


@pytest.fixture(scope="module")
def outcomes_to_show(stack):
    """s_day03 has one certified outcome (for the selection page) and one pending (for 王老師's
    queue), made through the API."""
    api = stack.gateway_url + "/api/v1"

    def token(username):
        r = requests.post(api + "/auth/token", json={"username": username, "password": PASSWORD})
        assert r.status_code == 201, r.text
        return {"Authorization": "Bearer " + r.json()["token"]}

    student, teacher = token("s_day03"), token("t_wang")
    section = next(s for s in requests.get(api + "/sections", headers=student).json()
                   if s["subject_name"] == "程式設計實習")
    ids = []
    for description in ("CSP 測試：已認證的成果", "CSP 測試：待認證的成果"):
        session = requests.Session()
        session.headers.update(student)
        r = uploads.upload_outcome(session, api[:-len("/api/v1")], section["id"], description, pdf(), "成果.pdf")
        assert r.status_code == 201, r.json()
        ids.append(r.json()["outcome_id"])
    deadline = time.monotonic() + 20
    while True:
        tasks = {t["outcome_id"]: t["id"] for t in requests.get(api + "/certification/tasks", headers=teacher).json()}
        if all(i in tasks for i in ids):
            break
        assert time.monotonic() < deadline, "the uploads did not reach the certification queue"
        time.sleep(0.3)
    r = requests.post(api + "/certification/decisions", headers=teacher,
                      json={"action": "certify", "task_ids": [tasks[ids[0]]]})
    assert r.json()["certified"] == [tasks[ids[0]]]
    while not [c for c in requests.get(api + "/selections/115", headers=student).json()["candidates"]
               if c["outcome_id"] == ids[0]]:
        assert time.monotonic() < deadline + 20, "the certification did not reach the selection"
        time.sleep(0.3)
    return ids


@pytest.mark.parametrize("width", list(WIDTHS))
def test_pages_of_every_role_load_without_a_csp_violation(browser, stack, shots_dir, outcomes_to_show, width):
    pages = {
        None: ["/login", "/no-such-page"],
        "s_day03": ["/outcomes", "/selection", "/sessions", "/certification"],  # the last: 403 page
        "t_wang": ["/certification", "/certification?status=certified", "/proxies"],
        "reg_day": ["/registrar/selection?year=114", "/registrar/roster", "/sealing"],
        "admin": ["/admin/", "/admin/users", "/admin/import", "/admin/reset"],
        "ops": ["/audit"],
        "principal": ["/", "/sealing"],
    }
    for username, paths in pages.items():
        person = Person(browser, stack, username, width)
        try:
            for path in paths:
                person.visit(path)
                person.page.wait_for_load_state("load")
                person.assert_clean(f"{username} {path}")
                slug = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "home"
                person.shot(shots_dir, f"{width}-{username or 'anonymous'}-{slug}")
        finally:
            person.ctx.close()


def test_the_moved_scripts_still_work(browser, stack, shots_dir, outcomes_to_show):
    # selection: the counter is written by portal.js (the paragraph is empty in the HTML)
    student = Person(browser, stack, "s_day03")
    student.visit("/selection")
    boxes = student.page.locator("input[type=checkbox][name=outcome_id]")
    chosen = sum(boxes.nth(i).is_checked() for i in range(boxes.count()))
    expect(student.page.locator("#count-outcome strong")).to_have_text(str(chosen))
    # the end-to-end day flow locks 日間部 115 when it runs first; then nothing can be ticked
    if student.page.get_by_test_id("lock-notice").count():
        assert not any(boxes.nth(i).is_enabled() for i in range(boxes.count()))
    else:
        box = student.page.locator("input[type=checkbox][name=outcome_id]:enabled").first
        box.set_checked(not box.is_checked())
        chosen += 1 if box.is_checked() else -1
        expect(student.page.locator("#count-outcome strong")).to_have_text(str(chosen))
    student.shot(shots_dir, "selection-counter")
    # the upload form's counter (upload.js, a static file as before)
    student.visit("/outcomes")
    student.page.get_by_label("簡述").fill("十個字的簡述內容好")
    expect(student.page.locator("#count")).to_have_text("9 / 100")
    student.assert_clean("student")
    student.ctx.close()

    # certification: the header checkbox selects every pending task
    teacher = Person(browser, stack, "t_wang")
    teacher.visit("/certification")
    boxes = teacher.page.locator("#decide input[type=checkbox][name=task_id]")
    assert boxes.count() >= 1
    teacher.page.get_by_label("全選").check()
    assert all(boxes.nth(i).is_checked() for i in range(boxes.count()))
    teacher.page.get_by_label("全選").uncheck()
    assert not any(boxes.nth(i).is_checked() for i in range(boxes.count()))
    teacher.shot(shots_dir, "certification-select-all")
    teacher.assert_clean("teacher")
    teacher.ctx.close()

    # the registrar is asked before a lock; saying no locks nothing
    registrar = Person(browser, stack, "reg_day")
    registrar.visit("/registrar/selection?year=114")
    asked = []
    registrar.page.once("dialog", lambda d: (asked.append(d.message), d.dismiss()))
    registrar.page.get_by_role("button", name="鎖定勾選").click()
    expect(registrar.page.get_by_test_id("lock-state")).to_contain_text("尚未鎖定")
    assert asked and "114 學年度" in asked[0]
    registrar.assert_clean("registrar")
    registrar.ctx.close()

    # the division switch submits itself
    principal = Person(browser, stack, "principal")
    principal.visit("/")
    switch = principal.page.get_by_label("部別")
    other = "ce" if switch.input_value() == "day" else "day"
    with principal.page.expect_navigation():
        switch.select_option(other)
    expect(principal.page.get_by_label("部別")).to_have_value(other)
    principal.shot(shots_dir, "division-switch")
    principal.assert_clean("principal")
    principal.ctx.close()


def test_the_admin_pages_styles_apply_by_nonce(browser, stack, shots_dir, tmp_path):
    admin = Person(browser, stack, "admin")
    admin.visit("/admin/users")
    active = admin.page.locator(".subnav a.active").first
    assert active.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(11, 110, 79)"
    # a preview with no problem shows the confirm form and its cancel link (a class now, not style=)
    csv = tmp_path / "people.csv"
    tenant = admin.page.get_by_label("部別").input_value()  # the division the admin is working in
    csv.write_text(f"帳號,姓名,密碼,角色\ncsp_probe,測試人員,,{tenant}:student\n", encoding="utf-8")
    admin.visit("/admin/import")
    admin.page.locator("input[type=file]").set_input_files(str(csv))
    admin.page.get_by_role("button", name="上傳並預覽").click()
    expect(admin.page.get_by_test_id("confirm-form")).to_be_visible()
    cancel = admin.page.get_by_test_id("confirm-form").get_by_role("link", name="取消")
    assert cancel.evaluate("e => getComputedStyle(e).marginLeft") == "16px"
    admin.shot(shots_dir, "admin-preview")
    admin.assert_clean("admin")
    admin.ctx.close()

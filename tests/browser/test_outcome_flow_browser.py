"""The course-outcome flow in a real browser, as the people of 進修部 (tenant `ce`) live it.

劉淑芬 (s_ce01) uploads a 商業概論 outcome (after a refused fake PDF), 陳老師 (t_chen) certifies
it, she ticks it for the national database, 周組長 (reg_ce) locks the school year, and her
selection page turns read-only. Each person has their own browser context (own cookies).

Tenant `ce` only: the end-to-end API tests use and lock tenant `day`.
Screenshots for a person to look at: test-results/browser/*.png
"""
import re
import time

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.slow

PASSWORD = "demo-pass-2026"
STUDENT, TEACHER, REGISTRAR = "s_ce01", "t_chen", "reg_ce"
STUDENT_NAME, TEACHER_NAME, REGISTRAR_NAME = "劉淑芬", "陳老師", "進修部教務組 周組長"
SUBJECT = "商業概論"
DESCRIPTION = "商業概論期末報告：夜市商圈調查"
EVENT_HOP_S = 15  # upload -> records -> certification -> submission are asynchronous events


# ---------------------------------------------------------------- helpers

def open_page(browser, stack, who, page_errors):
    """A fresh browser context (own cookies) and page for one person."""
    ctx = browser.new_context(base_url=stack.gateway_url, locale="zh-TW",
                              viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(10_000)
    page = ctx.new_page()
    page.on("pageerror", lambda exc: page_errors.append(f"{who}: {exc}"))
    return page


def login(page, username, display_name):
    page.goto("/login")
    page.get_by_label("帳號").fill(username)
    page.get_by_label("密碼").fill(PASSWORD)
    page.get_by_role("button", name="登入").click()
    expect(page.get_by_test_id("who")).to_have_text(display_name)


def choose_section(page, subject):
    select = page.get_by_label("課程")
    value = select.locator("option", has_text=subject).get_attribute("value")
    select.select_option(value)


def description_box(page):
    return page.get_by_label("簡述")


def upload(page, path, description, subject=SUBJECT):
    """Fill the upload form and press 上傳 (upload.js sends it with XHR, no navigation)."""
    choose_section(page, subject)
    description_box(page).fill(description)
    page.get_by_label("檔案").set_input_files(str(path))
    # upload.js marks the form once its submit handler is attached: a click before that would
    # post the form the plain way (the flake seen under load)
    page.locator("form#upload[data-ready=true]").wait_for()
    page.get_by_role("button", name="上傳", exact=True).click()


def row(page, table_testid, *texts):
    """Rows of a data-testid table containing all the given texts."""
    rows = page.get_by_test_id(table_testid).get_by_role("row")
    for t in texts:
        rows = rows.filter(has_text=t)
    return rows


def reload_until(page, locator, text, what, timeout_s=EVENT_HOP_S):
    """Reload until `locator` has a first match containing `text` (events arrive asynchronously)."""
    deadline = time.monotonic() + timeout_s
    while True:
        if locator.count() and text in locator.first.inner_text():
            return locator.first
        if time.monotonic() > deadline:
            seen = locator.first.inner_text() if locator.count() else "(no such row)"
            raise AssertionError(f"after {timeout_s} s of reloading {page.url}, {what}: "
                                 f"expected {text!r}, saw {seen!r}")
        time.sleep(0.5)
        page.reload()


def flash(page, text):
    return page.get_by_role("status").filter(has_text=text)


def screenshot(page, shots_dir, name):
    page.screenshot(path=str(shots_dir / f"{name}.png"), full_page=True)


def small_pdf(path):
    from pypdf import PdfWriter
    w = PdfWriter()
    w.add_blank_page(width=595, height=842)  # A4
    with open(path, "wb") as f:
        w.write(f)
    assert path.read_bytes().startswith(b"%PDF-")
    return path


# ---------------------------------------------------------------- the flow

def test_outcome_upload_certify_select_lock(browser, shots_dir, stack, tmp_path):
    # `browser` first: a missing Chromium fails before the platform is started.
    page_errors = []
    student = open_page(browser, stack, STUDENT, page_errors)

    # 1. The student signs in and lands on 課程學習成果.
    login(student, STUDENT, STUDENT_NAME)
    expect(student).to_have_url(re.compile(r"/outcomes$"))
    expect(student.get_by_role("heading", name="上傳課程學習成果")).to_be_visible()

    # 2. A text file named report.pdf is refused in place, and nothing typed is lost.
    fake = tmp_path / "report.pdf"
    fake.write_text("這不是 PDF，只是一段文字。\nThis is plain text, not a PDF.\n", encoding="utf-8")
    upload(student, fake, DESCRIPTION)
    msg = student.locator("#upload-msg")  # no data-testid on the in-place message
    expect(msg).to_contain_text("只接受 PDF")
    expect(msg).to_have_class(re.compile(r"\berror\b"))
    expect(student).to_have_url(re.compile(r"/outcomes$"))
    expect(description_box(student)).to_have_value(DESCRIPTION)
    expect(student.get_by_role("button", name="上傳", exact=True)).to_be_enabled()
    screenshot(student, shots_dir, "02-refused-not-a-pdf")

    # ... and the 簡述 is counted as the service counts it: a 101st character is not cut off
    # silently, the counter says it is over; a line break counts once (U09: 50 + Enter + 49 = 100).
    box = description_box(student)
    box.fill("")
    box.press_sequentially("夜" * 101)
    counter = student.locator("#count")  # no data-testid on the counter
    expect(box).to_have_value("夜" * 101)
    expect(counter).to_have_text("101 / 100")
    expect(counter).to_have_class(re.compile(r"\bover\b"))
    box.fill("夜" * 50 + "\n" + "夜" * 49)
    expect(counter).to_have_text("100 / 100")
    expect(counter).not_to_have_class(re.compile(r"\bover\b"))
    box.fill("\u200b\u200b")
    expect(counter).to_have_text("0 / 100")

    # 3. A real PDF goes through; the page reloads and the row reaches 待認證.
    pdf = small_pdf(tmp_path / "期末報告.pdf")
    with student.expect_navigation():  # upload.js reloads the page after a success
        upload(student, pdf, DESCRIPTION)
    expect(flash(student, "已上傳")).to_be_visible()
    mine = row(student, "outcomes", DESCRIPTION)
    reload_until(student, mine, "待認證", "the student's new outcome")
    expect(mine).to_have_count(1)
    expect(mine).to_contain_text(SUBJECT)
    expect(mine.get_by_role("link", name="期末報告.pdf", exact=True)).to_be_visible()
    screenshot(student, shots_dir, "03-uploaded-pending")

    # 4. The teacher certifies everything pending (select all).
    teacher = open_page(browser, stack, TEACHER, page_errors)
    login(teacher, TEACHER, TEACHER_NAME)
    expect(teacher).to_have_url(re.compile(r"/certification$"))
    task = row(teacher, "tasks", STUDENT_NAME)
    reload_until(teacher, task, DESCRIPTION, "the teacher's pending task")
    expect(task).to_have_count(1)
    teacher.get_by_label("全選").check()
    expect(teacher.get_by_label(f"選取 {STUDENT_NAME}")).to_be_checked()
    teacher.get_by_role("button", name="認證所選").click()
    expect(flash(teacher, "已認證 1 件")).to_be_visible()
    screenshot(teacher, shots_dir, "04-teacher-certified")

    # 5. The student sees 已認證, then ticks the outcome for the national database.
    student.reload()
    reload_until(student, mine, "已認證", "the student's outcome after certification")
    student.get_by_role("link", name="勾選", exact=True).click()
    expect(student).to_have_url(re.compile(r"/selection"))
    candidate = row(student, "outcomes", DESCRIPTION)
    reload_until(student, candidate, SUBJECT, "the certified outcome as a selection candidate")
    candidate.get_by_role("checkbox").check()
    expect(student.get_by_test_id("count-outcome")).to_contain_text("已選 1 / 6")
    student.get_by_role("button", name="儲存勾選").click()
    expect(flash(student, "已儲存勾選")).to_be_visible()
    expect(candidate.get_by_role("checkbox")).to_be_checked()
    expect(student.get_by_test_id("count-outcome")).to_contain_text("已選 1 / 6")
    # ... and consents to release it for admission (without consent the lock submits nothing)
    student.get_by_role("button", name="我已閱讀並同意釋出").click()
    expect(student.get_by_test_id("consent-state")).to_contain_text("同意釋出")

    # 6. The registrar locks the school year (after a confirm() dialog).
    registrar = open_page(browser, stack, REGISTRAR, page_errors)
    login(registrar, REGISTRAR, REGISTRAR_NAME)
    expect(registrar).to_have_url(re.compile(r"/registrar/selection"))
    dialogs = []

    def accept(dialog):
        dialogs.append((dialog.type, dialog.message))
        dialog.accept()
    registrar.once("dialog", accept)
    registrar.get_by_role("button", name="鎖定勾選").click()
    expect(flash(registrar, "已鎖定 全部")).to_be_visible()
    assert dialogs and dialogs[0][0] == "confirm" and "鎖定" in dialogs[0][1], dialogs
    expect(registrar.get_by_test_id("lock-state")).to_contain_text("最近一次鎖定")
    locked = row(registrar, "locked", STUDENT_NAME)
    expect(locked).to_have_count(1)
    expect(locked).to_contain_text(DESCRIPTION)
    screenshot(registrar, shots_dir, "06-registrar-locked")

    # 7. The student's selection is now read-only.
    student.reload()
    expect(student.get_by_text("無法再修改")).to_be_visible()
    expect(candidate.get_by_role("checkbox")).to_be_disabled()
    expect(candidate.get_by_role("checkbox")).to_be_checked()
    expect(student.get_by_role("button", name="儲存勾選")).to_have_count(0)
    screenshot(student, shots_dir, "07-student-selection-locked")
    # ... and her outcomes list learns of the lock (records hears submission's event).
    student.get_by_role("link", name="課程學習成果").click()
    reload_until(student, mine, "已勾選並鎖定", "the student's outcome after the lock")

    assert page_errors == [], f"JavaScript errors in the pages: {page_errors}"
    for p in (student, teacher, registrar):
        p.context.close()

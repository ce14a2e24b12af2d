"""The teacher's certification queue in a real browser (tenant `day`, 王老師 t_wang, a class of
three of its own): grouped by class and subject with counts, the image previewed beside the
decision under the portal's CSP, j/k moving without a page load, a bulk certification where one
item is refused (decided meanwhile in another tab) and named in zh-TW, `r` + 退回這件 with a
listed reason shown on the 已退回 tab, a PDF opened in its own tab under the files service's
sandbox; each state at 1280 and 390 px, checked by axe-core.

Screenshots for a person to look at: test-results/browser/queue-*.png
"""
import re
import struct
import zlib
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Api, eventually
from tests.support import evidence as ev
from tests.support.school import PASSWORD, add_class

pytestmark = pytest.mark.slow

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}
SUBJECT, CLASS = "認證佇列實作", "193"
LONG_NAME = "期末專題報告_第三組_夜市商圈消費行為調查與分析_最終修訂版本_含附錄與問卷原始資料.pdf"


def png(w=40, h=30):
    """A valid RGB PNG (a blue rectangle) without an imaging library."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + b"\x20\x60\xc0" * w for _ in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def real_pdf():
    from io import BytesIO

    from pypdf import PdfWriter
    w, out = PdfWriter(), BytesIO()
    w.add_blank_page(width=595, height=842)
    w.write(out)
    return out.getvalue()


def axe_violations(page):
    return page.evaluate("""async () => {
        const r = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}});
        return r.violations.map(v => ({id: v.id, help: v.help, nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
    }""")


def check(page, shots_dir, name, problems):
    """axe at both widths, no sideways scrolling of the page on a phone, screenshots."""
    for label, (w, h) in WIDTHS.items():
        page.set_viewport_size({"width": w, "height": h})
        problems += [f"{name} @{label}: {v}" for v in axe_violations(page)]
        if label == "phone":
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            if overflow > 1:
                problems.append(f"{name} @phone: the page scrolls sideways by {overflow}px")
        page.screenshot(path=str(shots_dir / f"queue-{name}-{label}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_queue_groups_previews_keyboard_bulk_refusal_and_return(browser, stack, shots_dir):
    assert AXE.is_file(), "axe-core is missing: run `make setup` (npm ci installs node_modules/axe-core)"
    names = add_class(stack, prefix="cq", class_code=CLASS, subject=SUBJECT, n=3, nid_letter="V")
    students = [Api(stack.gateway_url, u) for u in names]
    section = students[0].section(SUBJECT)
    files = [(png(), "作品照片.png"), (real_pdf(), LONG_NAME), (real_pdf(), "學習單.pdf")]
    outcome_ids = []
    for who, (content, filename) in zip(students, files):
        r = who.upload(section["id"], f"{SUBJECT}：{filename[:10]}", content, filename)
        assert r.status_code in (200, 201), r.text
        outcome_ids.append(r.json()["outcome_id"])
    # the photo's outcome gets its media file too (a document and a media file: one item, one round)
    video = ev.mp4(200_000)
    r = students[0].reupload(outcome_ids[0], f"{SUBJECT}：{files[0][1][:10]}", video, "作品介紹.mp4", slot="media")
    assert r.status_code == 201, r.text
    teacher_api = Api(stack.gateway_url, "t_wang")
    mine = lambda: [t for t in teacher_api.get("/certification/tasks?status=pending").json()  # noqa: E731
                    if t["subject_name"] == SUBJECT]
    tasks = eventually(lambda: (lambda ts: ts if len(ts) == 3 and any(len(t["files"]) == 2 for t in ts)
                                else None)(mine()))
    by_seat = {t["seat_no"]: t for t in tasks}
    assert sorted(by_seat) == [1, 2, 3] and {t["class_code"] for t in tasks} == {CLASS}
    student_names = {t["seat_no"]: t["student_name"] for t in tasks}

    ctx = browser.new_context(base_url=stack.gateway_url, locale="zh-TW", viewport={"width": 1280, "height": 900})
    ctx.add_init_script(path=str(AXE))
    ctx.set_default_timeout(10_000)
    page = ctx.new_page()
    errors, problems = [], []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" and "Failed to load resource"
            not in m.text else None)
    page.goto("/login")
    page.get_by_label("帳號").fill("t_wang")
    page.get_by_label("密碼").fill(PASSWORD)
    page.get_by_role("button", name="登入").click()
    expect(page).to_have_url(re.compile(r"/certification$"))

    # grouped by class and subject, with the count; rows in seat order
    group = page.get_by_test_id("queue-group").filter(has_text=SUBJECT)
    expect(group.get_by_role("heading")).to_have_text(f"{CLASS} · {SUBJECT} （3 件）")
    rows = group.locator("tr.task")
    expect(rows).to_have_count(3)
    for i, seat in enumerate((1, 2, 3)):
        expect(rows.nth(i)).to_contain_text(student_names[seat])
    expect(group.get_by_role("link", name=LONG_NAME)).to_be_visible()  # the long name wraps (screenshots)

    # the image previewed beside the decision: really loaded through the signed link
    group.get_by_role("button", name=student_names[1]).click()
    preview = page.locator("#preview")
    expect(preview.locator("#preview-who")).to_have_text(f"1 號 {student_names[1]}")
    img = preview.get_by_role("img", name="作品照片.png 的預覽")
    expect(img).to_be_visible()
    page.wait_for_function("() => { const i = document.querySelector('#preview img'); return i && i.complete && i.naturalWidth === 40; }")
    # and its media file beside it, playable through its own signed link
    expect(preview.locator("#preview-name")).to_have_text("共 2 個檔案")
    expect(preview.locator("figure[data-slot=media] video")).to_be_visible()
    expect(preview.locator("figure[data-slot=media] figcaption")).to_have_text("影音檔：作品介紹.mp4")
    assert "/files/" in preview.locator("figure[data-slot=media] video").get_attribute("src")
    row1 = group.locator("tr.task").first
    expect(row1.get_by_test_id("task-file")).to_have_count(2)
    expect(row1.get_by_role("link", name="作品介紹.mp4")).to_be_visible()
    check(page, shots_dir, "image-preview", problems)

    # j / k move without a page load
    page.evaluate("window.__same_page = true")
    page.keyboard.press("j")
    expect(preview.locator("#preview-who")).to_have_text(f"2 號 {student_names[2]}")
    expect(preview.locator("#preview-name")).to_have_text(LONG_NAME)
    expect(preview.locator("#preview-desc")).to_have_text(f"{SUBJECT}：{LONG_NAME[:10]}")
    page.keyboard.press("k")
    expect(preview.locator("#preview-who")).to_have_text(f"1 號 {student_names[1]}")
    page.keyboard.press("j")
    assert page.evaluate("window.__same_page") is True

    # a row ticked and then filtered out: the count says a bulk decision takes it too, and the
    # preview leaves the hidden row (c must not decide what is not listed); found by a tester
    count = page.locator("#selected-count")
    page.get_by_label(f"選取 {student_names[1]}").check()
    expect(count).to_have_text("已勾選 1 件")
    page.get_by_label("篩選").fill(student_names[3])
    expect(count).to_have_text("已勾選 1 件（其中 1 件被篩選隱藏，也會一起處理）")
    expect(preview.locator("#preview-who")).to_have_text(f"3 號 {student_names[3]}")
    expect(preview.locator("#preview-pos")).to_have_text("第 1 / 1 件")
    page.get_by_label("篩選").fill("")
    page.get_by_label(f"選取 {student_names[1]}").uncheck()
    expect(count).to_have_text("")

    # a PDF opens in its own tab and renders under the files service's sandbox CSP
    with page.expect_popup() as pop:
        preview.get_by_role("link", name="開新分頁檢視檔案").click()
    pdf_tab = pop.value
    viewer = lambda: any(f.url.startswith("chrome-extension://") for f in pdf_tab.frames)  # noqa: E731
    for _ in range(100):  # Chromium's PDF viewer attaches its frame some time after the response
        if viewer():
            break
        pdf_tab.wait_for_timeout(100)
    assert viewer(), f"Chromium's PDF viewer did not open the file: {[f.url for f in pdf_tab.frames]}"
    pdf_tab.wait_for_timeout(1500)  # for the screenshot only: the viewer paints after its frame exists
    pdf_tab.screenshot(path=str(shots_dir / "queue-pdf-in-own-tab.png"))
    pdf_tab.close()

    # bulk: seat 1 is certified meanwhile in another tab; seats 1 and 2 selected and certified
    assert teacher_api.post("/certification/decisions", json={
        "action": "certify", "task_ids": [by_seat[1]["id"]]}).json()["certified"] == [by_seat[1]["id"]]
    page.get_by_label(f"選取 {student_names[1]}").check()
    page.get_by_label(f"選取 {student_names[2]}").check()
    page.get_by_role("button", name="認證所選").click()
    expect(page.get_by_role("status").filter(has_text="已認證 1 件")).to_be_visible()
    warn = page.get_by_role("status").filter(has_text="1 件未處理")
    expect(warn).to_contain_text(f"{student_names[1]}：此項目已經處理過。")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(student_names[3])
    expect(page.get_by_label(f"選取 {student_names[3]}")).not_to_be_checked()
    check(page, shots_dir, "bulk-one-refused", problems)

    # r goes to the reason of the item shown; 退回這件 returns it; the 已退回 tab shows why
    page.get_by_role("button", name=student_names[3]).click()
    expect(preview.locator("#preview-who")).to_have_text(f"3 號 {student_names[3]}")
    page.keyboard.press("r")
    expect(preview.get_by_label("退回原因")).to_be_focused()
    preview.get_by_label("退回原因").select_option("incomplete")
    preview.get_by_role("button", name="退回這件").click()
    expect(page.get_by_role("status").filter(has_text="已退回 1 件")).to_be_visible()
    page.get_by_role("link", name="已退回").click()
    returned = page.get_by_test_id("queue-group").filter(has_text=SUBJECT).locator("tr.task")
    expect(returned).to_have_count(1)
    expect(returned.get_by_test_id("return-reason")).to_contain_text("退回原因：內容不完整")
    check(page, shots_dir, "returned-tab", problems)

    # the filter hides what does not match, and says so when nothing does
    page.get_by_role("link", name="全部").click()
    page.get_by_label("篩選").fill(student_names[2])
    expect(page.get_by_test_id("queue-group").filter(has_text=SUBJECT).locator("tr.task:visible")).to_have_count(1)
    # ... and looks in the file names and the class as well (any case)
    page.get_by_label("篩選").fill("含附錄與問卷原始資料.PDF")
    expect(page.get_by_test_id("queue-group").filter(has_text=SUBJECT).locator("tr.task:visible")).to_have_count(1)
    page.get_by_label("篩選").fill("作品介紹.MP4")
    expect(page.get_by_test_id("queue-group").filter(has_text=SUBJECT).locator("tr.task:visible")).to_have_count(1)
    rows_of_class = page.get_by_test_id("queue-group").filter(has_text=SUBJECT).locator("tr.task")
    page.get_by_label("篩選").fill(CLASS)     # every row of the class
    expect(rows_of_class.locator("xpath=self::*[not(@hidden)]")).to_have_count(rows_of_class.count())
    assert rows_of_class.count() >= 3
    page.get_by_label("篩選").fill("沒有這個人")
    expect(page.locator("#queue-empty")).to_be_visible()

    ctx.close()
    assert problems == [], problems
    assert errors == [], f"JavaScript or CSP errors: {errors}"

"""重新上傳 in a real browser (tenant `day`, a class of its own, 王老師 t_wang): the teacher
returns an outcome with a listed reason; the student sees the reason and a 重新上傳 button on
that row, the form comes back for the same course with the 簡述 to correct, the new file goes
through, and the row shows 第 2 次上傳 while the teacher's queue shows round 2 of the same
outcome. Checked by axe-core at 1280 and 390 px; screenshots test-results/browser/reupload-*.png.
"""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_certification_queue_browser import AXE, WIDTHS, axe_violations, real_pdf
from tests.e2e.conftest import Api, eventually
from tests.support.school import PASSWORD, add_class

pytestmark = pytest.mark.slow

SUBJECT, CLASS = "重新上傳實作", "192"


def check(page, shots_dir, name, problems):
    for label, (w, h) in WIDTHS.items():
        page.set_viewport_size({"width": w, "height": h})
        problems += [f"{name} @{label}: {v}" for v in axe_violations(page)]
        if label == "phone":
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            if overflow > 1:
                problems.append(f"{name} @phone: the page scrolls sideways by {overflow}px")
        page.screenshot(path=str(shots_dir / f"reupload-{name}-{label}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_returned_outcome_reuploaded_from_its_row(browser, stack, shots_dir, tmp_path):
    assert AXE.is_file(), "axe-core is missing: run `make setup`"
    (name,) = add_class(stack, prefix="reup", class_code=CLASS, subject=SUBJECT, n=1, nid_letter="P")
    student_api, teacher = Api(stack.gateway_url, name), Api(stack.gateway_url, "t_wang")
    section = student_api.section(SUBJECT)
    up = student_api.upload(section["id"], "學習單：電路量測", real_pdf(), "學習單.pdf").json()
    task = eventually(lambda: [t for t in teacher.get("/certification/tasks?status=pending").json()
                               if t["outcome_id"] == up["outcome_id"]])[0]
    r = teacher.post("/certification/decisions", json={"action": "return", "task_ids": [task["id"]],
                                                        "reason_code": "incomplete", "reason": "請附上量測照片"})
    assert r.json()["returned"] == [task["id"]], r.text
    eventually(lambda: student_api.get("/outcomes/" + up["outcome_id"]).json()["status"] == "returned")

    ctx = browser.new_context(base_url=stack.gateway_url, locale="zh-TW", viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(10_000)
    page = ctx.new_page()
    errors, problems = [], []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.add_init_script(path=str(AXE))
    page.goto("/login")
    page.get_by_label("帳號").fill(name)
    page.get_by_label("密碼").fill(PASSWORD)
    page.get_by_role("button", name="登入").click()
    expect(page).to_have_url(re.compile(r"/outcomes$"))

    row = page.locator(f'tr[data-outcome="{up["outcome_id"]}"]')
    expect(row).to_contain_text("已退回")
    expect(row).to_contain_text("請附上量測照片")
    expect(page.get_by_test_id("notice")).to_contain_text("您有 1 件課程學習成果被任課教師退回")
    check(page, shots_dir, "returned-row", problems)
    row.get_by_role("link", name=re.compile("重新上傳")).click()

    expect(page.get_by_role("heading", name="重新上傳課程學習成果")).to_be_visible()
    expect(page.get_by_test_id("reupload-banner")).to_contain_text("請附上量測照片")
    expect(page.get_by_test_id("reupload-course")).to_contain_text(SUBJECT)
    expect(page.get_by_label("課程")).to_have_count(0)  # the course is the outcome's own
    box = page.get_by_label("簡述")
    expect(box).to_have_value("學習單：電路量測")
    check(page, shots_dir, "form", problems)

    pdf = tmp_path / "學習單-附照片.pdf"
    pdf.write_bytes(real_pdf())
    box.fill("學習單：電路量測（附量測照片）")
    page.get_by_label("檔案").set_input_files(str(pdf))
    page.locator("form#upload[data-ready=true]").wait_for()  # upload.js has taken the form
    with page.expect_navigation():  # upload.js goes back to the plain page after a success
        page.get_by_role("button", name="重新上傳", exact=True).click()
    expect(page).to_have_url(re.compile(r"/outcomes$"))
    expect(page.get_by_role("status").filter(has_text="已重新上傳")).to_be_visible()
    expect(page.get_by_test_id("reupload-refused")).to_have_count(0)

    def shown():
        page.reload()
        return "待認證" in row.inner_text() and "第 2 次上傳" in row.inner_text()
    eventually(shown)
    expect(row).to_contain_text("學習單-附照片.pdf")
    expect(row.get_by_role("link", name=re.compile("重新上傳"))).to_have_count(0)
    expect(page.get_by_test_id("notice")).to_have_count(0)
    check(page, shots_dir, "after", problems)

    round2 = eventually(lambda: [t for t in teacher.get("/certification/tasks?status=pending").json()
                                 if t["outcome_id"] == up["outcome_id"]])[0]
    assert round2["round"] == 2 and round2["description"] == "學習單：電路量測（附量測照片）"
    # a forged re-upload URL for an outcome that is not returned: the plain form, and why
    page.goto(f"/outcomes?reupload={up['outcome_id']}")
    expect(page.get_by_test_id("reupload-refused")).to_be_visible()
    expect(page.get_by_role("heading", name="上傳課程學習成果")).to_be_visible()
    ctx.close()
    assert not errors, errors
    assert not problems, problems

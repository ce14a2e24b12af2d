"""Issue 10 item 4 in a real browser: a batch certified with the keyboard only (Tab/focus to the
tick boxes, Space to tick, Enter on 認證所選) where one item is refused and STAYS on the list:
the allowed one is certified, the refused one keeps its tick and its zh-TW reason on the row,
and the message names the student. The refused item is a round of a term without a calendar
(114-2, published as files publishes an upload of that term), so it cannot be decided yet and
remains pending: the case where keeping the selection matters (fix and retry), unlike an item
decided meanwhile in another tab, which leaves the list (test_certification_queue_browser.py).

Class 175, national-ID letter H block 1. Screenshots: test-results/browser/queue-keep-*.png
"""
import re

import pytest
from playwright.sync_api import expect

from portfolio_common import amqp, events
from tests.browser.pages import check, sign_in
from tests.e2e.conftest import Api, eventually, pdf
from tests.support.school import add_class

pytestmark = pytest.mark.slow

SUBJECT, CLASS = "整批保留勾選實作", "175"


def upload_of_an_unset_term(stack, student, section, teacher_user_id):
    """files' `outcome-uploaded` for a 114-2 outcome (a term no calendar holds)."""
    import uuid

    import sqlalchemy as sa
    eng = sa.create_engine(stack.database_url("records"))
    try:
        with eng.connect() as c:
            student_id = str(c.execute(sa.text("SELECT id FROM students WHERE user_id = :u"),
                                       {"u": student.user["user_id"]}).scalar_one())
    finally:
        eng.dispose()
    env = events.make_event(events.OUTCOME_UPLOADED, "day", {
        "outcome_id": str(uuid.uuid4()), "file_id": str(uuid.uuid4()), "student_id": student_id,
        "student_user_id": student.user["user_id"], "section_id": section["id"],
        "teacher_user_id": teacher_user_id, "school_year": 114, "semester": 2,
        "course_code": section["course_code"], "subject_name": section["subject_name"],
        "description": "上學期補交的成果", "filename": "補交.pdf", "content_type": "application/pdf",
        "size": 1234, "sha256": uuid.uuid4().hex * 2, "uploaded_at": events.utcnow(),
        "class_code": CLASS, "class_name": f"{SUBJECT}班", "homeroom_user_id": None}, producer="files")
    pub = amqp.PikaPublisher(stack.amqp_uri_for("files"))
    try:
        pub.publish(events.exchange_for(events.OUTCOME_UPLOADED), events.OUTCOME_UPLOADED, env)
    finally:
        pub.close()


def test_a_keyboard_batch_with_one_refusal_keeps_it_selected_and_names_it(browser, stack, shots_dir):
    names = add_class(stack, prefix="qkp", class_code=CLASS, subject=SUBJECT, n=2, nid_letter="H", nid_block=1)
    first, second = (Api(stack.gateway_url, u) for u in names)
    r = first.upload(first.section(SUBJECT)["id"], "本學期成果", pdf(), "本學期.pdf")
    assert r.status_code in (200, 201), r.text
    wang = Api(stack.gateway_url, "t_wang")
    upload_of_an_unset_term(stack, second, second.section(SUBJECT), wang.user["user_id"])
    tasks = eventually(lambda: (lambda ts: ts if len(ts) == 2 else None)(
        [t for t in wang.get("/certification/tasks").json() if t["subject_name"] == SUBJECT]))
    by_year = {t["school_year"]: t for t in tasks}
    ok_name, refused_name = by_year[115]["student_name"], by_year[114]["student_name"]

    errors, problems = [], []
    ctx, page = sign_in(browser, stack, "t_wang", errors)
    expect(page).to_have_url(re.compile(r"/certification$"))
    group = page.get_by_test_id("queue-group").filter(has_text=SUBJECT)
    expect(group.locator("tr.task")).to_have_count(2)

    # keyboard only: focus each tick box, Space ticks it; Enter on 認證所選 sends the batch
    for name in (ok_name, refused_name):
        box = page.get_by_label(f"選取 {name}")
        box.focus()
        page.keyboard.press("Space")
        expect(box).to_be_checked()
    page.get_by_role("button", name="認證所選").focus()
    page.keyboard.press("Enter")

    expect(page.get_by_role("status").filter(has_text="已認證 1 件")).to_be_visible()
    warn = page.get_by_role("status").filter(has_text="1 件未處理")
    expect(warn).to_contain_text(f"{refused_name}：")
    rows = page.get_by_test_id("queue-group").filter(has_text=SUBJECT).locator("tr.task")
    expect(rows).to_have_count(1)                                 # the certified one left the list
    expect(rows.first).to_contain_text(refused_name)
    expect(page.get_by_label(f"選取 {refused_name}")).to_be_checked()   # the refused one keeps its tick
    expect(rows.first.get_by_test_id("refused-reason")).to_contain_text("未處理：")
    check(page, shots_dir, "bulk-kept", problems, prefix="queue-keep")
    assert wang.get("/certification/tasks?status=certified").json() and any(
        t["id"] == by_year[115]["id"] for t in wang.get("/certification/tasks?status=certified").json())
    ctx.close()
    assert problems == [], problems
    assert errors == [], errors

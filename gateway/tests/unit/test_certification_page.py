"""The teacher's queue page with a fake RPC pool: its service calls go out together
(RpcPool.call_many), and each row's file links are the portal's file route (issue 10: the
page builds the route once, not per file)."""
import html
import re
import uuid

from flask import url_for

from gateway.app import create_app

TEACHER = {"user_id": str(uuid.uuid4()), "username": "t_wang", "display_name": "王老師", "must_change_password": False,
           "session_id": str(uuid.uuid4()), "grants": [{"tenant": "day", "role": "subject_teacher"}], "proxy_for": {}}


def task(n, files=None, file_id=None, content_type="application/pdf"):
    fid = file_id or str(uuid.uuid4())
    return {"id": str(uuid.uuid4()), "outcome_id": str(uuid.uuid4()), "round": 1, "file_id": fid,
            "student_id": f"s{n}", "section_id": "sec", "school_year": 115, "semester": 1, "course_code": "C1",
            "subject_name": "程式設計", "description": f"成果{n}", "filename": f"f{n}.pdf", "content_type": content_type,
            "sha256": "0" * 64, "files": files, "fingerprints": None, "status": "pending",
            "created_at": "2026-11-30T00:00:00+00:00", "acting_for": None}


class FakePool:
    def __init__(self, tasks):
        self.tasks, self.calls, self.together = tasks, [], []

    def call(self, service, method, *args, **kwargs):
        self.calls.append((service, method))
        if (service, method) == ("accounts", "resolve_session"):
            return dict(TEACHER)
        if (service, method) == ("submission", "get_calendar"):
            return None
        raise AssertionError(f"unexpected call {service}.{method}")

    def call_many(self, calls):
        self.together.append([(s, m) for s, m, _, _ in calls])
        answers = {("certification", "list_queue"): [dict(t) for t in self.tasks],
                   ("records", "list_my_students"): [{"id": f"s{i}", "student_no": f"9{i:04d}", "name": f"學生{i}",
                                                      "class_code": "101", "seat_no": i} for i in range(len(self.tasks))],
                   ("certification", "list_return_reasons"): [{"code": "unreadable", "label": "無法開啟",
                                                               "needs_note": False}]}
        return [answers[(s, m)] for s, m, _, _ in calls]


def test_the_queue_asks_its_services_at_once_and_links_every_file():
    doc, media = str(uuid.uuid4()), str(uuid.uuid4())
    tasks = [task(0, files={"document": {"file_id": doc, "filename": "報告.pdf", "content_type": "application/pdf"},
                            "media": {"file_id": media, "filename": "影片.mp4", "content_type": "video/mp4"}},
                  file_id=doc),
             task(1),                                            # a round from before slots
             task(2, file_id="odd id/1", content_type="video/mp4")]  # not a plain id: url_for itself
    app = create_app({"TESTING": True})
    pool = FakePool(tasks)
    app.extensions["rpc"] = pool
    client = app.test_client()
    with client.session_transaction() as s:
        s["st"] = "st-1"
    resp = client.get("/certification")
    assert resp.status_code == 200, resp.text[:500]
    assert pool.together == [[("certification", "list_queue"), ("records", "list_my_students"),
                              ("certification", "list_return_reasons")]]
    with app.test_request_context():
        link = lambda fid: url_for("portal.file", file_id=fid)  # noqa: E731
        want = {t["id"]: [(slot, link(f["file_id"])) for slot, f in (
            [("document", t["files"]["document"]), ("media", t["files"]["media"])] if t["files"] else
            [("media" if t["content_type"] == "video/mp4" else "document", t)])] for t in tasks}
        main = {t["id"]: link(t["file_id"]) for t in tasks}
    rows = re.findall(r'<tr class="task[^"]*" data-task="([^"]+)"(.*?)</tr>', resp.text, re.S)
    assert len(rows) == 3
    for tid, row in rows:
        # each file of the round is one link in its slot, with the type queue.js previews it by
        # (the principal file first)
        found = re.findall(r'data-slot="([^"]+)">.*?<a href="([^"]*)" target="_blank" rel="noopener" data-type="([^"]*)"',
                           row, re.S)
        assert [(slot, html.unescape(u)) for slot, u, _ in found] == want[tid]
        assert html.unescape(found[0][1]) == main[tid]
        assert all(t for _, _, t in found)

    # another tab also counts the open ones for the notice, in the same round of calls
    pool.together.clear()
    assert client.get("/certification?status=all").status_code == 200
    assert pool.together == [[("certification", "list_queue"), ("records", "list_my_students"),
                              ("certification", "list_return_reasons"), ("certification", "list_queue")]]


class RefusingPool(FakePool):
    """certification refuses the whole return (no usable reason), as the service does."""

    def call(self, service, method, *args, **kwargs):
        if (service, method) == ("certification", "return_outcomes"):
            self.calls.append((service, method))
            from portfolio_common.errors import Invalid
            raise Invalid("the reason 其他 needs an explanation", code="reason_note_required")
        return super().call(service, method, *args, **kwargs)


def test_a_refused_return_keeps_the_ticks_and_the_reason_and_says_what_is_missing():
    """Found by trying it: 其他 without a note answered 退回時請填寫原因 (a reason had been
    chosen) and the page came back with every tick and the chosen reason cleared."""
    tasks = [task(0), task(1), task(2)]
    app = create_app({"TESTING": True})
    app.extensions["rpc"] = RefusingPool(tasks)
    client = app.test_client()
    with client.session_transaction() as s:
        s["st"], s["csrf"] = "st-1", "tok"
    resp = client.post("/certification?status=pending", data={
        "csrf_token": "tok", "action": "return", "task_id": [tasks[0]["id"], tasks[2]["id"]],
        "reason_code": "unreadable", "reason": "第二頁"})
    assert resp.status_code == 422
    text = resp.get_data(as_text=True)
    from gateway.errors import ERRORS
    assert ERRORS["reason_note_required"][1] in text and "退回時請填寫原因" not in text
    ticked = set(re.findall(r'name="task_id" value="([^"]+)"[^>]*checked', text))
    assert ticked == {tasks[0]["id"], tasks[2]["id"]}
    assert '<option value="unreadable" selected>' in text and 'value="第二頁"' in text

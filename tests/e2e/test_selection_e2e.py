"""Selection, consent, lock and unlock end to end through the gateway (issue 9 items 2-4):
real services, PostgreSQL, RabbitMQ and S3.

A class of its own (181, teacher 林老師) so no other test's students or queues change; the
day calendar's limit changed here is put back before the test ends."""
import pytest

from tests.e2e.conftest import eventually, pdf
from tests.support.school import add_class


@pytest.fixture(scope="module")
def people(stack, api):
    names = add_class(stack, prefix="sel", class_code="181", subject="勾選實習", n=3, teacher="t_lin", nid_letter="K")
    return {"a": api(names[0]), "b": api(names[1]), "c": api(names[2]), "teacher": api("t_lin"),
            "reg": api("reg_day"), "reg_ce": api("reg_ce"), "ce_student": api("s_ce01")}


def uploaded_and_decided(p, student, n_certified, n_returned=0):
    section = student.section("勾選實習")
    ids = [student.upload(section["id"], f"勾選成果 {i}", pdf()).json()["outcome_id"]
           for i in range(n_certified + n_returned)]
    tasks = eventually(lambda: (lambda got: got if len(got) == len(ids) else None)(
        {t["outcome_id"]: t["id"] for t in p["teacher"].get("/certification/tasks").json() if t["outcome_id"] in ids}))
    r = p["teacher"].post("/certification/decisions", json={"action": "certify",
                                                            "task_ids": [tasks[i] for i in ids[:n_certified]]})
    assert r.ok, r.text
    if n_returned:
        r = p["teacher"].post("/certification/decisions", json={
            "action": "return", "task_ids": [tasks[i] for i in ids[n_certified:]], "reason": "檔案看不清楚"})
        assert r.ok, r.text
    eventually(lambda: len([o for o in student.get("/selections/115").json()["outcomes"]
                            if o["outcome_id"] in ids and o["state"] != "uploaded"]) == len(ids))
    return ids


def test_select_within_limits_reasons_and_the_change_log(people):
    p = people
    a = p["a"]
    ids = uploaded_and_decided(p, a, 2, 1)
    certified, returned = ids[:2], ids[2]
    view = a.get("/selections/115").json()
    assert view["limits"] == {"outcome": 6, "performance": 10} and view["counts"]["outcome"] == 0
    assert view["window"]["state"] == "open"
    why = {o["outcome_id"]: o for o in view["outcomes"]}
    assert why[returned]["reason"] == "returned" and "檔案看不清楚" in why[returned]["return_reason"]
    assert why[certified[0]]["selectable"] is True
    # a returned outcome, or another student's, is refused
    r = a.put("/selections/115", json={"outcome_ids": [returned]})
    assert (r.status_code, r.json()["error"]["code"]) == (422, "not_selectable")
    r = p["b"].put("/selections/115", json={"outcome_ids": [certified[0]]})
    assert (r.status_code, r.json()["error"]["code"]) == (422, "not_selectable")
    r = p["ce_student"].post("/selections/115/items", json={"kind": "outcome", "item_id": certified[0], "selected": True})
    assert r.json()["error"]["code"] in ("not_selectable", "selection_locked")
    # within the limits: saved, counted, every change kept
    r = a.put("/selections/115", json={"outcome_ids": certified[:1]})
    assert r.status_code == 200 and r.json()["version"] == 1, r.text
    r = a.post("/selections/115/items", json={"kind": "outcome", "item_id": certified[1], "selected": True})
    assert r.json()["outcome_ids"] == certified
    assert a.get("/selections/115").json()["counts"]["outcome"] == 2
    log = a.get("/selections/115/changes").json()
    assert [c["version"] for c in log] == [2, 1] and log[0]["before"]["outcome_ids"] == certified[:1]
    me = a.get("/me").json()["user_id"]
    assert p["reg"].get(f"/selections/115/changes?student_user_id={me}").json() == log
    # a stale page is refused and stores nothing
    r = a.put("/selections/115", json={"outcome_ids": [], "expected_version": 1})
    assert (r.status_code, r.json()["error"]["code"]) == (409, "selection_stale")


def test_over_the_calendars_limit_refused_with_the_number(people):
    p = people
    b, reg = p["b"], p["reg"]
    ids = uploaded_and_decided(p, b, 2)
    before = reg.get("/calendar/115/1").json()
    r = reg.put("/calendar/115/1", json={"outcomes_selected_per_year": 1, "expected_version": before["version"]})
    assert r.ok, r.text
    try:
        eventually(lambda: b.get("/selections/115").json()["limits"]["outcome"] == 1)
        r = b.put("/selections/115", json={"outcome_ids": ids})
        assert (r.status_code, r.json()["error"]["code"]) == (409, "selection_quota_exceeded")
        assert "1" in r.json()["error"]["message_zh"] and "課程學習成果" in r.json()["error"]["message_zh"]
        assert b.post("/selections/115/items", json={"kind": "outcome", "item_id": ids[0], "selected": True}).ok
        r = b.post("/selections/115/items", json={"kind": "outcome", "item_id": ids[1], "selected": True})
        assert (r.status_code, r.json()["error"]["code"]) == (409, "selection_quota_exceeded")
        assert b.get("/selections/115").json()["counts"]["outcome"] == 1
        why = {o["outcome_id"]: o["reason"] for o in b.get("/selections/115").json()["outcomes"]}
        assert why[ids[1]] == "over_limit"
    finally:
        now = reg.get("/calendar/115/1").json()
        assert reg.put("/calendar/115/1", json={"outcomes_selected_per_year": before["limits"]["outcomes_selected_per_year"],
                                                "expected_version": now["version"]}).ok


def test_outside_the_window_refused_with_the_dates(people):
    p = people
    term = {"starts_on": "2026-02-01", "ends_on": "2026-07-31", "upload_opens_on": "2026-02-15",
            "upload_closes_on": "2026-06-30", "certification_opens_on": "2026-02-15",
            "certification_closes_on": "2026-07-10", "selection_opens_on": "2026-07-01",
            "selection_closes_on": "2026-07-20", "national_deadline": "2026-08-10"}
    r = p["reg"].put("/calendar/114/2", json=term)
    assert r.ok, r.text
    r = p["c"].put("/selections/114", json={"outcome_ids": []})
    err = r.json()["error"]
    assert (r.status_code, err["code"]) == (409, "window_closed")
    assert "2026-07-01" in err["message_zh"] and "2026-07-20" in err["message_zh"]
    view = p["c"].get("/selections/114").json()
    assert view["window"]["state"] == "closed"
    # nor can the registrar lock that year outside its selection window (nothing kept)
    for body in ({"scope": "class", "class_code": "181"}, {"scope": "tenant"}):
        r = p["reg"].post("/selections/114/lock", json=body)
        err = r.json()["error"]
        assert (r.status_code, err["code"]) == (409, "window_closed"), r.text
        assert "2026-07-01" in err["message_zh"] and "2026-07-20" in err["message_zh"]
    assert p["reg"].get("/selections/114/overview").json()["locks"] == []
    assert p["reg"].get("/selections/114/locked").json()["students"] == []


def test_consent_lock_with_overview_unlock_with_reason_and_relock(people):
    p = people
    a, c, reg = p["a"], p["c"], p["reg"]
    # consent: the exact wording, a stale wording refused, revocable
    consent = a.get("/selections/115/consent").json()
    assert consent["given"] is False and "同意" in consent["wording"]["text"]
    r = a.put("/selections/115/consent", json={"give": True, "wording_version": "1999-1"})
    assert (r.status_code, r.json()["error"]["code"]) == (409, "consent_wording_changed")
    assert a.put("/selections/115/consent", json={"give": True, "wording_version": consent["wording"]["version"]}).ok
    assert a.put("/selections/115/consent", json={"give": False}).json()["given"] is False
    assert a.put("/selections/115/consent", json={"give": True, "wording_version": consent["wording"]["version"]}).ok
    log = a.get("/selections/115/consent/changes").json()
    assert [x["action"] for x in log] == ["given", "revoked", "given"] and log[0]["wording"] == consent["wording"]["text"]

    # the overview before the lock: class 181 with who has no selection and no consent
    view = reg.get("/selections/115/overview").json()
    (cls,) = [k for k in view["classes"] if k["class_code"] == "181"]
    assert cls["totals"]["students"] == 3 and cls["totals"]["certified"] >= 2
    assert cls["totals"]["no_consent"] == 2 and cls["totals"]["no_selection"] >= 1
    assert not [k for k in reg.get("/selections/115/overview").json()["classes"] if k["class_code"] == "571"]

    # another tenant's registrar cannot lock or unlock this class
    r = p["reg_ce"].post("/selections/115/lock", json={"scope": "class", "class_code": "181"})
    assert (r.status_code, r.json()["error"]["code"]) == (422, "invalid")
    me = a.get("/me").json()["user_id"]
    r = p["reg_ce"].post("/selections/115/unlock", json={"student_user_ids": [me], "reason": "x"})
    assert (r.status_code, r.json()["error"]["code"]) == (422, "unlock_not_locked")

    # the lock of class 181: a copy for the student with consent, a warning for the others
    r = reg.post("/selections/115/lock", json={"scope": "class", "class_code": "181"})
    assert r.status_code == 201, r.text
    res = r.json()
    assert (res["students"], res["held"], res["without_consent"]) == (3, 1, 2)
    held = reg.get("/selections/115/locked").json()
    (mine,) = [s for s in held["students"] if s["student_user_id"] == me]
    assert mine["version"] == 1 and len(mine["outcomes"]) == 2 and all(len(o["sha256"]) == 64 for o in mine["outcomes"])
    for who, path, body in ((a, "/selections/115", {"outcome_ids": []}),
                            (a, "/selections/115/consent", {"give": False}),
                            (c, "/selections/115/consent", {"give": True, "wording_version": consent["wording"]["version"]})):
        r = who.put(path, json=body)
        assert (r.status_code, r.json()["error"]["code"]) == (409, "selection_locked")
    r = reg.post("/selections/115/lock", json={"scope": "class", "class_code": "181"})
    assert r.json()["error"]["code"] == "already_locked"

    # the teacher cannot take back a certification the locked copy rests on (the row would
    # silently leave the national roster): refused by name, still certified and held
    first, second = (o["outcome_id"] for o in mine["outcomes"])
    certified = {t["outcome_id"]: t["id"] for t in p["teacher"].get("/certification/tasks?status=certified").json()}
    r = p["teacher"].post("/certification/decisions", json={"action": "withdraw", "task_ids": [certified[second]],
                                                            "reason": "誤按認證"})
    assert r.ok and r.json()["withdrawn"] == [], r.text
    (refusal,) = r.json()["refused"]
    assert refusal["code"] == "outcome_locked" and "註冊組" in refusal["message_zh"]
    assert second in {t["outcome_id"] for t in p["teacher"].get("/certification/tasks?status=certified").json()}
    assert second in {o["outcome_id"] for s in reg.get("/selections/115/locked").json()["students"]
                      if s["student_user_id"] == me for o in s["outcomes"]}

    # unlock needs a reason; once unlocked for the correction the withdrawal goes through; the
    # student corrects; the re-lock keeps a new version
    r = reg.post("/selections/115/unlock", json={"student_user_ids": [me], "reason": "  "})
    assert (r.status_code, r.json()["error"]["code"]) == (422, "unlock_reason_required")
    assert reg.post("/selections/115/unlock", json={"student_user_ids": [me], "reason": "學生勾錯，更正"}).ok
    r = p["teacher"].post("/certification/decisions", json={"action": "withdraw", "task_ids": [certified[second]],
                                                            "reason": "誤按認證"})
    assert r.ok and r.json()["withdrawn"] == [certified[second]] and r.json()["refused"] == [], r.text
    assert a.put("/selections/115", json={"outcome_ids": [first]}).ok
    r = reg.post("/selections/115/lock", json={"scope": "class", "class_code": "181"})
    assert r.status_code == 201 and r.json()["held"] == 1 and r.json()["already_locked"] == 2, r.text
    versions = reg.get(f"/selections/115/locked/{me}/versions").json()["students"]
    assert [v["version"] for v in versions] == [1, 2] and [o["outcome_id"] for o in versions[1]["outcomes"]] == [first]
    locks = reg.get("/selections/115/overview").json()["locks"]
    assert [(x["action"], x["reason"]) for x in locks[:3]] == [("lock", None), ("unlock", "學生勾錯，更正"), ("lock", None)]
    assert locks[1]["by_username"] == "reg_day"
    # students see nothing of the registrar's
    for path in ("/selections/115/overview", f"/selections/115/locked/{me}/versions"):
        assert a.get(path).json()["error"]["code"] == "not_allowed"

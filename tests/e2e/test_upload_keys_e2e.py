"""Idempotency keys bound to what they were for (issue 6 item 9), over the API: a retry with the
same key is the same upload; the same key for another section or 簡述 is refused with
idempotency_key_reused and a sentence in Traditional Chinese, and stores nothing."""
import uuid

from tests.e2e.conftest import eventually, pdf


def upload(student, section, description, content, key):
    """Ticket with the key from the gateway, then the bytes to the files service."""
    return student.upload(section["id"], description, content, "成果.pdf", idempotency_key=key)


def test_a_key_reused_for_another_upload_is_refused_over_the_api(api):
    student = api("s_day02")
    programming, logic = student.section("程式設計實習"), student.section("數位邏輯")
    key, content = f"e2e-{uuid.uuid4()}", pdf()
    first = upload(student, programming, "冪等鍵測試：第一次", content, key)
    assert first.status_code == 201, first.json()
    eventually(lambda: student.get("/outcomes/" + first.json()["outcome_id"]).ok)
    before = student.get("/outcomes").json()

    for section, description in ((logic, "冪等鍵測試：第一次"), (programming, "冪等鍵測試：換了簡述"),
                                 (logic, "完全不同的上傳")):
        r = upload(student, section, description, pdf(), key)
        assert r.status_code == 409, r.json()
        err = r.json()["error"]
        assert err["code"] == "idempotency_key_reused"
        assert "識別碼" in err["message_zh"]

    # the real retry is still the same upload: the same ticket, the same stored file (200), no
    # second copy, no second slot
    again = upload(student, programming, "冪等鍵測試：第一次", content, key)
    assert (again.status_code, again.json()["file_id"]) == (200, first.json()["file_id"])
    assert student.get("/outcomes").json() == before

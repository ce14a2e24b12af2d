"""An outcome with a document and a media file (issue 7 item 3: an item is a 簡述 plus a
document, a media file, or both), end to end: real processes, PostgreSQL, RabbitMQ and S3."""
import pytest

from tests.e2e.conftest import eventually, pdf, sha
from tests.support import evidence as ev

SUBJECT = "雙檔成果實作"


@pytest.fixture(scope="module")
def students(stack):
    """Students of their own (the demo's have semester quotas other tests use): class 172."""
    from tests.support.school import add_class
    return add_class(stack, prefix="slot", class_code="172", subject=SUBJECT, n=3, nid_letter="D")


def quota(student):
    return student.get("/outcomes/quota?school_year=115&semester=1").json()


def settled(student, used):
    """The quota once every upload event has arrived: `used` outcomes, no slot held."""
    return eventually(lambda: (lambda q: q if (q["used"], q["held"]) == (used, 0) else None)(quota(student)))


def test_document_then_media_is_one_outcome_certified_on_both(stack, api, students):
    student, other, teacher, registrar = api(students[0]), api(students[1]), api("t_wang"), api("reg_day")
    section = student.section(SUBJECT)
    before = settled(student, 0)

    # the document first: a new outcome, one slot of the quota
    doc = pdf()
    up = student.upload(section["id"], "專題：校園導覽 App", doc, "企劃書.pdf", slot="document")
    assert up.status_code == 201, up.text
    up = up.json()
    assert up["slot"] == "document" and up["sha256"] == sha(doc)
    oid = up["outcome_id"]
    settled(student, 1)

    # a file of the wrong kind for its slot is refused by content, with its own code, and keeps nothing
    wrong = student.reupload(oid, "專題：校園導覽 App", pdf(), "不是影片.mp4", slot="media")
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (415, "file_slot_mismatch")
    assert "欄位" in wrong.json()["error"]["message_zh"]
    wrong = student.upload(section["id"], "錄音", ev.mp3(), "錄音.mp3", slot="document")
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (415, "file_slot_mismatch")
    bad_slot = student.post(f"/outcomes/{oid}/reupload", json={"description": "x", "slot": "photo"})
    assert bad_slot.status_code == 422
    q = settled(student, 1)
    assert q["left"] == before["left"] - 1

    # another student cannot put a file into this outcome (the same answer as a missing one)
    r = other.post(f"/outcomes/{oid}/reupload", json={"description": "偷加", "slot": "media"})
    assert (r.status_code, r.json()["error"]["code"]) == (404, "not_found")

    # the media file beside it: the same outcome, no second quota slot
    video = ev.mp4(300_000)
    media = student.reupload(oid, "專題：校園導覽 App（附展示影片）", video, "展示.mp4", slot="media")
    assert media.status_code == 201, media.text
    media = media.json()
    assert media["outcome_id"] == oid and media["slot"] == "media" and media["sha256"] == sha(video)
    mine = eventually(lambda: (lambda o: o if set(o["files"]) == {"document", "media"} else None)(
        student.get(f"/outcomes/{oid}").json()))
    assert {k: f["sha256"] for k, f in mine["files"].items()} == {"document": sha(doc), "media": sha(video)}
    assert mine["sha256"] == sha(doc) and mine["status"] == "uploaded"
    assert settled(student, 1)["left"] == before["left"] - 1
    assert len([o for o in student.get("/outcomes?school_year=115").json() if o["id"] == oid]) == 1
    # a second file of a slot that holds one is a re-upload: only after a return
    r = student.post(f"/outcomes/{oid}/reupload", json={"description": "換影片", "slot": "media"})
    assert (r.status_code, r.json()["error"]["code"]) == (409, "outcome_not_returned")

    # the teacher's queue: one round showing both files, both downloadable
    task = eventually(lambda: [t for t in teacher.get("/certification/tasks").json()
                               if t["outcome_id"] == oid and set(t.get("files") or {}) == {"document", "media"}])[0]
    assert len([t for t in teacher.get("/certification/tasks").json() if t["outcome_id"] == oid]) == 1
    assert task["files"]["media"]["content_type"] == "video/mp4"
    assert teacher.get(f"/files/{task['files']['document']['file_id']}").content == doc
    got = teacher.get(f"/files/{task['files']['media']['file_id']}", headers={"Range": "bytes=0-99"})
    assert got.status_code == 206 and got.content == video[:100]

    # certification attests the outcome as a whole: the decision records both fingerprints
    r = teacher.post("/certification/decisions", json={"action": "certify", "task_ids": [task["id"]]})
    assert r.json()["certified"] == [task["id"]], r.text
    done = [t for t in teacher.get("/certification/tasks?status=certified").json() if t["id"] == task["id"]][0]
    assert done["fingerprints"] == {"document": sha(doc), "media": sha(video)}
    eventually(lambda: student.get(f"/outcomes/{oid}").json()["status"] == "certified")

    # selection and the held copy keep both fingerprints
    eventually(lambda: [c for c in student.get("/selections/115").json()["candidates"] if c["outcome_id"] == oid])
    assert student.put("/selections/115", json={"outcome_ids": [oid]}).ok
    wording = student.get("/selections/115/consent").json()["wording"]["version"]
    assert student.put("/selections/115/consent", json={"give": True, "wording_version": wording}).ok
    r = registrar.post("/selections/115/lock", json={"scope": "class", "class_code": "172"})
    assert r.status_code == 201, r.text
    held = [o for s in registrar.get("/selections/115/locked").json()["students"] for o in s["outcomes"]
            if o["outcome_id"] == oid]
    assert held and held[0]["fingerprints"] == {"document": sha(doc), "media": sha(video)}
    # nothing of a locked outcome changes
    eventually(lambda: student.get(f"/outcomes/{oid}").json()["selected_locked"])
    r = student.post(f"/outcomes/{oid}/reupload", json={"description": "再改", "slot": "media"})
    assert (r.status_code, r.json()["error"]["code"]) == (409, "outcome_not_returned")


def test_a_media_file_added_to_a_certified_outcome_is_certified_again(stack, api, students):
    student, teacher = api(students[2]), api("t_wang")
    section = student.section(SUBJECT)
    settled(student, 0)
    audio = ev.mp3()
    up = student.upload(section["id"], "朗讀錄音", audio, "朗讀.mp3", slot="media").json()
    oid = up["outcome_id"]
    assert up["slot"] == "media"
    task = eventually(lambda: [t for t in teacher.get("/certification/tasks").json() if t["outcome_id"] == oid])[0]
    assert set(task["files"]) == {"media"} and task["sha256"] == sha(audio)
    teacher.post("/certification/decisions", json={"action": "certify", "task_ids": [task["id"]]})
    eventually(lambda: student.get(f"/outcomes/{oid}").json()["status"] == "certified")
    eventually(lambda: [c for c in student.get("/selections/115").json()["candidates"] if c["outcome_id"] == oid])

    # the document added later: a new round on both files, the outcome waits again
    doc = pdf()
    assert student.reupload(oid, "朗讀錄音與講稿", doc, "講稿.pdf", slot="document").status_code == 201
    nxt = eventually(lambda: [t for t in teacher.get("/certification/tasks").json() if t["outcome_id"] == oid])[0]
    assert nxt["round"] == 2 and {k: f["sha256"] for k, f in nxt["files"].items()} == \
        {"document": sha(doc), "media": sha(audio)}
    mine = eventually(lambda: (lambda o: o if o["status"] == "uploaded" else None)(student.get(f"/outcomes/{oid}").json()))
    assert mine["upload_round"] == 2 and mine["sha256"] == sha(doc)
    # it left what may be selected until it is certified again, and still takes one quota slot
    eventually(lambda: not [c for c in student.get("/selections/115").json()["candidates"] if c["outcome_id"] == oid])
    assert settled(student, 1)["used"] == 1

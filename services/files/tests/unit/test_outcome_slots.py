"""An outcome's two slots (issue 7 item 3: a 簡述 plus a document, a media file, or both): the
ticket names the slot, the content must be of that slot's kind, within that kind's limit."""
import datetime as dt
import io
import uuid

import pytest

from files import domain, usecases
from files.errors import FileSlotMismatch, FileTooLarge
from files.repository import FakeFileRepository, FakeObjectStore
from portfolio_common import caller as caller_mod
from tests.support import evidence as ev

LIMITS = domain.Limits()
MB = domain.MB


def ticket_for(slot, outcome_id=None, attempt=1):
    c = caller_mod.Caller(user_id=str(uuid.uuid4()), username="s", tenant="day", roles=("student",))
    t = {"kind": "outcome", "tenant": "day", "student_id": str(uuid.uuid4()), "student_user_id": c.user_id,
         "school_year": 115, "description": "簡述", "semester": 1, "outcome_id": outcome_id or str(uuid.uuid4()),
         "section_id": str(uuid.uuid4()), "teacher_user_id": str(uuid.uuid4()), "course_code": "C1",
         "subject_name": "程式設計", "attempt": attempt}
    if slot is not None:
        t["slot"] = slot
    claims = domain.TicketClaims.from_ticket(t)
    claims.expires_at = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=15)
    return c, claims


def inspect(data, slot, declared=None):
    insp = domain.Inspector(LIMITS.for_year(115), declared, slot=slot)
    for i in range(0, len(data), 65536):
        insp.feed(data[i:i + 65536])
    return insp.finish()


@pytest.mark.parametrize("make, slot", [(ev.pdf, "document"), (ev.png, "document"), (ev.mp3, "media"),
                                        (ev.mp4, "media")])
def test_a_file_of_the_slots_kind_is_accepted(make, slot):
    assert inspect(make(), slot).family == slot


@pytest.mark.parametrize("make, slot, found", [(ev.pdf, "media", "document"), (ev.mp4, "document", "media"),
                                               (ev.mp3, "document", "media"), (ev.png, "media", "document")])
def test_a_file_of_the_other_kind_is_refused_with_its_own_code(make, slot, found):
    with pytest.raises(FileSlotMismatch) as err:
        inspect(make(), slot)
    assert err.value.code == "file_slot_mismatch" and err.value.http_status == 415
    assert err.value.details["detail"] == found and "欄位" in err.value.zh


def test_the_slot_sets_the_limit_before_any_byte_arrives():
    # 6 MB is fine for media but over the document slot's 4 MB: refused from the declared length
    with pytest.raises(FileTooLarge):
        domain.Inspector(LIMITS.for_year(115), 6 * MB, slot="document")
    domain.Inspector(LIMITS.for_year(115), 6 * MB, slot="media")


def test_a_ticket_with_an_unknown_slot_is_invalid():
    with pytest.raises(ValueError):
        ticket_for("photo")


def test_the_stored_file_and_its_event_name_the_slot():
    repo, store = FakeFileRepository(), FakeObjectStore()
    c, t = ticket_for("media")
    status, res = usecases.upload_once(repo, store, LIMITS, c, t, io.BytesIO(ev.mp4()), "影片.mp4")
    assert status == 201 and res["slot"] == "media"
    (e,) = repo.events
    assert e["event"] == "outcome-uploaded" and e["payload"]["slot"] == "media"
    assert repo.rows[res["file_id"]]["slot"] == "media"


def test_wrong_kind_for_the_slot_stores_nothing_and_frees_the_ticket():
    repo, store = FakeFileRepository(), FakeObjectStore()
    c, t = ticket_for("document")
    with pytest.raises(FileSlotMismatch):
        usecases.upload_once(repo, store, LIMITS, c, t, io.BytesIO(ev.mp3()), "歌.mp3")
    assert store.objects == {} and repo.rows == {}
    (e,) = repo.events
    assert e["event"] == "upload-refused" and e["payload"]["code"] == "file_slot_mismatch"


def test_two_files_of_one_outcome_are_two_uploads():
    """records issues each file of an outcome its own attempt: files keeps both."""
    repo, store = FakeFileRepository(), FakeObjectStore()
    oid = str(uuid.uuid4())
    c, doc = ticket_for("document", oid, attempt=1)
    _, media = ticket_for("media", oid, attempt=2)
    media.student_id, media.claims["student_user_id"] = doc.student_id, c.user_id
    media.claims["student_id"] = doc.student_id
    _, a = usecases.upload_once(repo, store, LIMITS, c, doc, io.BytesIO(ev.pdf()), "報告.pdf")
    _, b = usecases.upload_once(repo, store, LIMITS, c, media, io.BytesIO(ev.mp3()), "錄音.mp3")
    assert a["file_id"] != b["file_id"] and {a["slot"], b["slot"]} == {"document", "media"}
    assert [e["payload"]["slot"] for e in repo.events] == ["document", "media"]


def test_a_ticket_from_before_slots_puts_the_file_in_the_slot_of_its_kind():
    repo, store = FakeFileRepository(), FakeObjectStore()
    c, t = ticket_for(None)
    _, res = usecases.upload_once(repo, store, LIMITS, c, t, io.BytesIO(ev.mp3()), "錄音.mp3")
    assert res["slot"] == "media" and repo.events[0]["payload"]["slot"] == "media"

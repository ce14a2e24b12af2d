"""Performances (多元表現, issue 8 item 9) over the fake unit of work: the national sheets'
fields, who entered what, the proof, voiding, who reads. No database, no broker."""
import datetime as dt
import uuid

import pytest

from portfolio_common import caller as caller_mod
from portfolio_common import events, signing
from portfolio_common.errors import PortfolioError, RetryLater
from records.performances import domain
from records.performances import usecases as perf
from records.unit_of_work import FakeRecordsUnitOfWork

KEY = "unit-ticket-key"
TODAY = dt.date(2026, 11, 29)
U1, U2, HOMEROOM = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())


def who(roles, uid=None, tenant="day"):
    return caller_mod.Caller(user_id=uid or str(uuid.uuid4()), username="u", tenant=tenant, roles=tuple(roles))


@pytest.fixture
def uow():
    u = FakeRecordsUnitOfWork()
    ids = []
    for uid, no in ((U1, "1150001"), (U2, "1150002")):
        ids.append(u.students.add({"tenant": "day", "user_id": uuid.UUID(uid), "student_no": no, "name": no,
                                   "national_id_hash": no, "national_id_enc": b"x", "class_id": None,
                                   "seat_no": 1, "status": "enrolled"}))
    u.performances.homerooms[str(ids[0])] = HOMEROOM
    u.ids = ids
    return u


COMPETITION = {"name": "全國技能競賽", "event": "網頁設計", "level_code": "3", "award": "佳作",
               "announced_on": "1151120", "description": "全國技能競賽 網頁設計 佳作"}


def code_of(fn):
    with pytest.raises(PortfolioError) as e:
        fn()
    return e.value


# ---------------------------------------------------------------- the national sheets' fields

def test_each_kind_reads_the_fields_of_its_national_sheet():
    values, problems = domain.read_performance("competition", COMPETITION, today=TODAY)
    assert problems == []
    assert values["announced_on"] == dt.date(2026, 11, 20) and values["level_code"] == "3"
    assert [f[1] for f in domain.fields_of("competition")] == [
        "競賽名稱", "項目", "競賽等級代碼", "獎項", "結果公布日期", "內容簡述", "團體參與代碼"]
    assert domain.school_year_of("competition", values) == 115


@pytest.mark.parametrize("cells, field, code", [
    ({"name": ""}, "name", "field_missing"),
    ({"level_code": "三級"}, "level_code", "code_format"),
    ({"announced_on": "1150231"}, "announced_on", "date_impossible"),
    ({"announced_on": "2030-01-01"}, "announced_on", "date_too_far"),
    ({"description": "x" * 101}, "description", "text_too_long"),
    ({"description": "\u200b \u200b"}, "description", "field_missing"),
])
def test_a_bad_field_is_named_with_its_problem(cells, field, code):
    _, problems = domain.read_performance("competition", COMPETITION | cells, today=TODAY)
    assert (field, code) in [(f, c) for f, c, _ in problems]


def test_hours_and_periods_are_checked():
    wbl = {"category_code": "1", "unit": "台積電", "starts_on": "2026-07-01", "ends_on": "2026-06-30",
           "hours": "８０", "description": "暑期職場學習"}
    values, problems = domain.read_performance("work_based_learning", wbl, today=TODAY)
    assert values["hours"] == 80 and [(f, c) for f, c, _ in problems] == [("ends_on", "end_before_start")]
    _, problems = domain.read_performance("work_based_learning", wbl | {"ends_on": "", "hours": "0"}, today=TODAY)
    assert {(f, c) for f, c, _ in problems} == {("ends_on", "field_missing"), ("hours", "number_out_of_range")}


def test_an_unknown_kind_is_refused():
    assert domain.read_performance("cadre", {}, today=TODAY)[1] == [("kind", "code_unknown", {})]


# ---------------------------------------------------------------- who enters what

def test_a_student_records_their_own_and_it_counts_toward_the_ten(uow):
    got = perf.record_performance(uow, who(["student"], U1), {"kind": "competition", "fields": COMPETITION})
    assert (got["entered_by"], got["counts_toward_selection"], got["state"]) == ("student", True, "proof_missing")
    assert got["school_year"] == 115 and got["fields"]["announced_on"] == "2026-11-20"
    (h,) = uow.history.rows
    assert (h["entity"], h["action"], h["after"]["entered_by"]) == ("performance", "created", "student")


def test_a_student_cannot_record_for_another_student(uow):
    err = code_of(lambda: perf.record_performance(uow, who(["student"], U1), {
        "kind": "work", "student_id": str(uow.ids[1]),
        "fields": {"name": "作品", "made_on": "1151101", "description": "作品"}}))
    assert err.code == "not_found" and not uow.performances.rows


def test_the_school_records_external_ones_that_do_not_count(uow):
    got = perf.record_performance(uow, who(["registrar"]), {
        "kind": "licence", "student_id": str(uow.ids[0]), "entered_by": "external",
        "fields": {"licence_code": "17200", "obtained_on": "115/10/02", "description": "電腦軟體應用丙級"}})
    assert (got["entered_by"], got["counts_toward_selection"]) == ("external", False)
    # and the student may not void what the school entered
    err = code_of(lambda: perf.void_performance(uow, who(["student"], U1), got["id"], got["version"], "錯了"))
    assert err.code == "not_found"


def test_field_problems_write_nothing(uow):
    err = code_of(lambda: perf.record_performance(uow, who(["student"], U1), {
        "kind": "competition", "fields": COMPETITION | {"name": "", "announced_on": "1150231"}}))
    assert err.code == "fields_invalid"
    assert {p["field"] for p in err.details["problems"]} == {"name", "announced_on"}
    assert not uow.performances.rows and not uow.history.rows


def test_another_tenants_student_reads_as_not_found(uow):
    err = code_of(lambda: perf.record_performance(uow, who(["registrar"], tenant="ce"), {
        "kind": "work", "student_id": str(uow.ids[0]), "fields": {"name": "x", "made_on": "1151101", "description": "x"}}))
    assert err.code == "not_found"


# ---------------------------------------------------------------- the proof

def _event(p, **over):
    payload = {"performance_id": p["id"], "performance_kind": p["kind"], "entered_by": p["entered_by"],
               "file_id": str(uuid.uuid4()), "student_id": p["student_id"], "student_user_id": U1,
               "school_year": 115, "description": p["description"], "filename": "獎狀.pdf",
               "content_type": "application/pdf", "size": 1234, "sha256": "a" * 64,
               "uploaded_at": dt.datetime(2026, 11, 29, tzinfo=dt.timezone.utc)} | over
    return events.load_event(events.PERFORMANCE_UPLOADED, events.make_event(
        events.PERFORMANCE_UPLOADED, "day", payload, producer="files"))


def test_the_proof_ticket_names_the_kind_and_who_entered_it_and_the_proof_makes_it_ready(uow):
    s = who(["student"], U1)
    p = perf.record_performance(uow, s, {"kind": "competition", "fields": COMPETITION})
    t = perf.issue_proof_ticket(uow, s, p["id"], KEY)
    claims = signing.verify(t["ticket"], KEY, purpose="upload-ticket")
    assert (claims["kind"], claims["performance_kind"], claims["entered_by"], claims["uploader_user_id"]) == \
        ("performance", "competition", "student", U1)
    env = _event(p)
    assert perf.attach_proof(uow, env) is True
    assert perf.attach_proof(uow, env) is False          # redelivered: changes nothing
    (mine,) = perf.list_performances(uow, s)
    assert (mine["state"], mine["filename"], mine["sha256"]) == ("ready", "獎狀.pdf", "a" * 64)
    assert [h["action"] for h in uow.history.rows] == ["created", "proof_attached"]


def test_a_proof_for_an_unknown_performance_is_retried_not_dropped(uow):
    with pytest.raises(RetryLater):
        perf.attach_proof(uow, _event({"id": str(uuid.uuid4()), "kind": "work", "entered_by": "student",
                                       "student_id": str(uow.ids[0]), "description": "x"}))


def test_another_student_gets_no_ticket_for_my_performance(uow):
    p = perf.record_performance(uow, who(["student"], U1), {"kind": "competition", "fields": COMPETITION})
    assert code_of(lambda: perf.issue_proof_ticket(uow, who(["student"], U2), p["id"], KEY)).code == "not_found"


# ---------------------------------------------------------------- void and read

def test_void_needs_a_reason_and_the_version_seen_and_keeps_the_item(uow):
    s = who(["student"], U1)
    p = perf.record_performance(uow, s, {"kind": "competition", "fields": COMPETITION})
    assert code_of(lambda: perf.void_performance(uow, s, p["id"], p["version"], " ")).code == "fields_invalid"
    assert code_of(lambda: perf.void_performance(uow, s, p["id"], p["version"] + 1, "重複登錄")).code == "stale_record"
    got = perf.void_performance(uow, s, p["id"], p["version"], "重複登錄")
    assert (got["state"], got["void_reason"]) == ("voided", "重複登錄")
    assert code_of(lambda: perf.issue_proof_ticket(uow, s, p["id"], KEY)).code == "performance_voided"
    assert len(perf.list_performances(uow, s)) == 1


def test_readers_are_the_student_their_homeroom_teacher_and_the_registrar(uow):
    p = perf.record_performance(uow, who(["student"], U1), {"kind": "competition", "fields": COMPETITION})
    sid = p["student_id"]
    assert perf.list_performances(uow, who(["homeroom_teacher"], HOMEROOM), sid)[0]["id"] == p["id"]
    assert perf.list_performances(uow, who(["registrar"]), sid)[0]["id"] == p["id"]
    for stranger in (who(["homeroom_teacher"]), who(["student"], U2), who(["registrar"], tenant="ce")):
        assert code_of(lambda: perf.list_performances(uow, stranger, sid)).code == "not_found"


def test_the_homeroom_teacher_gets_a_read_grant_for_the_proof_and_the_teacher_of_another_class_does_not(uow):
    s = who(["student"], U1)
    p = perf.record_performance(uow, s, {"kind": "competition", "fields": COMPETITION})
    homeroom = who(["homeroom_teacher"], HOMEROOM)
    assert code_of(lambda: perf.grant_proof_read(uow, homeroom, p["id"], KEY)).code == "not_found"  # no proof yet
    perf.attach_proof(uow, _event(p))
    (ready,) = perf.list_performances(uow, s)
    g = perf.grant_proof_read(uow, homeroom, p["id"], KEY)
    claims = signing.verify(g["grant"], KEY, purpose="file-read-grant")   # what the files service checks
    assert (g["file_id"], g["filename"]) == (ready["file_id"], "獎狀.pdf")
    assert (claims["file_id"], claims["user_id"], claims["tenant"]) == (ready["file_id"], HOMEROOM, "day")
    assert perf.grant_proof_read(uow, who(["registrar"]), p["id"], KEY)["file_id"] == ready["file_id"]
    for attacker in (who(["homeroom_teacher"]), who(["student"], U2), who(["homeroom_teacher"], HOMEROOM, "ce"),
                     who(["subject_teacher"])):
        assert code_of(lambda: perf.grant_proof_read(uow, attacker, p["id"], KEY)).code == "not_found"


def test_the_class_view_lists_the_performances_for_their_homeroom_teacher_only(uow):
    p = perf.record_performance(uow, who(["student"], U1), {"kind": "competition", "fields": COMPETITION})
    students = [uow.students.get("day", i) for i in uow.ids]
    mine = perf.of_class(uow, who(["homeroom_teacher"], HOMEROOM), students)
    assert [x["id"] for x in mine[str(uow.ids[0])]] == [p["id"]] and str(uow.ids[1]) not in mine
    assert perf.of_class(uow, who(["homeroom_teacher"]), students) == {}


def test_the_proofs_history_row_names_its_uploader_from_the_event(uow):
    s = who(["student"], U1)
    p = perf.record_performance(uow, s, {"kind": "competition", "fields": COMPETITION})
    assert perf.attach_proof(uow, _event(p, uploader_user_id=U1)) is True
    row = uow.history.rows[-1]
    assert (row["action"], row["actor_user_id"], row["actor_username"]) == ("proof_attached", U1, "u")

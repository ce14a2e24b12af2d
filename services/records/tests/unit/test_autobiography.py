"""Autobiography and study plan over the fake unit of work: the student writes versions, a
counsellor or the homeroom teacher of the class approves or returns with a comment, every
version kept, others refused."""
import uuid

import pytest

from portfolio_common import caller as caller_mod
from portfolio_common.errors import PortfolioError
from records.autobiography import usecases as auto
from records.history import first_broken_link
from records.unit_of_work import FakeRecordsUnitOfWork

HOMEROOM = str(uuid.uuid4())
TEXT = {"autobiography": "我從小喜歡拆解電器。", "career_plan": "升學資訊管理", "expectations": "每學期讀完兩本書",
        "strengths": "耐心、細心", "interests": "程式設計、攝影"}


def who(role, tenant="day", uid=None):
    return caller_mod.Caller(user_id=uid or str(uuid.uuid4()), username=f"u_{role}", tenant=tenant, roles=(role,))


@pytest.fixture()
def school():
    uow = FakeRecordsUnitOfWork()
    out = {"uow": uow}
    for tenant, code, no, homeroom in (("day", "101", "1", HOMEROOM), ("day", "102", "2", None), ("ce", "501", "3", None)):
        class_id = uow.students.ensure_class(tenant, 115, code)
        uow.students.classes[(tenant, 115, code)]["homeroom_user_id"] = homeroom and uuid.UUID(homeroom)
        uid = uuid.uuid4()
        sid = uow.students.add({"tenant": tenant, "user_id": uid, "student_no": no, "name": f"學生{no}",
                                "class_id": class_id, "national_id_enc": b"x", "national_id_hash": no})
        out[no] = (sid, who("student", tenant, str(uid)))
    return out


def err(fn, *args):
    with pytest.raises(PortfolioError) as e:
        fn(*args)
    return e.value


def test_the_student_writes_a_reviewer_returns_the_student_rewrites_and_every_version_stays(school):
    uow, (sid, me) = school["uow"], school["1"]
    v1 = auto.write_autobiography(uow, me, TEXT, 0)
    assert (v1["version_no"], v1["status"]) == (1, "submitted")
    assert auto.write_autobiography(uow, me, TEXT, 1)["id"] == v1["id"]  # the same text again: no new version
    assert err(auto.review_autobiography, uow, who("guidance_counsellor"), v1["id"], "return", " ").code == "fields_invalid"
    back = auto.review_autobiography(uow, who("guidance_counsellor"), v1["id"], "return", "請補充高二的學習計畫")
    assert (back["status"], back["review_comment"]) == ("returned", "請補充高二的學習計畫")
    assert err(auto.write_autobiography, uow, me, TEXT, 0).code == "stale_record"  # from an old page
    v2 = auto.write_autobiography(uow, me, TEXT | {"career_plan": "高二修多媒體設計"}, 1)
    ok = auto.review_autobiography(uow, who("homeroom_teacher", uid=HOMEROOM), v2["id"], "approve", "")
    assert ok["status"] == "approved" and ok["reviewed_by_username"] == "u_homeroom_teacher"
    versions = auto.get_autobiography(uow, me)["versions"]
    assert [(v["version_no"], v["status"]) for v in versions] == [(2, "approved"), (1, "returned")]
    assert versions[1]["career_plan"] == "升學資訊管理"  # the old text kept
    assert [r["action"] for r in uow.history.rows] == ["written", "returned", "written", "approved"]
    assert first_broken_link(uow.history.rows) is None
    # an already reviewed version is not reviewed again
    assert err(auto.review_autobiography, uow, who("guidance_counsellor"), v1["id"], "approve", "").code == "stale_record"


def test_required_parts_and_limits():
    from records.autobiography import domain
    _, problems = domain.read_text_fields({"career_plan": "", "expectations": "x" * 1001, "strengths": "\u200b",
                                           "interests": "x"})
    assert {(f, c) for f, c, _ in problems} == {("career_plan", "field_missing"), ("expectations", "text_too_long"),
                                                ("strengths", "field_missing")}


@pytest.mark.parametrize("attacker", ["other_student", "other_homeroom", "other_tenant_counsellor", "registrar"])
def test_others_read_nor_review_it(school, attacker):
    uow, (sid, me) = school["uow"], school["1"]
    v1 = auto.write_autobiography(uow, me, TEXT, 0)
    caller = {"other_student": school["2"][1], "other_homeroom": who("homeroom_teacher"),
              "other_tenant_counsellor": who("guidance_counsellor", tenant="ce"), "registrar": who("registrar")}[attacker]
    assert err(auto.get_autobiography, uow, caller, str(sid)).code == "not_found"
    assert err(auto.review_autobiography, uow, caller, v1["id"], "approve", "").code in ("not_found", "not_allowed")


def test_a_staff_member_cannot_write_a_students_autobiography(school):
    assert err(auto.write_autobiography, school["uow"], who("guidance_counsellor"), TEXT, 0).code == "not_allowed"


def test_the_class_list_for_its_homeroom_teacher(school):
    uow, (sid, me) = school["uow"], school["1"]
    auto.write_autobiography(uow, me, TEXT, 0)
    rows = auto.list_class(uow, who("homeroom_teacher", uid=HOMEROOM), "101")
    assert [(r["student"]["student_no"], r["latest"]["status"]) for r in rows] == [("1", "submitted")]
    assert err(auto.list_class, uow, who("homeroom_teacher", uid=HOMEROOM), "102").code == "not_found"

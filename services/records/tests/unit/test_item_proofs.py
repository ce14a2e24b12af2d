"""An in-school competition's proof file (issue 8 item 8) over the fake unit of work: the
organising unit's upload ticket, proof-uploaded attaching it (newest wins, redelivery changes
nothing, an unknown item retried), and the read grant only the item's readers get."""
import datetime as dt
import uuid

import pytest

from portfolio_common import caller as caller_mod
from portfolio_common import clock, signing
from portfolio_common.errors import PortfolioError, RetryLater
from records import itemkit
from records.competition.usecases import KIND as COMPETITION
from records.itemproofs import usecases as proofs
from records.unit_of_work import FakeRecordsUnitOfWork

KEY = "unit-ticket-key"
HOMEROOM = str(uuid.uuid4())


def who(role, tenant="day", uid=None):
    return caller_mod.Caller(user_id=uid or str(uuid.uuid4()), username=f"u_{role}", tenant=tenant, roles=(role,))


@pytest.fixture()
def school(monkeypatch):
    monkeypatch.setattr(clock, "today_in_school", lambda: dt.date(2026, 11, 20))
    uow = FakeRecordsUnitOfWork()
    out = {"uow": uow, "users": {}}
    for tenant, code, no, homeroom in (("day", "101", "1150001", HOMEROOM), ("day", "101", "1150002", HOMEROOM),
                                       ("ce", "501", "N1150001", None)):
        class_id = uow.students.ensure_class(tenant, 115, code, f"{code}班")
        uow.students.classes[(tenant, 115, code)]["homeroom_user_id"] = homeroom and uuid.UUID(homeroom)
        uid = uuid.uuid4()
        sid = uow.students.add({"tenant": tenant, "user_id": uid, "student_no": no, "name": f"學生{no}",
                                "class_id": class_id, "seat_no": int(no[-1]), "national_id_enc": b"x",
                                "national_id_hash": no})
        out[no], out["users"][no] = sid, str(uid)
    org = who("organising_unit")
    out["org"] = org
    out["item"] = itemkit.record_item(uow, COMPETITION, org, out["1150001"], {
        "name": "校內科展", "content": "物理組", "result": "第一名", "announced_on": "115/11/10"})
    return out


def err(fn, *args):
    with pytest.raises(PortfolioError) as e:
        fn(*args)
    return e.value


def uploaded(school, ticket, *, at="2026-11-20T08:00:00+00:00", sha="a" * 64, name="獎狀.pdf"):
    c = signing.verify(ticket["ticket"], KEY, purpose="upload-ticket")
    return {"event_id": str(uuid.uuid4()), "tenant": c["tenant"], "payload": {
        "item_kind": c["item_kind"], "item_id": c["item_id"], "attempt": c["attempt"], "file_id": str(uuid.uuid4()),
        "student_id": c["student_id"], "student_user_id": c["student_user_id"], "school_year": c["school_year"],
        "semester": c["semester"], "filename": name, "content_type": "application/pdf", "size": 10, "sha256": sha,
        "uploaded_at": dt.datetime.fromisoformat(at), "uploader_user_id": c["uploader_user_id"]}}


def test_the_organising_unit_gets_a_ticket_naming_the_item_and_each_ticket_is_a_new_attempt(school):
    uow, org, item = school["uow"], school["org"], school["item"]
    t1 = proofs.issue_item_proof_ticket(uow, org, "competition", item["id"], KEY)
    t2 = proofs.issue_item_proof_ticket(uow, org, "competition", item["id"], KEY)
    c = signing.verify(t2["ticket"], KEY, purpose="upload-ticket")
    assert (t1["attempt"], t2["attempt"]) == (1, 2)
    assert (c["kind"], c["item_kind"], c["item_id"], c["uploader_user_id"], c["student_user_id"], c["school_year"],
            c["semester"]) == ("item_proof", "competition", item["id"], org.user_id, school["users"]["1150001"], 115, 1)
    # the content's version is untouched: a form opened before the ticket still saves
    assert uow.competitions.get("day", uuid.UUID(item["id"]))["version"] == 1


@pytest.mark.parametrize("role", ["student", "homeroom_teacher", "activities_section", "registrar"])
def test_no_one_but_the_unit_gets_a_ticket(school, role):
    e = err(proofs.issue_item_proof_ticket, school["uow"], who(role), "competition", school["item"]["id"], KEY)
    assert e.code == "not_allowed"


def test_the_other_tenant_and_a_kind_without_proof_are_not_found(school):
    uow, item = school["uow"], school["item"]
    assert err(proofs.issue_item_proof_ticket, uow, who("organising_unit", "ce"), "competition", item["id"], KEY).code \
        == "not_found"
    assert err(proofs.issue_item_proof_ticket, uow, school["org"], "consultation", item["id"], KEY).code == "not_found"


def test_a_voided_item_takes_no_proof(school):
    uow, org, item = school["uow"], school["org"], school["item"]
    itemkit.void_item(uow, COMPETITION, org, item["id"], 1, "誤植")
    assert err(proofs.issue_item_proof_ticket, uow, org, "competition", item["id"], KEY).code == "item_voided"


def test_the_proof_arrives_newest_wins_and_redelivery_changes_nothing(school):
    uow, org, item = school["uow"], school["org"], school["item"]
    first = uploaded(school, proofs.issue_item_proof_ticket(uow, org, "competition", item["id"], KEY))
    second = uploaded(school, proofs.issue_item_proof_ticket(uow, org, "competition", item["id"], KEY),
                      at="2026-11-20T09:00:00+00:00", sha="b" * 64, name="獎狀_更正.pdf")
    assert proofs.attach_item_proof(uow, second) is True
    assert proofs.attach_item_proof(uow, second) is False       # redelivered
    assert proofs.attach_item_proof(uow, first) is True         # older, late: spent, changes nothing
    (mine,) = itemkit.list_mine(uow, COMPETITION, who("student", uid=school["users"]["1150001"]))
    assert (mine["proof_filename"], mine["proof_sha256"], mine["version"]) == ("獎狀_更正.pdf", "b" * 64, 1)
    assert [h["action"] for h in uow.history.rows] == ["created", "proof_attached"]
    assert uow.history.rows[-1]["after"] == {"proof_filename": "獎狀_更正.pdf", "proof_sha256": "b" * 64}


def test_the_proofs_history_row_names_the_uploader_not_the_system(school):
    """A tester saw 系統 as who uploaded a competition's proof: the event's consumer. The event
    carries the ticket holder's user id (no personal data) and the row is theirs."""
    uow, org, item = school["uow"], school["org"], school["item"]
    colleague = who("organising_unit")   # another member of the unit, never seen by records before
    assert proofs.attach_item_proof(uow, uploaded(school, proofs.issue_item_proof_ticket(
        uow, org, "competition", item["id"], KEY))) is True
    row = uow.history.rows[-1]
    assert (row["action"], row["actor_user_id"], row["actor_username"]) == ("proof_attached", org.user_id,
                                                                             "u_organising_unit")
    assert proofs.attach_item_proof(uow, uploaded(school, proofs.issue_item_proof_ticket(
        uow, colleague, "competition", item["id"], KEY), at="2026-11-20T09:00:00+00:00")) is True
    assert uow.history.rows[-1]["actor_user_id"] == colleague.user_id   # named by id, even unseen
    old = uploaded(school, proofs.issue_item_proof_ticket(uow, org, "competition", item["id"], KEY),
                   at="2026-11-20T10:00:00+00:00")
    del old["payload"]["uploader_user_id"]                             # an event from before it was carried
    assert proofs.attach_item_proof(uow, old) is True and uow.history.rows[-1]["actor_user_id"] is None


def test_a_proof_for_an_item_not_known_yet_is_retried(school):
    env = uploaded(school, proofs.issue_item_proof_ticket(school["uow"], school["org"], "competition",
                                                          school["item"]["id"], KEY))
    env["payload"]["item_id"] = str(uuid.uuid4())
    with pytest.raises(RetryLater):
        proofs.attach_item_proof(school["uow"], env)


def test_the_read_grant_goes_to_the_items_readers_only(school):
    uow, org, item = school["uow"], school["org"], school["item"]
    student = who("student", uid=school["users"]["1150001"])
    assert err(proofs.grant_item_proof_read, uow, student, "competition", item["id"], KEY).code == "not_found"  # no proof
    env = uploaded(school, proofs.issue_item_proof_ticket(uow, org, "competition", item["id"], KEY))
    proofs.attach_item_proof(uow, env)
    for reader in (student, who("homeroom_teacher", uid=HOMEROOM), org):
        g = proofs.grant_item_proof_read(uow, reader, "competition", item["id"], KEY)
        claims = signing.verify(g["grant"], KEY, purpose="file-read-grant")
        assert (g["file_id"], claims["file_id"], claims["user_id"], claims["tenant"]) == \
            (env["payload"]["file_id"], env["payload"]["file_id"], reader.user_id, "day")
    for outsider in (who("student", uid=school["users"]["1150002"]), who("homeroom_teacher"), who("registrar"),
                     who("organising_unit", "ce"), who("student", "ce", uid=school["users"]["N1150001"])):
        assert err(proofs.grant_item_proof_read, uow, outsider, "competition", item["id"], KEY).code == "not_found"

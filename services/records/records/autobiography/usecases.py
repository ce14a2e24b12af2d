"""Autobiography and study plan (自傳、學習計畫): the student writes; a guidance counsellor (any
student of the tenant) or the homeroom teacher (their class) approves it or returns it with a
comment; each save is a new version and every version is kept with its review. Read by the
student, the counsellors and the homeroom teacher of the student's class; anyone else reads it
like a missing record."""
import uuid

from portfolio_common import clock
from portfolio_common.text import clean_text

from .. import itemkit
from ..errors import FieldsInvalid, NotAllowed, NotFound, StaleRecord
from . import domain
from ..sealing.usecases import gate_sealed_read

REVIEWERS = (itemkit.COUNSELLOR, itemkit.HOMEROOM)


def _public(row) -> dict:
    out = {f: row.get(f) for f in domain.FIELDS}
    out.update(id=str(row["id"]), student_id=str(row["student_id"]), version_no=row["version_no"],
               status=row["status"], written_at=row["written_at"].isoformat(),
               reviewed_by_username=row.get("reviewed_by_username"),
               reviewed_at=row["reviewed_at"].isoformat() if row.get("reviewed_at") else None,
               review_comment=row.get("review_comment"))
    return out


def _refuse(problems):
    raise FieldsInvalid("the autobiography has problems", problems=[
        {"field": f, "code": c, "params": p or {}} for f, c, p in problems])


def _own_student(uow, caller):
    student = uow.students.by_user(caller.tenant, caller.user_id)
    if student is None:
        raise NotAllowed("no student record for this account", code="not_a_student")
    return student


def may_read(uow, caller, student_id, writing=False) -> dict:
    """The student row when the caller may read the student's autobiography: the student, the
    tenant's counsellors, the homeroom teacher of the student's class; else not_found (refused)."""
    try:
        sid = uuid.UUID(str(student_id))
    except (ValueError, TypeError):
        raise NotFound("student not found") from None
    student = uow.students.get(caller.tenant, sid)
    if student is None:
        raise NotFound("student not found")
    if caller.has(itemkit.COUNSELLOR, "system") or str(student["user_id"]) == str(caller.user_id) \
            or itemkit.homeroom_of(caller, student):
        if not writing:   # a write to a sealed student is refused as student_sealed instead
            gate_sealed_read(uow, caller, student)
        return student
    raise NotFound("student not found", refused=True)


def get_autobiography(uow, caller, student_id=None) -> dict:
    """{student: card, versions: [newest first: {id, version_no, autobiography, career_plan,
    expectations, strengths, interests, status (submitted|returned|approved), written_at,
    reviewed_by_username, reviewed_at, review_comment}]}; no student_id: the caller's own."""
    student = _own_student(uow, caller) if student_id is None else may_read(uow, caller, student_id)
    rows = uow.autobiography_versions.versions(caller.tenant, student["id"])
    return {"student": itemkit.student_card(student), "versions": [_public(r) for r in rows]}


def write_autobiography(uow, caller, data, expected_version) -> dict:
    """The student saves a new version (submitted for review). `expected_version` is the
    version_no the student last saw (0 for the first): another tab's save since is refused
    (stale_record) instead of hidden. An unchanged text is not a new version."""
    caller.require("student")
    student = _own_student(uow, caller)
    if not isinstance(data, dict):
        _refuse([("career_plan", "field_missing", {})])
    values, problems = domain.read_text_fields({str(k): v for k, v in data.items()})
    if problems:
        _refuse(problems)
    versions = uow.autobiography_versions.versions(caller.tenant, student["id"], lock=True)
    latest = versions[0] if versions else None
    if (latest["version_no"] if latest else 0) != expected_version:
        raise StaleRecord("a newer version was saved since you opened it", code="stale_record")
    if latest and all(latest.get(f) == values[f] for f in domain.FIELDS) and latest["status"] == "submitted":
        return _public(latest)
    number = (latest["version_no"] if latest else 0) + 1
    vid = uow.autobiography_versions.add(values | {
        "tenant": caller.tenant, "student_id": student["id"], "version_no": number, "written_by": caller.user_id,
        "written_at": clock.now(), "status": "submitted"})
    uow.history.record(caller.tenant, "autobiography", vid, "written", caller.user_id, actor_username=caller.username,
                       student_id=student["id"], after=values | {"version_no": number})
    uow.commit()
    return _public(uow.autobiography_versions.get(caller.tenant, vid))


def review_autobiography(uow, caller, version_id, decision, comment) -> dict:
    """A counsellor (any student of the tenant) or the homeroom teacher (their class) approves the
    latest submitted version or returns it with a comment. An older or already reviewed version:
    stale_record; another's student: not_found."""
    if not caller.has(*REVIEWERS):
        raise NotAllowed("reviewed by the guidance counsellor or the homeroom teacher")
    try:
        vid = uuid.UUID(str(version_id))
    except (ValueError, TypeError):
        raise NotFound("autobiography not found") from None
    row = uow.autobiography_versions.get(caller.tenant, vid, lock=True)
    if row is None:
        raise NotFound("autobiography not found")
    student = may_read(uow, caller, row["student_id"], writing=True)
    if not (caller.has(itemkit.COUNSELLOR) or itemkit.homeroom_of(caller, student)):
        raise NotFound("autobiography not found", refused=True)
    text = clean_text(comment)
    status, problems = domain.review(row["status"], str(decision or ""), text)
    if problems:
        _refuse(problems)
    latest = uow.autobiography_versions.versions(caller.tenant, row["student_id"])[0]
    if row["status"] != "submitted" or latest["id"] != row["id"]:
        raise StaleRecord("this version was already reviewed or a newer one was written", code="stale_record")
    if not uow.autobiography_versions.set_review(row["id"], {
            "status": status, "reviewed_by": caller.user_id, "reviewed_by_username": caller.username,
            "reviewed_at": clock.now(), "review_comment": text or None}):
        raise StaleRecord("this version was already reviewed", code="stale_record")
    uow.history.record(caller.tenant, "autobiography", row["id"], status, caller.user_id,
                       actor_username=caller.username, student_id=row["student_id"],
                       before={"status": "submitted"}, after={"status": status, "review_comment": text or None})
    uow.commit()
    return _public(uow.autobiography_versions.get(caller.tenant, row["id"]))


def list_class(uow, caller, class_code) -> list:
    """[{student: card, latest: version or None}] of a class, by seat: counsellors any class,
    the homeroom teacher their own; anyone else not_found (refused)."""
    code = clean_text(class_code)[:32]
    students = uow.students.list(caller.tenant, code)
    if not (caller.has(itemkit.COUNSELLOR, "system")
            or (caller.has(itemkit.HOMEROOM) and all(itemkit.homeroom_of(caller, s) for s in students))):
        raise NotFound("class not found", refused=True)
    sealed = uow.sealed_students.sealed_among(caller.tenant, [s["id"] for s in students])
    latest = uow.autobiography_versions.latest_of(caller.tenant, [s["id"] for s in students
                                                                  if str(s["id"]) not in sealed])
    # a sealed student's autobiography is not listed (read only through an approved request)
    return [{"student": dict(itemkit.student_card(s), sealed=str(s["id"]) in sealed),
             "latest": _public(latest[str(s["id"])]) if str(s["id"]) in latest else None}
            for s in sorted(students, key=lambda s: (s.get("seat_no") or 0, s["student_no"]))]


def may_read_version(uow, caller, version_id):
    try:
        vid = uuid.UUID(str(version_id))
    except (ValueError, TypeError):
        raise NotFound("autobiography not found") from None
    row = uow.autobiography_versions.get(caller.tenant, vid)
    if row is None:
        raise NotFound("autobiography not found")
    return may_read(uow, caller, row["student_id"])


HISTORY_READERS = {"autobiography": may_read_version}

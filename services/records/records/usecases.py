"""Use cases of the records service: plain functions over a unit of work."""
import datetime as dt
import types
import uuid

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from portfolio_common import events, signing

from . import domain
from .schoolcalendar.usecases import upload_rules
from .errors import IdempotencyKeyReused, Invalid, NotAllowed, NotEnrolled, NotFound, OutcomeNotReturned
from .orm import classes, enrolments, outcomes, sections, students, upload_reservations

TICKET_PURPOSE = "upload-ticket"
TICKET_TTL = 15 * 60
REGISTRAR_ROLES = ("registrar", "system")
TEACHER_ROLES = ("subject_teacher", "homeroom_teacher")


def _uuid(value, what="id"):
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError):
        raise NotFound(f"{what} not found") from None


def _audit(uow, tenant, entity, entity_id, action, actor, before=None, after=None,
           event_id=None, acting_for=None, student_id=None, actor_username=None):
    """One row of the hash-chained history (records/history.py), written at commit."""
    uow.history.record(tenant, entity, entity_id, action, actor, before=before, after=after,
                       event_id=event_id, acting_for=acting_for, actor_username=actor_username,
                       student_id=student_id if student_id is not None else (entity_id if entity == "student" else None))


# ---------------------------------------------------------------- school data (registrar)

def import_school(uow, vault, caller, data: dict, dry_run=False) -> dict:
    """Upsert classes, students, sections and enrolments of one tenant's term. Idempotent.
    All or nothing; a dry run (the preview) reports the same and writes nothing."""
    caller.require(*REGISTRAR_ROLES)
    tenant = caller.tenant
    sy, sem = data["school_year"], data["semester"]
    s = uow.session
    report = {"classes": 0, "students": 0, "sections": 0, "enrolments": 0}
    students_by_kind = {"created": [], "updated": [], "unchanged": []}
    refused = []
    class_ids = {}
    for c in data["classes"]:
        row = s.execute(insert(classes).values(
            tenant=tenant, school_year=sy, code=c["code"], name=c["name"],
            homeroom_user_id=c["homeroom_user_id"])
            .on_conflict_do_update(index_elements=["tenant", "school_year", "code"], set_={
                "name": c["name"],
                # a roster without homeroom teachers must not clear the ones already set
                "homeroom_user_id": sa.func.coalesce(insert(classes).excluded.homeroom_user_id,
                                                     classes.c.homeroom_user_id)})
            .returning(classes.c.id)).scalar_one()
        class_ids[c["code"]] = row
        report["classes"] += 1
    student_ids = {}
    # the tenant's students this file names, by number and by national-ID hash, in a few queries
    # (kept current below as rows are written, so a file naming one ID twice is still refused)
    checked = []
    for i, st in enumerate(data["students"]):
        try:
            nid = domain.validate_national_id(st["national_id"])
        except Invalid as exc:
            refused.append({"row": i + 1, "student_no": st["student_no"], "code": exc.code,
                            "reason": exc.text})
            continue
        checked.append((i, st, nid, vault.lookup_hash(nid)))
    by_no, no_of_hash = _students_named(s, tenant, [st["student_no"] for _, st, _, _ in checked],
                                        [h for _, _, _, h in checked])
    for i, st, nid, h in checked:
        if st["class_code"] not in class_ids:
            refused.append({"row": i + 1, "student_no": st["student_no"], "code": "unknown_class",
                            "reason": f"class {st['class_code']} is not in this import"})
            continue
        existing = by_no.get(st["student_no"])
        clash = no_of_hash.get(h)
        if clash and clash != st["student_no"]:
            refused.append({"row": i + 1, "student_no": st["student_no"], "code": "duplicate_national_id",
                            "reason": "national ID already belongs to another student"})
            continue
        values = dict(tenant=tenant, user_id=st["user_id"], student_no=st["student_no"], name=st["name"],
                      class_id=class_ids[st["class_code"]], seat_no=st["seat_no"],
                      national_id_hash=h)
        if existing is not None and existing.national_id_hash != h \
                and no_of_hash.get(existing.national_id_hash) == st["student_no"]:
            del no_of_hash[existing.national_id_hash]     # the corrected ID frees the old one
        no_of_hash[h] = st["student_no"]
        if existing is None:
            sid = uuid.uuid4()
            s.execute(students.insert().values(id=sid, national_id_enc=vault.encrypt(nid), **values))
            _audit(uow, tenant, "student", sid, "created", caller.user_id, actor_username=caller.username,
                   after={"student_no": st["student_no"], "name": st["name"], "class": st["class_code"]})
            students_by_kind["created"].append(st["student_no"])
        else:
            sid = existing.id
            before = {"name": existing.name, "class_id": str(existing.class_id), "seat_no": existing.seat_no,
                      "user_id": str(existing.user_id)}
            after = {"name": st["name"], "class_id": str(class_ids[st["class_code"]]), "seat_no": st["seat_no"],
                     "user_id": str(st["user_id"])}
            if before == after and existing.national_id_hash == h:
                students_by_kind["unchanged"].append(st["student_no"])
            else:
                students_by_kind["updated"].append(st["student_no"])
                if existing.national_id_hash != h:  # which changed is recorded, never the number
                    before["national_id"], after["national_id"] = "(previous)", "(corrected)"
                s.execute(students.update().where(students.c.id == sid).values(
                    national_id_enc=vault.encrypt(nid), version=students.c.version + 1,
                    updated_at=sa.func.now(), **values))
                _audit(uow, tenant, "student", sid, "updated", caller.user_id, before=before, after=after,
                       actor_username=caller.username)
        student_ids[st["student_no"]] = sid
        # a number named twice in one file updates the row just written, as the database would say
        by_no[st["student_no"]] = types.SimpleNamespace(id=sid, **values)
        report["students"] += 1
    for sec in data["sections"]:
        sec_id = s.execute(insert(sections).values(
            tenant=tenant, school_year=sy, semester=sem, course_code=sec["course_code"],
            subject_name=sec["subject_name"], class_code=sec["class_code"],
            grade_level=sec["grade_level"], credits=sec.get("credits"),
            class_hours=sec.get("class_hours"), teacher_user_id=sec["teacher_user_id"])
            .on_conflict_do_update(
                index_elements=["tenant", "school_year", "semester", "course_code", "class_code"],
                set_={"subject_name": sec["subject_name"], "teacher_user_id": sec["teacher_user_id"],
                      "credits": sec.get("credits"), "class_hours": sec.get("class_hours"), "grade_level": sec["grade_level"]})
            .returning(sections.c.id)).scalar_one()
        report["sections"] += 1
        others = [no for no in sec["students"] if no not in student_ids]
        known = dict(s.execute(sa.select(students.c.student_no, students.c.id).where(
            students.c.tenant == tenant, students.c.student_no.in_(others))).all()) if others else {}
        rows = []
        for no in sec["students"]:
            sid = student_ids.get(no) or known.get(no)
            if sid is None:
                refused.append({"student_no": no, "code": "unknown_student",
                                "reason": f"enrolment in {sec['course_code']}: no such student"})
                continue
            rows.append({"section_id": sec_id, "student_id": sid})
        if rows:   # one statement per section (a school's 20,000 enrolments were 20,000 statements)
            s.execute(insert(enrolments).on_conflict_do_nothing(), rows)
            report["enrolments"] += len(rows)
    if refused or dry_run:
        # All or nothing, like the accounts import: fix the file and import it again.
        return {"imported": {k: 0 for k in report} if refused else report, "refused": refused,
                "dry_run": dry_run, "students": {k: [] for k in students_by_kind} if refused else students_by_kind}
    uow.commit()
    return {"imported": report, "refused": refused, "students": students_by_kind}


def _students_named(s, tenant, student_nos, hashes) -> tuple[dict, dict]:
    """({student_no: row} of the tenant's students with these numbers, {national_id_hash:
    student_no} of those holding these hashes), 5,000 names a query."""
    by_no, no_of_hash = {}, {}
    nos, hs = sorted(set(student_nos)), sorted(set(hashes))
    for i in range(0, len(nos), 5000):
        by_no.update({r.student_no: r for r in s.execute(sa.select(students).where(
            students.c.tenant == tenant, students.c.student_no.in_(nos[i:i + 5000]))).all()})
    for i in range(0, len(hs), 5000):
        no_of_hash.update(dict(s.execute(sa.select(students.c.national_id_hash, students.c.student_no).where(
            students.c.tenant == tenant, students.c.national_id_hash.in_(hs[i:i + 5000]))).all()))
    return by_no, no_of_hash


# ---------------------------------------------------------------- reads

def _student_of(uow, caller, for_update=False):
    """The caller's student row (NotAllowed `not_a_student` when the account has none);
    `for_update` also locks it until the transaction ends (ticket issuing is serialised per
    student this way, so two parallel uploads cannot both take the last slot)."""
    q = sa.select(students).where(students.c.tenant == caller.tenant, students.c.user_id == caller.user_id)
    row = uow.session.execute(q.with_for_update() if for_update else q).first()
    if row is None:
        raise NotAllowed("no student record for this account", code="not_a_student")
    return row


def _teachers_of(caller) -> list:
    """The caller and the teachers they stand in for today as proxy."""
    return [caller.user_id, *caller.proxy_for]


def list_my_sections(uow, caller) -> list:
    s = uow.session
    if caller.has("student"):
        st = _student_of(uow, caller)
        q = sa.select(sections).join(enrolments, enrolments.c.section_id == sections.c.id).where(
            enrolments.c.student_id == st.id, sections.c.tenant == caller.tenant)
    elif caller.has(*TEACHER_ROLES):
        q = sa.select(sections).where(sections.c.tenant == caller.tenant,
                                      sections.c.teacher_user_id.in_(_teachers_of(caller)))
    else:
        raise NotAllowed("only students and teachers have sections")
    rows = s.execute(q.order_by(sections.c.school_year, sections.c.semester, sections.c.course_code)).all()
    return [dict(r._mapping) for r in rows]


def list_my_outcomes(uow, caller, school_year=None) -> list:
    caller.require("student")
    st = _student_of(uow, caller)
    from .sealing.usecases import gate_sealed_read
    gate_sealed_read(uow, caller, {"id": st.id})
    q = (sa.select(outcomes, sections.c.subject_name, sections.c.course_code)
         .join(sections, sections.c.id == outcomes.c.section_id)
         .where(outcomes.c.tenant == caller.tenant, outcomes.c.student_id == st.id))
    if school_year:
        q = q.where(outcomes.c.school_year == school_year)
    return [_with_files(dict(r._mapping)) for r in uow.session.execute(q.order_by(outcomes.c.uploaded_at)).all()]


def get_outcome(uow, caller, outcome_id) -> dict:
    """Same answer for 'not yours' and 'does not exist' (no IDOR oracle)."""
    oid = _uuid(outcome_id, "outcome")
    row = uow.session.execute(
        sa.select(outcomes, sections.c.subject_name, sections.c.course_code, sections.c.teacher_user_id,
                  students.c.user_id.label("student_user_id"))
        .join(sections, sections.c.id == outcomes.c.section_id)
        .join(students, students.c.id == outcomes.c.student_id)
        .where(outcomes.c.id == oid, outcomes.c.tenant == caller.tenant)).first()
    if row is None:
        raise NotFound("outcome not found")
    m = dict(row._mapping)
    allowed = (str(m["student_user_id"]) == caller.user_id
               or (caller.has(*TEACHER_ROLES) and str(m["teacher_user_id"]) in _teachers_of(caller))
               or caller.has("registrar", "system"))
    if not allowed:  # answered like a missing id, audited as a refusal
        raise NotFound("outcome not found", refused=True)
    from .sealing.usecases import gate_sealed_read
    gate_sealed_read(uow, caller, {"id": m["student_id"]})   # sealed: an approved request only
    return _with_files(m)


def list_my_students(uow, caller) -> list:
    """Students of the sections the caller teaches, for the certification queue: id, student_no,
    name, class_code (their class, "" without one) and seat_no (座號, None when the roster has none)."""
    caller.require(*TEACHER_ROLES)
    rows = uow.session.execute(
        sa.select(students.c.id, students.c.student_no, students.c.name,
                  sa.func.coalesce(classes.c.code, "").label("class_code"), students.c.seat_no).distinct()
        .select_from(students)
        .outerjoin(classes, classes.c.id == students.c.class_id)
        .join(enrolments, enrolments.c.student_id == students.c.id)
        .join(sections, sections.c.id == enrolments.c.section_id)
        .where(sections.c.tenant == caller.tenant, sections.c.teacher_user_id.in_(_teachers_of(caller)))
        .order_by(students.c.student_no)).all()
    return [dict(r._mapping) for r in rows]


CLASS_READERS = ("system", "system:certification")
MAX_CLASS_LOOKUP = 20000


def current_classes(uow, caller, student_ids) -> dict:
    """Each named student's class today: {student_id: {class_code, class_name, homeroom_user_id}}
    (None each for a student without a class); students of another tenant or unknown ids are
    left out. For certification's oversight figures (issue 10 item 6: the homeroom teacher sees
    the class they have now, not the class a student was in at upload time). Raises Invalid
    for more than MAX_CLASS_LOOKUP ids, NotFound for an id that is not a UUID."""
    caller.require(*CLASS_READERS)
    if not isinstance(student_ids, list) or len(student_ids) > MAX_CLASS_LOOKUP:
        raise Invalid(f"student_ids is a list of at most {MAX_CLASS_LOOKUP} ids")
    ids = {_uuid(i, "student") for i in student_ids}
    out = {}
    for chunk in _chunks(sorted(ids), 5000):
        rows = uow.session.execute(
            sa.select(students.c.id, classes.c.code, classes.c.name, classes.c.homeroom_user_id)
            .select_from(students).outerjoin(classes, classes.c.id == students.c.class_id)
            .where(students.c.tenant == caller.tenant, students.c.id.in_(chunk))).all()
        for r in rows:
            out[str(r.id)] = {"class_code": r.code, "class_name": r.name,
                              "homeroom_user_id": str(r.homeroom_user_id) if r.homeroom_user_id else None}
    return out


def _chunks(items, size):
    for i in range(0, len(items), size):
        yield items[i:i + size]


def reveal_national_id(uow, vault, caller, student_id) -> dict:
    """The full national ID, for the registrar (national rosters need it); every look is kept
    in the student's change trail (who, when)."""
    caller.require(*REGISTRAR_ROLES)
    row = uow.session.execute(sa.select(students).where(
        students.c.id == _uuid(student_id, "student"), students.c.tenant == caller.tenant)).first()
    if row is None:
        raise NotFound("student not found")
    _audit(uow, caller.tenant, "student", row.id, "national_id_viewed", caller.user_id,
           actor_username=caller.username)
    uow.commit()
    return {"student_id": str(row.id), "national_id": vault.decrypt(row.national_id_enc)}


# ---------------------------------------------------------------- course outcomes

def _student_class(uow, st) -> dict:
    """The student's class at upload time: {class_code, class_name, homeroom_user_id} (None
    each for a student without a class), carried by the ticket into `outcome-uploaded`, so
    certification can count outcomes per class and show the homeroom teacher their class."""
    row = None
    if st.class_id is not None:
        row = uow.session.execute(sa.select(classes.c.code, classes.c.name, classes.c.homeroom_user_id)
                                  .where(classes.c.id == st.class_id)).first()
    return {"class_code": row.code if row else None, "class_name": row.name if row else None,
            "homeroom_user_id": str(row.homeroom_user_id) if row and row.homeroom_user_id else None}


def _ticket(caller, st, sec, klass, outcome_id, text, ticket_key, attempt=1, slot=None):
    """The signed ticket files verifies; `klass` is _student_class(uow, st), read inside the
    ticket's transaction (after its commit a read would open another)."""
    claims = {
        "kind": "outcome", "outcome_id": str(outcome_id), "tenant": caller.tenant,
        "student_id": str(st.id), "student_user_id": caller.user_id, "section_id": str(sec.id),
        "teacher_user_id": str(sec.teacher_user_id), "school_year": sec.school_year,
        "semester": sec.semester, "course_code": sec.course_code, "subject_name": sec.subject_name,
        "description": text, **klass,
    }
    if attempt > 1:  # another file of a known outcome: files keys the upload by (outcome, attempt)
        claims["attempt"] = attempt
    if slot:  # the outcome's slot; none: files puts the file in the slot of its kind
        claims["slot"] = slot
    return {"outcome_id": str(outcome_id), "slot": slot,
            "ticket": signing.sign(claims, ticket_key, ttl=TICKET_TTL, purpose=TICKET_PURPOSE)}


def _slots_taken(uow, st, sec) -> int:
    """Outcomes of the section's term that count (not returned) plus live reservations, read in
    one statement, so both counts see the same moment (an outcome-uploaded that turns a
    reservation into an outcome in between is counted once, never zero times)."""
    used = sa.select(sa.func.count()).select_from(outcomes).where(
        outcomes.c.student_id == st.id, outcomes.c.school_year == sec.school_year,
        outcomes.c.semester == sec.semester, outcomes.c.status != "returned").scalar_subquery()
    held = sa.select(sa.func.count()).select_from(upload_reservations).where(
        upload_reservations.c.student_id == st.id, upload_reservations.c.school_year == sec.school_year,
        upload_reservations.c.semester == sec.semester, upload_reservations.c.used_at.is_(None),
        upload_reservations.c.expires_at > sa.func.now()).scalar_subquery()
    return int(uow.session.execute(sa.select(used + held)).scalar_one())


def issue_outcome_ticket(uow, caller, section_id, description, ticket_key, upload_key=None, slot=None) -> dict:
    """Check every rule of an upload before any byte moves; return a signed ticket that
    the files service verifies, and hold one slot of the semester quota for it (released when
    the outcome arrives, when the gateway reports the upload refused, or when it expires).

    `upload_key` (the client's Idempotency-Key, ≤ 80 characters kept) names one upload: sent
    again with the same section and 簡述 it gets the same outcome id and no second slot; sent
    with another section, term or 簡述 it is refused (IdempotencyKeyReused, 409). A retry
    after its reservation lapsed (15 minutes) is checked against the quota again.
    The window and the limit come from records' copy of the school calendar for the
    section's term (schoolcalendar.usecases.upload_rules): outside the upload window
    WindowClosed (`window_closed`, the dates in the message), no calendar for the term
    CalendarNotSet (`calendar_not_set`), the term's `outcome_uploads_per_semester` reached
    OutcomeQuotaExceeded.
    `slot` (`document` | `media`, SlotInvalid otherwise) is the slot of the new outcome the
    file goes into: files refuses a file of the other kind (`file_slot_mismatch`); None (API
    clients from before slots) lets files put it where its kind belongs. The other slot is
    filled later with issue_reupload_ticket, without a second quota slot.
    Raises NotFound, NotEnrolled, DescriptionInvalid, OutcomeQuotaExceeded, IdempotencyKeyReused,
    WindowClosed, CalendarNotSet, SlotInvalid.
    """
    caller.require("student")
    slot = domain.check_slot(slot)
    text = domain.clean_description(description)
    # Serialise ticket issuing per student, so two parallel uploads cannot both take the 6th slot.
    st = _student_of(uow, caller, for_update=True)
    sec = uow.session.execute(sa.select(sections).where(
        sections.c.id == _uuid(section_id, "section"), sections.c.tenant == caller.tenant)).first()
    if sec is None:
        raise NotFound("section not found")
    enrolled = uow.session.execute(sa.select(enrolments).where(
        enrolments.c.section_id == sec.id, enrolments.c.student_id == st.id)).first()
    if enrolled is None:
        raise NotEnrolled("you are not enrolled in this section")
    rules = upload_rules(uow, caller.tenant, sec.school_year, sec.semester)
    rules["upload"].check()  # the outcome's term's upload window holds today (clock), else window_closed
    key = (str(upload_key)[:80] or None) if upload_key else None
    if key:
        r = upload_reservations.c
        again = uow.session.execute(sa.select(upload_reservations, (r.expires_at <= sa.func.now()).label("lapsed"))
                                    .where(r.student_id == st.id, r.upload_key == key)).first()
        if again is not None:  # a retry, or a redelivered call whose reply was lost: same ticket
            domain.check_same_upload(
                {"section_id": again.section_id, "school_year": again.school_year, "semester": again.semester,
                 "description": again.description},
                {"section_id": sec.id, "school_year": sec.school_year, "semester": sec.semester,
                 "description": text})
            values = {"section_id": sec.id, "description": text}  # binds a reservation made before migration 0006
            if again.used_at is None and again.lapsed:
                # its slot stopped counting when it lapsed: a retry now must fit the quota again
                domain.check_outcome_quota(_slots_taken(uow, st, sec), rules["limit"])
                values["expires_at"] = sa.func.now() + sa.text(f"interval '{TICKET_TTL} seconds'")
            uow.session.execute(upload_reservations.update().where(r.outcome_id == again.outcome_id)
                                .values(**values))
            klass = _student_class(uow, st)
            uow.commit()
            return _ticket(caller, st, sec, klass, again.outcome_id, text, ticket_key, slot=slot)
    domain.check_outcome_quota(_slots_taken(uow, st, sec), rules["limit"])
    outcome_id = str(uuid.uuid4())
    uow.session.execute(upload_reservations.delete().where(
        upload_reservations.c.student_id == st.id, upload_reservations.c.expires_at <= sa.func.now()
        - sa.text("interval '1 day'")))
    uow.session.execute(upload_reservations.insert().values(
        outcome_id=outcome_id, tenant=caller.tenant, student_id=st.id, school_year=sec.school_year,
        semester=sec.semester, upload_key=key, section_id=sec.id, description=text,
        expires_at=sa.func.now() + sa.text(f"interval '{TICKET_TTL} seconds'")))
    klass = _student_class(uow, st)
    uow.commit()
    return _ticket(caller, st, sec, klass, outcome_id, text, ticket_key, slot=slot)


def issue_reupload_ticket(uow, caller, outcome_id, description, ticket_key, upload_key=None,
                          slot=None) -> dict:
    """A ticket for a file of the student's EXISTING outcome, into `slot` (`document` |
    `media`): the same outcome_id (same section and term; the 簡述 may be corrected).
    {outcome_id, slot, ticket}; the ticket carries `attempt` (2, 3, ...) so files stores it as a
    new upload of the same outcome, and certification opens the next round when it arrives
    (services/certification/README.md, "Tasks are rounds": the round holds all the outcome's files).

    - Replacing the file of a slot (a re-upload) needs a RETURNED outcome (domain.check_file_ticket).
    - Adding a file to an empty slot (the media file beside the document, or the reverse) is
      allowed to an uploaded, certified or returned outcome; on a certified one it opens a new
      round when it arrives (the certification attested the files it saw).
    - Without a slot (API clients from before slots) only a returned outcome, the file going
      into the slot of its kind.
    - Nothing of an outcome locked in a selection changes.

    Quota (outcome_uploads_per_semester per term, records' calendar copy) counts outcomes, not
    files: a file for an outcome that counts (uploaded, certified) takes no slot; a returned
    outcome does not count, so its upload must fit the quota again and holds its slot for the
    ticket's life (a reservation on the outcome id, freed by `upload-refused` like any ticket).
    Asked again while that reservation is live (a retry, a second tab, its other slot): the
    same slot, a fresh ticket. The upload window of the outcome's term holds (window_closed).
    Raises NotFound (unknown, another student's or another tenant's outcome: one answer),
    OutcomeNotReturned (see above), DescriptionInvalid, SlotInvalid, OutcomeQuotaExceeded,
    IdempotencyKeyReused (the key names another upload), WindowClosed, CalendarNotSet.
    """
    caller.require("student")
    slot = domain.check_slot(slot)
    text = domain.clean_description(description)
    st = _student_of(uow, caller, for_update=True)
    o = uow.session.execute(sa.select(outcomes).where(
        outcomes.c.id == _uuid(outcome_id, "outcome"), outcomes.c.tenant == caller.tenant,
        outcomes.c.student_id == st.id).with_for_update()).first()
    if o is None:
        raise NotFound("outcome not found")
    domain.check_file_ticket(o.status, o.selected_locked, outcome_files(o), slot)
    sec = uow.session.execute(sa.select(sections).where(sections.c.id == o.section_id)).first()
    rules = upload_rules(uow, caller.tenant, sec.school_year, sec.semester)
    rules["upload"].check()
    key = (str(upload_key)[:80] or None) if upload_key else None
    r = upload_reservations.c
    if key and uow.session.execute(sa.select(r.outcome_id).where(
            r.student_id == st.id, r.upload_key == key, r.outcome_id != o.id)).first():
        raise IdempotencyKeyReused("this upload key was used for another upload")
    attempt = int(o.ticket_attempts) + 1
    uow.session.execute(outcomes.update().where(outcomes.c.id == o.id).values(ticket_attempts=attempt))
    if o.status == "returned":
        live = uow.session.execute(sa.select(r.outcome_id).where(
            r.outcome_id == o.id, r.used_at.is_(None), r.expires_at > sa.func.now())).first()
        if live is None:  # no slot held for it yet: the returned outcome's slot was freed, take one again
            domain.check_outcome_quota(_slots_taken(uow, st, sec), rules["limit"])
        values = dict(tenant=caller.tenant, student_id=st.id, school_year=sec.school_year, semester=sec.semester,
                      upload_key=key, section_id=sec.id, description=text, used_at=None,
                      expires_at=sa.func.now() + sa.text(f"interval '{TICKET_TTL} seconds'"))
        uow.session.execute(insert(upload_reservations).values(outcome_id=o.id, **values)
                            .on_conflict_do_update(index_elements=["outcome_id"], set_=values))
    klass = _student_class(uow, st)
    uow.commit()
    return _ticket(caller, st, sec, klass, o.id, text, ticket_key, attempt=attempt, slot=slot)


def release_outcome_ticket(uow, caller, outcome_id) -> bool:
    """The upload was refused after the ticket was issued: give the quota slot back."""
    caller.require("student")
    st = _student_of(uow, caller)
    res = uow.session.execute(upload_reservations.delete().where(
        upload_reservations.c.outcome_id == _uuid(outcome_id, "ticket"),
        upload_reservations.c.student_id == st.id, upload_reservations.c.used_at.is_(None)))
    uow.commit()
    return res.rowcount == 1


def release_refused_upload(uow, env) -> bool:
    """files reports an upload that ended without a file (refused, failed, expired, cancelled):
    the quota slot its ticket held is free again at once. A slot already used by a stored
    outcome is never freed (files does not report those; `used_at` guards a replay), nor one a
    NEWER ticket of the same outcome holds: the end of re-upload attempt 2 arriving after the
    student asked for attempt 3 leaves attempt 3's slot held (payload `attempt` against the
    outcome's `ticket_attempts`)."""
    p = env["payload"]
    if not uow.claim(env["event_id"], "records.handle_upload_refused"):
        return False
    attempt = p.get("attempt")
    if p["kind"] == "outcome" and attempt is not None:
        latest = uow.session.execute(sa.select(outcomes.c.ticket_attempts).where(
            outcomes.c.id == p["subject_id"], outcomes.c.tenant == env["tenant"])).scalar_one_or_none()
        if latest is not None and int(latest) > attempt:
            uow.commit()  # the claim: a replay is still a no-op
            return True
    if p["kind"] == "outcome":
        uow.session.execute(upload_reservations.delete().where(
            upload_reservations.c.outcome_id == p["subject_id"], upload_reservations.c.tenant == env["tenant"],
            upload_reservations.c.student_id == p["student_id"], upload_reservations.c.used_at.is_(None)))
    uow.commit()
    return True


def outcome_quota(uow, caller, school_year, semester) -> dict:
    """What is left of the semester's outcome quota for the calling student: stored outcomes
    (not returned) and slots held by upload tickets in flight count as used. {school_year,
    semester, limit (the term's outcome_uploads_per_semester; None without a calendar), used,
    held, left, upload: {opens_on, closes_on} or None}."""
    caller.require("student")
    st = _student_of(uow, caller)
    used = uow.session.execute(sa.select(sa.func.count()).select_from(outcomes).where(
        outcomes.c.student_id == st.id, outcomes.c.school_year == school_year,
        outcomes.c.semester == semester, outcomes.c.status != "returned")).scalar_one()
    held = uow.session.execute(sa.select(sa.func.count()).select_from(upload_reservations).where(
        upload_reservations.c.student_id == st.id, upload_reservations.c.school_year == school_year,
        upload_reservations.c.semester == semester, upload_reservations.c.used_at.is_(None),
        upload_reservations.c.expires_at > sa.func.now())).scalar_one()
    term = uow.calendar.term(caller.tenant, school_year, semester)
    if term is None:  # no calendar for the term: nothing may be uploaded (the ticket says why)
        return {"school_year": school_year, "semester": semester, "limit": None, "used": used, "held": held,
                "left": 0, "upload": None}
    limit = int(term["limits"]["outcome_uploads_per_semester"])
    return {"school_year": school_year, "semester": semester, "limit": limit, "used": used, "held": held,
            "left": max(0, limit - used - held), "upload": term["upload"]}


def outcome_files(row) -> dict:
    """{slot: {file_id, filename, content_type, size, sha256, uploaded_at (ISO)}} of an outcome
    row; an outcome stored before outcomes had two slots holds its one file in the slot of its
    content type."""
    m = row if isinstance(row, dict) else row._mapping
    if m.get("files"):
        return {k: dict(v) for k, v in m["files"].items()}
    at = m.get("uploaded_at")
    return {events.slot_of_content_type(m["content_type"]): {
        "file_id": str(m["file_id"]), "filename": m["filename"], "content_type": m["content_type"],
        "size": m["size"], "sha256": m["sha256"], "uploaded_at": at.isoformat() if hasattr(at, "isoformat") else at}}


def _with_files(m: dict) -> dict:
    m["files"] = outcome_files(m)
    return m


def _single_file_columns(files: dict) -> dict:
    """The outcome's single-file columns (file_id, filename, content_type, size, sha256) name its
    principal file (domain.principal_file), for the readers that know one file."""
    p = domain.principal_file(files)
    return {"file_id": p["file_id"], "filename": p["filename"], "content_type": p["content_type"],
            "size": p["size"], "sha256": p["sha256"]}


def _uploaded_file(p) -> tuple:
    at = p["uploaded_at"]
    at = dt.datetime.fromisoformat(at) if isinstance(at, str) else at
    return at, {"file_id": str(p["file_id"]), "filename": p["filename"], "content_type": p["content_type"],
                "size": p["size"], "sha256": p["sha256"], "uploaded_at": at.isoformat()}


def record_outcome_uploaded(uow, env) -> bool:
    """`outcome-uploaded`: a file stored in one slot of an outcome (`slot`, `document` for older
    payloads). The first file creates the outcome (its quota slot becomes used); a later one
    goes through _record_reupload."""
    applied = _apply_outcome_uploaded(uow, env)
    uow.commit()
    return applied


def record_outcomes_uploaded(uow, envs) -> int:
    """A batch of `outcome-uploaded` (in delivery order), each as record_outcome_uploaded, in one
    transaction: one history flush (one wait on the tenant's chain) and one commit for the batch
    (issue 10). Raises what the first bad event raises (the batch then runs event by event:
    nameko_kit.BatchEventHandler). Returns how many were new."""
    applied = sum(1 for env in envs if _apply_outcome_uploaded(uow, env))
    uow.commit()
    return applied


def _apply_outcome_uploaded(uow, env) -> bool:
    p = env["payload"]
    if not uow.claim(env["event_id"], "records.handle_outcome_uploaded"):
        return False
    st = uow.session.execute(sa.select(students.c.id).where(
        students.c.id == p["student_id"], students.c.tenant == env["tenant"])).first()
    if st is None:
        # The ticket named a student of another tenant or one that no longer exists:
        # a malformed event for this tenant, not a transient failure.
        from portfolio_common.errors import PermanentEventError
        raise PermanentEventError("outcome-uploaded names an unknown student for this tenant")
    slot = p.get("slot") or "document"
    at, entry = _uploaded_file(p)
    files = {slot: entry}
    values = dict(
        id=p["outcome_id"], tenant=env["tenant"], student_id=p["student_id"],
        section_id=p["section_id"], school_year=p["school_year"], semester=p["semester"],
        description=p["description"], status="uploaded", uploaded_at=at, files=files,
        **_single_file_columns(files))
    res = uow.session.execute(insert(outcomes).values(**values).on_conflict_do_nothing())
    uow.session.execute(upload_reservations.update().where(upload_reservations.c.outcome_id == p["outcome_id"])
                        .values(used_at=sa.func.now()))
    if res.rowcount:
        _audit(uow, env["tenant"], "outcome", p["outcome_id"], "uploaded", p["student_user_id"],
               student_id=p["student_id"],
               after={"description": p["description"], "slot": slot, "sha256": p["sha256"],
                      "file_id": str(p["file_id"])},
               event_id=env["event_id"])
    else:
        _record_reupload(uow, env, p, slot, at, entry)
    return True


def _record_reupload(uow, env, p, slot, at, entry):
    """`outcome-uploaded` for a known outcome: a file added to its empty slot or replacing the
    one of its slot (issue_reupload_ticket), by domain.apply_uploaded_file: an older upload of
    the slot delivered late changes nothing; the identical file (same SHA-256) of a certified or
    waiting outcome keeps its state (`reuploaded_same_file`), as certification does; otherwise
    the outcome takes the file and the 簡述 and waits for a decision again on all its files
    (`uploaded`, the return reason and certification cleared, upload_round + 1; history
    `reuploaded` or `file_added`). Attributed to the student (before/after in the history)."""
    row = uow.session.execute(sa.select(outcomes).where(outcomes.c.id == p["outcome_id"]).with_for_update()).first()
    if row.tenant != env["tenant"] or str(row.student_id) != str(p["student_id"]) \
            or str(row.section_id) != str(p["section_id"]):
        from portfolio_common.errors import PermanentEventError
        raise PermanentEventError("outcome-uploaded names a known outcome of another student, section or tenant")
    files, action = domain.apply_uploaded_file(row.status, outcome_files(row), slot, entry)
    if action == "stale":
        return
    common = {"files": files, "uploaded_at": max(at, row.uploaded_at), **_single_file_columns(files)}
    if action == "same_file":
        values, action = common, "reuploaded_same_file"
    else:
        values = common | {"description": p["description"], "status": "uploaded", "return_reason": None,
                           "certified_by": None, "acting_for": None, "certified_at": None,
                           "upload_round": row.upload_round + 1}
    keys = ("description", "status", "sha256", "file_id", "filename", "return_reason", "upload_round")
    uow.session.execute(outcomes.update().where(outcomes.c.id == row.id).values(**values))

    def shown(v):
        return str(v) if v is not None else None
    before = {k: shown(row._mapping[k]) for k in keys} | {
        "files": {k: v["sha256"] for k, v in outcome_files(row).items()}}
    after = {k: shown(values[k] if k in values else row._mapping[k]) for k in keys} | {
        "files": {k: v["sha256"] for k, v in files.items()}}
    _audit(uow, env["tenant"], "outcome", p["outcome_id"], action, p["student_user_id"], student_id=p["student_id"],
           before=before, after=after, event_id=env["event_id"])


def _set_status(uow, env, handler, outcome_id, values, actor, action, acting_for=None):
    if not uow.claim(env["event_id"], handler):
        return False
    row = uow.session.execute(sa.select(outcomes).where(
        outcomes.c.id == outcome_id, outcomes.c.tenant == env["tenant"]).with_for_update()).first()
    if row is None:
        # The upload event has not been applied yet (it travels on another queue, and may sit in
        # a backlog after an outage): not an error, just early.
        from portfolio_common.errors import RetryLater
        raise RetryLater(f"outcome {outcome_id} not yet known")
    before = {k: (str(row._mapping[k]) if row._mapping[k] is not None else None) for k in values}
    uow.session.execute(outcomes.update().where(outcomes.c.id == outcome_id).values(**values))
    _audit(uow, env["tenant"], "outcome", outcome_id, action, actor, before=before, student_id=row.student_id,
           after={k: (str(v) if v is not None else None) for k, v in values.items()},
           event_id=env["event_id"], acting_for=acting_for)
    uow.commit()
    return True


def record_certified(uow, env):
    p = env["payload"]
    return _set_status(uow, env, "records.handle_certified", p["outcome_id"],
                       {"status": "certified", "certified_by": p["certified_by"],
                        "acting_for": p["acting_for"], "certified_at": p["certified_at"],
                        "return_reason": None},
                       p["certified_by"], "certified", acting_for=p["acting_for"])


def record_returned(uow, env):
    p = env["payload"]
    return _set_status(uow, env, "records.handle_certification_returned", p["outcome_id"],
                       {"status": "returned", "return_reason": p["reason"]},
                       p["returned_by"], "returned")


def record_withdrawn(uow, env):
    """`certification-withdrawn`: the outcome waits for a new decision again (status back to
    `uploaded`, the certification's fields cleared), attributed to who withdrew it and why."""
    p = env["payload"]
    return _set_status(uow, env, "records.handle_certification_withdrawn", p["outcome_id"],
                       {"status": "uploaded", "certified_by": None, "acting_for": None, "certified_at": None,
                        "return_reason": None},
                       p["withdrawn_by"], "certification_withdrawn", acting_for=p["acting_for"])


def record_selection_locked(uow, env):
    p = env["payload"]
    if not uow.claim(env["event_id"], "records.handle_selection_locked"):
        return False
    ids = [str(i) for i in p["outcome_ids"]]
    if ids:
        known = {str(r.id): r for r in uow.session.execute(sa.select(
            outcomes.c.id, outcomes.c.tenant, outcomes.c.student_id).where(outcomes.c.id.in_(ids))
            .with_for_update()).all()}
        foreign = [i for i, r in known.items()
                   if r.tenant != env["tenant"] or str(r.student_id) != str(p["student_id"])]
        if foreign:
            from portfolio_common.errors import PermanentEventError
            raise PermanentEventError("selection-locked names outcomes of another student or tenant")
        missing = [i for i in ids if i not in known]
        if missing:
            # A selected outcome's upload event has not been applied yet (another queue, maybe a
            # backlog after an outage): retried like `certified`, never locked half-way.
            from portfolio_common.errors import RetryLater
            raise RetryLater(f"{len(missing)} selected outcome(s) not yet known")
        uow.session.execute(outcomes.update().where(outcomes.c.id.in_(ids)).values(selected_locked=True))
    _audit(uow, env["tenant"], "selection", p["student_id"], "selection_locked", p["locked_by"],
           student_id=p["student_id"],
           after={"school_year": p["school_year"], "outcome_ids": ids}, event_id=env["event_id"])
    uow.commit()
    return True

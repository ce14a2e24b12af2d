"""Use cases of the certification service: plain functions over a unit of work.

A task is one round of one outcome (domain.py). Decisions are attestations: who decided, for
whom (proxy), when, on which fingerprint, and for a return which of the school's listed reasons.
Every decision and withdrawal is checked against the certification window of the task's term,
read from the event-fed calendar copy (`calendar-changed` from submission).
"""
import uuid

from portfolio_common import clock, events
from portfolio_common.errors import Invalid, PortfolioError

from . import domain

TEACHER_ROLES = ("subject_teacher", "homeroom_teacher")
OVERSIGHT_ROLES = ("ops", "system", "executive_secretary", "principal")
# The academic section (教務處; 進修部: 教學組) keeps the list of return reasons.
REASON_EDITORS = ("executive_secretary", "system")
TRANSFER_OUT_REASON = "學生已轉出（{effective_on}）"


# ------------------------------------------------------------------ events consumed

UPLOAD_HANDLER = "certification.handle_outcome_uploaded"
SUPERSEDED_REASON = "學生在認證前換了檔案"


def create_task(uow, env) -> bool:
    """`outcome-uploaded` -> a round for the section's teacher (idempotent on event_id): the
    batch of one of create_tasks. Returns whether the event was new."""
    return create_tasks(uow, [env]) == 1


def create_tasks(uow, envs) -> int:
    """A batch of `outcome-uploaded` events (in delivery order) -> rounds for the sections'
    teachers, in one transaction with the events' claims (idempotent on event_id: an event
    applied before, or repeated in the batch, changes nothing). Returns how many were new.

    The event names one file in one slot of the outcome (`slot`: document | media). A round
    holds all the outcome's files: the new round takes the latest round's files with this slot's
    file put in. A new outcome opens round 1; the same outcome again (a re-upload, or its other
    slot filled) follows domain.round_on_upload on that slot: the next round after a return or
    withdrawal, or on a certified outcome whose slot gets another (or a first) file; nothing
    for the identical file of a certified or open round (the certification is kept); and an
    open round whose files change is replaced (that one closes as superseded). Events of one
    outcome in the same batch apply in order, each on the round the one before left.

    The newest rounds of the batch's outcomes are read and locked with one statement and the
    new rounds written with one more (issue 10: 10,000 events within a minute)."""
    fresh = uow.claim_many([e["event_id"] for e in envs], UPLOAD_HANDLER)
    todo = []
    for env in envs:
        if env["event_id"] in fresh:
            fresh.discard(env["event_id"])  # a repeat within the batch is applied once
            todo.append(env)
    if not todo:
        uow.commit()
        return 0
    latest = uow.tasks.latest_rounds({(e["tenant"], str(e["payload"]["outcome_id"])) for e in todo})
    added, now = [], clock.now()
    for env in todo:
        p, tenant = env["payload"], env["tenant"]
        key = (tenant, str(p["outcome_id"]))
        slot = p.get("slot") or "document"
        prev = latest.get(key)
        action = domain.round_on_upload(prev, p["sha256"], slot)
        if action == "keep":
            continue
        if action == "supersede":
            if any(r is prev for r in added):  # opened earlier in this batch: never open at all
                prev.update(status=domain.SUPERSEDED, closed_reason=SUPERSEDED_REASON, closed_at=now)
            else:
                uow.tasks.close(prev["id"], domain.SUPERSEDED, SUPERSEDED_REASON, now)
        files = domain.round_files(prev) if prev else {}
        files[slot] = {"file_id": str(p["file_id"]), "filename": p["filename"],
                       "content_type": p.get("content_type"), "sha256": p["sha256"]}
        main = domain.principal_file(files)
        row = dict(
            id=uuid.uuid4(), status=domain.OPEN, closed_reason=None, closed_at=None,
            tenant=tenant, outcome_id=p["outcome_id"], round=(prev["round"] + 1) if prev else 1,
            student_id=p["student_id"], student_user_id=p["student_user_id"],
            section_id=p["section_id"], teacher_user_id=p["teacher_user_id"], school_year=p["school_year"],
            semester=p["semester"], course_code=p["course_code"], subject_name=p["subject_name"],
            description=p["description"], file_id=main["file_id"], filename=main["filename"],
            content_type=main["content_type"], sha256=main["sha256"], files=files,
            class_code=p.get("class_code"), class_name=p.get("class_name"),
            homeroom_user_id=p.get("homeroom_user_id"))
        added.append(row)
        latest[key] = row
    uow.tasks.add_rounds(added)
    uow.commit()
    return len(todo)


def apply_calendar(uow, env) -> bool:
    """`calendar-changed` -> the held copy of the tenant's term, replaced only by a higher
    version (a redelivered or late older event changes nothing). Returns whether it applied."""
    if not uow.claim(env["event_id"], "certification.handle_calendar_changed"):
        return False
    p = env["payload"]
    applied = uow.tasks.save_calendar(
        env["tenant"], p["school_year"], p["semester"], p["version"], p["certification"]["opens_on"],
        p["certification"]["closes_on"], events.PAYLOADS[events.CALENDAR_CHANGED]().dump(p))
    uow.commit()
    return applied


def close_for_status_change(uow, env) -> int:
    """`student-status-changed`: a student who transferred out has their open rounds closed
    (status `closed`, with the reason); other changes leave tasks alone. Returns how many."""
    if not uow.claim(env["event_id"], "certification.handle_student_status_changed"):
        return 0
    p = env["payload"]
    closed = 0
    if p["change"] == "transfer_out":
        reason = TRANSFER_OUT_REASON.format(effective_on=p["effective_on"].isoformat()
                                            if hasattr(p["effective_on"], "isoformat") else p["effective_on"])
        for t in uow.tasks.open_rounds_of_student(env["tenant"], p["student_id"]):
            uow.tasks.close(t["id"], domain.CLOSED, reason, clock.now())
            closed += 1
    uow.commit()
    return closed


# ------------------------------------------------------------------ reads

def list_queue(uow, caller, status="pending") -> list:
    """The caller's rounds (their own sections', and those of teachers they stand in for as
    proxy, each marked with `acting_for`), with the round's `files` ({slot: {file_id, filename,
    content_type, sha256}}: document, media or both) and the decision on each decided round:
    decision, decided_by, decided_for, reason_code, reason, decided_at, fingerprints ({slot:
    sha256} decided on); withdrawal_reason, withdrawn_at. A sealed student's rounds are left out."""
    caller.require(*TEACHER_ROLES)
    if status != "all" and status not in domain.STATUSES:
        raise Invalid("unknown status", code="invalid")
    tasks = []
    for teacher in (caller.user_id, *caller.proxy_for):
        for t in uow.tasks.queue(caller.tenant, teacher, status):
            t["acting_for"] = None if teacher == caller.user_id else teacher
            t["files"] = domain.round_files(t)
            t["fingerprints"] = t.get("fingerprints") or (domain.fingerprints(t["files"]) if t.get("decision") else None)
            tasks.append(t)
    # a sealed student's rounds are not listed: sealed data is read only through the audited
    # two-role request (issue 9 item 7), and nothing of theirs can be decided any more
    sealed = uow.sealed.sealed_among(caller.tenant, {str(t["student_id"]) for t in tasks})
    return [t for t in tasks if str(t["student_id"]) not in sealed]


def count_tasks(uow, caller) -> dict:
    caller.require(*OVERSIGHT_ROLES)
    counts = uow.tasks.counts(caller.tenant)
    return {"by_status": {k: n for k, (n, _) in counts.items()},
            "total": sum(n for n, _ in counts.values()), "distinct_outcomes": sum(d for _, d in counts.values())}


def _scope(caller, rounds):
    """The caller's oversight scope (domain.oversight_scope); a convener's subjects are those
    they teach themselves (their own rounds' subjects): accounts' grants name no subject."""
    own = {r["subject_name"] for r in rounds if str(r["teacher_user_id"]) == str(caller.user_id)}
    return domain.oversight_scope(caller.roles, caller.user_id, own)


def with_current_classes(rounds, current_classes) -> list:
    """The rounds with each student's class as it is today: `current_classes(student_ids)` ->
    {student_id: {class_code, class_name, homeroom_user_id}} (records.current_classes). A
    student records does not name keeps the class at upload time (the round's own copy).
    Without the callable (unit tests, fakes) the rounds are returned as they are."""
    if current_classes is None or not rounds:
        return rounds
    now = current_classes(sorted({str(r["student_id"]) for r in rounds if r.get("student_id")}))
    out = []
    for r in rounds:
        cls = now.get(str(r.get("student_id")))
        out.append(dict(r, **cls) if cls is not None else r)
    return out


def oversight_figures(uow, caller, by="teacher", current_classes=None) -> list:
    """Open, certified, returned and withdrawn rounds and the median time to decide (hours), per
    teacher | section | subject | class of the caller's tenant, or for all of it (`by`="tenant");
    classes (and so the homeroom teacher's part) are those the students are in now
    (`current_classes`, see with_current_classes), not those at upload time;
    see domain.figures for the shape (issue 10 item 6; DOMAIN.md: oversight by the principal
    and the dean of academic affairs). Scoped by role (domain.oversight_scope): the academic
    section (registrar), executive secretary, principal and ops see the whole tenant, a
    homeroom teacher only their class(es), a subject convener only their subject(s); another
    tenant never. Raises NotAllowed for other roles, Invalid (`invalid`) for an unknown `by`."""
    caller.require(*domain.WHOLE_TENANT_ROLES, *domain.SCOPED_ROLES)
    if by not in domain.FIGURE_GROUPS:
        raise Invalid(f"by must be one of {sorted(domain.FIGURE_GROUPS)}")
    rounds = with_current_classes(uow.tasks.oversight_rounds(caller.tenant), current_classes)
    return domain.figures(domain.in_scope(rounds, _scope(caller, rounds)), by)


def open_at_window_close(uow, caller, within_days=7, current_classes=None) -> list:
    """Open rounds of the caller's tenant whose term's certification window has closed or closes
    within `within_days` days, per teacher and section (domain.open_at_close for the shape), so
    the academic section can hand them to a proxy (accounts.grant_proxy) in time (brief item 3).
    Scoped like oversight_figures. Raises Invalid (`invalid`) unless 0 <= within_days <= 60."""
    caller.require(*domain.WHOLE_TENANT_ROLES, *domain.SCOPED_ROLES)
    if not isinstance(within_days, int) or isinstance(within_days, bool) or not 0 <= within_days <= 60:
        raise Invalid("within_days is a whole number of days from 0 to 60")
    scope = _scope(caller, uow.tasks.oversight_rounds(caller.tenant) if caller.has("subject_convener") else [])
    open_rounds = uow.tasks.open_rounds(caller.tenant)
    if scope is not None and scope["homeroom_user_id"] is not None:
        open_rounds = with_current_classes(open_rounds, current_classes)
    rounds = domain.in_scope(open_rounds, scope)
    return domain.open_at_close(rounds, uow.tasks.calendars_of(caller.tenant), clock.today_in_school(), within_days)


def _reasons(uow, tenant) -> dict:
    """The tenant's list; a tenant that never had one starts with domain.DEFAULT_RETURN_REASONS."""
    reasons = uow.tasks.reasons(tenant)
    if not reasons:
        uow.tasks.seed_reasons(tenant, [
            {"code": c, "label": label, "needs_note": note, "active": True, "position": (i + 1) * 10}
            for i, (c, label, note) in enumerate(domain.DEFAULT_RETURN_REASONS)], clock.now())
        reasons = uow.tasks.reasons(tenant)
    return reasons


def list_return_reasons(uow, caller, include_retired=False) -> list:
    """The school's reasons to return an outcome, in order: [{code, label, needs_note, active,
    position}] (retired ones only with include_retired, for the academic section)."""
    caller.require(*TEACHER_ROLES, *REASON_EDITORS)
    reasons = _reasons(uow, caller.tenant)
    uow.commit()
    return [r for r in reasons.values() if r["active"] or (include_retired and caller.has(*REASON_EDITORS))]


def save_return_reason(uow, caller, code, label, needs_note=False, active=True, position=0) -> dict:
    """Add or change one entry of the tenant's list (academic section). Entries are retired
    with active=False, never deleted: past decisions keep their meaning. Raises
    ReturnReasonInvalid. Returns the entry as stored."""
    caller.require(*REASON_EDITORS)
    entry = domain.clean_return_reason_entry(code, label, needs_note, active, position)
    _reasons(uow, caller.tenant)
    uow.tasks.save_reason(caller.tenant, entry, caller.user_id, clock.now())
    uow.commit()
    return uow.tasks.reasons(caller.tenant)[entry["code"]]


# ------------------------------------------------------------------ decisions

def _task_ids(task_ids):
    if not isinstance(task_ids, list) or not task_ids:
        raise Invalid("choose at least one item", code="nothing_selected")
    task_ids = list(dict.fromkeys(str(t) for t in task_ids))  # a repeated id is decided once
    if len(task_ids) > domain.MAX_BATCH:
        raise Invalid(f"at most {domain.MAX_BATCH} items at once", code="batch_too_large")
    ids = []
    for t in task_ids:
        try:
            ids.append(uuid.UUID(t))
        except ValueError:
            ids.append(None)
    return task_ids, ids


def _each_allowed(uow, caller, task_ids, action, check_state):
    """Lock the named rounds and yield (task, acting_for) for each the caller may act on now;
    the rest go to the returned `refused` list with a code and a sentence, one by one:
    not_found (missing, another tenant's, or another teacher's without a proxy grant: answered
    alike, the last audited as access-refused), student_sealed, already_decided / not_certified, calendar_not_set,
    window_closed (with the window's dates)."""
    caller.require(*TEACHER_ROLES)
    task_ids, ids = _task_ids(task_ids)
    rows = uow.tasks.lock_many([i for i in ids if i], caller.tenant)
    refused, allowed = [], []
    calendars = {}
    # a sealed student's rounds get no further decision (the database refuses it too)
    sealed = uow.sealed.sealed_among(caller.tenant, {str(r["student_id"]) for r in rows.values()})
    for raw, tid in zip(task_ids, ids):
        row = rows.get(tid)
        try:
            if row is None:
                raise PortfolioError("item not found", code="not_found")
            try:
                proxy_for = domain.acting_for(row["teacher_user_id"], caller.user_id, caller.proxy_for)
            except PortfolioError:
                # another teacher's item: answered like a missing one, audited as a refusal
                uow.emit(events.make_event(events.ACCESS_REFUSED, caller.tenant, {
                    "user_id": caller.user_id, "username": caller.username, "roles": list(caller.roles),
                    "action": f"certification.{action}", "code": "not_found",
                    "remote_addr": caller.remote_addr or None, "at": clock.now()}, producer="certification"))
                raise PortfolioError("item not found", code="not_found") from None
            if str(row["student_id"]) in sealed:
                raise PortfolioError("this student's portfolio is sealed", code="student_sealed")
            check_state(row["status"])
            term = (row["school_year"], row["semester"])
            if term not in calendars:
                calendars[term] = uow.tasks.calendar(caller.tenant, *term)
            domain.check_window(calendars[term])
        except PortfolioError as exc:
            refused.append({"task_id": str(raw), "code": exc.code, "reason": exc.text})
            continue
        allowed.append((row, proxy_for))
    return allowed, refused


def _common(row):
    return {"task_id": str(row["id"]), "outcome_id": str(row["outcome_id"]), "student_id": str(row["student_id"]),
            "student_user_id": str(row["student_user_id"])}


def certify(uow, caller, task_ids) -> dict:
    """Certify up to 200 rounds in one transaction: {"certified": [task_id], "refused":
    [{task_id, code, reason}]} (see _each_allowed for the refusals). Each certification is an
    attestation on the round's files (decisions.fingerprints: {slot: sha256}, the outcome as a
    whole) and emits `certified` with those fingerprints through the outbox."""
    allowed, refused = _each_allowed(uow, caller, task_ids, "certified", domain.check_pending)
    now, done = clock.now(), []
    for row, proxy_for in allowed:
        prints = domain.fingerprints(domain.round_files(row))
        uow.tasks.decide(row["id"], caller.tenant, "certified", caller.user_id, proxy_for, None, None,
                         row["sha256"], now, prints)
        uow.emit(events.make_event(events.CERTIFIED, caller.tenant, dict(
            _common(row), section_id=str(row["section_id"]), school_year=row["school_year"],
            semester=row["semester"], course_code=row["course_code"], subject_name=row["subject_name"],
            description=row["description"], sha256=row["sha256"], certified_by=caller.user_id,
            acting_for=proxy_for, certified_at=now, fingerprints=prints)))
        done.append(str(row["id"]))
    uow.commit()
    return {"certified": done, "refused": refused}


def return_outcomes(uow, caller, task_ids, reason_code=None, note=None) -> dict:
    """Return up to 200 rounds to their students with one of the school's listed reasons
    (`reason_code`) plus optional free text (`note`; required for a reason such as 其他; a note
    without a code is filed under 其他): {"returned": [...], "refused": [...]}. The whole request
    is refused first (nothing decided) for a missing or unknown reason: reason_required,
    reason_unknown, reason_too_long. Emits `certification-returned` per round."""
    caller.require(*TEACHER_ROLES)
    code, text = domain.return_reason(_reasons(uow, caller.tenant), reason_code, note)
    allowed, refused = _each_allowed(uow, caller, task_ids, "returned", domain.check_pending)
    now, done = clock.now(), []
    for row, proxy_for in allowed:
        uow.tasks.decide(row["id"], caller.tenant, "returned", caller.user_id, proxy_for, code, text,
                         row["sha256"], now, domain.fingerprints(domain.round_files(row)))
        uow.emit(events.make_event(events.CERTIFICATION_RETURNED, caller.tenant, dict(
            _common(row), returned_by=caller.user_id, acting_for=proxy_for, reason_code=code, reason=text,
            sha256=row["sha256"], returned_at=now)))
        done.append(str(row["id"]))
    uow.commit()
    return {"returned": done, "refused": refused}


OUTCOME_LOCKED = "outcome is held in a locked selection: the registrar unlocks it for a correction first"


def withdraw_certifications(uow, caller, task_ids, reason, locked_outcomes=None) -> dict:
    """Take back mistaken certifications within the window, with a reason (required, ≤ 500
    characters): the certified round becomes `withdrawn` (its attestation and the withdrawal
    stay in the history) and a new open round on the same file waits for a decision.
    {"withdrawn": [task_id], "refused": [...]} with not_certified for a round that is not
    certified, and outcome_locked for an outcome the registrar has locked for the national
    database (issue 9 item 4: the locked copy rests on this certification; withdrawing it would
    silently drop the row from the roster): `locked_outcomes(outcome_ids) -> set` asks
    submission (submission.locked_outcomes); the registrar unlocks the student for a correction
    first. Emits `certification-withdrawn` per round."""
    caller.require(*TEACHER_ROLES)
    text = domain.clean_free_text(reason, required=True)
    allowed, refused = _each_allowed(uow, caller, task_ids, "withdrawn", domain.check_certified)
    if allowed and locked_outcomes is not None:
        locked = {str(o) for o in locked_outcomes(sorted({str(row["outcome_id"]) for row, _ in allowed}))}
        refused += [{"task_id": str(row["id"]), "code": "outcome_locked", "reason": OUTCOME_LOCKED}
                    for row, _ in allowed if str(row["outcome_id"]) in locked]
        allowed = [(row, p) for row, p in allowed if str(row["outcome_id"]) not in locked]
    now, done = clock.now(), []
    for row, proxy_for in allowed:
        uow.tasks.withdraw(row["id"], caller.tenant, caller.user_id, proxy_for, text, row["sha256"], now)
        next_id = uow.tasks.add_round({k: row[k] for k in (
            "tenant", "outcome_id", "file_id", "student_id", "student_user_id", "section_id", "teacher_user_id",
            "school_year", "semester", "course_code", "subject_name", "description", "filename", "content_type",
            "sha256")} | {k: row.get(k) for k in ("class_code", "class_name", "homeroom_user_id")}
            | {"round": row["round"] + 1, "files": domain.round_files(row)})
        uow.emit(events.make_event(events.CERTIFICATION_WITHDRAWN, caller.tenant, dict(
            _common(row), next_task_id=str(next_id), section_id=str(row["section_id"]),
            school_year=row["school_year"], semester=row["semester"], sha256=row["sha256"],
            withdrawn_by=caller.user_id, acting_for=proxy_for, reason=text, withdrawn_at=now)))
        done.append(str(row["id"]))
    uow.commit()
    return {"withdrawn": done, "refused": refused}


REMIND_WITHIN_DAYS = 7  # teachers are reminded this many days before the certification window closes


def send_reminders(uow, sender, addresses, tenant, today, within_days=REMIND_WITHIN_DAYS) -> dict:
    """E-mail the reminders due in `tenant` (domain.reminders_due: teachers with open rounds
    whose term's certification window closes within `within_days` days, students with a
    returned round not uploaded again), each ONCE: a reminder is recorded (`reminders_sent`)
    in the transaction that sends it; a failed send records nothing and is tried on the next
    run; a crash between the send and the commit may send it twice (at least once).

    sender: mail.Sender; addresses(tenant, user_ids) -> {user_id: e-mail} (people without an
    address are skipped, not recorded, so an address added later still gets it).
    Returns {"due": n, "sent": n, "no_address": n}."""
    closing = domain.open_at_close(uow.tasks.open_rounds(tenant), uow.tasks.calendars_of(tenant), today, within_days)
    due = domain.reminders_due(tenant, closing, uow.tasks.returned_latest_rounds(tenant))
    todo = [r for r in due if not uow.tasks.reminder_sent(r["key"])]
    book = addresses(tenant, sorted({str(r["user_id"]) for r in todo})) if todo else {}
    sent = no_address = 0
    for r in todo:
        to = book.get(str(r["user_id"]))
        if not to:
            no_address += 1
            continue
        if uow.tasks.record_reminder(r["key"], tenant, r["kind"], r["user_id"]):
            try:
                sender.send(to, r["subject"], r["body"])
            except Exception:
                uow.session.rollback()  # not recorded: tried again on the next run
                raise
            uow.commit()
            sent += 1
    uow.commit()
    return {"due": len(due), "sent": sent, "no_address": no_address}

"""The registrar's lock and unlock of students' selections, and the pre-lock overview
(issue 9 item 4). Registrar: 註冊組 in `day`, 教務組 in `ce` (role `registrar` of the tenant),
and the platform's tools (`system`).

- lock(scope): every named student of the scope (the gateway names a grade's or class's
  students from records; a tenant lock also takes every student submission knows of in the
  year) is frozen: their selection and consent can no longer change. For a student with
  consent a copy is held (a new version each time: the outcomes and performances with their
  files' fingerprints) and `selection-locked` is published through the outbox in the same
  transaction, with the lock version and every locked file (kind, outcome / performance id,
  SHA-256): files puts a legal hold on exactly those object versions and lifts the holds of
  the student's earlier version that are no longer locked (files/locked.py). A re-lock that
  holds nothing for a student held before publishes an empty set, so files releases it all. A student without consent is frozen too, but nothing of theirs is held or
  published: the lock's answer counts them (`without_consent`) and the overview lists them
  beforehand, so the registrar is warned (consent.py).
- unlock for a correction: named students, a reason (required, ≤ 500 characters); the
  student may change their selection and consent again; the next lock holds a new version
  (the earlier versions stay). Every lock and unlock is kept in lock_events (who, when, scope,
  students, reason), append-only.
- window: a student's first lock of a school year happens inside the calendar's selection
  window of that year (window_closed with the window's dates otherwise; calendar_not_set when
  the year has no term), issue 9 "a lock outside the selection window". The re-lock of a
  student unlocked for a correction is not bound to it: corrections follow the national
  receipt, after the window, and an unlocked student must not stay unlocked.
"""
import uuid

from portfolio_common import clock, events

from ..errors import AlreadyLocked, Invalid
from ..schoolcalendar.domain import school_year_of
from . import consent as consents
from .domain import Choice

REGISTRAR_ROLES = ("registrar", "system")
SCOPES = ("tenant", "grade", "class", "student")


class NotLocked(Invalid):
    code = "unlock_not_locked"


class UnlockReasonRequired(Invalid):
    code = "unlock_reason_required"


def _ids(values) -> list:
    if values is None:
        return []
    if not isinstance(values, (list, tuple)):
        raise Invalid("student_user_ids must be a list", code="invalid")
    out = []
    for v in values:
        try:
            out.append(str(uuid.UUID(str(v))))
        except ValueError:
            raise Invalid("student_user_ids must be ids", code="invalid") from None
    return list(dict.fromkeys(out))


def _iso(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


def lock(uow, caller, school_year, scope="tenant", scope_label="", student_user_ids=None) -> dict:
    """Lock the named students' selections of a school year (see the module doc).

    scope: tenant | grade | class | student, scope_label: what the registrar chose (e.g. "二年級",
    "資訊三甲"), student_user_ids: the scope's students (required unless scope is tenant).
    Returns {school_year, locked_at, scope, students (newly locked), held (copies kept),
    outcomes, performances, without_consent (count), without_consent_ids, already_locked}.
    Raises not_allowed, invalid, already_locked (every named student already locked),
    window_closed (a student never locked before, outside the year's selection window; its
    dates in the message), calendar_not_set. Nothing is written when refused."""
    caller.require(*REGISTRAR_ROLES)
    year = school_year_of(school_year)
    if scope not in SCOPES:
        raise Invalid("scope must be tenant, grade, class or student", code="invalid")
    ids = _ids(student_user_ids)
    tenant = caller.tenant
    uow.selections.serialise(tenant, year)   # saves take a shared lock on the year: they wait
    if uow.selections.lock_of(tenant, year) is not None:
        raise AlreadyLocked("this school year is already locked")
    if scope == "tenant":
        known = {str(r["student_user_id"]) for r in uow.choices.all_current(tenant, year)}
        known |= set(uow.choices.consent_by_student(tenant, year))
        ids = list(dict.fromkeys(ids + sorted(known)))
    if not ids:
        raise Invalid("no students to lock in this scope", code="invalid")
    rows = {uid: uow.choices.lock_row(tenant, uid, year) for uid in ids}
    if any(row is None for row in rows.values()):
        _selection_window(uow, tenant, year).check()
    now = clock.now()
    consent_of = uow.choices.consent_by_student(tenant, year)
    done, already, without, held, n_out, n_perf = [], 0, [], 0, 0, 0
    for uid in ids:
        row = rows[uid]
        if row and row["state"] == "locked":
            already += 1
            continue
        version = (row["version"] + 1) if row else 1
        given = consent_of.get(uid, False)
        n = _hold(uow, caller, tenant, year, uid, version, now) if given else None
        if n is not None:
            held, n_out, n_perf = held + 1, n_out + n[0], n_perf + n[1]
        elif row is not None:
            _release(uow, caller, tenant, year, uid, version, now)
        if not given:
            without.append(uid)
        uow.choices.save_lock(dict(tenant=tenant, student_user_id=uid, school_year=year, state="locked",
                                   version=version, consent=given, changed_by=caller.user_id, changed_at=now))
        done.append(uid)
    if not done:
        raise AlreadyLocked("every student of this scope is already locked")
    uow.choices.add_lock_event(dict(tenant=tenant, school_year=year, action="lock", scope=scope,
                                    scope_label=str(scope_label or "")[:100], student_user_ids=done,
                                    by_user_id=caller.user_id, by_username=caller.username or "", at=now,
                                    reason=None))
    uow.commit()
    return {"school_year": year, "locked_at": now.isoformat(), "scope": scope, "students": len(done),
            "held": held, "outcomes": n_out, "performances": n_perf, "without_consent": len(without),
            "without_consent_ids": without, "already_locked": already}


def _selection_window(uow, tenant, year):
    from .usecases import selection_window
    return selection_window(uow, tenant, year)


def _hold(uow, caller, tenant, year, uid, version, now):
    """Keep version `version` of the student's selection and publish selection-locked; None
    when they selected nothing (nothing to submit)."""
    row = uow.choices.current(tenant, uid, year)
    current = Choice.from_dict(row)
    certified = uow.selections.certified_by_ids(current.outcome_ids)
    perfs = uow.choices.performances_by_id(current.performance_ids)
    items = [certified[i] for i in current.outcome_ids if i in certified]
    chosen = [perfs[i] for i in current.performance_ids if i in perfs]
    if not items and not chosen:
        return None
    student_id = (items or chosen)[0]["student_id"]
    uow.choices.hold(dict(
        tenant=tenant, school_year=year, student_user_id=uid, version=version, student_id=student_id, locked_at=now,
        outcomes=[{"outcome_id": str(i["outcome_id"]), "course_code": i["course_code"],
                   "subject_name": i["subject_name"], "description": i["description"], "sha256": i["sha256"],
                   # every file the certification attests (an outcome's document, media file or both)
                   "fingerprints": i.get("fingerprints") or {"document": i["sha256"]}}
                  for i in items],
        performances=[{"performance_id": str(p["performance_id"]), "performance_kind": p["performance_kind"],
                       "description": p["description"], "file_id": str(p["file_id"]), "sha256": p["sha256"]}
                      for p in chosen]))
    uow.emit(events.make_event(events.SELECTION_LOCKED, tenant, {
        "student_id": str(student_id), "student_user_id": uid, "school_year": year,
        "outcome_ids": [str(i["outcome_id"]) for i in items], "locked_by": caller.user_id, "locked_at": now,
        "lock_version": version,
        # every file of each outcome (its document and its media file: both are submitted)
        "files": [{"kind": "outcome", "subject_id": str(i["outcome_id"]), "sha256": sha}
                  for i in items for sha in dict.fromkeys(
                      [i["sha256"], *(i.get("fingerprints") or {}).values()])]
        + [{"kind": "performance", "subject_id": str(p["performance_id"]), "sha256": p["sha256"]} for p in chosen]}))
    return len(items), len(chosen)


def _release(uow, caller, tenant, year, uid, version, now):
    """A re-lock after a correction that holds nothing (the student unselected everything or
    revoked consent while unlocked): selection-locked with no files, so files lifts the legal
    holds of the earlier version. Nothing is published when nothing was ever held."""
    earlier = uow.choices.held_versions(tenant, year, uid)
    if not earlier:
        return
    uow.emit(events.make_event(events.SELECTION_LOCKED, tenant, {
        "student_id": str(earlier[-1]["student_id"]), "student_user_id": uid, "school_year": year,
        "outcome_ids": [], "locked_by": caller.user_id, "locked_at": now, "lock_version": version, "files": []}))


def unlock(uow, caller, school_year, student_user_ids, reason) -> dict:
    """Unlock named students for a correction. reason: required, 1-500 characters
    (unlock_reason_required). Every named student must be locked (unlock_not_locked, none changed).
    Returns {school_year, unlocked, unlocked_at}."""
    caller.require(*REGISTRAR_ROLES)
    year = school_year_of(school_year)
    ids = _ids(student_user_ids)
    text = str(reason or "").strip() if isinstance(reason, (str, type(None))) else ""
    if not text:
        raise UnlockReasonRequired("解除鎖定須填寫原因（例如：更正勾選錯誤）")
    if len(text) > 500:
        raise Invalid("reason too long (at most 500 characters)", code="invalid")
    if not ids:
        raise Invalid("name the students to unlock", code="invalid")
    tenant = caller.tenant
    uow.selections.serialise(tenant, year)
    rows = {uid: uow.choices.student_lock(tenant, uid, year) for uid in ids}
    missing = [uid for uid, r in rows.items() if r is None]
    if missing:
        raise NotLocked("這些學生的勾選尚未鎖定，不需解除", student_user_ids=missing)
    now = clock.now()
    for uid, row in rows.items():
        uow.choices.save_lock(dict(row, state="unlocked", changed_by=caller.user_id, changed_at=now))
    uow.choices.add_lock_event(dict(tenant=tenant, school_year=year, action="unlock", scope="student",
                                    scope_label="", student_user_ids=ids, by_user_id=caller.user_id,
                                    by_username=caller.username or "", at=now, reason=text))
    uow.commit()
    return {"school_year": year, "unlocked": len(ids), "unlocked_at": now.isoformat()}


def overview(uow, caller, school_year) -> dict:
    """What the registrar sees before locking, per student of the year (the gateway groups them
    by class with records' roster): {school_year, students: {student_user_id: {certified,
    waiting, returned, uploaded (all three), unselected (certified, not selected),
    selected_outcomes, selected_performances, performances (own), others (school/external),
    has_selection, consent, locked, lock_version}}, locks: [lock_events, newest first]}."""
    caller.require(*REGISTRAR_ROLES)
    year = school_year_of(school_year)
    tenant = caller.tenant
    counts = uow.choices.counts_by_student(tenant, year)
    current = {str(r["student_user_id"]): Choice.from_dict(r) for r in uow.choices.all_current(tenant, year)}
    consent = uow.choices.consent_by_student(tenant, year)
    locks = uow.choices.lock_rows(tenant, year)
    legacy = uow.selections.lock_of(tenant, year) is not None
    out = {}
    for uid in set(counts) | set(current) | set(consent) | set(locks):
        c = counts.get(uid, {"certified": 0, "waiting": 0, "returned": 0, "performances": 0, "others": 0})
        ch = current.get(uid, Choice())
        lk = locks.get(uid)
        out[uid] = dict(c, uploaded=c["certified"] + c["waiting"] + c["returned"],
                        selected_outcomes=len(ch.outcome_ids), selected_performances=len(ch.performance_ids),
                        unselected=max(c["certified"] - len(ch.outcome_ids), 0),
                        has_selection=bool(ch.outcome_ids or ch.performance_ids),
                        consent=consent.get(uid, False), locked=legacy or bool(lk and lk["state"] == "locked"),
                        lock_version=lk["version"] if lk else None)
    return {"school_year": year, "students": out, "legacy_lock": legacy,
            "locks": [{"action": e["action"], "scope": e["scope"], "scope_label": e["scope_label"],
                       "students": len(e["student_user_ids"]), "by_username": e["by_username"],
                       "at": _iso(e["at"]), "reason": e["reason"]} for e in uow.choices.lock_events(tenant, year)]}


def held(uow, caller, school_year, student_user_id=None) -> dict:
    """The held copies: {school_year, students: [{student_id, student_user_id, version,
    locked_at, outcomes, performances, versions (count)}]} (the newest version per student);
    with student_user_id, every version of that student's. A sealed student's copies are left
    out of the list; naming one raises sealed_read_required."""
    caller.require(*REGISTRAR_ROLES)
    year = school_year_of(school_year)
    rows = uow.choices.held_versions(caller.tenant, year, _ids([student_user_id])[0] if student_user_id else None)
    # a sealed student's held copies are read only through the audited two-role request
    sealed = {sid for tenant, sid in uow.sealing.sealed_ids() if tenant == caller.tenant}
    if student_user_id and any(str(r["student_id"]) in sealed for r in rows):
        from portfolio_common.errors import NotAllowed
        raise NotAllowed("this student's data is sealed: an approved read request is required",
                         code="sealed_read_required")
    rows = [r for r in rows if str(r["student_id"]) not in sealed]
    newest, count = {}, {}
    for r in rows:
        uid = str(r["student_user_id"])
        count[uid] = count.get(uid, 0) + 1
        if student_user_id or uid not in newest or r["version"] > newest[uid]["version"]:
            newest[uid if not student_user_id else (uid, r["version"])] = r
    return {"school_year": year, "students": [
        {"student_id": str(r["student_id"]), "student_user_id": str(r["student_user_id"]), "version": r["version"],
         "locked_at": _iso(r["locked_at"]), "outcomes": r["outcomes"], "performances": r.get("performances") or [],
         "versions": count[str(r["student_user_id"])]} for r in newest.values()]}


LOCK_READERS = ("system:certification",)   # certification, before withdrawing a certification
MAX_OUTCOME_IDS = 1000


def locked_outcomes(uow, caller, outcome_ids) -> list:
    """The ones of `outcome_ids` (the caller's tenant) held in a student's current locked copy:
    what the registrar locked for the national database, sorted. Certification asks before a
    withdrawal (its system identity only): a certification the locked copy rests on is not taken
    back while the student is locked; the registrar unlocks for a correction first (unlock).
    Ids that are not uuids are ignored; Invalid for more than 1,000 or a non-list."""
    caller.require(*LOCK_READERS)
    if not isinstance(outcome_ids, (list, tuple)) or len(outcome_ids) > MAX_OUTCOME_IDS:
        raise Invalid("outcome_ids: a list of at most 1000 ids", code="invalid")
    ids = []
    for v in outcome_ids:
        try:
            ids.append(str(uuid.UUID(str(v))))
        except ValueError:
            continue
    return sorted(uow.choices.locked_outcome_ids(caller.tenant, ids))


def is_locked(uow, tenant, student_user_id, year) -> bool:
    """Frozen: the student's own lock, or a tenant-wide lock made before per-student locks."""
    return uow.choices.student_lock(tenant, student_user_id, year) is not None \
        or uow.selections.lock_of(tenant, year) is not None


__all__ = ["lock", "unlock", "overview", "held", "is_locked", "locked_outcomes", "consents"]

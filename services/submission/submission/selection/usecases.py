"""Use cases of a student's selection: plain functions over a unit of work (uow.choices for the
selection and the event-fed copies, uow.selections for certified outcomes and locks,
uow.calendar for the window and the year's limits).

Who: a student reads and changes only their own selection of their own tenant; the registrar
(and `system`) reads any student's change log of the tenant. Issue 9 item 2.
"""
import uuid

from portfolio_common import clock
from portfolio_common.windows import CalendarNotSet, Window

from ..errors import Conflict, Invalid, SelectionLocked
from ..schoolcalendar.domain import SCHOOL_DEFAULTS, Limits, school_year_of
from . import consent, domain
from .domain import Choice

READERS_OF_OTHERS = ("registrar", "system")


def _iso(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


# --- event-fed copies ------------------------------------------------------------------------

OUTCOME_UPLOADED_HANDLER = "submission.handle_outcome_uploaded"


def record_outcome_uploaded(uow, env) -> bool:
    """outcome-uploaded: the outcome is waiting for certification (state `uploaded`)."""
    return record_outcomes_uploaded(uow, [env]) == 1


def record_outcomes_uploaded(uow, envs) -> int:
    """A batch of `outcome-uploaded` (in delivery order), each as record_outcome_uploaded, in one
    transaction: one claim statement and one commit for the batch, as records and certification
    take the same event (nameko_kit.BatchEventHandler; a failing batch is applied again event by
    event). An event applied before, or repeated within the batch, changes nothing. Returns how
    many were new."""
    fresh = uow.claim_many([e["event_id"] for e in envs], OUTCOME_UPLOADED_HANDLER)
    applied = 0
    for env in envs:
        if env["event_id"] not in fresh:
            continue
        fresh.discard(env["event_id"])  # a repeat within the batch is applied once
        p = env["payload"]
        uow.choices.add_outcome_state(dict(
            outcome_id=p["outcome_id"], tenant=env["tenant"], student_id=p["student_id"],
            student_user_id=p["student_user_id"], school_year=p["school_year"], semester=p["semester"],
            course_code=p["course_code"], subject_name=p["subject_name"], description=p["description"],
            state="uploaded", reason=None, changed_at=p["uploaded_at"]))
        _leave_if_files_changed(uow, env["tenant"], p)
        applied += 1
    uow.commit()
    return applied


def _leave_if_files_changed(uow, tenant, p) -> None:
    """A certification attests the outcome's files as a whole (document, media or both): a file
    added or replaced after it (certification opens a new round) takes the certified copy out
    of what may be selected, and out of the current selection like a withdrawal; the identical
    file (same SHA-256) keeps it. A certification newer than this upload is left alone."""
    oid = str(p["outcome_id"])
    held = uow.selections.certified_by_ids([oid]).get(oid)
    if not held:
        return
    attested = held.get("fingerprints") or {"document": held["sha256"]}
    if attested.get(p.get("slot") or "document") == p["sha256"]:
        return
    try:
        if held["certified_at"] >= p["uploaded_at"]:
            return
    except TypeError:  # an in-memory copy with text times
        pass
    if uow.selections.remove_certified(tenant, oid, held["sha256"]):
        drop_withdrawn(uow, tenant, {"outcome_id": oid, "student_user_id": p["student_user_id"],
                                     "school_year": p["school_year"], "withdrawn_at": p["uploaded_at"],
                                     "withdrawn_by": p["student_user_id"]}, None)


def record_certification_returned(uow, env) -> bool:
    """certification-returned: the outcome is `returned` with the teacher's reason. An outcome
    this copy has not seen yet (its outcome-uploaded still on its way) is retried later."""
    from portfolio_common.errors import RetryLater
    if not uow.claim(env["event_id"], "submission.handle_certification_returned"):
        return False
    p = env["payload"]
    if not uow.choices.mark_returned(p["outcome_id"], p["reason"], p["returned_at"]):
        raise RetryLater("certification-returned before its outcome-uploaded")
    uow.commit()
    return True


def record_performance_uploaded(uow, env) -> bool:
    """performance-uploaded: a performance with its proof (selectable only when entered_by is
    `student`)."""
    if not uow.claim(env["event_id"], "submission.handle_performance_uploaded"):
        return False
    p = env["payload"]
    uow.choices.add_performance(dict(
        performance_id=p["performance_id"], tenant=env["tenant"], student_id=p["student_id"],
        student_user_id=p["student_user_id"], school_year=p["school_year"],
        performance_kind=p["performance_kind"], entered_by=p["entered_by"], description=p["description"],
        file_id=p["file_id"], sha256=p["sha256"], uploaded_at=p["uploaded_at"]))
    uow.commit()
    return True


def _locked(uow, tenant, uid, year) -> bool:
    return uow.choices.student_lock(tenant, uid, year) is not None or uow.selections.lock_of(tenant, year) is not None


def drop_withdrawn(uow, tenant, p, certified_row) -> None:
    """certification-withdrawn (after the certified copy is gone): the outcome waits for the
    next round again (outcome_states `uploaded`), and leaves the student's current selection
    with a change kept, made by the one who withdrew it. A locked student's selection and held
    copy are not touched (an unlock for a correction is the registrar's decision)."""
    uid, year = str(p["student_user_id"]), int(p["school_year"])
    # takes its turn with the student's own saves (and the registrar's lock): read, bump the
    # version and write inside the turn, or a save in flight collides on the change's version
    # (seen: a withdrawal while the student corrected their selection gave them a 500)
    uow.choices.serialise_student(tenant, uid, year)
    if certified_row:
        row = {k: certified_row[k] for k in ("tenant", "student_id", "student_user_id", "school_year", "semester",
                                             "course_code", "subject_name", "description")}
        uow.choices.reopen_outcome(dict(row, outcome_id=str(p["outcome_id"]), state="uploaded", reason=None,
                                        changed_at=p["withdrawn_at"]))
    if _locked(uow, tenant, uid, year):
        return
    current = uow.choices.current(tenant, uid, year)
    before = Choice.from_dict(current)
    if not current or str(p["outcome_id"]) not in before.outcome_ids:
        return
    after = Choice(tuple(i for i in before.outcome_ids if i != str(p["outcome_id"])), before.performance_ids)
    version, now = current["version"] + 1, clock.now()
    uow.choices.save(dict(tenant=tenant, student_user_id=uid, school_year=year, version=version,
                          changed_by=str(p["withdrawn_by"]), changed_at=now, **after.to_dict()))
    uow.choices.add_change(dict(tenant=tenant, student_user_id=uid, school_year=year, version=version,
                                changed_by=str(p["withdrawn_by"]), changed_at=now, before=before.to_dict(),
                                after=after.to_dict()))


# --- window and limits -------------------------------------------------------------------------

def limits_of(uow, tenant, year) -> dict:
    """{outcome: n, performance: m}: the school year's limits in the calendar (the school's
    defaults when the year has none)."""
    lim = Limits(**(uow.calendar.limits(tenant, year) or SCHOOL_DEFAULTS.to_dict()))
    return {"outcome": lim.outcomes_selected_per_year, "performance": lim.performances_selected_per_year}


def selection_window(uow, tenant, year, today=None) -> Window:
    """The selection window of the school year that holds `today`, else the one nearest to it
    (the next to open, else the last closed): its dates go into window_closed. A year with no
    term in the calendar raises CalendarNotSet (`calendar_not_set`)."""
    today = today or clock.today_in_school()
    wins = sorted((Window("selection", t["selection_opens_on"], t["selection_closes_on"])
                   for t in uow.calendar.terms(tenant) if t["school_year"] == year), key=lambda w: w.opens_on)
    if not wins:
        raise CalendarNotSet(f"學校尚未設定 {year} 學年度的行事曆（勾選期間），請洽註冊組（進修部：教務組）")
    for w in wins:
        if w.holds(today):
            return w
    upcoming = [w for w in wins if w.opens_on > today]
    return upcoming[0] if upcoming else wins[-1]


def _window_view(win: Window, today) -> dict:
    state = "open" if win.holds(today) else ("upcoming" if today < win.opens_on else "closed")
    return {"opens_on": win.opens_on.isoformat(), "closes_on": win.closes_on.isoformat(), "state": state}


# --- the student's view and changes -----------------------------------------------------------

def _current_choice(uow, tenant, user_id, year):
    row = uow.choices.current(tenant, user_id, year)
    return (Choice.from_dict(row), row["version"]) if row else (Choice(), 0)


def _items(uow, tenant, user_id, year):
    """(outcomes, performances): every outcome of the student's year with its state
    (certified | uploaded | returned) and every performance copy."""
    certified = {str(r["outcome_id"]): dict(r, outcome_id=str(r["outcome_id"]), state="certified", reason=None)
                 for r in uow.selections.certified_for(tenant, user_id, year)}
    outcomes = dict(certified)
    for r in uow.choices.outcome_states_for(tenant, user_id, year):
        outcomes.setdefault(str(r["outcome_id"]), dict(r, outcome_id=str(r["outcome_id"])))
    perfs = [dict(r, performance_id=str(r["performance_id"])) for r in uow.choices.performances_for(tenant, user_id, year)]
    return list(outcomes.values()), perfs


def get_my_selection(uow, caller, school_year) -> dict:
    """The student's selection of a school year and every item with why it cannot be changed:

    {school_year, version, locked, locked_at, window: {opens_on, closes_on, state} | null,
     limits: {outcome, performance}, counts: {outcome, performance},
     outcomes: [{outcome_id, course_code, subject_name, description, semester, state
                 (certified|uploaded|returned), return_reason, selected, selectable, reason}],
     performances: [{performance_id, performance_kind, description, entered_by, counts (bool),
                     selected, selectable, reason}],
     max_selected, candidates: [the certified outcomes, {outcome_id, ..., selected}] (as before)}
    reason: domain's not_certified | returned | not_student_entered | over_limit |
    window_closed | locked | calendar_not_set, or null. Raises school_year_invalid."""
    caller.require("student")
    year = school_year_of(school_year)
    tenant, uid = caller.tenant, caller.user_id
    today = clock.today_in_school()
    try:
        win = selection_window(uow, tenant, year, today)
        window, window_open = _window_view(win, today), win.holds(today)
    except CalendarNotSet:
        window, window_open = None, False
    lock = uow.choices.student_lock(tenant, uid, year) or uow.selections.lock_of(tenant, year)
    limits = limits_of(uow, tenant, year)
    choice, version = _current_choice(uow, tenant, uid, year)
    outcomes, perfs = _items(uow, tenant, uid, year)
    counts = {k: len(choice.of(k)) for k in domain.KINDS}

    def view(kind, item, key):
        selected = item[key] in choice.of(kind)
        why = domain.reason(kind, item, selected, counts[kind], limits[kind],
                            window_open=window_open, locked=lock is not None)
        if why == domain.WINDOW_CLOSED and window is None:
            why = "calendar_not_set"
        return selected, why

    out_o = []
    for o in outcomes:
        selected, why = view("outcome", o, "outcome_id")
        out_o.append(dict(outcome_id=o["outcome_id"], course_code=o["course_code"], subject_name=o["subject_name"],
                          description=o["description"], semester=o["semester"], state=o["state"],
                          return_reason=o.get("reason") if o["state"] == "returned" else None,
                          selected=selected, selectable=why is None, reason=why))
    out_p = []
    for p in perfs:
        selected, why = view("performance", p, "performance_id")
        out_p.append(dict(performance_id=p["performance_id"], performance_kind=p["performance_kind"],
                          description=p["description"], entered_by=p["entered_by"],
                          counts=p["entered_by"] == "student", selected=selected, selectable=why is None,
                          reason=why))
    return {
        "school_year": year, "version": version, "locked": lock is not None,
        "locked_at": _iso(lock.get("changed_at") or lock.get("locked_at")) if lock else None,
        "consent": consent.get_consent(uow, caller, year),
        "window": window, "limits": limits, "counts": counts,
        "outcomes": out_o, "performances": out_p,
        "max_selected": limits["outcome"],
        "candidates": [dict(outcome_id=o["outcome_id"], course_code=o["course_code"], subject_name=o["subject_name"],
                            description=o["description"], semester=o["semester"], selected=o["selected"])
                       for o in out_o if o["state"] == "certified"],
    }


def _ids(value, name):
    if value is None:
        return None
    if not isinstance(value, (list, tuple)) or not all(isinstance(i, str) for i in value):
        raise Invalid(f"{name} must be a list of ids", code="invalid")
    return list(value)


def save_selection(uow, caller, school_year, outcome_ids=None, performance_ids=None, expected_version=None) -> dict:
    """Set the student's selection of a school year: outcome_ids and performance_ids are the
    whole new lists (None keeps that kind as it is). expected_version (optional): the version
    the student's page showed; another raises selection_stale.

    Refusals, nothing stored: window_closed (outside the calendar's selection window, with its
    dates), calendar_not_set, selection_locked, not_selectable (not the student's own certified
    outcome / own-entered performance of that year), selection_quota_exceeded (over the year's
    limit: calendar limits), invalid, school_year_invalid.
    A change keeps who, when, before and after (selection_changes) and bumps the version;
    saving the same lists again changes nothing. Limits hold under concurrent saves: one
    student's saves take turns (serialise_student) and the check reads the stored selection
    inside that turn. Returns {school_year, version, changed, selected (outcome ids),
    outcome_ids, performance_ids}. Source: regulation §4, issue 9 item 2."""
    caller.require("student")
    year = school_year_of(school_year)
    outcome_ids, performance_ids = _ids(outcome_ids, "outcome_ids"), _ids(performance_ids, "performance_ids")
    tenant, uid = caller.tenant, caller.user_id
    uow.choices.serialise_student(tenant, uid, year)
    if _locked(uow, tenant, uid, year):
        raise SelectionLocked("本學年度的勾選已鎖定，無法再修改")
    selection_window(uow, tenant, year).check()
    before, version = _current_choice(uow, tenant, uid, year)
    if expected_version not in (None, "") and str(expected_version).strip() != str(version):
        raise Conflict("您的勾選在開啟頁面後已被修改，請重新整理後再選一次", code="selection_stale")
    wanted = Choice(tuple(outcome_ids) if outcome_ids is not None else before.outcome_ids,
                    tuple(performance_ids) if performance_ids is not None else before.performance_ids)
    selectable = {"outcome": {str(r["outcome_id"]) for r in uow.selections.certified_for(tenant, uid, year)},
                  "performance": {str(r["performance_id"]) for r in uow.choices.performances_for(tenant, uid, year)
                                  if r["entered_by"] == "student"}}
    after = domain.check_choice(wanted, selectable, limits_of(uow, tenant, year))
    changed = after != before
    if changed:
        now = clock.now()
        version += 1
        uow.choices.save(dict(tenant=tenant, student_user_id=uid, school_year=year, version=version,
                              changed_by=uid, changed_at=now, **after.to_dict()))
        uow.choices.add_change(dict(tenant=tenant, student_user_id=uid, school_year=year, version=version,
                                    changed_by=uid, changed_at=now,
                                    before=before.to_dict() if version > 1 else None, after=after.to_dict()))
        uow.commit()
    return {"school_year": year, "version": version, "changed": bool(changed),
            "selected": list(after.outcome_ids), **after.to_dict()}


def set_item(uow, caller, school_year, kind, item_id, selected) -> dict:
    """Select (selected=True) or unselect one item: kind outcome | performance. The same
    checks and record as save_selection, read inside the student's turn, so two requests at
    once cannot pass the limit together."""
    caller.require("student")
    if kind not in domain.KINDS:
        raise Invalid("kind must be outcome or performance", code="invalid")
    year = school_year_of(school_year)
    item_id = str(item_id or "").strip()
    uow.choices.serialise_student(caller.tenant, caller.user_id, year)
    current, _ = _current_choice(uow, caller.tenant, caller.user_id, year)
    ids = [i for i in current.of(kind) if i != item_id] + ([item_id] if selected else [])
    return save_selection(uow, caller, year, **{f"{kind}_ids": ids})


def list_selection_changes(uow, caller, school_year, student_user_id=None) -> list:
    """Every change of one student's selection of a year, newest first: [{version, changed_by,
    changed_at, before ({outcome_ids, performance_ids} or null), after}]. A student reads their
    own (student_user_id ignored); the registrar names a student of the tenant."""
    year = school_year_of(school_year)
    if caller.has("student") and not caller.has(*READERS_OF_OTHERS):
        student_user_id = caller.user_id
    else:
        caller.require(*READERS_OF_OTHERS)
        if not student_user_id:
            raise Invalid("student_user_id is required", code="invalid")
    try:
        student_user_id = str(uuid.UUID(str(student_user_id)))
    except ValueError:
        raise Invalid("student_user_id must be an id", code="invalid") from None
    rows = uow.choices.changes(caller.tenant, student_user_id, year)
    return [{"version": r["version"], "changed_by": str(r["changed_by"]), "changed_at": _iso(r["changed_at"]),
             "before": r["before"], "after": r["after"]} for r in rows]

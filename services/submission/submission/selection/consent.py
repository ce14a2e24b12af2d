"""The student's consent to release their selection for admission (同意釋出), issue 9 item 3.

Rules (decided here, README "Consent"):
- Consent is per school year, like the selection and the lock it feeds.
- Each give or revoke is a row of an append-only log with the time, the person and the exact
  wording shown (its version and its full text), so what the student agreed to can be read
  back word for word after the wording changes. The current state is the newest row.
- A student may give and revoke it until the registrar locks their selection; after that
  both are refused (`selection_locked`).
- The student sends the version of the wording the page showed; another version (the school
  changed it meanwhile) is refused (`consent_wording_changed`), so nobody consents to a text
  they did not see.
- The lock holds a copy and publishes selection-locked only for students with consent; a
  student without consent is locked (their selection can no longer change) but nothing of
  theirs is submitted, and the registrar is warned: the pre-lock overview lists them and the
  lock's answer names how many (lock.usecases).
"""
from portfolio_common import clock

from ..errors import Conflict, Invalid, SelectionLocked
from ..schoolcalendar.domain import school_year_of

WORDING_VERSION = "2026-1"
WORDING = (
    "本人同意學校將本人於本學年度勾選之課程學習成果與多元表現，提交至高級中等教育階段學生學習歷程資料庫，"
    "並於本人參加大學招生時，由學習歷程資料庫提供予本人報名之大學校系，作為審查資料使用。"
    "本人了解在學校鎖定勾選前可隨時撤回本同意；撤回後，學校不會提交本人本學年度的勾選資料。")
WORDINGS = {WORDING_VERSION: WORDING}


class ConsentWordingChanged(Conflict):
    code = "consent_wording_changed"


def _iso(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


def current(uow, tenant, student_user_id, year) -> dict:
    """{given: bool, at, wording_version} from the newest row (given False when none)."""
    row = uow.choices.latest_consent(tenant, str(student_user_id), year)
    if row is None or row["action"] != "given":
        return {"given": False, "at": _iso(row["at"]) if row else None,
                "wording_version": row["wording_version"] if row else None}
    return {"given": True, "at": _iso(row["at"]), "wording_version": row["wording_version"]}


def get_consent(uow, caller, school_year) -> dict:
    """The student's consent of a year and the wording to show: {school_year, given, at,
    wording_version (of the consent given), wording: {version, text} (the current one),
    locked}."""
    caller.require("student")
    year = school_year_of(school_year)
    state = current(uow, caller.tenant, caller.user_id, year)
    return {"school_year": year, **state, "wording": {"version": WORDING_VERSION, "text": WORDING},
            "locked": uow.choices.student_lock(caller.tenant, caller.user_id, year) is not None
            or uow.selections.lock_of(caller.tenant, year) is not None}


def set_consent(uow, caller, school_year, give, wording_version=None) -> dict:
    """Give (give=True, with the wording_version the page showed) or revoke the consent.
    Refusals: selection_locked (after the lock), consent_wording_changed, invalid,
    school_year_invalid. Giving twice or revoking what is not given changes nothing.
    Returns get_consent's shape plus `changed`."""
    caller.require("student")
    year = school_year_of(school_year)
    if not isinstance(give, bool):
        raise Invalid("give must be true or false", code="invalid")
    tenant, uid = caller.tenant, caller.user_id
    uow.choices.serialise_student(tenant, uid, year)
    if uow.choices.student_lock(tenant, uid, year) is not None or uow.selections.lock_of(tenant, year) is not None:
        raise SelectionLocked("本學年度的勾選已鎖定，無法再變更同意釋出")
    if give and str(wording_version or "").strip() != WORDING_VERSION:
        raise ConsentWordingChanged("同意書的文字已更新，請重新閱讀後再同意")
    state = current(uow, tenant, uid, year)
    changed = state["given"] != give
    if changed:
        uow.choices.add_consent(dict(tenant=tenant, student_user_id=uid, school_year=year,
                                     action="given" if give else "revoked", at=clock.now(), by_user_id=uid,
                                     wording_version=WORDING_VERSION if give else state["wording_version"],
                                     wording=WORDING if give else None))
        uow.commit()
    return dict(get_consent(uow, caller, year), changed=changed)


def consent_log(uow, caller, school_year, student_user_id=None) -> list:
    """Every give and revoke of one student's consent, newest first: [{action, at, by_user_id,
    wording_version, wording}]. The student reads their own; the registrar any of the tenant."""
    import uuid
    year = school_year_of(school_year)
    if caller.has("student") and not caller.has("registrar", "system"):
        student_user_id = caller.user_id
    else:
        caller.require("registrar", "system")
        try:
            student_user_id = str(uuid.UUID(str(student_user_id)))
        except ValueError:
            raise Invalid("student_user_id must be an id", code="invalid") from None
    return [{"action": r["action"], "at": _iso(r["at"]), "by_user_id": str(r["by_user_id"]),
             "wording_version": r["wording_version"], "wording": r["wording"]}
            for r in uow.choices.consents(caller.tenant, str(student_user_id), year)]

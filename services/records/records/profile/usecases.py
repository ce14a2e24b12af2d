"""Use cases of the student profile (基本資料): the registrar's form and import, reads.

Every write goes through `_write`, so the form, the API and the import store the same way:
the national ID normalised, validated, encrypted and looked up by its keyed hash; the class
ensured; the version bumped; one history row with the fields before and after.
"""
import uuid

from portfolio_common import clock
from portfolio_common.crypto import mask

from .. import rocdate
from ..errors import FieldsInvalid, NotAllowed, NotFound, StaleRecord
from . import domain
from ..sealing.usecases import gate_sealed_read

REGISTRAR_ROLES = ("registrar", "system")


def _uuid(value, what="student"):
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError):
        raise NotFound(f"{what} not found") from None


def ctx_of(caller, vault, options=None) -> dict:
    """What a write needs besides its rows: who, the vault, the term, the school's defaults."""
    options = options or {}
    year = options.get("school_year")
    if not isinstance(year, int) or not 100 <= year <= 200:
        raise FieldsInvalid("school_year (ROC) is required", problems=[
            {"field": "school_year", "code": "school_year_invalid"}])
    return {"caller": caller, "vault": vault, "school_year": year,
            "school_code": options.get("school_code"), "today": clock.today_in_school(),
            "via": options.get("via", "form")}


def _stored(values, ctx) -> dict:
    out = {k: values.get(k) for k in domain.STORED}
    if not out.get("school_code"):
        out["school_code"] = ctx.get("school_code")
    return out


def _comparable(row) -> dict:
    return {k: (str(row[k]) if k == "user_id" and row.get(k) else row.get(k)) for k in domain.STORED} | {"class_code": row.get("class_code"),
                                                    "national_id_hash": row.get("national_id_hash")}


def class_problems(uow, ctx, values) -> list:
    """The class a profile names, by its code in the term: a new code needs a class_name (it
    creates the class; class_unknown otherwise). An existing class keeps its name: one student's
    form or roster row never renames the class for everyone in it (QA: moving a student from 101
    to 102 with 101's name still in the form renamed 102). So a class_name that differs from the
    stored one is refused (class_name_differs, params {class_code, class_name: the stored name});
    empty or the same name is fine. Classes are renamed by the school import (import_school),
    which names every class of the term at once."""
    found = uow.students.find_class(ctx["caller"].tenant, ctx["school_year"], values["class_code"])
    name = values.get("class_name")
    if found is None:
        return [] if name else [("class_name", "class_unknown", {})]
    if name and name != found["name"]:
        return [("class_name", "class_name_differs", {"class_code": found["code"], "class_name": found["name"]})]
    return []


def plan_write(uow, ctx, values, existing=None) -> tuple[str, object, list]:
    """(action, version marker, problems) for one profile, reading only. `existing` is the
    student being edited (form); otherwise the student number decides (import)."""
    caller, vault = ctx["caller"], ctx["vault"]
    tenant = caller.tenant
    problems = []
    h = vault.lookup_hash(values["national_id"])
    if existing is None:
        existing = uow.students.by_student_no(tenant, values["student_no"])
    else:
        same_no = uow.students.by_student_no(tenant, values["student_no"])
        if same_no and same_no["id"] != existing["id"]:
            problems.append(("student_no", "student_no_taken", {}))
    clash = uow.students.by_national_hash(tenant, h)
    if clash and (existing is None or clash["id"] != existing["id"]):
        problems.append(("national_id", "duplicate_national_id", {}))
    account = uow.students.by_user(tenant, values["user_id"])
    if account and (existing is None or account["id"] != existing["id"]):
        problems.append(("user_id", "account_taken", {"student_no": account["student_no"]}))
    problems += class_problems(uow, ctx, values)
    if problems:
        return None, None, problems
    if existing is None:
        return "created", None, []
    after = _stored(values, ctx) | {"class_code": values["class_code"], "national_id_hash": h}
    before = _comparable(existing)
    if after == before and existing.get("class_school_year") == ctx["school_year"]:
        return "unchanged", [str(existing["id"]), existing["version"]], []
    return "updated", [str(existing["id"]), existing["version"]], []


def describe_changes(uow, ctx, values, marker) -> list:
    """What an `updated` plan would change on the stored student, field by field, for the
    import preview: [{field, before, after}] (domain.changes; national ID masked on both
    sides, birth date ISO)."""
    vault = ctx["vault"]
    existing = uow.students.get(ctx["caller"].tenant, uuid.UUID(marker[0]))
    if existing is None:
        return []
    before = domain.public(existing) | {
        "school_year": existing.get("class_school_year"), "class_name": existing.get("class_name"),
        "national_id": mask(vault.decrypt(existing["national_id_enc"]))}
    after = domain.public(_stored(values, ctx) | {"class_code": values["class_code"]}) | {
        "school_year": ctx["school_year"], "national_id": mask(values["national_id"]),
        "national_id_changed": vault.lookup_hash(values["national_id"]) != existing["national_id_hash"]}
    found = uow.students.find_class(ctx["caller"].tenant, ctx["school_year"], values["class_code"])
    after["class_name"] = found["name"] if found else values.get("class_name")
    return domain.changes(before, after)


def apply_write(uow, ctx, values, plan) -> uuid.UUID:
    """Write one planned profile and its history row. Raises StaleRecord when the stored
    version is no longer the planned one."""
    action, marker = plan
    caller, vault = ctx["caller"], ctx["vault"]
    tenant = caller.tenant
    h = vault.lookup_hash(values["national_id"])
    # names the class only when this creates it (class_problems: an existing class keeps its name)
    class_id = uow.students.ensure_class(tenant, ctx["school_year"], values["class_code"], values.get("class_name"))
    stored = _stored(values, ctx) | {"class_id": class_id, "national_id_hash": h}
    if action == "created":
        sid = uow.students.add(dict(stored, tenant=tenant, national_id_enc=vault.encrypt(values["national_id"])))
        after = domain.public(stored | {"class_code": values["class_code"]}) | {"national_id": "set"}
        uow.history.record(tenant, "student", sid, "created", caller.user_id, actor_username=caller.username,
                           student_id=sid, after=after)
        return sid
    sid, version = uuid.UUID(marker[0]), marker[1]
    existing = uow.students.get(tenant, sid)
    if existing is None or existing["version"] != version:
        raise StaleRecord("the student's record changed since it was read", code="stale_record")
    changes = dict(stored)
    if existing["national_id_hash"] != h:
        changes["national_id_enc"] = vault.encrypt(values["national_id"])
    if not uow.students.update(sid, version, changes):
        raise StaleRecord("the student's record changed since it was read", code="stale_record")
    before = domain.public(existing) | {"national_id_hash": existing["national_id_hash"]}
    after = domain.public(stored | {"class_code": values["class_code"]}) | {"national_id_hash": h}
    from ..history import diff
    b, a = diff(before, after)
    uow.history.record(tenant, "student", sid, "updated", caller.user_id, actor_username=caller.username,
                       student_id=sid, before=b, after=a)
    return sid


def _refuse(problems):
    raise FieldsInvalid("the profile has problems", problems=[
        {"field": f, "code": c, "params": p or {}} for f, c, p in problems])


def create_student(uow, vault, caller, data: dict, options=None) -> dict:
    """Registrar's form: a new student profile. data: the profile fields as text (see
    profile/domain.py FIELDS). Raises FieldsInvalid {problems: [{field, code, params}]}."""
    caller.require(*REGISTRAR_ROLES)
    ctx = ctx_of(caller, vault, options)
    values, problems = domain.read_profile(data, today=ctx["today"])
    if problems:
        _refuse(problems)
    action, marker, problems = plan_write(uow, ctx, values)
    if problems:
        _refuse(problems)
    if action != "created":
        _refuse([("student_no", "student_no_taken", {})])
    sid = apply_write(uow, ctx, values, (action, marker))
    uow.commit()
    return get_student(uow, vault, caller, sid)


def update_student(uow, vault, caller, student_id, data: dict, expected_version, options=None) -> dict:
    """Registrar's form: change a profile. `expected_version` is the version the registrar saw;
    when the record changed since, StaleRecord (409 stale_record) and nothing is written."""
    caller.require(*REGISTRAR_ROLES)
    ctx = ctx_of(caller, vault, options)
    existing = uow.students.get(caller.tenant, _uuid(student_id), lock=True)
    if existing is None:
        raise NotFound("student not found")
    if not isinstance(expected_version, int) or existing["version"] != expected_version:
        raise StaleRecord("the student's record changed since you opened it", code="stale_record",
                          current_version=existing["version"])
    if not str(data.get("national_id") or "").strip():  # left blank on the form: unchanged
        data = dict(data, national_id=vault.decrypt(existing["national_id_enc"]))
    if not data.get("user_id"):
        data = dict(data, user_id=str(existing["user_id"]))
        data.pop("account_roles", None)
    values, problems = domain.read_profile(data, today=ctx["today"])
    if problems:
        _refuse(problems)
    action, marker, problems = plan_write(uow, ctx, values, existing=existing)
    if problems:
        _refuse(problems)
    if action == "updated":
        apply_write(uow, ctx, values, (action, marker))
        uow.commit()
    return get_student(uow, vault, caller, existing["id"])


def _read(row, vault) -> dict:
    out = domain.public(row)
    out.update(id=str(row["id"]), class_name=row.get("class_name"), version=row["version"],
               school_year=row.get("class_school_year"),
               national_id_masked=mask(vault.decrypt(row["national_id_enc"])),
               birth_date_roc=rocdate.to_roc(row["birth_date"]) if row.get("birth_date") else None,
               status_changed_on=row["status_changed_on"].isoformat() if row.get("status_changed_on") else None)
    return out


def get_student(uow, vault, caller, student_id) -> dict:
    """One profile (national ID masked, birth date ISO and ROC yyyMMdd, version for a later
    change). Another tenant's student, or a student reading someone else, reads as not found."""
    row = may_read_student(uow, caller, student_id)
    return _read(row, vault)


SEALED_HIDDEN = ("student_no", "birth_date", "gender", "school_code", "seat_no", "group_code", "department_code",
                 "class_type_code", "division_code", "enrolment_route", "status", "user_id", "national_id_masked",
                 "birth_date_roc", "status_changed_on", "version")


def sealed_entry(row) -> dict:
    """How a sealed student appears in a list: that they exist, their name and class, nothing of
    their record (issue 9 item 7: sealed data is read only through the audited request two
    roles approved; get_student refuses the details with sealed_read_required). The list's
    other keys are there, empty (None), so a reader of the list meets the same shape."""
    return {**dict.fromkeys(SEALED_HIDDEN), "id": str(row["id"]), "name": row["name"],
            "class_code": row.get("class_code"), "class_name": row.get("class_name"),
            "school_year": row.get("class_school_year"), "sealed": True}


def list_students(uow, vault, caller, class_code=None) -> list:
    """The tenant's profiles, national IDs masked (registrar, system), each with `sealed`
    (False); a sealed student is listed as sealed_entry (id, name, class, sealed: True) only."""
    caller.require(*REGISTRAR_ROLES)
    rows = uow.students.list(caller.tenant, class_code or None)
    sealed = uow.sealed_students.sealed_among(caller.tenant, [r["id"] for r in rows])
    return [sealed_entry(r) if str(r["id"]) in sealed else dict(_read(r, vault), sealed=False) for r in rows]


def get_my_profile(uow, vault, caller) -> dict:
    caller.require("student")
    row = uow.students.by_user(caller.tenant, caller.user_id)
    if row is None:
        raise NotAllowed("no student record for this account", code="not_a_student")
    return _read(row, vault)


def may_read_student(uow, caller, student_id, writing=False) -> dict:
    """The student row when the caller may read this student's record and its history:
    the registrar (and system) of the tenant, or the student themself. Anyone else reads it as
    not found (audited as a refusal)."""
    row = uow.students.get(caller.tenant, _uuid(student_id))
    if row is None:
        raise NotFound("student not found")
    if caller.has(*REGISTRAR_ROLES) or str(row["user_id"]) == str(caller.user_id):
        if not writing:   # a write to a sealed student is refused as student_sealed instead
            gate_sealed_read(uow, caller, row)
        return row
    raise NotFound("student not found", refused=True)


HISTORY_READERS = {"student": may_read_student}

"""Views across the staff-entered item kinds (records/itemkit.py): the student's own record
(我的紀錄), the classes a caller may open, and a class's items at once for its homeroom teacher."""
from .. import areas, itemkit
from ..errors import NotAllowed, NotFound


def _present(uow, kind, tenant, rows) -> list:
    """Items as the API shows them (a kind may add to them: ItemKind.extra["present"])."""
    present = kind.extra.get("present")
    return present(uow, tenant, rows) if present else [itemkit.public(kind, r) for r in rows]


def my_records(uow, caller) -> dict:
    """The calling student's items of every kind: {student: {...}, kinds: {name: [item]}}."""
    student = uow.students.by_user(caller.tenant, caller.user_id)
    if student is None:
        raise NotAllowed("no student record for this account", code="not_a_student")
    kinds = {name: _present(uow, k, caller.tenant, getattr(uow, k.table.name).of_students(caller.tenant, [student["id"]]))
             for name, k in areas.item_kinds().items()}
    return {"student": itemkit.student_card(student), "kinds": kinds}


def item_classes(uow, caller) -> list:
    """The classes whose items the caller may list: every class of the tenant for a unit that
    enters or reads items tenant-wide, a homeroom teacher's own classes. [{code, name, school_year,
    kinds: [names readable]}]."""
    wide = [name for name, k in areas.item_kinds().items() if itemkit.tenant_wide(k, caller)]
    out = {}
    if wide:
        for c in uow.students.list_classes(caller.tenant):
            out[c["code"]] = {"code": c["code"], "name": c["name"], "school_year": c["school_year"], "kinds": wide}
    if caller.has(itemkit.HOMEROOM):
        for c in uow.students.list_classes(caller.tenant, caller.user_id):
            out[c["code"]] = {"code": c["code"], "name": c["name"], "school_year": c["school_year"],
                              "kinds": list(areas.item_kinds())}
    return sorted(out.values(), key=lambda c: c["code"])


def class_records(uow, caller, class_code) -> dict:
    """A class's items of every kind the caller may read there (the homeroom teacher: all):
    {class_code, students: [card + sealed], kinds: {name: {student_id: [item]}}, performances:
    {student_id: [performance]} (多元表現, for those who read them all: the homeroom teacher, the
    registrar)}. A class the
    caller may read nothing of: not_found (refused). A sealed student's items are never listed."""
    readable = {}
    students = None
    for name, k in areas.item_kinds().items():
        try:
            students = itemkit.class_students(uow, k, caller, class_code)
        except NotFound:
            continue
        readable[name] = k
    if not readable:
        raise NotFound("class not found", refused=True)
    # a sealed student's items are left out (card marked `sealed`): read one student at a time
    # through an approved request (sealing.gate_sealed_read), never in a class list
    sealed = uow.sealed_students.sealed_among(caller.tenant, [s["id"] for s in students])
    ids = [s["id"] for s in students if str(s["id"]) not in sealed]
    kinds = {}
    for name, k in readable.items():
        by_student = {}
        for item in _present(uow, k, caller.tenant, getattr(uow, k.table.name).of_students(caller.tenant, ids)):
            by_student.setdefault(item["student_id"], []).append(item)
        kinds[name] = by_student
    cards = [dict(itemkit.student_card(s), sealed=str(s["id"]) in sealed)
             for s in sorted(students, key=lambda s: (s.get("seat_no") or 0, s["student_no"]))]
    from ..performances.usecases import of_class
    performances = of_class(uow, caller, [s for s in students if str(s["id"]) not in sealed])
    return {"class_code": class_code, "students": cards, "kinds": kinds, "performances": performances}

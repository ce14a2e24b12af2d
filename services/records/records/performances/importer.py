"""Performances the school or an external body reports (entered_by school | external), imported
through the one import capability (records/importing.py): one importer per kind of the national
多元表現名冊, its columns the sheet's (domain.KINDS) plus 學號 and 來源 (學校單位 / 校外機構;
empty: 學校單位, as on the form). By the registrar and the organising unit.

A row is the same performance as one stored when the student, kind, source and the kind's
identifying fields (KEYS) match a live one (not voided, not the student's own): equal in every
field -> unchanged (so the same file twice changes nothing); otherwise -> updated, with before and
after in the history. A new one starts `proof_missing` like a form's."""
import uuid

from portfolio_common.text import clean_text

from ..errors import StaleRecord
from ..history import snapshot
from ..itemkit import STUDENT_NO, columns
from ..profile.domain import _code_text
from . import domain
from .usecases import STAFF_ROLES, add_performance, stored_fields

# the fields that name one performance of a kind (besides student, kind and source)
KEYS = {"competition": ("name", "event", "announced_on"), "licence": ("licence_code", "obtained_on"),
        "work_based_learning": ("unit", "starts_on"), "work": ("name", "made_on"),
        "advanced_course": ("name", "institution", "starts_on"), "other": ("name", "starts_on")}
_SOURCES = {"school": "school", "學校": "school", "學校單位": "school", "校內": "school",
            "external": "external", "校外": "external", "校外機構": "external", "外部": "external"}
_TYPES = {"text": "text", "code": "code", "date": "date", "hours": "int"}


def _column_spec(kind):
    spec = [STUDENT_NO, ("entered_by", "來源", ("資料來源", "登錄來源", "entered_by", "source"), False, "text", None)]
    for name, label, typ, required, limit in domain.fields_of(kind):
        # a two-digit national code (競賽等級, 團體參與, 職場學習類別) keeps its leading zero
        spec.append((name, label, (name,), required, _TYPES[typ], 2 if typ == "code" and limit == 2 else None))
    return spec


class PerformanceImporter:
    key_field = "student_no"
    unique_in_file = ()
    roles = STAFF_ROLES

    def __init__(self, kind):
        self.performance_kind = kind
        self.kind = f"performance_{kind}"
        self.columns = columns(_column_spec(kind))

    def read(self, cells, ctx):
        values, problems = domain.read_performance(self.performance_kind, cells, today=ctx["today"])
        values["student_no"] = _code_text(cells.get("student_no"))
        if not values["student_no"]:
            problems.append(("student_no", "field_missing", {}))
        source = clean_text(cells.get("entered_by")).lower()
        values["entered_by"] = _SOURCES.get(source) if source else "school"
        if values["entered_by"] is None:
            problems.append(("entered_by", "code_unknown", {}))
        values["school_year"] = domain.school_year_of(self.performance_kind, values)
        return values, problems

    def _key(self, values):
        stored, _ = stored_fields({k: v for k, v in values.items() if k in dict.fromkeys(
            f for f, *_ in domain.fields_of(self.performance_kind))})
        return (values["entered_by"], *[stored.get(k) for k in KEYS[self.performance_kind]])

    def file_problems(self, rows):
        seen, out = {}, []
        for row, v in rows:
            if not v.get("student_no") or v.get("entered_by") is None:
                continue
            key = (v["student_no"], *self._key(v))
            if key in seen:
                out.append((row, KEYS[self.performance_kind][0], "duplicate_in_file", {"first_row": seen[key]}))
            seen.setdefault(key, row)
        return out

    def _own(self, values):
        return stored_fields({f: values.get(f) for f, *_ in domain.fields_of(self.performance_kind)})

    def plan(self, uow, ctx, values):
        tenant = ctx["caller"].tenant
        student = uow.students.by_student_no(tenant, values["student_no"])
        if student is None:
            return None, None, [("student_no", "student_unknown", {})]
        stored, description = self._own(values)
        key = self._key(values)
        for row in uow.performances.of_student(tenant, student["id"]):
            if row["kind"] != self.performance_kind or row["state"] == "voided" or row["entered_by"] == "student":
                continue
            if (row["entered_by"], *[row["fields"].get(k) for k in KEYS[self.performance_kind]]) != key:
                continue
            if row["fields"] == stored and row["description"] == description and row["school_year"] == values["school_year"]:
                return "unchanged", [str(row["id"]), row["version"]], []
            return "updated", [str(row["id"]), row["version"]], []
        return "created", [str(student["id"])], []

    def apply(self, uow, ctx, values, plan):
        action, marker = plan
        caller = ctx["caller"]
        own = {f: values.get(f) for f, *_ in domain.fields_of(self.performance_kind)}
        if action == "created":
            student = uow.students.get(caller.tenant, uuid.UUID(marker[0]))
            add_performance(uow, caller, student, self.performance_kind, own, values["entered_by"],
                            values["school_year"], "import")
            return
        row = uow.performances.get(caller.tenant, uuid.UUID(marker[0]), lock=True)
        stored, description = stored_fields(own)
        if row is None or row["version"] != marker[1] or row["state"] == "voided" or not uow.performances.update(
                row["id"], marker[1], {"fields": stored, "description": description,
                                       "school_year": values["school_year"]}):
            raise StaleRecord("the performance changed since the preview", code="stale_record")
        before = {"fields": row["fields"], "description": row["description"], "school_year": row["school_year"]}
        after = {"fields": stored, "description": description, "school_year": values["school_year"]}
        changed = [k for k in before if before[k] != after[k]]
        uow.history.record(caller.tenant, "performance", row["id"], "updated", caller.user_id,
                           actor_username=caller.username, student_id=row["student_id"],
                           before=snapshot({k: before[k] for k in changed}),
                           after=snapshot({k: after[k] for k in changed} | {"recorded_via": "import"}))


IMPORTERS = {f"performance_{kind}": PerformanceImporter(kind) for kind in domain.KINDS}

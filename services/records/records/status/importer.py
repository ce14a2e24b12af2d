"""Status changes (學籍異動) as a spreadsheet: one row per change, the student by 學號."""
from ..profile.domain import _code_text
from ..profile.usecases import REGISTRAR_ROLES
from . import domain, usecases

_C = [
    ("student_no", "學號", ("student_no", "student_number"), True, "code", None),
    ("change", "異動類別", ("異動別", "異動種類", "change"), True, "text", None),
    ("effective_on", "異動日期", ("學籍異動日期", "生效日期", "effective_on", "date"), True, "date", None),
    ("other_school_code", "原校或借讀學校代碼", ("原修課學校代碼", "原學校代碼", "借讀學校代碼", "轉入學校代碼",
                                          "學校代碼", "other_school_code"), False, "code", 6),
    ("school_year", "學年度", ("school_year",), False, "code", None),
    ("semester", "學期", ("semester",), False, "code", None),
    ("note", "備註", ("說明", "note"), False, "text", None),
]
COLUMNS = [{"field": f, "label": label, "aliases": list(aliases), "required": req, "type": t, "width": w}
           for f, label, aliases, req, t, w in _C]


class StatusChangeImporter:
    kind = "status_change"
    roles = REGISTRAR_ROLES
    key_field = "student_no"
    unique_in_file = ()
    columns = COLUMNS

    def read(self, cells, ctx):
        values, problems = domain.read_change(cells, today=ctx["today"])
        values["student_no"] = _code_text(cells.get("student_no"))
        if not values["student_no"]:
            problems.append(("student_no", "field_missing", {}))
        return values, problems

    def file_problems(self, rows):
        seen, out = {}, []
        for row, v in rows:
            key = (v.get("student_no"), v.get("change"), v.get("effective_on"))
            if all(key):
                if key in seen:
                    out.append((row, "change", "duplicate_in_file", {"first_row": seen[key]}))
                seen.setdefault(key, row)
        return out

    def plan(self, uow, ctx, values):
        student = uow.students.by_student_no(ctx["caller"].tenant, values["student_no"])
        if student is None:
            return None, None, [("student_no", "student_unknown", {})]
        return usecases.plan_change(uow, ctx["caller"], student, values)

    def apply(self, uow, ctx, values, plan):
        student = uow.students.by_student_no(ctx["caller"].tenant, values["student_no"])
        usecases.apply_change(uow, ctx["caller"], student, values, "import")


IMPORTERS = {"status_change": StatusChangeImporter()}

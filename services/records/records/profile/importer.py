"""The registrar's student roster (學籍資料) as a spreadsheet: one row per student profile."""
from . import domain, usecases

_C = [  # field, zh label, accepted header names (besides the label and the field), required, type, width
    ("student_no", "學號", ("student_no", "student_number", "studentno"), True, "code", None),
    ("name", "姓名", ("學生姓名", "name", "student_name"), True, "text", None),
    ("national_id", "身分證號", ("身分證字號", "身份證號", "身份證字號", "身分證統一編號", "統一證號", "national_id",
                             "nationalid", "id_no"), True, "code", None),
    ("birth_date", "出生日期", ("生日", "birth_date", "birthday", "date_of_birth"), False, "date", None),
    ("gender", "性別代碼", ("性別", "gender"), False, "code", None),
    ("class_code", "班級代碼", ("班級代號", "班級編號", "班級", "class_code", "class"), True, "code", None),
    ("class_name", "班級名稱", ("班名", "class_name"), False, "text", None),
    ("seat_no", "座號", ("seat_no", "seat"), False, "code", None),
    ("school_code", "學校代碼", ("school_code",), False, "code", 6),
    ("group_code", "群別代碼", ("群別", "group_code"), False, "code", None),
    ("department_code", "科班學程別代碼", ("科別代碼", "科別", "department_code"), False, "code", None),
    ("class_type_code", "班別", ("班別代碼", "class_type_code"), False, "code", None),
    ("division_code", "部別代碼", ("部別", "division_code"), False, "code", None),
    ("enrolment_route", "入學方式", ("入學方式代碼", "enrolment_route"), False, "code", None),
    ("status", "學籍狀態", ("status",), False, "text", None),
    ("username", "帳號", ("學生帳號", "使用者帳號", "登入帳號", "username", "account"), True, "username", None),
]
COLUMNS = [{"field": f, "label": label, "aliases": list(aliases), "required": req, "type": t, "width": w,
            "masked": f == "national_id"} for f, label, aliases, req, t, w in _C]


class StudentProfileImporter:
    kind = "student_profile"
    roles = usecases.REGISTRAR_ROLES
    key_field = "student_no"
    unique_in_file = ("student_no", "national_id", "user_id")
    columns = COLUMNS

    def read(self, cells, ctx):
        # the gateway resolves the username column to the account's id and roles (account_roles);
        # read_profile decides whether that account may hold a student record
        values, problems = domain.read_profile(cells, today=ctx["today"])
        return values, [(("username" if f == "user_id" else f), c, p) for f, c, p in problems]

    def file_problems(self, rows):
        names, out = {}, []
        for row, values in rows:
            code, name = values.get("class_code"), values.get("class_name")
            if code and name:
                if code in names and names[code][1] != name:
                    out.append((row, "class_name", "class_name_conflict", {"first_row": names[code][0]}))
                names.setdefault(code, (row, name))
        return out

    def plan(self, uow, ctx, values):
        action, marker, problems = usecases.plan_write(uow, ctx, values)
        return action, marker, [(("username" if f == "user_id" else f), c, p) for f, c, p in problems]

    def changes(self, uow, ctx, values, marker):
        return usecases.describe_changes(uow, ctx, values, marker)

    def apply(self, uow, ctx, values, plan):
        usecases.apply_write(uow, ctx, values, plan)


IMPORTERS = {"student_profile": StudentProfileImporter()}

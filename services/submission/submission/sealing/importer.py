"""College application dates from the registrar's spreadsheet (issue 9 item 7, "application
date import too"), through the one import capability (portfolio_common/importing.py): every
row's problems by row and column before anything is written, all or nothing, the same file
twice changes nothing, a change since the preview refuses the real run (stale_record).

Columns: 學號 (the gateway resolves it to the student of the caller's tenant and sends
student_id and student_user_id with the row) and 申請入學日期 (ROC or Gregorian spellings,
portfolio_common/rocdate.py). Refused rows: an unknown 學號 (student_unknown), a date that is
not one (date_missing, date_format, date_impossible, date_mixed_era), a date in the future or
before 2000 (application_date_invalid), a sealed student (student_sealed: the date is final),
the same 學號 twice (duplicate_in_file). A row equal to the stored date is `unchanged`; a
different date is `updated` (the earlier one kept: college_applications is append-only).
Who: the registrar (註冊組 / 教務組) and `system`.
"""
from portfolio_common import clock, rocdate
from portfolio_common.errors import Invalid

from . import domain

COLUMNS = [
    {"field": "student_no", "label": "學號", "aliases": ["學號", "student_no", "student_number", "學生學號"],
     "required": True, "type": "code", "width": None},
    {"field": "applied_on", "label": "申請入學日期",
     "aliases": ["申請入學日期", "申請日期", "大學申請日期", "申請大學日期", "applied_on", "application_date"],
     "required": True, "type": "date", "width": None},
]


class ApplicationDates:
    kind = "college_application"
    roles = ("registrar", "system")
    key_field = "student_no"
    unique_in_file = ("student_no",)
    columns = COLUMNS

    def read(self, cells, ctx):
        values, problems = {"student_no": str(cells.get("student_no") or "").strip()}, []
        values["student_id"] = str(cells.get("student_id") or "") or None
        values["student_user_id"] = str(cells.get("student_user_id") or "") or None
        if not values["student_no"]:
            problems.append(("student_no", "field_missing", {}))
        elif not values["student_id"] or not values["student_user_id"]:
            problems.append(("student_no", "student_unknown", {}))
        try:
            day = rocdate.parse_date(cells.get("applied_on"))
            values["applied_on"] = domain.parse_application_date(day, ctx["today"])
        except Invalid as exc:
            problems.append(("applied_on", exc.code, {}))
        return values, problems

    def plan(self, uow, ctx, values):
        tenant = ctx["caller"].tenant
        if uow.sealing.sealed(tenant, values["student_id"]):
            return None, None, [("applied_on", "student_sealed", {})]
        before = uow.sealing.application_of(tenant, values["student_id"])
        if before and str(before["student_user_id"]) != values["student_user_id"]:
            return None, None, [("student_no", "student_unknown", {})]
        if before is None:
            return "created", [values["student_id"], None], []
        if before["applied_on"] == values["applied_on"]:
            return "unchanged", [values["student_id"], before["applied_on"].isoformat()], []
        return "updated", [values["student_id"], before["applied_on"].isoformat()], []

    def apply(self, uow, ctx, values, plan):
        caller = ctx["caller"]
        uow.sealing.add_application(dict(
            tenant=caller.tenant, student_id=values["student_id"], student_user_id=values["student_user_id"],
            applied_on=values["applied_on"], recorded_by=caller.user_id, recorded_at=clock.now()))


IMPORTER = ApplicationDates()

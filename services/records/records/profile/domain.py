"""Rules of the student profile (基本資料, issue 8 item 1), free of frameworks and I/O.

One function reads a profile from what a person or a spreadsheet gave (text cells), so the
form, the API and the import apply the same rules: `read_profile(cells, today=...)` ->
(values, problems) with problems [(field, code, params)].
Codes follow the national student roster (學生資料名冊, DOMAIN.md); where the national list is
not public the shape is checked and the value kept as data.
"""
import datetime as dt
import re
import unicodedata
import uuid

from portfolio_common.text import clean_text

from .. import domain, rocdate
from ..errors import Invalid

FIELDS = ("student_no", "name", "national_id", "birth_date", "gender", "school_code", "class_code",
          "class_name", "seat_no", "group_code", "department_code", "class_type_code", "division_code",
          "enrolment_route", "status", "user_id")
REQUIRED = ("student_no", "name", "national_id", "class_code", "user_id")
# the fields the profile row keeps (class_code/class_name live on the class)
STORED = ("student_no", "name", "birth_date", "gender", "school_code", "seat_no", "group_code",
          "department_code", "class_type_code", "division_code", "enrolment_route", "status", "user_id")

GENDERS = {"1": "1", "2": "2", "男": "1", "女": "2", "M": "1", "F": "2", "MALE": "1", "FEMALE": "2"}
# 班別: day 1 一般班, 2 夜間部, 3 實用技能學程, 4 建教班, 9 實驗班; ce 01 核定班, 04 員工進修班
CLASS_TYPES = {"1", "2", "3", "4", "9", "01", "04"}
STATUSES = {"enrolled": "在學", "suspended": "休學", "transferred_out": "轉出", "graduated": "畢業",
            "withdrawn": "退學"}
_STATUS_BY_NAME = {v: k for k, v in STATUSES.items()}
_STUDENT_NO = re.compile(r"^[0-9A-Z][0-9A-Z_-]{0,31}$")
_CODE = re.compile(r"^[0-9A-Z]{1,10}$")
SCHOOL_CODE_DIGITS = 6
LOST = ("?", "\ufffd")  # what a Big5 export leaves where a character did not fit


def _code_text(raw) -> str:
    """A code as typed: NFKC (full-width -> ASCII), invisible characters and spaces out, upper."""
    text = unicodedata.normalize("NFKC", str(raw if raw is not None else ""))
    text = "".join(ch for ch in text if not ch.isspace() and unicodedata.category(ch) not in ("Cc", "Cf"))
    return text.upper()


def read_profile(cells: dict, *, today: dt.date) -> tuple[dict, list]:
    """cells: {field: text or value} -> (values, problems). Absent optional fields are None.
    national_id comes back normalised (A123456789) for the caller to encrypt and hash; it never
    appears in a problem."""
    values, problems = {}, []

    def bad(field, code, **params):
        problems.append((field, code, params))

    # --- identity
    no = _code_text(cells.get("student_no"))
    if no and not _STUDENT_NO.match(no):
        bad("student_no", "student_no_invalid")
    values["student_no"] = no
    name = clean_text(cells.get("name"))
    if any(ch in name for ch in LOST):
        bad("name", "character_lost")
    elif len(name) > 100:
        bad("name", "text_too_long", limit=100)
    values["name"] = name
    try:
        values["national_id"] = domain.validate_national_id(cells.get("national_id"), today=today) \
            if cells.get("national_id") not in (None, "") else ""
    except Invalid as exc:
        values["national_id"] = ""
        bad("national_id", exc.code)
    # --- birth date: stored as a date, shown as ROC yyyMMdd
    raw_birth = cells.get("birth_date")
    values["birth_date"] = None
    if raw_birth not in (None, ""):
        try:
            born = rocdate.parse_date(raw_birth)
            if born >= today:
                bad("birth_date", "date_in_future")
            else:
                rocdate.to_roc(born)
                values["birth_date"] = born
        except rocdate.DateInvalid as exc:
            bad("birth_date", exc.code)
    # --- codes
    g = _code_text(cells.get("gender"))
    values["gender"] = None
    if g:
        if g in GENDERS:
            values["gender"] = GENDERS[g]
        else:
            bad("gender", "code_unknown")
    sc = _code_text(cells.get("school_code"))
    if sc.isdigit() and len(sc) < SCHOOL_CODE_DIGITS:
        sc = sc.zfill(SCHOOL_CODE_DIGITS)   # a spreadsheet that dropped the leading zero
    if sc and not (sc.isdigit() and len(sc) == SCHOOL_CODE_DIGITS):
        bad("school_code", "school_code_invalid")
    values["school_code"] = sc or None
    for field in ("group_code", "department_code", "division_code", "enrolment_route"):
        code = _code_text(cells.get(field))
        if code and not _CODE.match(code):
            bad(field, "code_invalid")
        values[field] = code or None
    ct = _code_text(cells.get("class_type_code"))
    if ct and ct not in CLASS_TYPES:
        bad("class_type_code", "code_unknown")
    values["class_type_code"] = ct or None
    st = clean_text(cells.get("status"))
    status = _STATUS_BY_NAME.get(st, st.lower() if st else "enrolled")
    if status not in STATUSES:
        bad("status", "code_unknown")
    values["status"] = status
    # --- class and seat
    cc = _code_text(cells.get("class_code"))
    if len(cc) > 32:
        bad("class_code", "text_too_long", limit=32)
    values["class_code"] = cc
    cn = clean_text(cells.get("class_name"))
    if any(ch in cn for ch in LOST):
        bad("class_name", "character_lost")
    elif len(cn) > 100:
        bad("class_name", "text_too_long", limit=100)
    values["class_name"] = cn or None
    seat = _code_text(cells.get("seat_no"))
    values["seat_no"] = None
    if seat:
        if seat.isdigit() and 0 < int(seat) < 1000:
            values["seat_no"] = int(seat)
        else:
            bad("seat_no", "seat_no_invalid")
    # --- the student's portal account
    uid = cells.get("user_id")
    values["user_id"] = None
    if "account_roles" in cells and "student" not in str(cells.get("account_roles") or "").split(","):
        uid = None  # the named account is not a student of this tenant (the gateway looked it up)
    if uid not in (None, ""):
        try:
            values["user_id"] = str(uuid.UUID(str(uid)))
        except ValueError:
            bad("user_id", "student_account_missing")
    for field in REQUIRED:
        if not values.get(field) and not any(p[0] == field for p in problems):
            bad(field, "student_account_missing" if field == "user_id" else "field_missing")
    return values, problems


def public(row: dict) -> dict:
    """A stored profile as history and screens keep it (no national ID, dates ISO)."""
    def plain(v):
        return v.isoformat() if isinstance(v, dt.date) else str(v) if isinstance(v, uuid.UUID) else v
    return {k: plain(row.get(k)) for k in ("student_no", "name", "birth_date", "gender", "school_code", "class_code", "seat_no",
                      "group_code", "department_code", "class_type_code", "division_code", "enrolment_route",
                      "status", "user_id")}


# what a roster row may change on a stored student, in the order a preview lists it
CHANGE_FIELDS = ("school_year", "class_code", "class_name", "seat_no", "name", "national_id", "birth_date", "gender",
                 "status", "school_code", "group_code", "department_code", "class_type_code", "division_code",
                 "enrolment_route", "user_id")


def changes(before: dict, after: dict) -> list:
    """What writing `after` over the stored `before` changes, field by field, for a preview:
    [{field, before, after}] in CHANGE_FIELDS order; [] when nothing changes.

    Both sides as `public` gives them (dates ISO, ids as text) plus school_year, class_name and
    national_id, which the caller has already MASKED on both sides (a number never leaves the
    service in clear) - a corrected national ID whose masked forms look alike still shows as a
    change, because the caller compares the keyed hashes, not the masks. A field `after` does
    not name (e.g. class_name left empty keeps the class's name) is no change."""
    out = []
    for field in CHANGE_FIELDS:
        if field not in after:
            continue
        old, new = before.get(field), after.get(field)
        if old != new or (field == "national_id" and after.get("national_id_changed")):
            out.append({"field": field, "before": old, "after": new})
    return out

"""Rules of the national export, free of frameworks and I/O.

Sources: DOMAIN.md ("National rosters", "身分證號 validation", national practice on files and
the receipt loop) and regulation §4 (selection limits). Every function here is used both by the
school's pre-check and by the simulator of the national side.
"""
import datetime as dt
import re
import unicodedata

from portfolio_common.text import clean_text

# the national upper bound (regulation §4: at most 6 course outcomes a year); the school may
# set a lower one in its calendar — the pre-check holds the national one
MAX_OUTCOMES_SELECTED_PER_YEAR = 6

ROC_OFFSET = 1911
MB = 1024 * 1024
MAX_DESCRIPTION_CHARS = 100                      # 簡述 ≤ 100 characters (counted as the person sees it)
# national practice: documents ≤ 4 MB, audio and video ≤ 10 MB (files/domain.py DEFAULT_LIMITS)
FILE_LIMITS = {"application/pdf": 4 * MB, "image/jpeg": 4 * MB, "image/png": 4 * MB,
               "audio/mpeg": 10 * MB, "video/mp4": 10 * MB}
OLD_RESIDENT_VALID_UNTIL = dt.date(2031, 1, 1)   # old two-letter resident numbers (DOMAIN.md)
CHECK_DAYS = 3                                   # students check the receipt at least 3 days
COURSE_CODE = re.compile(r"^[0-9A-Za-z]{1,23}$")  # shape only: the code file decides (DOMAIN.md)

_LETTERS = {
    "A": 10, "B": 11, "C": 12, "D": 13, "E": 14, "F": 15, "G": 16, "H": 17, "I": 34, "J": 18,
    "K": 19, "L": 20, "M": 21, "N": 22, "O": 35, "P": 23, "Q": 24, "R": 25, "S": 26, "T": 27,
    "U": 28, "V": 29, "W": 32, "X": 30, "Y": 31, "Z": 33,
}
_CITIZEN_OR_RESIDENT = re.compile(r"^[A-Z][1289]\d{8}$")
_OLD_RESIDENT = re.compile(r"^[A-Z][A-D]\d{8}$")

# problem code -> the sentence the registrar (and the receipt's student) reads
MESSAGES = {
    "student_unknown": "學籍資料中找不到這位學生。",
    "national_id_missing": "身分證號未填。",
    "national_id_format": "身分證號格式不符（一個英文字母加九位數字）。",
    "national_id_checksum": "身分證號檢查碼不符，請核對學籍資料。",
    "national_id_expired_format": "舊式居留證號已於 2031 年 1 月 1 日停用，請更新為新式號碼。",
    "birth_date_missing": "出生日期未填。",
    "birth_date_invalid": "出生日期不是有效的民國日期（yyyMMdd，7 碼）。",
    "not_certified": "這件成果目前不是已認證狀態（可能已退回），不能上傳。",
    "fingerprint_mismatch": "檔案指紋與鎖定時保存的不同，請重新鎖定前先查明。",
    "file_too_large": "檔案超過上限（文件 4 MB、影音 10 MB）。",
    "file_type_not_allowed": "檔案類型不符（限 PDF、JPG、PNG、MP3、MP4）。",
    "description_empty": "成果簡述是空的。",
    "description_too_long": "成果簡述超過 100 字。",
    "course_code_missing": "課程代碼未填或格式不符。",
    "course_code_unknown": "課程代碼不在課程計畫平臺的代碼表中。",
    "quota_exceeded": f"本學年勾選的課程學習成果超過 {MAX_OUTCOMES_SELECTED_PER_YEAR} 件。",
    "row_malformed": "這一列的欄位不完整。",
}


def message(code: str) -> str:
    return MESSAGES.get(code, "資料有誤，請洽註冊組（教務組）。")


# ---------------------------------------------------------------- 身分證號

def normalize_national_id(raw) -> str:
    text = unicodedata.normalize("NFKC", str(raw or ""))
    return "".join(ch for ch in text if not ch.isspace()
                   and unicodedata.category(ch) not in ("Cc", "Cf")).upper()


def national_id_problem(raw, today: dt.date) -> str | None:
    """None when the ID is acceptable, else a problem code (never quoting the number).
    Citizens (2nd char 1/2), residents since 2021 (8/9), old two-letter residents (A-D) until
    2031-01-01; checksum: letter code digits weighted 1, 9, then 8..1, then 1; sum % 10 == 0."""
    nid = normalize_national_id(raw)
    if not nid:
        return "national_id_missing"
    old = bool(_OLD_RESIDENT.match(nid))
    if not (_CITIZEN_OR_RESIDENT.match(nid) or old):
        return "national_id_format"
    if old and today >= OLD_RESIDENT_VALID_UNTIL:
        return "national_id_expired_format"
    code = _LETTERS[nid[0]]
    second = _LETTERS[nid[1]] % 10 if old else int(nid[1])
    digits = [code // 10, code % 10, second] + [int(c) for c in nid[2:]]
    weights = [1, 9, 8, 7, 6, 5, 4, 3, 2, 1, 1]
    return None if sum(d * w for d, w in zip(digits, weights)) % 10 == 0 else "national_id_checksum"


# ---------------------------------------------------------------- ROC dates

def roc_date(value) -> str | None:
    """A Gregorian date (date or ISO text) as the rosters' ROC yyyMMdd (7 characters), or None
    when missing or not a date after 1911."""
    if value in (None, ""):
        return None
    try:
        d = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None
    if d.year <= ROC_OFFSET:
        return None
    return f"{d.year - ROC_OFFSET:03d}{d.month:02d}{d.day:02d}"


def roc_date_ok(text) -> bool:
    """Whether `text` is a real date written as ROC yyyMMdd (exactly 7 digits)."""
    text = str(text or "")
    if not re.fullmatch(r"\d{7}", text):
        return False
    try:
        dt.date(int(text[:3]) + ROC_OFFSET, int(text[3:5]), int(text[5:]))
    except ValueError:
        return False
    return int(text[:3]) >= 1


def term_code(school_year: int, semester: int) -> str:
    """實際修課學期 as the rosters write it: ROC school year and semester, e.g. 1151."""
    return f"{int(school_year)}{int(semester)}"


# ---------------------------------------------------------------- rows and the pre-check

def description_problem(text) -> str | None:
    cleaned = clean_text(text)
    if not cleaned:
        return "description_empty"
    if len(cleaned) > MAX_DESCRIPTION_CHARS:
        return "description_too_long"
    return None


def row_problems(row: dict, today: dt.date, course_codes=None) -> list:
    """Problems of one roster row (the national side checks the same): [(field, code)]."""
    out = []
    p = national_id_problem(row.get("national_id"), today)
    if p:
        out.append(("national_id", p))
    if not row.get("birth_date"):
        out.append(("birth_date", "birth_date_missing"))
    elif not roc_date_ok(row["birth_date"]):
        out.append(("birth_date", "birth_date_invalid"))
    code = str(row.get("course_code") or "")
    if not COURSE_CODE.match(code):
        out.append(("course_code", "course_code_missing"))
    elif course_codes is not None and code not in course_codes:
        out.append(("course_code", "course_code_unknown"))
    p = description_problem(row.get("description"))
    if p:
        out.append(("description", p))
    return out


def _problem(student, row_no, outcome_id, field, code, sheet="course_outcomes"):
    return {"sheet": sheet, "student_id": student["student_id"], "student_user_id": student["student_user_id"],
            "student_name": student.get("name") or "", "class_name": student.get("class_name") or "",
            "seat_no": student.get("seat_no"), "row": row_no, "outcome_id": outcome_id,
            "field": field, "code": code, "message": message(code)}


def precheck(held: list, certified: dict, directory: dict, semester: int, today: dt.date,
             school_year=None) -> tuple:
    """Rows of the 課程學習成果名冊 for one semester and every problem, before anything is built.

    held: the locked copy [{student_id, student_user_id, outcomes: [{outcome_id, course_code,
      subject_name, description, sha256}]}] (one per student of the tenant's school year);
    certified: submission's certified copy {outcome_id: {semester, sha256}};
    directory: records' export fields {student_id: {national_id, birth_date (ISO), name,
      class_name, seat_no, outcomes: {outcome_id: {status, size (bytes), content_type,
      grade_level, credits, file_id}}}} (None for a student records does not know).
    With school_year, a student whose records carry a status change of that year that routes
    outcomes to a variant sheet (builders.variant_of: 重讀, 轉學轉科, 借讀) has their rows on
    that sheet (`sheet`, the sheet's own row numbers, its extra fields); otherwise every row's
    `sheet` is "course_outcomes".
    Returns (rows, problems): rows in roster order (class, seat, then course code), each with
    `row` = its spreadsheet row on its sheet (the header is row 1) and the roster fields; problems
    [{student_id, student_user_id, student_name, class_name, seat_no, row (None: the student as
    a whole), outcome_id, field, code, message (zh-TW)}].
    """
    students = []
    for h in held:
        info = directory.get(str(h["student_id"]))
        students.append((h, info))
    students.sort(key=lambda s: ((s[1] or {}).get("class_name") or "", (s[1] or {}).get("seat_no") or 0,
                                 str(s[0]["student_id"])))
    rows, problems = [], []
    counters = {}
    for h, info in students:
        who = {"student_id": str(h["student_id"]), "student_user_id": str(h["student_user_id"]),
               **({k: info.get(k) for k in ("name", "class_name", "seat_no")} if info else {})}
        if info is None:
            problems.append(_problem(who, None, None, "student", "student_unknown"))
            continue
        if len(h["outcomes"]) > MAX_OUTCOMES_SELECTED_PER_YEAR:
            problems.append(_problem(who, None, None, "outcomes", "quota_exceeded"))
        birth = roc_date(info.get("birth_date"))
        sheet, extra = "course_outcomes", {}
        if school_year is not None:
            from .builders import variant_of
            sheet, extra = variant_of(info, school_year)
        mine = sorted((o for o in h["outcomes"]
                       if int((certified.get(str(o["outcome_id"])) or {}).get("semester") or 0) == int(semester)),
                      key=lambda o: (o["course_code"], str(o["outcome_id"])))
        for o in mine:
            oid = str(o["outcome_id"])
            meta = (info.get("outcomes") or {}).get(oid) or {}
            row_no = counters[sheet] = counters.get(sheet, 1) + 1
            row = {"row": row_no, "sheet": sheet, "student_id": who["student_id"], "student_user_id": who["student_user_id"],
                   "student_name": info.get("name") or "", "class_name": info.get("class_name") or "",
                   "seat_no": info.get("seat_no"),
                   "outcome_id": oid, "sha256": o["sha256"], "file_id": meta.get("file_id"),
                   "content_type": meta.get("content_type"),
                   "national_id": normalize_national_id(info.get("national_id")),
                   "birth_date": birth, "term": None, "course_code": o["course_code"],
                   "subject_name": o["subject_name"], "grade_level": meta.get("grade_level"),
                   "credits": meta.get("credits"), "description": clean_text(o["description"]), **extra}
            if "origin_school_code" in extra:
                row["origin_course_code"] = o["course_code"]
            copy = certified.get(oid) or {}
            row["term"] = term_code(copy.get("school_year") or 0, semester) if copy.get("school_year") else None
            found = row_problems(row, today)
            if meta.get("status") != "certified" or not copy:
                found.append(("outcome", "not_certified"))
            if copy and copy.get("sha256") != o["sha256"] or (meta and meta.get("sha256") not in (None, o["sha256"])):
                found.append(("file", "fingerprint_mismatch"))
            row["files"] = outcome_files(o, meta)
            found += file_problems(o, meta, row["files"])
            for field, code in found:
                problems.append(_problem(who, row_no, oid, field, code, sheet))
            rows.append(row)
    return rows, problems


def outcome_files(held_outcome: dict, meta: dict) -> list:
    """[{slot, file_id, sha256, size, content_type}] of a course-outcome row: every file of the
    outcome (issue 7: a document, a media file, or both), from records' `files` by slot; a
    records answer without it (older) gives the principal file as the document. Document
    first. Each goes into the package and its manifest (rosters.build_package)."""
    by_slot = (meta or {}).get("files") or ({"document": {
        "file_id": meta.get("file_id"), "sha256": meta.get("sha256"), "size": meta.get("size"),
        "content_type": meta.get("content_type")}} if meta else {})
    return [{"slot": slot, "file_id": f.get("file_id"), "sha256": f.get("sha256"), "size": f.get("size"),
             "content_type": f.get("content_type")}
            for slot, f in sorted(by_slot.items(), key=lambda kv: kv[0] != "document") if f]


FILE_FIELDS = {"document": "file", "media": "media_file"}


def file_problems(held_outcome: dict, meta: dict, files: list) -> list:
    """[(field, code)] of an outcome's files against the limits (type allowed, size within its
    type's limit: DOMAIN.md national practice) and the held copy's fingerprints by slot (a
    file that is not the one certified and locked: fingerprint_mismatch). field: `file` for
    the document, `media_file` for the media file."""
    if not meta:
        return []
    attested = held_outcome.get("fingerprints") or {"document": held_outcome["sha256"]}
    out = []
    if meta.get("files") and set(attested) != {f["slot"] for f in files}:
        out.append(("file", "fingerprint_mismatch"))
    for f in files:
        field = FILE_FIELDS.get(f["slot"], "file")
        if meta.get("files") and attested.get(f["slot"]) not in (None, f["sha256"]):
            out.append((field, "fingerprint_mismatch"))
        limit = FILE_LIMITS.get(f.get("content_type"))
        if limit is None:
            out.append((field, "file_type_not_allowed"))
        elif int(f.get("size") or 0) > limit:
            out.append((field, "file_too_large"))
    return out


def problems_by_student(problems: list) -> list:
    """[{student_id, student_name, class_name, seat_no, problems: [...]}] in roster order."""
    out, index = [], {}
    for p in problems:
        if p["student_id"] not in index:
            index[p["student_id"]] = len(out)
            out.append({k: p[k] for k in ("student_id", "student_name", "class_name", "seat_no")} | {"problems": []})
        out[index[p["student_id"]]]["problems"].append(
            {k: p.get(k) for k in ("sheet", "row", "outcome_id", "field", "code", "message")})
    return out


# ---------------------------------------------------------------- the receipt

def parse_receipt(raw, batch: dict, row_keys: set) -> dict:
    """The national side's receipt file (JSON `national-receipt/1`) for `batch`, checked.

    row_keys: {(roster, row_no)} of the batch. Returns {receipt_id, accepted, refused, results:
    [{roster, row, result, field, code}]}. Raises ReceiptInvalid (not a receipt, or rows the
    batch does not have), ReceiptOtherSchool (another school code), ReceiptOtherBatch (another
    year, semester or package fingerprint)."""
    import json
    from .errors import ReceiptInvalid, ReceiptOtherBatch, ReceiptOtherSchool
    try:
        doc = json.loads(raw.decode("utf-8-sig") if isinstance(raw, (bytes, bytearray)) else raw)
        if not isinstance(doc, dict) or doc.get("format") != "national-receipt/1":
            raise ValueError("format")
        receipt_id = str(doc["receipt_id"])
        results = [{"roster": str(r["roster"]), "row": int(r["row"]), "result": str(r["result"]),
                    "field": r.get("field"), "code": r.get("code")} for r in doc["rows"]]
        school, year, semester, sha = (str(doc["school_code"]), int(doc["school_year"]),
                                       int(doc["semester"]), str(doc["package_sha256"]))
    except (ValueError, KeyError, TypeError, UnicodeDecodeError, AttributeError):
        raise ReceiptInvalid("this is not a receipt file of the national side") from None
    if not receipt_id or len(receipt_id) > 64 or any(r["result"] not in ("accepted", "refused") for r in results):
        raise ReceiptInvalid("this is not a receipt file of the national side")
    if school != batch["school_code"]:
        raise ReceiptOtherSchool("this receipt is another school's")
    if (year, semester, sha) != (batch["school_year"], batch["semester"], batch["package_sha256"]):
        raise ReceiptOtherBatch("this receipt is for another school year, semester or package")
    if any((r["roster"], r["row"]) not in row_keys for r in results):
        raise ReceiptInvalid("the receipt names rows this submission does not have")
    return {"receipt_id": receipt_id, "results": results,
            "accepted": sum(r["result"] == "accepted" for r in results),
            "refused": sum(r["result"] == "refused" for r in results)}

"""Certification rules, free of frameworks and I/O.

Certification attests that the student made the work for this course; it is not grading
(DOMAIN.md). A task is one round of one outcome: the upload opens round 1, a re-upload after a
return (or after a withdrawal) opens the next round on the same outcome; each round gets at
most one decision (certified or returned), made on the fingerprint of that round's file.
"""
import re

from portfolio_common import events
from portfolio_common import text as text_rules
from portfolio_common.windows import CalendarNotSet, Window

from .errors import AlreadyDecided, NotAllowed, NotCertified, ReasonRequired, ReasonUnknown, ReturnReasonInvalid

MAX_BATCH = 200
MAX_REASON_CHARS = 500
MAX_LABEL_CHARS = 100
OPEN = "pending"
# A round that ended without a decision: a newer file came first, or the student left.
SUPERSEDED, CLOSED = "superseded", "closed"
STATUSES = ("pending", "certified", "returned", "withdrawn", SUPERSEDED, CLOSED)

# The list a school starts with (the academic section edits it: RPC save_return_reason).
# (code, label, needs_note): `other` is the one that needs free text to mean anything.
DEFAULT_RETURN_REASONS = (
    ("unreadable", "檔案無法開啟或內容模糊不清", False),
    ("wrong_file", "上傳的檔案不是這件成果", False),
    ("not_this_course", "成果內容與本課程無關", False),
    ("description_mismatch", "簡述與檔案內容不符", False),
    ("incomplete", "內容不完整（如缺封面、組員名單或必要段落）", False),
    ("not_own_work", "無法確認為學生本人完成", False),
    ("other", "其他", True),
)
FALLBACK_REASON = "other"   # a return with free text only is filed under 其他
REASON_CODE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")


def acting_for(task_teacher_id, caller_user_id, proxy_for=()):
    """Who the caller certifies for: None for their own sections, the teacher's id when acting
    as that teacher's proxy (代理人, a delegation the accounts service holds and the gateway
    signs into the caller); anyone else is refused."""
    if str(task_teacher_id) == str(caller_user_id):
        return None
    if str(task_teacher_id) in {str(t) for t in proxy_for}:
        return str(task_teacher_id)
    raise NotAllowed("only the section's teacher (or a named proxy) may certify", code="not_your_section")


def check_pending(status: str):
    """A round is decided once: anything but `pending` is AlreadyDecided (`already_decided`)."""
    if status != OPEN:
        raise AlreadyDecided(f"already {status}")


def check_certified(status: str):
    """Only a certified round can be withdrawn (NotCertified, `not_certified`)."""
    if status != "certified":
        raise NotCertified(f"this round is {status}, not certified")


def round_files(task) -> dict:
    """{slot: {file_id, filename, content_type, sha256}}: the files of a round (an outcome holds
    a document, a media file, or both). A round stored before outcomes had two slots holds its
    one file in the slot of its content type."""
    if task.get("files"):
        return {k: dict(v) for k, v in task["files"].items()}
    return {events.slot_of_content_type(task.get("content_type")): {
        "file_id": str(task.get("file_id")), "filename": task.get("filename"), "content_type": task.get("content_type"),
        "sha256": task["sha256"]}}


def fingerprints(files: dict) -> dict:
    """{slot: sha256} of a round's files: what a decision attests."""
    return {slot: f["sha256"] for slot, f in sorted(files.items())}


def principal_file(files: dict) -> dict:
    """The file a round's single-file fields name (older readers): the document, else the media."""
    return files.get("document") or files["media"]


def round_on_upload(latest, sha256: str, slot: str = "document") -> str:
    """What an `outcome-uploaded` of a file in `slot` does to an outcome whose newest round is
    `latest` (a task dict, or None for a new outcome). A certification attests the outcome as a
    whole, so the file is compared with the same slot's file of the latest round (an empty slot
    compares unequal):

    - "open": open the first / next round (new outcome; after a return, a withdrawal or a
      closed round; a different file on a certified outcome needs its own attestation);
    - "keep": nothing changes (the identical file of a certified or still-open round: the
      certification is kept, DOMAIN.md on the 2021 restore);
    - "supersede": a different file replaces the open round's before anyone decided on it.
    """
    if latest is None:
        return "open"
    held = round_files(latest).get(slot)
    same = held is not None and held["sha256"] == sha256
    if latest["status"] == OPEN:
        return "keep" if same else "supersede"
    if latest["status"] == "certified":
        return "keep" if same else "open"
    return "open"


def clean_free_text(raw, *, required: bool, what="reason") -> str:
    text = text_rules.clean_text(raw) if raw is not None else ""
    if required and not text:
        raise ReasonRequired(f"a {what} is required")
    if len(text) > MAX_REASON_CHARS:
        raise ReasonRequired(f"{what} is longer than {MAX_REASON_CHARS} characters", code="reason_too_long")
    return text


def return_reason(reasons: dict, code, note) -> tuple:
    """The (code, text) recorded for a return: `code` from the school's active list `reasons`
    ({code: {"label", "needs_note", "active"}}), plus optional free text `note` (required when
    the listed reason needs one, e.g. 其他). No code but a note files it under 其他.
    Raises ReasonRequired (`reason_required`: no reason at all; `reason_note_required`: a
    listed reason that needs free text without it; `reason_too_long`), ReasonUnknown."""
    note = clean_free_text(note, required=False)
    code = (str(code).strip() if code is not None else "") or (FALLBACK_REASON if note else "")
    if not code:
        raise ReasonRequired("choose a reason for returning the outcome")
    entry = reasons.get(code)
    if entry is None or not entry["active"]:
        raise ReasonUnknown(f"{code!r} is not on the school's list of return reasons")
    if entry["needs_note"] and not note:
        raise ReasonRequired(f"the reason {entry['label']} needs an explanation", code="reason_note_required")
    text = f"{entry['label']}：{note}" if note else entry["label"]
    if len(text) > MAX_REASON_CHARS:
        raise ReasonRequired(f"reason is longer than {MAX_REASON_CHARS} characters", code="reason_too_long")
    return code, text


def clean_return_reason_entry(code, label, needs_note, active, position) -> dict:
    """An entry of the school's list as the academic section sends it; ReturnReasonInvalid
    (`return_reason_invalid`) for a bad code or label."""
    code = str(code or "").strip()
    if not REASON_CODE.match(code):
        raise ReturnReasonInvalid("a code is 2-40 lower-case letters, digits or _ and starts with a letter")
    label = " ".join(text_rules.clean_text(label or "").split())
    if not label or len(label) > MAX_LABEL_CHARS:
        raise ReturnReasonInvalid(f"a label has 1-{MAX_LABEL_CHARS} characters")
    try:
        position = int(position or 0)
    except (TypeError, ValueError):
        raise ReturnReasonInvalid("position is a whole number") from None
    return {"code": code, "label": label, "needs_note": bool(needs_note), "active": bool(active),
            "position": max(0, min(position, 10_000))}


def check_window(calendar, day=None):
    """Raise unless today is inside the certification window of the task's term: `calendar` is
    the held copy of that term (a dict with certification_opens_on / _closes_on) or None.
    CalendarNotSet (`calendar_not_set`): no copy, an unknown window is not an open one;
    WindowClosed (`window_closed`) with the window's dates."""
    if calendar is None:
        raise CalendarNotSet("學校尚未設定此學期的認證期間，請洽教務處（進修部：教學組）")
    Window.of("certification", {"opens_on": calendar["certification_opens_on"],
                                "closes_on": calendar["certification_closes_on"]}).check(day)


# ---- oversight figures (issue 10 item 6)
FIGURE_GROUPS = {"tenant": None, "teacher": "teacher_user_id", "section": "section_id",
                 "subject": "subject_name", "class": "class_code"}
FIGURE_STATUSES = {"pending": "open", "certified": "certified", "returned": "returned", "withdrawn": "withdrawn"}
NO_CLASS = "未分班"   # rounds opened before tasks carried the class, or a student without one

# Who sees which rounds (DOMAIN.md, "Who does what": oversight by the principal (convenor) and
# the dean of academic affairs (executive secretary); the academic section (day: 註冊組 of 教務處,
# ce: 教務組) holds the registrar role). The homeroom teacher sees their class, the subject
# convener their subject(s); the roles are unioned for a person holding several.
WHOLE_TENANT_ROLES = ("ops", "system", "executive_secretary", "principal", "registrar")
SCOPED_ROLES = ("homeroom_teacher", "subject_convener")


def _median(values):
    values = sorted(values)
    if not values:
        return None
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def oversight_scope(roles, user_id, own_subjects=()) -> dict | None:
    """What part of the tenant a caller oversees: None for the whole tenant (WHOLE_TENANT_ROLES),
    else {"homeroom_user_id": id or None, "subjects": frozenset} (homeroom teacher: the classes
    they are the homeroom teacher of, as the rounds carry them: usecases.with_current_classes
    puts in the students' classes of today; subject convener: `own_subjects`, the
    subjects they teach themselves, since a convener's grant names no subject).
    NotAllowed for a caller with none of these roles."""
    roles = set(roles)
    if roles & set(WHOLE_TENANT_ROLES):
        return None
    if not roles & set(SCOPED_ROLES):
        raise NotAllowed("oversight figures are for the academic section, the executive secretary, the principal, "
                         "homeroom teachers and subject conveners")
    return {"homeroom_user_id": str(user_id) if "homeroom_teacher" in roles else None,
            "subjects": frozenset(own_subjects) if "subject_convener" in roles else frozenset()}


def in_scope(rounds, scope) -> list:
    """The rounds a caller of `scope` (oversight_scope) may count: all for None, else those of
    their class (homeroom_user_id) or of their subjects (subject_name)."""
    if scope is None:
        return list(rounds)
    mine, subjects = scope["homeroom_user_id"], scope["subjects"]
    return [r for r in rounds if (mine is not None and str(r.get("homeroom_user_id")) == mine)
            or r["subject_name"] in subjects]


def _label(by, key, rows):
    if by == "class":
        names = sorted({r.get("class_name") for r in rows if r.get("class_name")})
        return names[0] if names else (key or NO_CLASS)
    if by == "section":
        classes = sorted({r.get("class_name") or r.get("class_code") or NO_CLASS for r in rows})
        return f"{rows[0]['subject_name']}（{'、'.join(classes[:3])}{'…' if len(classes) > 3 else ''}）"
    if by == "subject":
        return key
    return None   # tenant: the page names it; teacher: the gateway looks up the name


def figures(rounds, by: str) -> list:
    """Oversight figures of rounds grouped `by` tenant | teacher | section | subject | class.

    rounds: dicts with teacher_user_id, section_id, subject_name, class_code, class_name,
    status, created_at and decided_at (None without a decision); superseded and closed rounds
    are not counted.
    Returns [{"key": str | None (None for the whole tenant and for rounds without a class),
    "label": str | None (class name, subject and classes of a section, subject; None for a
    teacher and the tenant), "open", "certified", "returned", "withdrawn": int, "decided": int,
    "median_hours_to_decide": float | None}] sorted by class code for classes, else by label
    and key (None first); time to decide is
    decided_at - created_at of the round (a withdrawn round counts with its original
    decision), in hours rounded to 0.1. ValueError for an unknown `by`."""
    if by not in FIGURE_GROUPS:
        raise ValueError(f"by must be one of {sorted(FIGURE_GROUPS)}")
    field = FIGURE_GROUPS[by]
    groups = {}
    for r in rounds:
        name = FIGURE_STATUSES.get(r["status"])
        if name is None:
            continue
        key = None if field is None or r.get(field) is None else str(r[field])
        g = groups.setdefault(key, {"key": key, "open": 0, "certified": 0, "returned": 0, "withdrawn": 0,
                                    "_hours": [], "_rows": []})
        g[name] += 1
        g["_rows"].append(r)
        if r.get("decided_at") is not None:
            g["_hours"].append((r["decided_at"] - r["created_at"]).total_seconds() / 3600)
    out = []
    for key, g in groups.items():
        hours, rows = g.pop("_hours"), g.pop("_rows")
        median = _median(hours)
        out.append(dict(g, label=_label(by, key, rows), decided=len(hours),
                        median_hours_to_decide=None if median is None else round(median, 1)))
    by_code = by == "class"   # classes in the order of their codes (101, 102, ...), the rest by name
    return sorted(out, key=lambda f: (f["key"] is not None, (f["key"] if by_code else f["label"]) or "", f["key"] or ""))


# ---- open rounds at the window's close (issue 10 item 3: hand them to a proxy)
def open_at_close(rounds, calendars: dict, today, within_days: int) -> list:
    """Open rounds whose term's certification window has closed or closes within `within_days`
    days of `today`, per teacher and section, for the academic section to hand to a proxy
    (代理人; accounts.grant_proxy) while the window is still open.

    rounds: dicts with teacher_user_id, section_id, subject_name, school_year, semester (open
    rounds only); calendars: {(school_year, semester): {certification_opens_on, _closes_on}}.
    Returns [{"teacher_user_id", "section_id", "subject_name", "school_year", "semester",
    "open": int, "closes_on": date | None, "window": "closing" | "closed" | "calendar_not_set"}],
    the most urgent first. A term without a calendar is listed too: nobody can decide there."""
    import datetime as _dt
    limit = today + _dt.timedelta(days=max(0, int(within_days)))
    groups = {}
    for r in rounds:
        cal = calendars.get((r["school_year"], r["semester"]))
        closes = cal["certification_closes_on"] if cal else None
        if closes is not None and closes > limit:
            continue
        window = "calendar_not_set" if closes is None else ("closed" if closes < today else "closing")
        key = (str(r["teacher_user_id"]), str(r["section_id"]), r["school_year"], r["semester"])
        g = groups.setdefault(key, {"teacher_user_id": key[0], "section_id": key[1], "subject_name": r["subject_name"],
                                    "school_year": r["school_year"], "semester": r["semester"], "open": 0,
                                    "closes_on": closes, "window": window})
        g["open"] += 1
    return sorted(groups.values(), key=lambda g: (g["closes_on"] is not None, g["closes_on"] or today,
                                                  -g["open"], g["subject_name"]))


def reminders_due(tenant: str, closing: list, returned: list) -> list:
    """The reminder e-mails due now (issue 10 item 5), each with a key that names it once:
    a teacher once per term whose certification window closes soon with rounds still open, a
    student once per returned round not yet uploaded again.

    closing: open_at_close's groups (only `window == "closing"` ones remind: after the close the
    academic section hands them to a proxy); returned: dicts with task_id, student_user_id,
    subject_name, description, reason (the latest round of its outcome, status returned).
    Returns [{"key", "kind", "user_id", "subject", "body"}] (zh-TW)."""
    out, teachers = [], {}
    for g in closing:
        if g["window"] != "closing":
            continue
        t = teachers.setdefault((g["teacher_user_id"], g["school_year"], g["semester"]),
                                {"closes_on": g["closes_on"], "lines": [], "open": 0})
        t["lines"].append(f"・{g['subject_name']}：{g['open']} 件")
        t["open"] += g["open"]
    for (teacher, sy, sem), t in sorted(teachers.items(), key=lambda kv: str(kv[0])):
        out.append({"key": f"{tenant}:teacher_window_closing:{teacher}:{sy}-{sem}", "kind": "teacher_window_closing",
                    "user_id": teacher,
                    "subject": f"【學習歷程檔案】{sy}-{sem} 課程學習成果認證將於 {t['closes_on']} 截止",
                    "body": (f"老師您好：\n\n您還有 {t['open']} 件課程學習成果待認證，本學期認證期間將於 "
                             f"{t['closes_on']} 截止：\n" + "\n".join(t["lines"])
                             + "\n\n請登入學習歷程檔案平台的「認證」頁面完成認證或退回。\n")})
    for r in returned:
        out.append({"key": f"{tenant}:student_returned:{r['task_id']}", "kind": "student_returned",
                    "user_id": str(r["student_user_id"]),
                    "subject": f"【學習歷程檔案】課程學習成果被退回：{r['subject_name']}",
                    "body": (f"同學您好：\n\n您上傳的「{r['subject_name']}」課程學習成果（{r['description']}）"
                             f"被任課教師退回。\n退回原因：{r['reason'] or '（未填）'}\n\n"
                             "請登入學習歷程檔案平台的「課程學習成果」頁面，修改後按「重新上傳」。\n")})
    return out

"""Steps shared by the portal pages and the API (orchestration only, no business rules)."""
from .clients import files_public_url, files_token, rpc, rpc_many

TICKET_TTL_S = 15 * 60  # records' ticket lifetime
from .errors import ERRORS, ApiError


def outcome_reupload_ticket(outcome_id, description, upload_key=None, slot=None) -> dict:
    """A file for an existing outcome of the student, into `slot` (document | media): a
    returned outcome's file uploaded again, or the outcome's empty slot filled (the media file
    beside the document, or the reverse). records issues a ticket for the same outcome
    (records.issue_reupload_ticket: same section and term, the 簡述 may be corrected, the quota
    counts outcomes); the file then goes to the files service as for a first upload."""
    t = rpc("records", "issue_reupload_ticket", outcome_id, description, upload_key, slot)
    base = files_public_url()
    return {"outcome_id": t["outcome_id"], "slot": t.get("slot", slot), "ticket": t["ticket"],
            "files_token": files_token(),
            "upload_url": base + "/v1/files", "resumable_url": base + "/v1/uploads",
            "expires_in": TICKET_TTL_S}


def outcome_ticket(section_id, description, upload_key=None, slot=None) -> dict:
    """records checks enrolment, 簡述 and the semester quota and holds a slot; the client then
    sends the bytes to the files service itself (upload_url: the whole file in one request;
    resumable_url: tus), presenting `files_token` and the ticket. The gateway carries no bytes.

    upload_key: the same for every retry of one upload (Idempotency-Key, or the form's id), so
    a retry after a lost answer gets the same ticket instead of a second quota slot."""
    t = rpc("records", "issue_outcome_ticket", section_id, description, upload_key, slot)
    base = files_public_url()
    return {"outcome_id": t["outcome_id"], "slot": t.get("slot", slot), "ticket": t["ticket"],
            "files_token": files_token(),
            "upload_url": base + "/v1/files", "resumable_url": base + "/v1/uploads",
            "expires_in": TICKET_TTL_S}


def decide(action, task_ids, reason=None, reason_code=None) -> dict:
    """certify | return (reason_code of the school's list + free text `reason`) | withdraw
    (`reason`). Each refused item gets `message_zh`: the code's sentence, and for a window the
    service's own sentence with the dates."""
    if action == "certify":
        result = rpc("certification", "certify", list(task_ids))
    elif action == "return":
        result = rpc("certification", "return_outcomes", list(task_ids), reason_code, reason)
    elif action == "withdraw":
        result = rpc("certification", "withdraw_certifications", list(task_ids), reason)
    else:
        raise ApiError("invalid", detail="action must be certify, return or withdraw")
    for r in result.get("refused", []):
        zh = ERRORS.get(r["code"], ERRORS["invalid"])[1]
        r["message_zh"] = r["reason"] if r["code"] in ("window_closed", "calendar_not_set") else zh
    return result


def teacher_queue(status="pending", *also) -> list:
    """The teacher's tasks with the student's number, name, class code and seat number (座號,
    None when the roster has none) from the records roster, in queue order: class, subject,
    seat number (student number when there is none).

    `also`: more calls (service, method, *args) to make at the same time (rpc_many); then the
    answer is [tasks, *their answers]."""
    tasks, students, *more = rpc_many(("certification", "list_queue", status), ("records", "list_my_students"),
                                      *also)
    roster = {s["id"]: s for s in students}
    for t in tasks:
        st = roster.get(t["student_id"], {})
        t["student_no"], t["student_name"] = st.get("student_no", ""), st.get("name", "")
        t["class_code"], t["seat_no"] = st.get("class_code") or "", st.get("seat_no")
    tasks.sort(key=lambda t: (t["class_code"], t["subject_name"], t["seat_no"] is None,
                              t["seat_no"] or 0, t["student_no"]))
    return [tasks, *more] if also else tasks

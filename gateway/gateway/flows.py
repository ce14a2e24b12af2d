"""Steps shared by the portal pages and the API (orchestration only, no business rules)."""
from .clients import files_public_url, files_token, rpc

TICKET_TTL_S = 15 * 60  # records' ticket lifetime
from .errors import ApiError


def outcome_ticket(section_id, description, upload_key=None) -> dict:
    """records checks enrolment, 簡述 and the semester quota and holds a slot; the client then
    sends the bytes to the files service itself (upload_url: the whole file in one request;
    resumable_url: tus), presenting `files_token` and the ticket. The gateway carries no bytes.

    upload_key: the same for every retry of one upload (Idempotency-Key, or the form's id), so
    a retry after a lost answer gets the same ticket instead of a second quota slot."""
    t = rpc("records", "issue_outcome_ticket", section_id, description, upload_key)
    base = files_public_url()
    return {"outcome_id": t["outcome_id"], "ticket": t["ticket"], "files_token": files_token(),
            "upload_url": base + "/v1/files", "resumable_url": base + "/v1/uploads",
            "expires_in": TICKET_TTL_S}


def decide(action, task_ids, reason=None) -> dict:
    if action == "certify":
        return rpc("certification", "certify", list(task_ids))
    if action == "return":
        return rpc("certification", "return_outcomes", list(task_ids), reason)
    raise ApiError("invalid", detail="action must be certify or return")


def teacher_queue(status="pending") -> list:
    """The teacher's tasks with the student's number and name from the records roster."""
    tasks = rpc("certification", "list_queue", status)
    roster = {s["id"]: s for s in rpc("records", "list_my_students")}
    for t in tasks:
        st = roster.get(t["student_id"], {})
        t["student_no"], t["student_name"] = st.get("student_no", ""), st.get("name", "")
    return tasks

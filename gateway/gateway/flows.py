"""Steps shared by the portal pages and the API (orchestration only, no business rules)."""
from .clients import rpc, upload_outcome_file
from .errors import ApiError


def upload_outcome(section_id, description, file_storage, upload_key=None) -> dict:
    if file_storage is None or not file_storage.filename:
        raise ApiError("file_missing")
    stream = file_storage.stream
    stream.seek(0, 2)
    size = stream.tell()
    stream.seek(0)
    # records checks enrolment, 簡述 and the semester quota before any byte moves
    # upload_key: the same for every retry of one upload (Idempotency-Key, or the form's id), so
    # a retry after a lost answer neither takes a second quota slot nor stores a second copy
    ticket = rpc("records", "issue_outcome_ticket", section_id, description, upload_key)
    try:
        stored = upload_outcome_file(ticket["ticket"], stream, file_storage.filename, size)
    except ApiError as exc:
        if exc.code == "already_uploaded":  # a retry of an upload that was in fact stored
            raise
        if exc.status < 500:  # refused for good: give the quota slot back now, not in 15 minutes
            rpc("records", "release_outcome_ticket", ticket["outcome_id"])
        raise
    return {"outcome_id": ticket["outcome_id"], "status": "processing", **stored}


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

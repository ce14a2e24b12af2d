"""Certification rules, free of frameworks and I/O.

Certification attests that the student made the work for this course; it is not grading.
"""
from .errors import AlreadyDecided, NotAllowed, ReasonRequired

MAX_BATCH = 200
MAX_REASON_CHARS = 500


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
    if status != "pending":
        raise AlreadyDecided(f"already {status}")


def clean_reason(reason) -> str:
    text = (reason or "").strip()
    if not text:
        raise ReasonRequired("a reason is required when returning an outcome")
    if len(text) > MAX_REASON_CHARS:
        raise ReasonRequired(f"reason is longer than {MAX_REASON_CHARS} characters", code="reason_too_long")
    return text

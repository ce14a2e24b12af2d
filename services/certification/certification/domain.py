"""Certification rules, free of frameworks and I/O.

Certification attests that the student made the work for this course; it is not grading.
"""
from .errors import AlreadyDecided, NotAllowed, ReasonRequired

MAX_BATCH = 200
MAX_REASON_CHARS = 500


def acting_for(task_teacher_id: str, caller_user_id: str):
    """Who the caller certifies for. None when acting for themself.

    Proxy delegations (代理人) are granted by the accounts capability; until they exist only
    the section's own teacher may decide.
    """
    if str(task_teacher_id) == str(caller_user_id):
        return None
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

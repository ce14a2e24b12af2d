"""Portal notices (issue 10 item 5): what a teacher or a student must act on soon, shown as a
banner on their own page. Plain functions over what the pages already read (the school
calendar's current term, the queue, the student's outcomes). The same reminders go out by
e-mail from the certification service's timer (services/certification/README.md, Reminders) to
the address each person sets on their 電子郵件 page (portal.my_email)."""

REMIND_WITHIN_DAYS = 7  # a teacher's notice starts this many days before the certification window closes


def teacher_notice(pending: int, term: dict | None, within_days: int = REMIND_WITHIN_DAYS) -> str | None:
    """zh-TW sentence for a teacher with `pending` open tasks when the current term's
    certification window is open and closes within `within_days` days (days_left counts today,
    as the calendar shows it), or has closed with tasks still open; else None.
    `term`: submission.get_calendar's shape ({windows: {certification: {closes_on, state, days_left}}})."""
    w = ((term or {}).get("windows") or {}).get("certification")
    if not pending or not w:
        return None
    if w.get("state") == "open" and w.get("days_left") is not None and w["days_left"] <= within_days:
        return (f"您還有 {pending} 件待認證，本學期認證期間將於 {w['closes_on']} 截止"
                f"（還有 {w['days_left']} 天），請儘早完成。")
    if w.get("state") == "closed":
        return f"本學期認證期間已於 {w['closes_on']} 截止，您仍有 {pending} 件待認證，請洽教務處指派代理人。"
    return None


def student_notice(outcomes: list, term: dict | None) -> str | None:
    """zh-TW sentence for a student whose outcomes were returned (not yet uploaded again), with
    the upload window's end when it is open; else None."""
    returned = [o for o in outcomes if o.get("status") == "returned" and not o.get("selected_locked")]
    if not returned:
        return None
    text = f"您有 {len(returned)} 件課程學習成果被任課教師退回，請依退回原因修改後按「重新上傳」"
    w = ((term or {}).get("windows") or {}).get("upload")
    if w and w.get("state") == "open":
        text += f"（上傳期間至 {w['closes_on']}，還有 {w['days_left']} 天）"
    return text + "。"

"""Portal notices: a teacher near the certification window's end, a student with returned items."""
from gateway import notices


def term(**windows):
    return {"school_year": 115, "semester": 1, "windows": windows}


OPEN_3 = {"opens_on": "2026-09-01", "closes_on": "2027-01-20", "state": "open", "days_left": 3}


def test_teacher_notice_only_with_open_tasks_near_or_after_the_close():
    assert notices.teacher_notice(4, term(certification=OPEN_3)) == \
        "您還有 4 件待認證，本學期認證期間將於 2027-01-20 截止（還有 3 天），請儘早完成。"
    assert notices.teacher_notice(0, term(certification=OPEN_3)) is None
    far = dict(OPEN_3, days_left=notices.REMIND_WITHIN_DAYS + 1)
    assert notices.teacher_notice(4, term(certification=far)) is None
    assert notices.teacher_notice(4, term(certification=dict(OPEN_3, days_left=7)), within_days=7) is not None
    closed = dict(OPEN_3, state="closed", days_left=None)
    assert "已於 2027-01-20 截止" in notices.teacher_notice(1, term(certification=closed))
    assert notices.teacher_notice(1, term(certification=dict(OPEN_3, state="upcoming"))) is None
    assert notices.teacher_notice(2, None) is None


def test_student_notice_counts_returned_items_not_locked_ones():
    outs = [{"status": "returned"}, {"status": "certified"}, {"status": "returned", "selected_locked": True}]
    up = {"opens_on": "2026-09-01", "closes_on": "2027-02-14", "state": "open", "days_left": 10}
    assert notices.student_notice(outs, term(upload=up)) == \
        "您有 1 件課程學習成果被任課教師退回，請依退回原因修改後按「重新上傳」（上傳期間至 2027-02-14，還有 10 天）。"
    assert notices.student_notice(outs, None).endswith("「重新上傳」。")
    assert notices.student_notice([{"status": "uploaded"}], None) is None

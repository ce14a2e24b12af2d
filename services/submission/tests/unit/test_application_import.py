"""College application dates imported from the registrar's spreadsheet rows (the gateway reads
the file and resolves 學號): all or nothing, every problem by row and column, idempotent, a
future date and a sealed student refused; through the one import capability."""
import datetime as dt
import uuid

import pytest

from portfolio_common import clock, importing
from submission.sealing.importer import IMPORTER
from submission.unit_of_work import FakeSubmissionUnitOfWork

from .test_submission_usecases import who

REG = who("registrar", uid=str(uuid.uuid4()))
A, B = ({"student_id": str(uuid.uuid4()), "student_user_id": str(uuid.uuid4())} for _ in range(2))


def row(n, student_no, applied_on, ids):
    return {"row": n, "cells": {"student_no": student_no, "applied_on": applied_on, **(ids or {})}}


def run(uow, rows, dry_run=False, caller=REG, basis=None):
    return importing.run_import(uow, IMPORTER, {"caller": caller}, rows, dry_run=dry_run, basis=basis)


@pytest.fixture
def uow():
    return FakeSubmissionUnitOfWork()


def test_roc_and_gregorian_dates_imported_once(uow):
    rows = [row(2, "S001", "115/03/01", A), row(3, "S002", "2026-03-02", B)]
    preview = run(uow, rows, dry_run=True)
    assert preview["summary"] == {"created": 2, "updated": 0, "unchanged": 0} and not preview["written"]
    assert uow.sealing.application_of("day", A["student_id"]) is None
    res = run(uow, rows, basis=preview["basis"])
    assert res["written"]
    assert uow.sealing.application_of("day", A["student_id"])["applied_on"] == dt.date(2026, 3, 1)
    assert uow.sealing.application_of("day", B["student_id"])["applied_on"] == dt.date(2026, 3, 2)
    again = run(uow, rows)
    assert again["summary"] == {"created": 0, "updated": 0, "unchanged": 2}
    moved = run(uow, [row(2, "S001", "1150305", A)])
    assert moved["summary"]["updated"] == 1
    assert uow.sealing.application_of("day", A["student_id"])["applied_on"] == dt.date(2026, 3, 5)


def test_one_bad_row_writes_nothing_and_every_problem_is_reported(uow):
    future = (clock.today_in_school() + dt.timedelta(days=1)).isoformat()
    rows = [row(2, "S001", "2026-03-01", A), row(3, "S002", future, B), row(4, "S404", "2026-03-01", None),
            row(5, "S001", "2026-03-01", A), row(6, "S003", "94/02/31", {"student_id": str(uuid.uuid4()),
                                                                           "student_user_id": str(uuid.uuid4())})]
    res = run(uow, rows)
    assert not res["written"]
    got = {(p["row"], p["column"], p["code"]) for p in res["problems"]}
    assert got == {(3, "applied_on", "application_date_invalid"), (4, "student_no", "student_unknown"),
                   (5, "student_no", "duplicate_in_file"), (6, "applied_on", "date_impossible")}
    assert uow.sealing.application_of("day", A["student_id"]) is None


def test_a_sealed_students_date_is_final(uow):
    run(uow, [row(2, "S001", "2020-03-01", A)])
    uow.sealing.add_seal("day", A["student_id"], A["student_user_id"], clock.now())
    res = run(uow, [row(2, "S001", "2020-03-09", A), row(3, "S002", "2026-03-02", B)])
    assert [(p["row"], p["code"]) for p in res["problems"]] == [(2, "student_sealed")]
    assert uow.sealing.application_of("day", B["student_id"]) is None


def test_only_the_registrar_imports(uow):
    for role in ("student", "subject_teacher", "principal"):
        with pytest.raises(Exception) as e:
            run(uow, [row(2, "S001", "2026-03-01", A)], caller=who(role))
        assert e.value.code == "not_allowed"


def test_a_change_since_the_preview_refuses_the_real_run(uow):
    preview = run(uow, [row(2, "S001", "2026-03-01", A)], dry_run=True)
    run(uow, [row(2, "S001", "2026-02-01", A)])
    with pytest.raises(Exception) as e:
        run(uow, [row(2, "S001", "2026-03-01", A)], basis=preview["basis"])
    assert e.value.code == "stale_record"


def test_the_gateway_reads_the_columns_submission_checks():
    """The gateway's import page reads the file with these columns (gateway/importflow.py)."""
    from gateway.importflow import OTHER_KINDS
    from submission.sealing.importer import COLUMNS
    assert OTHER_KINDS["college_application"]["columns"] == COLUMNS

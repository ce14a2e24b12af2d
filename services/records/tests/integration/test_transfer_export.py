"""records.transfer_export_fields against a real PostgreSQL database: one student's whole record
for a transfer package; only system:submission and system may ask, by the student's id or their
account, only in the caller's tenant, and each export is in the student's history."""
import uuid

import pytest

from portfolio_common import caller as caller_mod
from records.transfer import usecases as transfer

from .test_national_export import VAULT, db, submission  # noqa: F401  (db: the school's fixture)


def test_one_student_by_id_or_account_with_an_audit_entry(db):
    row = next(r for r in db.rows("students") if r["student_no"] == "1")
    registrar = str(uuid.uuid4())
    with db.uow() as uow:
        out = transfer.transfer_export_fields(uow, VAULT, submission(), str(row["id"]), None, registrar)
    assert out["profile"]["national_id"] == "A123456789" and out["profile"]["name"] == "陳怡君"
    assert out["school_years"] == [115] and out["outcomes"] == [] and out["autobiography"] == []
    with db.uow() as uow:
        mine = transfer.transfer_export_fields(uow, VAULT, submission(), None, str(row["user_id"]))
    assert mine["student_id"] == str(row["id"])
    trail = [r for r in db.rows("record_changes") if r["action"] == "national_id_exported"]
    assert len(trail) == 2 and all("A123456789" not in str(r) for r in trail)
    assert trail[0]["after"]["purpose"] == "transfer"


def test_other_tenant_people_and_unknown_ids_get_nothing(db):
    row = next(r for r in db.rows("students") if r["student_no"] == "1")
    with pytest.raises(Exception) as e, db.uow() as uow:
        transfer.transfer_export_fields(uow, VAULT, submission("ce"), str(row["id"]))
    assert e.value.code == "not_found"
    for role in ("registrar", "student", "system:records"):
        c = caller_mod.Caller(user_id=str(uuid.uuid4()), username=role, tenant="day", roles=(role,))
        with pytest.raises(Exception) as e, db.uow() as uow:
            transfer.transfer_export_fields(uow, VAULT, c, str(row["id"]))
        assert e.value.code == "not_allowed"
    for bad in ("not-a-uuid", str(uuid.uuid4())):
        with pytest.raises(Exception) as e, db.uow() as uow:
            transfer.transfer_export_fields(uow, VAULT, submission(), bad)
        assert e.value.code in ("invalid", "not_found")


def test_a_sealed_student_is_not_exported(db):
    import datetime as dt
    row = next(r for r in db.rows("students") if r["student_no"] == "2")
    with db.uow() as uow:
        uow.sealed_students.add("day", str(row["id"]), str(row["user_id"]), dt.datetime.now(dt.timezone.utc))
        uow.commit()
    with pytest.raises(Exception) as e, db.uow() as uow:
        transfer.transfer_export_fields(uow, VAULT, submission(), str(row["id"]))
    assert e.value.code == "student_sealed"

"""Sealing against a real PostgreSQL database: the database refuses writes to a sealed student."""
import datetime as dt
import uuid

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from portfolio_common import caller as caller_mod
from portfolio_common import events
from portfolio_common.sealing import STUDENT_SEALED_SQLSTATE, StudentSealed, refusing_sealed
from submission import usecases as selection
from submission.sealing import domain, usecases

KEY = Ed25519PrivateKey.generate()


def who(role="registrar", tenant="day", uid=None):
    return caller_mod.Caller(user_id=uid or str(uuid.uuid4()), username=role, tenant=tenant, roles=(role,))


def certified(sid, uid, tenant="day"):
    return events.load_event(events.CERTIFIED, events.make_event(events.CERTIFIED, tenant, {
        "task_id": str(uuid.uuid4()), "outcome_id": str(uuid.uuid4()), "student_id": sid,
        "student_user_id": uid, "section_id": str(uuid.uuid4()), "school_year": 110, "semester": 1,
        "course_code": "C1", "subject_name": "程式設計", "description": "d", "sha256": "b" * 64,
        "certified_by": str(uuid.uuid4()), "acting_for": None, "certified_at": events.utcnow()}))


def refused(engine, sql, **params):
    with pytest.raises(sa.exc.DBAPIError) as e, engine.begin() as c:
        c.execute(sa.text(sql), params)
    assert e.value.orig.pgcode == STUDENT_SEALED_SQLSTATE
    return e


def test_a_sealed_students_selection_and_date_are_refused_even_by_raw_sql(service_db):
    db = service_db("submission")
    sid, uid = str(uuid.uuid4()), str(uuid.uuid4())
    other_sid, other_uid = str(uuid.uuid4()), str(uuid.uuid4())
    for s, u in ((sid, uid), (other_sid, other_uid)):
        with db.uow() as uow:
            selection.record_certified(uow, certified(s, u))
    mine = [str(r["outcome_id"]) for r in db.rows("certified_outcomes") if str(r["student_id"]) == sid]
    with db.engine.begin() as c:   # the selection the student made years ago (submission/selection)
        c.execute(sa.text("insert into student_selections values ('day', :u, 110, CAST(:o AS jsonb), '[]', 1, :u, now())"),
                  {"u": uid, "o": __import__("json").dumps(mine)})
    with db.uow() as uow:
        usecases.record_application_date(uow, who(), sid, uid, "2020-01-01")
    with db.uow() as uow:
        usecases.record_application_date(uow, who(), other_sid, other_uid, dt.date.today().isoformat())
    with db.uow() as uow:
        assert usecases.seal_due_students(uow, usecases.ManifestSigner(KEY)) == [("day", sid)]
    (env,) = db.outbox_bodies("sealed")
    assert env["payload"]["student_id"] == sid and env["tenant"] == "day"

    # raw SQL as the database owner (stronger than the app role): nothing of the student changes
    refused(db.engine, "delete from student_selections where student_user_id = :u", u=uid)
    refused(db.engine, "update student_selections set changed_at = now() where student_user_id = :u", u=uid)
    refused(db.engine, "insert into student_selections values ('day', :u, 111, '[]', '[]', 1, :u, now())", u=uid)
    refused(db.engine, "insert into release_consents (tenant, student_user_id, school_year, action, at, by_user_id,"
                       " wording_version, wording) values ('day', :u, 110, 'revoked', now(), :u, 'x', 'x')", u=uid)
    refused(db.engine, "insert into college_applications values (gen_random_uuid(), 'day', :s, :u, "
                       "'2021-01-01', gen_random_uuid(), now())", s=sid, u=uid)
    refused(db.engine, "delete from sealed_students")
    with db.engine.connect() as c:
        assert c.execute(sa.text("select count(*) from student_selections")).scalar() == 1
        assert c.execute(sa.text("select count(*) from sealed_students")).scalar() == 1

    # through a use case: student_sealed, not a 500
    with pytest.raises(StudentSealed), refusing_sealed(), db.uow() as uow:
        uow.choices.save(dict(tenant="day", student_user_id=uid, school_year=110, outcome_ids=[], performance_ids=[],
                              version=2, changed_by=uid, changed_at=dt.datetime.now(dt.timezone.utc)))
        uow.commit()

    # the same student id in another tenant is not sealed; other students are not either
    with db.engine.begin() as c:
        c.execute(sa.text("insert into student_selections values ('day', :u, 110, '[]', '[]', 1, :u, now())"),
                  {"u": other_uid})
        c.execute(sa.text("insert into college_applications values (gen_random_uuid(), 'ce', :s, :u, "
                          "'2021-01-01', gen_random_uuid(), now())"), {"s": sid, "u": uid})

    with db.uow() as uow:
        m = usecases.get_sealing_manifest(uow, who(), sid)
    assert domain.verify(m["manifest"], m["signature"], KEY.public_key())
    assert [o["sha256"] for o in m["manifest"]["certified_outcomes"]] == ["b" * 64]
    refused_manifest = pytest.raises(sa.exc.DBAPIError)
    with refused_manifest, db.engine.begin() as c:
        c.execute(sa.text("update sealing_manifests set signature = 'x'"))

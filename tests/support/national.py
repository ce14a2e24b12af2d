"""A stack of its own for the national loop (it locks day's 115, so it cannot share the session
stack): two classes of one student each, N1 and N2, whose course codes the simulator's national
code file knows (N1) or not yet (N2); helpers to upload, certify and select through the API."""
import contextlib

import sqlalchemy as sa

from tests.e2e.conftest import Api, eventually, pdf
from tests.support.ids import SECRETS
from tests.support.school import add_class
from tests.support.stack import running_stack

YEAR = 115
CODE_N1, CODE_N2 = "115050407H11Z0N1", "115050407H11Z0N2"
SUBJECT_N1, SUBJECT_N2 = "國家甲班專題", "國家乙班專題"


@contextlib.contextmanager
def national_stack(tmp_path_factory, name, *, pg_base_url, amqp_uri, s3_endpoint, run_id):
    """(stack, codes file): the national code file lists N1's course code only."""
    codes = tmp_path_factory.mktemp("national") / "course-codes.txt"
    codes.write_text(CODE_N1 + "\n", encoding="utf-8")
    with running_stack(tmp_path_factory.mktemp("stack"), name=name, pg_base_url=pg_base_url,
                       amqp_uri=amqp_uri, s3_endpoint=s3_endpoint, secrets=SECRETS, run_id=run_id,
                       env_overrides={"national-sim": {"NATIONAL_SIM_COURSE_CODES": str(codes)}}) as stack:
        add_class(stack, prefix="nat_a", class_code="N1", subject=SUBJECT_N1, n=1, nid_letter="N")
        add_class(stack, prefix="nat_b", class_code="N2", subject=SUBJECT_N2, n=1, nid_letter="M")
        yield stack, codes


def api_of(stack):
    cache = {}

    def make(username):
        if username not in cache:
            cache[username] = Api(stack.gateway_url, username)
        return cache[username]
    return make


def certify_and_select(api, username, subject):
    """The student uploads a PDF, t_wang certifies it, the student selects it."""
    student, teacher = api(username), api("t_wang")
    up = student.upload(student.section(subject)["id"], f"{subject}成果", pdf()).json()
    task = eventually(lambda: [t for t in teacher.get("/certification/tasks").json()
                               if t["outcome_id"] == up["outcome_id"]])[0]
    assert teacher.post("/certification/decisions", json={"action": "certify", "task_ids": [task["id"]]}).ok
    eventually(lambda: [c for c in student.get(f"/selections/{YEAR}").json()["candidates"]
                        if c["outcome_id"] == up["outcome_id"]])
    assert student.put(f"/selections/{YEAR}", json={"outcome_ids": [up["outcome_id"]]}).ok
    # only a student who consented to release is held at the lock (issue 9 item 3)
    wording = student.get(f"/selections/{YEAR}/consent").json()["wording"]["version"]
    assert student.put(f"/selections/{YEAR}/consent", json={"give": True, "wording_version": wording}).ok
    return up


def set_birth_dates(registrar, class_codes=None, roc="0990305"):
    """The registrar completes the profiles (records keeps who, when, before, after): of every
    student of the tenant by default, since the 學生資料名冊 lists every student of the semester
    (the demo school's too), not only those who selected something."""
    for st in registrar.get("/students").json():
        if class_codes is None or st["class_code"] in class_codes:
            body = {"student_no": st["student_no"], "name": st["name"], "class_code": st["class_code"],
                    "seat_no": str(st["seat_no"]), "birth_date": roc, "version": st["version"]}
            r = registrar.put(f"/students/{st['id']}", json=body)
            assert r.status_code == 200, r.text


def submission_outbox(stack):
    engine = sa.create_engine(stack.database_url("submission"))
    try:
        with engine.connect() as c:
            return [dict(r._mapping) for r in c.execute(sa.text(
                "select routing_key, body, sent_at from outbox where routing_key = 'national-submitted'"))]
    finally:
        engine.dispose()

"""Students of their own for a test module: a class, one section taught by t_wang, N students
signed up through the same imports a school uses (accounts.import_people, records.import_school)."""
from nameko.standalone.rpc import ClusterRpcProxy

from tests.support.callers import as_system

PASSWORD = "demo-pass-2026"


_CLAIMED = {}


def _claim(tenant, class_code, nid_letter, nid_block=0):
    """Test modules share one stack: two modules with the same class code (student numbers
    115<class><nn>) or the same national-ID letter (IDs are a fixed sequence per letter) would
    import each other's students. Refuse that at once, naming both, instead of a confusing
    refusal or a shared quota later."""
    import inspect
    where = next((f.filename for f in inspect.stack()[2:] if "/tests/" in f.filename), "?")
    for key in ((tenant, "class", class_code), ("nid", nid_letter, nid_block)):
        first = _CLAIMED.setdefault(key, where)
        assert first == where, f"{key} is used by {first} and {where}: give each module its own"


def add_class(stack, *, prefix, class_code, subject, n=8, nid_letter="R", nid_block=0, tenant="day", teacher="t_wang",
              rpc_timeout=120, accounts=None, homeroom=None, class_name=None):
    """Usernames `<prefix>01..`; the section `subject` (115-1) has them all enrolled. Only the
    first `accounts` students (default all) get an account to sign in with; the others are
    students of the school's records only (a large tenant without hashing 2,000 passwords).
    `homeroom`: the username of the class's homeroom teacher (none by default); `class_name`:
    the class's name (default `<subject>班`). `nid_letter`/`nid_block`: which sequence of
    national IDs the students get (see valid_national_ids); each module claims its own pair."""
    import uuid
    import requests

    from tests.reliability.burst import valid_national_ids
    _claim(tenant, class_code, nid_letter, nid_block)
    tok = requests.post(stack.gateway_url + "/api/v1/auth/token",
                        json={"username": teacher, "password": PASSWORD}, timeout=60).json()
    teacher_id = tok["user"]["user_id"]
    homeroom_id = None
    if homeroom:
        homeroom_id = requests.post(stack.gateway_url + "/api/v1/auth/token", json={
            "username": homeroom, "password": PASSWORD}, timeout=60).json()["user"]["user_id"]
    names = [f"{prefix}{i:02d}" if n < 100 else f"{prefix}{i:04d}" for i in range(1, n + 1)]
    with_account = names[:n if accounts is None else accounts]
    people = [{"username": u, "display_name": f"{subject[:2]}同學{u[-2:]}", "password": PASSWORD,
               "grants": [{"tenant": tenant, "role": "student"}]} for u in with_account]

    def system(service):  # minted per call: a long import outlives one caller token
        return as_system(tenant, service)
    numbers = [f"115{class_code}{i:02d}" if n < 100 else f"11{class_code}{i:04d}" for i in range(1, n + 1)]
    with ClusterRpcProxy({"AMQP_URI": stack.amqp_uri}, timeout=rpc_timeout) as rpc:
        report = rpc.accounts.import_people(system("accounts"), people)
        assert not report["refused"], report
        user_ids = {u: report["user_ids"].get(u) or str(uuid.uuid4()) for u in names}
        term = {"school_year": 115, "semester": 1,
                "classes": [{"code": class_code, "name": class_name or f"{subject}班", "homeroom_user_id": homeroom_id}],
                "students": [{"student_no": no, "name": f"{subject[:2]}同學{u[-2:]}", "user_id": user_ids[u],
                              "class_code": class_code, "seat_no": i, "national_id": nid}
                             for i, (u, no, nid) in enumerate(zip(names, numbers, valid_national_ids(n, nid_letter, nid_block)),
                                                             start=1)],
                "sections": [{"course_code": f"115050407H11Z0{class_code}", "subject_name": subject,
                              "class_code": class_code, "grade_level": 1, "credits": 2,
                              "teacher_user_id": teacher_id, "students": numbers}]}
        result = rpc.records.import_school(system("records"), term)
        assert not result["refused"], result
    return with_account
